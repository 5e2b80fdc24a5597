/* dp_client.c - pulling objects from a peer's data server, and pushing to one.
 *
 * A fetch is: STAT (size, mtime, per-block hashes), then N streams, each its
 * own TCP connection, taking block-aligned byte ranges from a shared queue.
 * Each stream receives into a pre-faulted buffer that stays hot in cache,
 * hashes it there and pwrite()s it, so verification costs no extra pass over
 * the data. A block is recorded in the sidecar only after its hash matched,
 * which is what makes a cut transfer resumable block by block. */
#include "dataplane/dp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "util/clock.h"

#define RECV_BUF (1u << 20)
#define STATE_HDR 48
static const char STATE_MAGIC[8] = {'S', 'L', 'D', 'P', 'R', 'E', 'S', '1'};

static void opts_fill(sl_dp_opts *o, const sl_dp_opts *in)
{
    if (in)
        *o = *in;
    else
        memset(o, 0, sizeof *o);
    if (o->streams <= 0) o->streams = 4;
    if (o->streams > 64) o->streams = 64;
    if (!o->min_chunk) o->min_chunk = 16u << 20;
    if (o->timeout_ms <= 0) o->timeout_ms = 30000;
}

static int map_code(uint32_t code)
{
    switch (code) {
    case SL_DP_E_NOTFOUND:
        return SL_ENOTFOUND;
    case SL_DP_E_AUTH:
        return SL_EPERM;
    case SL_DP_E_VERSION:
    case SL_DP_E_PROTO:
    case SL_DP_E_NAME:
        return SL_EINVAL;
    default:
        return SL_EIO;
    }
}

/* Reads one reply; 0 if it has type `want`, else fills err from an
 * ERROR/REFUSED frame or the I/O failure. */
static int expect(dp_conn *fd, uint8_t want, uint8_t *buf, uint32_t *len, const char *addr,
                  sl_err *err)
{
    uint8_t type;
    int rc = dp_recv_frame(fd, &type, buf, len);
    if (rc == -1)
        return sl_errf(err, errno == ETIMEDOUT ? SL_ETIMEOUT : SL_EIO, "data server %s: %s", addr,
                       dp_io_why(errno));
    if (rc == -2) return sl_errf(err, SL_EIO, "data server %s: malformed reply", addr);
    if (type == want) return 0;
    if (type == DP_ERROR || type == DP_REFUSED) {
        uint32_t code;
        char msg[600];
        if (dp_dec_msg(buf, *len, &code, msg, sizeof msg))
            return sl_errf(err, SL_EIO, "data server %s: malformed error frame", addr);
        return sl_errf(err, map_code(code), "data server %s: %s", addr, msg);
    }
    return sl_errf(err, SL_EIO, "data server %s: unexpected reply type 0x%02x", addr, type);
}

/* After a send failed, the server may have explained why (ERROR then
 * close): prefer its message over "connection reset". */
static int explain(dp_conn *fd, const char *addr, int e, sl_err *err)
{
    uint8_t *buf = malloc(DP_MAX_PAYLOAD);
    uint32_t len;
    int rc = -1;
    if (buf && expect(fd, 0xff, buf, &len, addr, err) && err && strstr(err->msg, "closed") == NULL)
        rc = err->code;
    free(buf);
    if (rc != -1) return rc;
    return sl_errf(err, e == ETIMEDOUT ? SL_ETIMEOUT : SL_EIO, "data server %s: %s", addr,
                   dp_io_why(e));
}

/* The TLS context for a call's connections, if opts ask for TLS (NULL
 * and *rc = 0 for plain TCP). Shared by a fetch's streams. */
static struct ssl_ctx_st *tls_ctx(const sl_dp_opts *o, int *rc, sl_err *err)
{
    *rc = 0;
    const sl_dp_tls *t = o->tls;
    if (!t || (!t->ca_file && !t->cert_file && !t->key_file)) return NULL;
    struct ssl_ctx_st *ctx = dp_tls_ctx(t, 0, err);
    if (!ctx) *rc = err ? err->code : SL_EINVAL;
    return ctx;
}

/* Connects (TLS if ctx) and says HELLO with the capability; 0, or a
 * negative code with err filled and nothing left open. */
