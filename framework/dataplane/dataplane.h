/* dataplane.h - host-to-host object transfer: the data server and its client.
 *
 * Every agent runs one data server. It serves the objects of that host's cache
 * tiers ("roots": named directories such as mem=/dev/shm/sluice/HOST) to peers
 * over TCP, memory to memory, and accepts objects pushed to it. Objects are
 * addressed as "ROOT/relative/path". This header is the whole public API; the
 * cache manager, the scheduler and the agent call only what is here. The wire
 * protocol is described below and in docs/dataplane.md.
 *
 * Integrity: an object's checksum is XXH3-64 over the little-endian list of the
 * XXH3-64 hashes of its fixed-size blocks (see sl_dp_checksum_file). Per-block
 * hashes let every stream verify what it received as it arrives, and let a
 * resumed transfer keep exactly the blocks that were verified.
 *
 * Wire protocol (version 2), all integers big-endian:
 *   frame   = type:u8 pad:u8[3]=0 len:u32 payload[len]      len <= 65536
 *   HELLO    c>s  magic:u32="SLDP" version:u16 caplen:u16 capability
 *   WELCOME  s>c  version:u16 pad:u16 max_payload:u32
 *   REFUSED  s>c  code:u32 message           (then the server closes)
 *   ERROR    s>c  code:u32 message           (request failed; connection stays)
 *   STAT     c>s  name
 *   STAT_OK  s>c  size:u64 mtime_ns:u64 checksum:u64 block_size:u32 nblocks:u32
 *                 hash:u64[nblocks]
 *   GET      c>s  offset:u64 length:u64 size:u64 mtime_ns:u64 name
 *   DATA     s>c  offset:u64 length:u64, then `length` raw bytes (unframed)
 *   PUT_OPEN c>s  size:u64 checksum:u64 block_size:u32 nblocks:u32
 *                 hash:u64[nblocks] name
 *   PUT_DATA c>s  offset:u64 length:u64, then `length` raw bytes (unframed)
 *   PUT_COMMIT c>s (empty)         PUT_OK s>c checksum:u64
 * The first frame on a connection must be HELLO with a capability (below);
 * any other first frame, a wrong version or a capability that does not
 * verify gets REFUSED and close. With TLS on, all of this runs inside a
 * TLS 1.3 session.
 *
 * Capabilities. The controller holds a 32-byte master key; the data server
 * of host H is given its own key sl_dp_server_key(master, H), so a server
 * can check grants for itself but cannot mint grants for other hosts. A
 * capability is one printable line:
 *   v1.<op>.<expires_ms>.<hex reader>.<hex path>.<hex mac>
 * op is 'r' (read: STAT and GET of "ROOT/<path>" and "ROOT/<path>/..." in
 * any root) or 'p' (push: PUT_OPEN of "mem/<path>/...", written to the
 * staging area "<mem root>/.pushed/<path>/..." for the agent to verify and
 * move into place). expires_ms is Unix time in ms, checked against the
 * server's own clock: hosts need synchronized clocks (NTP; the TTL should
 * dwarf the skew). mac is HMAC-SHA256 with the server key over
 *   "sluice-dp-cap-v1" || for each of op, expires_ms (u64), reader, path:
 *   len:u32 bytes
 * so no field can be shifted into another. The server compares MACs in
 * constant time. path follows the object-name rules (relative, no "." or
 * ".." component, no empty component) and its first component may not
 * start with '.', so no grant reaches a hidden area (".pushed",
 * ".incoming"); a grant for "p1/a/k" does not cover "p1/a/k2". reader is
 * the host the grant is for; when the client shows a TLS certificate, the
 * server also checks the certificate is for that host. */
#ifndef SL_DATAPLANE_H
#define SL_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SL_DP_PROTO_VERSION 2
#define SL_DP_MAX_ROOTS 8
#define SL_DP_KEY_HEX 64      /* a server key: 32 bytes, lower-case hex */
#define SL_DP_MAX_CAP 4096    /* bytes of a capability string, NUL excluded */
#define SL_DP_MAX_READER 255  /* bytes of a capability's reader host name */
#define SL_DP_MAX_NAME 1024   /* bytes of "ROOT/relative/path" */
#define SL_DP_MAX_BLOCKS 4096 /* blocks per object; block size grows past that */
#define SL_DP_DEFAULT_BLOCK (8u << 20)
#define SL_DP_MIN_BLOCK (4u << 10)

