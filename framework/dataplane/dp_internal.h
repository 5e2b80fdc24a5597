/* dp_internal.h - what the data plane's own files share and nobody else sees.
 *
 * Split by concern: dp_proto.c is pure (frame and message encoding, name
 * checks, block geometry; no I/O, hence unit-testable byte by byte), so is
 * dp_cap.c (capabilities); dp_io.c owns sockets, files, hashing and the
 * xattr checksum cache; dp_tls.c everything OpenSSL touches on the wire;
 * dp_server.c and dp_client.c are the two directions. */
#ifndef SL_DP_INTERNAL_H
#define SL_DP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
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

size_t dp_enc_hello(uint8_t *buf, size_t cap, const char *capability);
/* capability must hold SL_DP_MAX_CAP + 1 bytes. */
int dp_dec_hello(const uint8_t *p, size_t n, uint16_t *version, char *capability, size_t *caplen);
size_t dp_enc_msg(uint8_t *buf, size_t cap, uint32_t code, const char *msg);
int dp_dec_msg(const uint8_t *p, size_t n, uint32_t *code, char *msg, size_t max);
size_t dp_enc_geom(uint8_t *buf, size_t cap, const dp_geom *g, int with_mtime, const char *name);
int dp_dec_geom(const uint8_t *p, size_t n, dp_geom *g, int with_mtime, char *name, size_t max);
typedef struct dp_range {
    uint64_t offset, length, size, mtime_ns;
} dp_range;
size_t dp_enc_get(uint8_t *buf, size_t cap, const dp_range *r, const char *name);
int dp_dec_get(const uint8_t *p, size_t n, dp_range *r, char *name, size_t max);

/* ---- names, geometry (dp_proto.c) ---- */
/* Splits "ROOT/rel/path" and checks it: root a [A-Za-z0-9_-] word, rel made
 * of non-empty components that are not "." or "..", no control bytes, no
 * leading '/', bounded length. Returns 0 or -1 with why set to a reason. */
int dp_name_split(const char *name, char root[DP_MAX_ROOTNAME + 1], const char **rel,
                  const char **why);
int dp_root_name_ok(const char *name);
/* The path part alone: 0, or -1 with why (same rules as dp_name_split). */
int dp_rel_ok(const char *rel, const char **why);
/* 0 if size/block_size/nblocks describe a valid block layout. */
int dp_geom_check(uint64_t size, uint32_t block_size, uint32_t nblocks);
uint32_t dp_nblocks(uint64_t size, uint32_t block_size);
uint64_t dp_hash_list(const uint64_t *hashes, uint32_t n);

/* ---- capabilities (dp_cap.c) ---- */
typedef struct dp_cap {
    int op; /* SL_DP_CAP_READ or SL_DP_CAP_PUSH */
    int64_t expires_ms;
    char reader[SL_DP_MAX_READER + 1];
    char path[SL_DP_MAX_NAME + 1];
} dp_cap;
/* 64 lower-case hex chars to 32 bytes; -1 if it is not that. */
int dp_key_parse(const char *hex, uint8_t key[32]);
/* A capability path: object-name rules, first component not hidden. */
int dp_cap_path_ok(const char *path, const char **why);
/* Parses cap, checks its MAC against key (constant time) and its expiry
 * against now_ms. 0, or -1 with a sentence in why (never secret bytes). */
int dp_cap_verify(const uint8_t key[32], const char *cap, size_t caplen, int64_t now_ms,
                  dp_cap *out, char *why, size_t whysz);
/* Whether c allows op on ROOT/rel (already checked by dp_name_split). For a
 * push, *rest is the part below the capability's path. 0 or -1 with why. */
int dp_cap_allows(const dp_cap *c, int op, const char *root, const char *rel, const char **rest,
                  char *why, size_t whysz);

/* ---- connections (dp_io.c, dp_tls.c) ---- */
/* One end of a data-plane connection: a TCP socket and, with TLS on, the
 * session over it. All reads and writes go through dp_io.c, which tests
 * ssl once and otherwise makes exactly the syscalls it made before TLS. */
typedef struct dp_conn {
    int fd;
    struct ssl_st *ssl; /* NULL: plain TCP */
    int ktls_send;      /* the kernel encrypts sends: SSL_sendfile works */
} dp_conn;

/* An SSL_CTX for a server (cert+key required; ca: client certs required)
 * or a client (ca required; cert+key optional), TLS 1.3 only, kTLS asked
 * for. NULL with err filled. */
struct ssl_ctx_st *dp_tls_ctx(const sl_dp_tls *t, int server, sl_err *err);
void dp_tls_ctx_free(struct ssl_ctx_st *ctx);
/* Server side of the handshake on c->fd; 0 or -1 with why filled. */
int dp_tls_accept(dp_conn *c, struct ssl_ctx_st *ctx, char *why, size_t whysz);
/* Client side: verifies the chain and that the certificate names the host
 * or IP of addr. 0, or SL_EPERM (not trusted) / SL_EIO with err filled. */
int dp_tls_connect(dp_conn *c, struct ssl_ctx_st *ctx, const char *addr, sl_err *err);
/* With TLS and a client certificate: 1 if it is for host, 0 if not; -1
 * when there is no certificate to check. */
int dp_tls_peer_is(dp_conn *c, const char *host);
int dp_tls_read_full(dp_conn *c, void *buf, size_t n);
int dp_tls_write_full(dp_conn *c, const void *buf, size_t n);
int dp_tls_sendfile(dp_conn *c, int fd, uint64_t off, uint64_t len, uint64_t rate);
/* Frees the TLS session (no close_notify wait) and closes the socket. */
void dp_conn_close(dp_conn *c);

/* ---- sockets and files (dp_io.c) ---- */
int dp_split_addr(const char *addr, char *host, size_t hmax, char *port, size_t pmax);
int dp_listen(const char *addr, int *bound_port, sl_err *err);
int dp_connect(const char *addr, int timeout_ms, int sock_buf, sl_err *err);
void dp_sock_setup(int fd, int timeout_ms, int sock_buf);
/* Whole-buffer I/O. Return 0, or -1 with errno (ECONNRESET for EOF). */
int dp_read_full(dp_conn *c, void *buf, size_t n);
int dp_write_full(dp_conn *c, const void *buf, size_t n);
int dp_send_frame(dp_conn *c, uint8_t type, const void *payload, uint32_t len);
/* Returns 0; -1 on I/O error (errno); -2 on a malformed header. */
int dp_recv_frame(dp_conn *c, uint8_t *type, uint8_t *payload, uint32_t *len);
/* len bytes of fd from off, SIGPIPE-safe, optional rate limit: sendfile()
 * on plain TCP and kTLS, read + SSL_write otherwise. */
int dp_sendfile_all(dp_conn *c, int fd, uint64_t off, uint64_t len, uint64_t rate);
/* Sleeps until `sent` bytes since t0_us are due at `rate` bytes/s. */
void dp_pace(int64_t t0_us, uint64_t sent, uint64_t rate);
/* SIGPIPE blocked in this thread around a send that may raise it; end
 * consumes a SIGPIPE the send raised (epipe) before restoring the mask. */
typedef struct dp_nopipe {
    sigset_t old;
    int was_pending;
} dp_nopipe;
void dp_nopipe_begin(dp_nopipe *g);
void dp_nopipe_end(dp_nopipe *g, int epipe);
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
