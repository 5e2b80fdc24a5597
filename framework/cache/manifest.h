/* manifest.h - an object's content manifest: what its producer wrote.
 *
 * An object (the output directory of one task) is described by one text
 * line per regular file, "relative/name\tsize\txxh3-128-hex\n", made by the
 * agent that collected the producer's output and kept with the object in
 * the controller's catalog. Every copy that crosses a host, and every local
 * input of a stage with `verify: local`, is checked against it before a
 * consumer may read it: a module never reads bytes that differ from what
 * its producer wrote. The hash is XXH3-128 (libxxhash): non-cryptographic,
 * strong against accidental corruption, at memory bandwidth. Lines written
 * by an older sluice have no hash field; such files are checked by size. */
#ifndef SL_MANIFEST_H
#define SL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define SL_MANIFEST_HASH_HEX 32 /* XXH3-128 as lowercase hex */

/* One file of a manifest, as sl_manifest_each hands it out (borrowed:
 * name is not NUL-terminated; hash is "" when the line has none). */
typedef struct sl_mfile {
    const char *name;
    size_t namelen;
    int64_t size;
    char hash[SL_MANIFEST_HASH_HEX + 1];
} sl_mfile;

/* Calls fn for every line; stops at the first non-zero return and returns
 * it. Lines without a tab are skipped. A manifest comes from another host,
 * so a line is never handed out unless its name is a relative path that
 * stays inside the object (no "..", ".", empty segment, leading '/' or
 * control byte), its size a decimal number and its hash empty or 32
 * lowercase hex digits: the walk stops at such a line with SL_EINVAL. */
typedef int (*sl_manifest_fn)(void *ctx, const sl_mfile *f);
int sl_manifest_each(const char *text, sl_manifest_fn fn, void *ctx);

/* Appends one line. hash may be NULL or "" (no hash known). */
void sl_manifest_add(sl_buf *b, const char *name, size_t namelen, int64_t size, const char *hash);

/* XXH3-128 of a file's content as hex, and its size. */
int sl_manifest_hash_file(const char *path, char hex[SL_MANIFEST_HASH_HEX + 1], int64_t *size,
                          sl_err *err);

/* The manifest of every regular file under dir (names relative to dir,
 * sorted), with the total size. Symlinks and special files are not part of
 * an object. Returns the number of files, or negative with err filled. */
int sl_manifest_make(const char *dir, sl_buf *out, int64_t *total, sl_err *err);

/* Checks that dir holds every file of the manifest with its size and hash.
 * 0 if so; SL_EIO with err naming the first file that differs (expected and
 * found size or hash) otherwise; *bad_file (if non-NULL) gets that file's
 * name (malloc'd). Extra files in dir are not an error (a module may leave
 * scratch files beside its outputs only before collection). */
int sl_manifest_verify(const char *dir, const char *manifest, char **bad_file, sl_err *err);

/* Same, sizes only (cheap; for "has it all arrived yet?"). 1 if complete. */
int sl_manifest_sizes_match(const char *dir, const char *manifest);

#endif