/* Error codes carried in ERROR/REFUSED frames (and returned by the client as
 * SL_E* with the server's message in sl_err; SL_DP_E_AUTH becomes SL_EPERM). */
enum {
    SL_DP_E_AUTH = 1,     /* capability missing, invalid, expired or not for this */
    SL_DP_E_VERSION = 2,  /* protocol version not spoken here */
    SL_DP_E_PROTO = 3,    /* malformed frame */
    SL_DP_E_NAME = 4,     /* object name invalid or outside the roots */
    SL_DP_E_NOTFOUND = 5, /* no such object */
    SL_DP_E_CHANGED = 6,  /* object changed since STAT (size or mtime) */
    SL_DP_E_IO = 7,       /* server-side I/O error */
    SL_DP_E_CHECKSUM = 8, /* pushed data did not match its declared hashes */
    SL_DP_E_BUSY = 9,     /* connection limit reached */
};

enum { SL_DP_CAP_READ = 'r', SL_DP_CAP_PUSH = 'p' };

/* The capability key of the data server of `host`, derived from the
 * controller's 32-byte master key: HMAC-SHA256(master, "sluice-dp-key-v1" NUL
 * host), as lower-case hex. */
void sl_dp_server_key(const uint8_t master[32], const char *host, char out[SL_DP_KEY_HEX + 1]);

/* Writes a printable capability granting `op` on the object at `path`
 * (relative to a tier root, e.g. "p3/beam/obs1/ch109": the object directory
 * and every file beneath it) to host `reader` until expires_ms (Unix ms),
 * signed with server key key_hex. Returns its length, or -1 (err filled) if
 * a field is invalid or out does not fit. */
int sl_dp_cap_make(const char *key_hex, int op, const char *path, const char *reader,
                   int64_t expires_ms, char *out, size_t outsz, sl_err *err);

/* TLS material, PEM files. Server: cert_file + key_file turn TLS on; with
 * ca_file too, clients must show a certificate signed by that CA. Client:
 * ca_file (required) verifies the server's chain and that its certificate
 * names the host or IP address dialled; cert_file + key_file are shown to
 * a server that asks (mutual TLS). TLS 1.3 only. */
typedef struct sl_dp_tls {
    const char *ca_file, *cert_file, *key_file;
} sl_dp_tls;

typedef struct sl_dp_root {
    const char *name; /* "mem", "ssd": [A-Za-z0-9_-]+ */
    const char *path; /* existing directory */
} sl_dp_root;

typedef struct sl_dp_config {
    const char *listen; /* "127.0.0.1:0", "0.0.0.0:7471", "[::1]:0" */
    const char *key;    /* this server's key (sl_dp_server_key): 64 hex chars, required */
    sl_dp_root roots[SL_DP_MAX_ROOTS];
    int nroots;
    int io_timeout_ms;   /* per send/recv; a slower peer is dropped (0: 30000) */
    int max_conns;       /* concurrent connections (0: 256) */
    uint32_t block_size; /* checksum block size for objects it hashes (0: 8 MiB) */
    uint64_t rate_limit; /* bytes/s per GET stream, 0 = none (ops throttle; tests) */
    int sock_buf;        /* SO_SNDBUF/SO_RCVBUF bytes, 0 = kernel autotuning */
    sl_dp_tls tls;       /* all NULL: plain TCP */
} sl_dp_config;

typedef struct sl_dp_server sl_dp_server;

/* Server-wide counters, read with sl_dp_server_stats. */
typedef struct sl_dp_server_counters {
    uint64_t conns_accepted, conns_refused;
    uint64_t bytes_sent, bytes_received;
    uint64_t gets, puts_committed, hashes_computed;
} sl_dp_server_counters;

/* Opens the roots, binds and starts serving on background threads (one
 * acceptor, one thread per connection). *bound_port (if non-NULL) gets the
 * port actually bound. Returns NULL with err filled on failure. */
