/* dp_internal.h - what the data plane's own files share and nobody else sees.
 *
 * Split by concern: dp_proto.c is pure (frame and message encoding, name and
 * token checks, block geometry; no I/O, hence unit-testable byte by byte),
 * dp_io.c owns sockets, files, hashing and the xattr checksum cache;
 * dp_server.c and dp_client.c are the two directions. */
#ifndef SL_DP_INTERNAL_H
#define SL_DP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dataplane/dataplane.h"

enum {
    DP_HELLO = 0x01,
    DP_WELCOME = 0x02,
    DP_REFUSED = 0x03,
    DP_ERROR = 0x04,
    DP_STAT = 0x10,
    DP_STAT_OK = 0x11,
    DP_GET = 0x12,
    DP_DATA = 0x13,
    DP_PUT_OPEN = 0x20,
    DP_PUT_DATA = 0x21,
    DP_PUT_COMMIT = 0x22,
    DP_PUT_OK = 0x23,
};

#define DP_HDR 8
#define DP_MAX_PAYLOAD 65536u
#define DP_MAGIC 0x534C4450u /* "SLDP" */
#define DP_MAX_ROOTNAME 32

/* ---- frames (dp_proto.c) ---- */
void dp_hdr_encode(uint8_t h[DP_HDR], uint8_t type, uint32_t len);
/* 0, or -1 when the header is malformed (unknown type, pad, length). */
int dp_hdr_decode(const uint8_t h[DP_HDR], uint8_t *type, uint32_t *len);

/* Bounded writer/reader over a byte buffer; overflow/underflow sticks. */
typedef struct dp_wr {
    uint8_t *p;
    size_t len, cap;
    int bad;
} dp_wr;
typedef struct dp_rd {
    const uint8_t *p;
    size_t len, off;
    int bad;
} dp_rd;
void dp_put16(dp_wr *w, uint16_t v);
void dp_put32(dp_wr *w, uint32_t v);
void dp_put64(dp_wr *w, uint64_t v);
void dp_putb(dp_wr *w, const void *b, size_t n);
uint16_t dp_get16(dp_rd *r);
uint32_t dp_get32(dp_rd *r);
uint64_t dp_get64(dp_rd *r);
/* Copies the rest of the payload as a NUL-terminated string of at most max-1
 * bytes; marks r bad if longer or if it contains a NUL. */
void dp_get_str(dp_rd *r, char *out, size_t max);

/* Messages. Encoders return the payload length (or 0 with w.bad on overflow);
 * decoders return 0 or -1 for a malformed payload. */
typedef struct dp_geom {
    uint64_t size, mtime_ns, checksum;
    uint32_t block_size, nblocks;
    uint64_t *hashes; /* caller-owned, SL_DP_MAX_BLOCKS entries */
} dp_geom;

size_t dp_enc_hello(uint8_t *buf, size_t cap, const char *token);
int dp_dec_hello(const uint8_t *p, size_t n, uint16_t *version, char *token, size_t *toklen);
size_t dp_enc_msg(uint8_t *buf, size_t cap, uint32_t code, const char *msg);
int dp_dec_msg(const uint8_t *p, size_t n, uint32_t *code, char *msg, size_t max);
size_t dp_enc_geom(uint8_t *buf, size_t cap, const dp_geom *g, int with_mtime, const char *name);
int dp_dec_geom(const uint8_t *p, size_t n, dp_geom *g, int with_mtime, char *name, size_t max);
typedef struct dp_range {
    uint64_t offset, length, size, mtime_ns;
} dp_range;
size_t dp_enc_get(uint8_t *buf, size_t cap, const dp_range *r, const char *name);
int dp_dec_get(const uint8_t *p, size_t n, dp_range *r, char *name, size_t max);

/* ---- names, tokens, geometry (dp_proto.c) ---- */
/* Splits "ROOT/rel/path" and checks it: root a [A-Za-z0-9_-] word, rel made
 * of non-empty components that are not "." or "..", no control bytes, no
 * leading '/', bounded length. Returns 0 or -1 with why set to a reason. */
int dp_name_split(const char *name, char root[DP_MAX_ROOTNAME + 1], const char **rel,
                  const char **why);
int dp_root_name_ok(const char *name);
/* Constant time in the length of b (the secret): 1 if equal. */
int dp_token_eq(const char *a, size_t alen, const char *b, size_t blen);
/* 0 if size/block_size/nblocks describe a valid block layout. */
int dp_geom_check(uint64_t size, uint32_t block_size, uint32_t nblocks);
uint32_t dp_nblocks(uint64_t size, uint32_t block_size);
uint64_t dp_hash_list(const uint64_t *hashes, uint32_t n);

/* ---- sockets and files (dp_io.c) ---- */
int dp_split_addr(const char *addr, char *host, size_t hmax, char *port, size_t pmax);
int dp_listen(const char *addr, int *bound_port, sl_err *err);
int dp_connect(const char *addr, int timeout_ms, int sock_buf, sl_err *err);
void dp_sock_setup(int fd, int timeout_ms, int sock_buf);
/* Whole-buffer I/O. Return 0, or -1 with errno (ECONNRESET for EOF). */
int dp_read_full(int fd, void *buf, size_t n);
int dp_write_full(int fd, const void *buf, size_t n);
int dp_send_frame(int fd, uint8_t type, const void *payload, uint32_t len);
/* Returns 0; -1 on I/O error (errno); -2 on a malformed header. */
int dp_recv_frame(int fd, uint8_t *type, uint8_t *payload, uint32_t *len);
/* sendfile() of len bytes from off, SIGPIPE-safe, optional rate limit. */
int dp_sendfile_all(int sock, int fd, uint64_t off, uint64_t len, uint64_t rate);
/* Opens rel beneath dirfd refusing symlinks in every component (O_NOFOLLOW
 * walk; ".." never reaches here). With mkdirs, missing directories are
 * created; then the returned fd is the parent directory and *last points to
 * the final component. Returns fd or -1 with errno. */
int dp_open_beneath(int dirfd, const char *rel, int flags);
int dp_open_parent_beneath(int dirfd, const char *rel, int mkdirs, const char **last);
/* Fills g (size, mtime, geometry, hashes, checksum) for an open regular file,
 * from the xattr cache when it matches size/mtime/block size, else by
 * reading the file (then cached). *computed says which. */
int dp_file_geom(int fd, uint32_t pref_block, dp_geom *g, int *computed, sl_err *err);
/* Stores g in fd's xattr cache (best effort). */
void dp_geom_cache_store(int fd, const dp_geom *g);
/* Maps an errno from a failed socket operation to a sentence fragment. */
const char *dp_io_why(int e);

#endif