static int session(const char *addr, const char *cap, const sl_dp_opts *o, struct ssl_ctx_st *ctx,
                   dp_conn *c, sl_err *err)
{
    uint8_t buf[SL_DP_MAX_CAP + 64];
    size_t n = dp_enc_hello(buf, sizeof buf, cap ? cap : "");
    c->fd = -1;
    c->ssl = NULL;
    c->ktls_send = 0;
    if (!n) return sl_errf(err, SL_EINVAL, "capability longer than %d bytes", SL_DP_MAX_CAP);
    c->fd = dp_connect(addr, o->timeout_ms, o->sock_buf, err);
    if (c->fd < 0) return err ? err->code : SL_EIO;
    int rc;
    if (ctx && (rc = dp_tls_connect(c, ctx, addr, err))) {
        dp_conn_close(c);
        return rc;
    }
    uint8_t *rb = malloc(DP_MAX_PAYLOAD);
    uint32_t len;
    rc = -1;
    if (!rb)
        rc = sl_errf(err, SL_ENOMEM, "out of memory");
    else if (dp_send_frame(c, DP_HELLO, buf, (uint32_t)n))
        rc = explain(c, addr, errno, err);
    else if (expect(c, DP_WELCOME, rb, &len, addr, err))
        rc = err ? err->code : SL_EIO;
    else
        rc = 0;
    free(rb);
    if (rc) dp_conn_close(c);
    return rc;
}

static int do_stat(dp_conn *fd, const char *addr, const char *object, dp_geom *g, uint8_t *buf,
                   sl_err *err)
{
    size_t n = strlen(object);
    if (n > SL_DP_MAX_NAME)
        return sl_errf(err, SL_EINVAL, "object name longer than %d bytes", SL_DP_MAX_NAME);
    if (dp_send_frame(fd, DP_STAT, object, (uint32_t)n)) return explain(fd, addr, errno, err);
    uint32_t len;
    if (expect(fd, DP_STAT_OK, buf, &len, addr, err)) return err ? err->code : SL_EIO;
    if (dp_dec_geom(buf, len, g, 1, NULL, 0))
        return sl_errf(err, SL_EIO, "data server %s: malformed or inconsistent STAT reply", addr);
    return 0;
}

int sl_dp_stat(const char *addr, const char *cap, const char *object, const sl_dp_opts *opts,
               uint64_t *size, uint64_t *checksum, sl_err *err)
{
    sl_dp_opts o;
    opts_fill(&o, opts);
    uint64_t *hashes = malloc(8 * SL_DP_MAX_BLOCKS);
    uint8_t *buf = malloc(DP_MAX_PAYLOAD);
    int rc = SL_ENOMEM;
    dp_geom g = {0};
    g.hashes = hashes;
    struct ssl_ctx_st *ctx = NULL;
    dp_conn c;
    if (!hashes || !buf) {
        sl_errf(err, rc, "out of memory");
        goto out;
    }
    ctx = tls_ctx(&o, &rc, err);
    if (rc || (rc = session(addr, cap, &o, ctx, &c, err))) goto out;
    rc = do_stat(&c, addr, object, &g, buf, err);
    dp_conn_close(&c);
    if (rc == 0) {
        if (size) *size = g.size;
        if (checksum) *checksum = g.checksum;
    }
out:
    if (ctx) dp_tls_ctx_free(ctx);
    free(hashes);
    free(buf);
    return rc;
}

/* ---- fetch ---- */

typedef struct chunk {
    uint64_t off, len;
} chunk;

/* Shared by the stream threads of one fetch. lock guards next, err, failed,
 * and the counters; geometry, chunks and fds are read-only once the
 * threads start. Each stream writes disjoint ranges of part and distinct
 * bytes of the sidecar, so those writes need no lock. */
typedef struct fetch {
    const char *addr, *cap, *object;
    sl_dp_opts o;
    struct ssl_ctx_st *tls; /* NULL: plain TCP; SSL_new on it is thread-safe */
    dp_geom g;
    int part_fd, state_fd;
    chunk *chunks;
    int nchunks;
    pthread_mutex_t lock;
    int next;
    int failed;
    int mismatch; /* data did not match the server's hashes: do not keep it */
    sl_err err;
    uint64_t bytes_fetched;
    uint32_t blocks_fetched;
} fetch;