sl_dp_server *sl_dp_server_start(const sl_dp_config *cfg, int *bound_port, sl_err *err);

/* Stops accepting, cuts every open connection, waits for all server threads
 * and frees the server. Pushes not yet committed are discarded. */
void sl_dp_server_stop(sl_dp_server *s);

void sl_dp_server_stats(sl_dp_server *s, sl_dp_server_counters *out);

typedef struct sl_dp_opts {
    int streams;              /* parallel TCP streams for one object (0: 4) */
    uint64_t min_chunk;       /* smallest byte range given to one stream (0: 16 MiB) */
    int timeout_ms;           /* connect and per-I/O timeout (0: 30000) */
    uint64_t expect_checksum; /* if non-zero, the object must have this checksum */
    int sock_buf;             /* SO_RCVBUF/SO_SNDBUF bytes, 0 = autotuning */
    int fsync;                /* fsync the file before rename (SSD tier) */
    const sl_dp_tls *tls;     /* NULL or no ca_file: plain TCP */
} sl_dp_opts;

typedef struct sl_dp_stats {
    uint64_t size;          /* object size */
    uint64_t checksum;      /* object checksum (see top of file) */
    uint64_t bytes_fetched; /* bytes moved over the network by this call */
    uint64_t bytes_resumed; /* bytes kept from an earlier interrupted call */
    uint32_t blocks, blocks_fetched, blocks_resumed;
    int streams; /* streams actually used */
    int64_t elapsed_us;
} sl_dp_stats;

/* The client calls take a capability `cap` (sl_dp_cap_make) minted for the
 * server at addr; a refusal by the server's checks returns SL_EPERM with
 * the server's reason in err.
 *
 * Asks the server at addr ("host:port") for an object's size and checksum
 * (the server hashes it on first request and caches the result). */
int sl_dp_stat(const char *addr, const char *cap, const char *object, const sl_dp_opts *opts,
               uint64_t *size, uint64_t *checksum, sl_err *err);

/* Pulls object from addr into local_path. Data goes to "local_path.sl-part"
 * with a sidecar "local_path.sl-part.state" that records verified blocks;
 * local_path appears (rename) only when every block and the whole checksum
 * match. If the call fails midway (server or link died), calling it again
 * fetches only the missing blocks. A checksum mismatch removes the partial
 * file and returns SL_EIO. opts and stats may be NULL. */
int sl_dp_fetch(const char *addr, const char *cap, const char *object, const char *local_path,
                const sl_dp_opts *opts, sl_dp_stats *stats, sl_err *err);

/* Pushes local_path to the server at addr as object "mem/<path>/<rest>"
 * (one stream, sendfile; cap is a push capability for <path>). The server
 * writes it to "<mem root>/.pushed/<path>/<rest>" under a temporary name,
 * checks every block against the hashes announced up front and renames on
 * commit; an earlier push of that name is replaced. A failed push leaves
 * nothing behind. */
int sl_dp_push(const char *addr, const char *cap, const char *local_path, const char *object,
               const sl_dp_opts *opts, sl_dp_stats *stats, sl_err *err);

/* Checksum of a local file with the data plane's block scheme: the XXH3-64
 * of the little-endian block hashes, block size chosen by sl_dp_block_size
 * from block_size (0: default). The hashes are cached in the xattr
 * "user.sluice.dp" keyed by size, mtime and block size, so a later STAT of
 * the file by a server costs nothing; a cache manager may call this when an
 * object is committed to take hashing off the transfer's critical path. */
int sl_dp_checksum_file(const char *path, uint32_t block_size, uint64_t *checksum, sl_err *err);

/* The block size used for an object of `size` bytes: `preferred` (0: 8 MiB)
 * doubled until the object has at most SL_DP_MAX_BLOCKS blocks. */
uint32_t sl_dp_block_size(uint64_t size, uint32_t preferred);

/* Hands an object to a local consumer without copying: a hard link of src at
 * dst (same file system), so the cost is O(1) in the object's size. dst must
 * not exist. Returns SL_EIO with a hint when src and dst are on different
 * file systems (then a transfer, not a hand-off, is needed). */
int sl_dp_handoff(const char *src, const char *dst, sl_err *err);

#endif
