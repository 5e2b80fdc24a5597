/* source.h - a byte stream for the tar reader: a local file or an
 * http(s)/file URL (libcurl), zstd-decoded on the fly when it starts with a
 * zstd frame, passed through otherwise. Decoding here rather than through
 * libarchive's filter lets the errors say what broke: a frame cut short, or
 * corrupt data (zstd content checksums are verified) at a compressed offset. */
#ifndef UNPACK_SOURCE_H
#define UNPACK_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct source source;

/* Opens path or URL. NULL with a message in err on failure. */
source *source_open(const char *where, char *err, size_t errlen);
/* Next block of (decoded) bytes, valid until the next call: > 0 bytes,
 * 0 at a clean end of stream, -1 on error (source_error says why). */
ssize_t source_read(source *s, const void **buf);
const char *source_error(const source *s);
int source_is_zstd(const source *s);
int64_t source_raw_bytes(const source *s); /* bytes read from the file/network */
void source_close(source *s);

#endif