static void fail(fetch *f, const sl_err *e, int mismatch)
{
    pthread_mutex_lock(&f->lock);
    if (!f->failed) f->err = *e;
    f->failed = 1;
    f->mismatch |= mismatch;
    pthread_mutex_unlock(&f->lock);
}

static int stream_chunk(fetch *f, dp_conn *fd, const chunk *ck, uint8_t *buf, uint8_t *fb,
                        sl_err *e)
{
    char name[SL_DP_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", f->object);
    dp_range rg = {ck->off, ck->len, f->g.size, f->g.mtime_ns};
    size_t n = dp_enc_get(fb, DP_MAX_PAYLOAD, &rg, name);
    if (dp_send_frame(fd, DP_GET, fb, (uint32_t)n)) return explain(fd, f->addr, errno, e);
    uint32_t len;
    if (expect(fd, DP_DATA, fb, &len, f->addr, e)) return e->code;
    dp_rd r = {fb, len, 0, 0};
    uint64_t off = dp_get64(&r), dlen = dp_get64(&r);
    if (r.bad || r.off != len || off != ck->off || dlen != ck->len)
        return sl_errf(e, SL_EIO, "data server %s: DATA frame for the wrong range", f->addr);
    uint32_t bs = f->g.block_size;
    uint64_t end = off + dlen;
    XXH3_state_t hs;
    while (off < end) {
        uint32_t b = (uint32_t)(off / bs);
        uint64_t bend = (uint64_t)(b + 1) * bs < end ? (uint64_t)(b + 1) * bs : end;
        XXH3_64bits_reset(&hs);
        while (off < bend) {
            size_t want = bend - off < RECV_BUF ? (size_t)(bend - off) : RECV_BUF;
            if (dp_read_full(fd, buf, want))
                return sl_errf(e, errno == ETIMEDOUT ? SL_ETIMEOUT : SL_EIO,
                               "data server %s: %s during transfer of '%s' (resumable: fetch "
                               "again)",
                               f->addr, dp_io_why(errno), f->object);
            XXH3_64bits_update(&hs, buf, want);
            if (pwrite(f->part_fd, buf, want, (off_t)off) != (ssize_t)want)
                return sl_errf(e, SL_EIO, "writing the partial file: %s", strerror(errno));
            off += want;
        }
        if (XXH3_64bits_digest(&hs) != f->g.hashes[b]) {
            sl_errf(e, SL_EIO,
                    "checksum mismatch in block %u of '%s' from %s: the source differs from "
                    "what the server hashed; partial file removed",
                    b, f->object, f->addr);
            return 1; /* distinguished by the caller as a mismatch */
        }
        uint8_t one = 1;
        if (pwrite(f->state_fd, &one, 1, STATE_HDR + (off_t)b) != 1)
            return sl_errf(e, SL_EIO, "writing the resume sidecar: %s", strerror(errno));
        pthread_mutex_lock(&f->lock);
        f->blocks_fetched++;
        f->bytes_fetched += bend - (uint64_t)b * bs;
        int stop = f->failed;
        pthread_mutex_unlock(&f->lock);
        if (stop) return 0; /* another stream failed: stop at a block boundary */
    }
    return 0;
}

static void *stream_main(void *arg)
{
    fetch *f = arg;
    sl_err e = {0};
    uint8_t *buf = malloc(RECV_BUF), *fb = malloc(DP_MAX_PAYLOAD);
    if (!buf || !fb) {
        sl_errf(&e, SL_ENOMEM, "out of memory");
        fail(f, &e, 0);
        goto out;
    }
    memset(buf, 0, RECV_BUF); /* fault the pages in now, not inside the hot loop */
    dp_conn c;
    if (session(f->addr, f->cap, &f->o, f->tls, &c, &e)) {
        fail(f, &e, 0);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&f->lock);
        int i = f->failed ? f->nchunks : f->next++;
        pthread_mutex_unlock(&f->lock);
        if (i >= f->nchunks) break;
        int rc = stream_chunk(f, &c, &f->chunks[i], buf, fb, &e);
        if (rc) {
            fail(f, &e, rc == 1);
            break;
        }
    }
    dp_conn_close(&c);
out:
    free(buf);
    free(fb);
    return NULL;
}

static int hash_range(int fd, uint64_t off, uint64_t len, uint8_t *buf, uint64_t *h)
{
    XXH3_state_t hs;
    XXH3_64bits_reset(&hs);
    while (len) {
        size_t want = len < RECV_BUF ? (size_t)len : RECV_BUF;
        if (pread(fd, buf, want, (off_t)off) != (ssize_t)want) return -1;
        XXH3_64bits_update(&hs, buf, want);
        off += want;
        len -= want;
    }
    *h = XXH3_64bits_digest(&hs);
    return 0;
}

static void state_header(uint8_t *h, const dp_geom *g)
{
    memset(h, 0, STATE_HDR);
    memcpy(h, STATE_MAGIC, 8);
    dp_wr w = {h + 8, 0, STATE_HDR - 8, 0};
    dp_put64(&w, g->size);
    dp_put64(&w, g->mtime_ns);
    dp_put64(&w, g->checksum);
    dp_put32(&w, g->block_size);
    dp_put32(&w, g->nblocks);
}

/* Loads the sidecar into done[] if it describes this very object version,
 * re-verifying each block it claims (a crash may have torn the last write).
 * Otherwise starts both files afresh. Returns the number of good blocks. */
static int state_load(fetch *f, uint8_t *done, sl_err *err)
{
    uint8_t want[STATE_HDR], have[STATE_HDR];
    state_header(want, &f->g);
    uint32_t nb = f->g.nblocks, good = 0;
    memset(done, 0, nb);
    if (pread(f->state_fd, have, STATE_HDR, 0) == STATE_HDR && memcmp(have, want, STATE_HDR) == 0 &&
        pread(f->state_fd, done, nb, STATE_HDR) == (ssize_t)nb) {
        uint8_t *buf = malloc(RECV_BUF);
        struct stat st;
        if (!buf || fstat(f->part_fd, &st) < 0 || (uint64_t)st.st_size != f->g.size) {
            memset(done, 0, nb);
        } else {
            for (uint32_t b = 0; b < nb; b++) {
                if (done[b] != 1) {
                    done[b] = 0;
                    continue;
                }
                uint64_t off = (uint64_t)b * f->g.block_size, h;
                uint64_t len =
                    off + f->g.block_size < f->g.size ? f->g.block_size : f->g.size - off;
                if (hash_range(f->part_fd, off, len, buf, &h) || h != f->g.hashes[b])
                    done[b] = 0;
                else
                    good++;
            }
        }
        free(buf);
        if (good) return (int)good;
    }
    /* No truncation to 0 first: every block is marked missing and will be
     * written, so pages a partial file of an earlier try already has are
     * reused. The partial file is private to this fetch (never a link). */
    if (ftruncate(f->part_fd, (off_t)f->g.size) < 0 || ftruncate(f->state_fd, 0) < 0 ||
        pwrite(f->state_fd, want, STATE_HDR, 0) != STATE_HDR ||
        (nb && pwrite(f->state_fd, done, nb, STATE_HDR) != (ssize_t)nb))
        return sl_errf(err, SL_EIO, "cannot prepare the partial file: %s", strerror(errno));
    return 0;
}

/* Splits the missing blocks into block-aligned chunks: at least min_chunk,
 * and few enough that every stream gets about one. */
static int plan(fetch *f, const uint8_t *done, uint32_t missing)
{
    uint32_t bs = f->g.block_size, nb = f->g.nblocks;
    uint64_t per = ((uint64_t)missing + (uint64_t)f->o.streams - 1) / (uint64_t)f->o.streams;
    uint64_t minb = (f->o.min_chunk + bs - 1) / bs;
    if (per < minb) per = minb;
    if (per < 1) per = 1;
    f->chunks = malloc(sizeof(chunk) * (nb ? nb : 1));
    if (!f->chunks) return -1;
    f->nchunks = 0;
    for (uint32_t b = 0; b < nb;) {
        if (done[b]) {
            b++;
            continue;
        }
        uint32_t s = b;
        while (b < nb && !done[b] && b - s < per)
            b++;
        uint64_t off = (uint64_t)s * bs;
        uint64_t end = (uint64_t)b * bs < f->g.size ? (uint64_t)b * bs : f->g.size;
        f->chunks[f->nchunks++] = (chunk){off, end - off};
    }
    return 0;
}

int sl_dp_fetch(const char *addr, const char *cap, const char *object, const char *local_path,
                const sl_dp_opts *opts, sl_dp_stats *stats, sl_err *err)
{
    int64_t t0 = sl_mono_us();
    fetch f;
    memset(&f, 0, sizeof f);
    if (stats) memset(stats, 0, sizeof *stats);
    f.addr = addr;
    f.cap = cap;
    f.object = object;
    f.part_fd = f.state_fd = -1;
    opts_fill(&f.o, opts);
    pthread_mutex_init(&f.lock, NULL);
    int rc = 0;
    char *part = NULL, *state = NULL;
    uint8_t *done = NULL, *buf = malloc(DP_MAX_PAYLOAD);
    f.g.hashes = malloc(8 * SL_DP_MAX_BLOCKS);
    done = malloc(SL_DP_MAX_BLOCKS);
    if (!buf || !f.g.hashes || !done || asprintf(&part, "%s.sl-part", local_path) < 0 ||
        asprintf(&state, "%s.sl-part.state", local_path) < 0) {
        rc = sl_errf(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    f.tls = tls_ctx(&f.o, &rc, err);
    if (rc) goto out;
    dp_conn c;
    if ((rc = session(addr, cap, &f.o, f.tls, &c, err))) goto out;
    rc = do_stat(&c, addr, object, &f.g, buf, err);
    dp_conn_close(&c);
    if (rc) goto out;
    if (f.o.expect_checksum && f.o.expect_checksum != f.g.checksum) {
        rc = sl_errf(err, SL_EIO,
                     "'%s' on %s has checksum %016llx, expected %016llx: a different version",
                     object, addr, (unsigned long long)f.g.checksum,
                     (unsigned long long)f.o.expect_checksum);
        goto out;
    }
    f.part_fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    f.state_fd = open(state, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f.part_fd < 0 || f.state_fd < 0) {
        rc = sl_errf(err, SL_EIO, "cannot create %s: %s", part, strerror(errno));
        goto out;
    }
    int good = state_load(&f, done, err);
    if (good < 0) {
        rc = good;
        goto out;
    }
    uint32_t missing = f.g.nblocks - (uint32_t)good;
    if (plan(&f, done, missing)) {
        rc = sl_errf(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    int nth = f.nchunks < f.o.streams ? f.nchunks : f.o.streams;
    pthread_t th[64];
    int started = 0;
    for (; started < nth; started++)
        if (pthread_create(&th[started], NULL, stream_main, &f)) break;
    if (started == 0 && nth > 0) {
        rc = sl_errf(err, SL_EIO, "cannot start transfer threads");
        goto out;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->size = f.g.size;
        stats->checksum = f.g.checksum;
        stats->blocks = f.g.nblocks;
        stats->blocks_resumed = (uint32_t)good;
        stats->blocks_fetched = f.blocks_fetched;
        stats->bytes_fetched = f.bytes_fetched;
        uint64_t resumed = 0;
        for (uint32_t b = 0; b < f.g.nblocks; b++)
            if (done[b])
                resumed += (uint64_t)(b + 1) * f.g.block_size < f.g.size
                               ? f.g.block_size
                               : f.g.size - (uint64_t)b * f.g.block_size;
        stats->bytes_resumed = resumed;
        stats->streams = started;
    }
    if (f.failed) {
        if (err) *err = f.err;
        rc = f.err.code ? f.err.code : SL_EIO;
        if (f.mismatch) { /* never keep data that failed its checksum */
            unlink(part);
            unlink(state);
        }
        goto out;
    }
    if (f.o.fsync && fsync(f.part_fd) < 0) {
        rc = sl_errf(err, SL_EIO, "fsync %s: %s", part, strerror(errno));
        goto out;
    }
    if (rename(part, local_path) < 0) {
        rc = sl_errf(err, SL_EIO, "cannot rename %s to %s: %s", part, local_path, strerror(errno));
        goto out;
    }
    unlink(state);
    struct stat st;
    if (fstat(f.part_fd, &st) == 0) { /* so this host can serve it on without rehashing */
        f.g.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
        dp_geom_cache_store(f.part_fd, &f.g);
    }
out:
    if (stats) stats->elapsed_us = sl_mono_us() - t0;
    if (f.part_fd >= 0) close(f.part_fd);
    if (f.state_fd >= 0) close(f.state_fd);
    pthread_mutex_destroy(&f.lock);
    if (f.tls) dp_tls_ctx_free(f.tls);
    free(f.chunks);
    free(f.g.hashes);
    free(done);
    free(buf);
    free(part);
    free(state);
    return rc;
}

/* ---- push ---- */

int sl_dp_push(const char *addr, const char *cap, const char *local_path, const char *object,
               const sl_dp_opts *opts, sl_dp_stats *stats, sl_err *err)
{
    int64_t t0 = sl_mono_us();
    sl_dp_opts o;
    opts_fill(&o, opts);
    int rc = 0;
    dp_conn sock = {-1, NULL, 0};
    struct ssl_ctx_st *ctx = NULL;
    dp_geom g = {0};
    g.hashes = malloc(8 * SL_DP_MAX_BLOCKS);
    uint8_t *buf = malloc(DP_MAX_PAYLOAD);
    int fd = open(local_path, O_RDONLY | O_CLOEXEC);
    if (!g.hashes || !buf) {
        rc = sl_errf(err, SL_ENOMEM, "out of memory");
        goto out;
    }
    if (fd < 0) {
        rc = sl_errf(err, SL_EIO, "cannot open %s: %s", local_path, strerror(errno));
        goto out;
    }
    int computed;
    if ((rc = dp_file_geom(fd, 0, &g, &computed, err))) {
        sl_err_prefix(err, "%s", local_path);
        goto out;
    }
    if (strlen(object) > SL_DP_MAX_NAME) {
        rc = sl_errf(err, SL_EINVAL, "object name longer than %d bytes", SL_DP_MAX_NAME);
        goto out;
    }
    ctx = tls_ctx(&o, &rc, err);
    if (rc || (rc = session(addr, cap, &o, ctx, &sock, err))) goto out;
    size_t n = dp_enc_geom(buf, DP_MAX_PAYLOAD, &g, 0, object);
    uint32_t len;
    if (!n) {
        rc = sl_errf(err, SL_EINVAL, "PUT_OPEN does not fit a frame");
        goto out;
    }
    if (dp_send_frame(&sock, DP_PUT_OPEN, buf, (uint32_t)n)) {
        rc = explain(&sock, addr, errno, err);
        goto out;
    }
    if ((rc = expect(&sock, DP_PUT_OK, buf, &len, addr, err))) goto out;
    if (g.size) {
        uint8_t h[16];
        dp_wr w = {h, 0, sizeof h, 0};
        dp_put64(&w, 0);
        dp_put64(&w, g.size);
        if (dp_send_frame(&sock, DP_PUT_DATA, h, 16) || dp_sendfile_all(&sock, fd, 0, g.size, 0)) {
            rc = explain(&sock, addr, errno, err);
            goto out;
        }
    }
    if (dp_send_frame(&sock, DP_PUT_COMMIT, NULL, 0)) {
        rc = explain(&sock, addr, errno, err);
        goto out;
    }
    rc = expect(&sock, DP_PUT_OK, buf, &len, addr, err);
out:
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->size = g.size;
        stats->checksum = g.checksum;
        stats->blocks = g.nblocks;
        stats->bytes_fetched = rc == 0 ? g.size : 0;
        stats->blocks_fetched = rc == 0 ? g.nblocks : 0;
        stats->streams = 1;
        stats->elapsed_us = sl_mono_us() - t0;
    }
    if (sock.fd >= 0) dp_conn_close(&sock);
    if (ctx) dp_tls_ctx_free(ctx);
    if (fd >= 0) close(fd);
    free(g.hashes);
    free(buf);
    return rc;
}
