/* dp_server.c - the data server every agent runs: serves its cache roots.
 *
 * Threading: one acceptor thread plus one thread per connection, not epoll.
 * A connection here is a bulk stream (a client opens a handful per object,
 * and an agent has a few peers), so connections are few and long; the work
 * per connection is sendfile() or recv()+pwrite() of gigabytes, which a
 * blocking thread does with the fewest syscalls and no state machine, and
 * per-socket SO_RCVTIMEO/SO_SNDTIMEO give slow-peer timeouts for free. An
 * event loop would pay off with thousands of idle connections, which a data
 * plane does not have; max_conns bounds the threads instead.
 *
 * Authorization is per connection: HELLO carries a capability, verified
 * once with this server's key; every later request is checked against the
 * object and operation it grants. Pushes land in "<mem>/.pushed/<path>/"
 * for the agent to verify and move, never in the object's own place. */
#include "dataplane/dp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <openssl/crypto.h>
#include <xxhash.h>

#include "util/clock.h"

typedef struct dp_peer dp_peer;

struct sl_dp_server {
    int lfd;
    int wake[2]; /* written by stop to wake the acceptor's poll() */
    pthread_t acceptor;
    uint8_t key[32];        /* capability key (raw); never logged or sent */
    struct ssl_ctx_st *tls; /* NULL: plain TCP */
    struct {
        char name[DP_MAX_ROOTNAME + 1];
        int fd;
    } roots[SL_DP_MAX_ROOTS];
    int nroots;
    int timeout_ms, max_conns, sock_buf;
    uint32_t block_size;
    uint64_t rate_limit;
    /* lock guards conns, nconns, stopping and ctr; idle is signalled when
     * nconns drops so stop can wait for the last connection thread. */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    dp_peer *conns;
    int nconns;
    int stopping;
    sl_dp_server_counters ctr;
};

/* A push being received on one connection; owned by that connection's thread. */
typedef struct dp_put {
    int active;
    int dirfd, fd;
    char tmp[300], last[256];
    dp_geom g;
    uint64_t hashes[SL_DP_MAX_BLOCKS];
    uint8_t done[SL_DP_MAX_BLOCKS];
    uint32_t ndone;
} dp_put;

/* One connection. Everything but next/prev/io.fd is private to the
 * connection's thread; next/prev are guarded by the server's lock (stop
 * reads io.fd under it to shutdown() the socket). */
struct dp_peer {
    dp_peer *next, *prev;
    sl_dp_server *srv;
    dp_conn io;
    dp_cap cap; /* what HELLO's capability grants, for the whole connection */
    uint8_t frame[DP_MAX_PAYLOAD];
    uint8_t out[DP_MAX_PAYLOAD];
    uint64_t hashes[SL_DP_MAX_BLOCKS];
    uint8_t *rbuf; /* receive buffer for pushes, allocated on first use */
    dp_put put;
};

#define PUT_RBUF (1u << 20)

/* Capabilities expire by the wall clock (Unix ms), not a monotonic one. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void count(sl_dp_server *s, uint64_t *field, uint64_t n)
{
    pthread_mutex_lock(&s->lock);
    *field += n;
    pthread_mutex_unlock(&s->lock);
}

static int send_msg(dp_peer *c, uint8_t type, uint32_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int send_msg(dp_peer *c, uint8_t type, uint32_t code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = dp_enc_msg(c->out, sizeof c->out, code, msg);
    return dp_send_frame(&c->io, type, c->out, (uint32_t)n);
}

/* Resolves "ROOT/rel" to (root fd, rel) and checks the connection's
 * capability allows op on it. Sends the ERROR itself on failure. */
static int resolve(dp_peer *c, const char *name, int op, int *rootfd, const char **rel)
{
    char root[DP_MAX_ROOTNAME + 1], why2[600];
    const char *why;
    if (dp_name_split(name, root, rel, &why)) {
        send_msg(c, DP_ERROR, SL_DP_E_NAME, "refused '%s': %s", name, why);
        return -1;
    }
    if (dp_cap_allows(&c->cap, op, root, *rel, NULL, why2, sizeof why2)) {
        send_msg(c, DP_ERROR, SL_DP_E_AUTH, "refused '%s': %s", name, why2);
        return -1;
    }
    for (int i = 0; i < c->srv->nroots; i++)
        if (strcmp(c->srv->roots[i].name, root) == 0) {
            *rootfd = c->srv->roots[i].fd;
            return 0;
        }
    send_msg(c, DP_ERROR, SL_DP_E_NAME, "refused '%s': this server has no root named '%s'", name,
             root);
    return -1;
}

static void send_open_error(dp_peer *c, const char *name, int e)
{
    if (e == ENOENT)
        send_msg(c, DP_ERROR, SL_DP_E_NOTFOUND, "no object '%s'", name);
    else if (e == ELOOP || e == ENOTDIR)
        send_msg(c, DP_ERROR, SL_DP_E_NAME,
                 "refused '%s': symbolic links are not followed inside a root", name);
    else
        send_msg(c, DP_ERROR, SL_DP_E_IO, "cannot open '%s': %s", name, strerror(e));
}

/* Opens an object for reading; regular files only (O_NONBLOCK so a FIFO
 * planted in a root cannot block the thread before fstat says what it is). */
static int open_object(dp_peer *c, const char *name)
{
    int rootfd;
    const char *rel;
    if (resolve(c, name, SL_DP_CAP_READ, &rootfd, &rel)) return -1;
    int fd = dp_open_beneath(rootfd, rel, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        send_open_error(c, name, errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        send_msg(c, DP_ERROR, SL_DP_E_NAME, "refused '%s': not a regular file", name);
        return -1;
    }
    return fd;
}

/* Returns 0 to keep the connection, -1 to close it. */
static int do_stat(dp_peer *c, uint32_t len)
{
    char name[SL_DP_MAX_NAME + 1];
    dp_rd r = {c->frame, len, 0, 0};
    dp_get_str(&r, name, sizeof name);
    if (r.bad) return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "malformed STAT"), -1;
    int fd = open_object(c, name);
    if (fd < 0) return 0;
    dp_geom g = {0};
    g.hashes = c->hashes;
    int computed = 0;
    sl_err err;
    int rc = dp_file_geom(fd, c->srv->block_size, &g, &computed, &err);
    close(fd);
    if (rc) return send_msg(c, DP_ERROR, SL_DP_E_IO, "cannot checksum '%s': %s", name, err.msg);
    if (computed) count(c->srv, &c->srv->ctr.hashes_computed, 1);
    size_t n = dp_enc_geom(c->out, sizeof c->out, &g, 1, NULL);
    return dp_send_frame(&c->io, DP_STAT_OK, c->out, (uint32_t)n);
}

static int do_get(dp_peer *c, uint32_t len)
{
    char name[SL_DP_MAX_NAME + 1];
    dp_range rg;
    if (dp_dec_get(c->frame, len, &rg, name, sizeof name))
        return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "malformed GET"), -1;
    int fd = open_object(c, name);
    if (fd < 0) return 0;
    struct stat st;
    fstat(fd, &st);
    uint64_t mt = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    if ((uint64_t)st.st_size != rg.size || mt != rg.mtime_ns) {
        close(fd);
        return send_msg(c, DP_ERROR, SL_DP_E_CHANGED,
                        "object '%s' changed since STAT (size or mtime differ); fetch again", name);
    }
    uint8_t h[16];
    dp_wr w = {h, 0, sizeof h, 0};
    dp_put64(&w, rg.offset);
    dp_put64(&w, rg.length);
    int rc = dp_send_frame(&c->io, DP_DATA, h, 16);
    if (rc == 0) rc = dp_sendfile_all(&c->io, fd, rg.offset, rg.length, c->srv->rate_limit);
    close(fd);
    if (rc == 0) {
        pthread_mutex_lock(&c->srv->lock);
        c->srv->ctr.gets++;
        c->srv->ctr.bytes_sent += rg.length;
        pthread_mutex_unlock(&c->srv->lock);
    }
    return rc; /* a failed sendfile leaves the stream mid-DATA: close */
}

static void put_abort(dp_peer *c)
{
    dp_put *p = &c->put;
    if (!p->active) return;
    unlinkat(p->dirfd, p->tmp, 0);
    close(p->fd);
    close(p->dirfd);
    p->active = 0;
}

static int do_put_open(dp_peer *c, uint32_t len)
{
    char name[SL_DP_MAX_NAME + 1];
    dp_put *p = &c->put;
    put_abort(c); /* a second PUT_OPEN replaces an unfinished one */
    p->g.hashes = p->hashes;
    if (dp_dec_geom(c->frame, len, &p->g, 0, name, sizeof name))
        return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "malformed PUT_OPEN"), -1;
    int rootfd;
    const char *rel, *last;
    if (resolve(c, name, SL_DP_CAP_PUSH, &rootfd, &rel)) return -1;
    /* Never into the object's place: the agent verifies what was pushed
     * and moves it there itself. */
    char staged[SL_DP_MAX_NAME + 16];
    snprintf(staged, sizeof staged, ".pushed/%s", rel);
    int dirfd = dp_open_parent_beneath(rootfd, staged, 1, &last);
    if (dirfd < 0) return send_open_error(c, name, errno), -1;
    /* Temp name beside the target so the commit is an atomic rename; the
     * leading dot keeps it out of casual listings. */
    static const char hex[] = "0123456789abcdef";
    uint64_t rnd = XXH3_64bits(&c, sizeof c) ^ (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
    char suf[17];
    for (int i = 0; i < 16; i++)
        suf[i] = hex[(rnd >> (4 * i)) & 15];
    suf[16] = 0;
    snprintf(p->last, sizeof p->last, "%s", last);
    snprintf(p->tmp, sizeof p->tmp, ".%.200s.sl-put.%s", last, suf);
    p->fd = openat(dirfd, p->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (p->fd < 0) {
        int e = errno;
        close(dirfd);
        return send_open_error(c, name, e), -1;
    }
    if (ftruncate(p->fd, (off_t)p->g.size) < 0) {
        int e = errno;
        unlinkat(dirfd, p->tmp, 0);
        close(p->fd);
        close(dirfd);
        return send_msg(c, DP_ERROR, SL_DP_E_IO, "cannot size '%s': %s", name, strerror(e)), -1;
    }
    p->dirfd = dirfd;
    memset(p->done, 0, p->g.nblocks);
    p->ndone = 0;
    p->active = 1;
    uint8_t ack[8];
    dp_wr w = {ack, 0, 8, 0};
    dp_put64(&w, p->g.checksum);
    return dp_send_frame(&c->io, DP_PUT_OK, ack, 8);
}

static int do_put_data(dp_peer *c, uint32_t len)
{
    dp_put *p = &c->put;
    dp_rd r = {c->frame, len, 0, 0};
    uint64_t off = dp_get64(&r), n = dp_get64(&r);
    if (r.bad || r.off != len || !p->active)
        return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "PUT_DATA without PUT_OPEN or malformed"), -1;
    uint32_t bs = p->g.block_size;
    if (off % bs || off > p->g.size || n > p->g.size - off || (n % bs && off + n != p->g.size))
        return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "PUT_DATA range is not block-aligned"), -1;
    if (!c->rbuf && !(c->rbuf = malloc(PUT_RBUF)))
        return send_msg(c, DP_ERROR, SL_DP_E_IO, "out of memory"), -1;
    XXH3_state_t hs;
    uint64_t end = off + n;
    while (off < end) {
        uint32_t b = (uint32_t)(off / bs);
        uint64_t bend = (uint64_t)(b + 1) * bs < end ? (uint64_t)(b + 1) * bs : end;
        XXH3_64bits_reset(&hs);
        while (off < bend) {
            size_t want = bend - off < PUT_RBUF ? (size_t)(bend - off) : PUT_RBUF;
            if (dp_read_full(&c->io, c->rbuf, want))
                return -1; /* peer gone or too slow: the temp file is dropped */
            XXH3_64bits_update(&hs, c->rbuf, want);
            if (pwrite(p->fd, c->rbuf, want, (off_t)off) != (ssize_t)want)
                return send_msg(c, DP_ERROR, SL_DP_E_IO, "write: %s", strerror(errno)), -1;
            off += want;
        }
        if (XXH3_64bits_digest(&hs) != p->hashes[b])
            return send_msg(c, DP_ERROR, SL_DP_E_CHECKSUM,
                            "pushed block %u does not match its declared hash", b),
                   -1;
        if (!p->done[b]) {
            p->done[b] = 1;
            p->ndone++;
        }
    }
    count(c->srv, &c->srv->ctr.bytes_received, n);
    return 0;
}

static int do_put_commit(dp_peer *c)
{
    dp_put *p = &c->put;
    if (!p->active) return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "PUT_COMMIT without PUT_OPEN"), -1;
    if (p->ndone != p->g.nblocks)
        return send_msg(c, DP_ERROR, SL_DP_E_PROTO, "PUT_COMMIT with %u of %u blocks missing",
                        p->g.nblocks - p->ndone, p->g.nblocks),
               -1;
    if (renameat(p->dirfd, p->tmp, p->dirfd, p->last) < 0)
        return send_msg(c, DP_ERROR, SL_DP_E_IO, "rename: %s", strerror(errno)), -1;
    struct stat st;
    if (fstat(p->fd, &st) == 0) { /* record the verified hashes for later STATs */
        p->g.mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
        if (p->g.block_size == sl_dp_block_size(p->g.size, c->srv->block_size))
            dp_geom_cache_store(p->fd, &p->g);
    }
    close(p->fd);
    close(p->dirfd);
    p->active = 0;
    count(c->srv, &c->srv->ctr.puts_committed, 1);
    uint8_t ack[8];
    dp_wr w = {ack, 0, 8, 0};
    dp_put64(&w, p->g.checksum);
    return dp_send_frame(&c->io, DP_PUT_OK, ack, 8);
}

/* With TLS on, a client that starts in plain text gets a plain REFUSED
 * saying so (its HELLO frame begins with 0x01, a TLS record with 0x16),
 * then the TLS handshake runs. 0 to go on, -1 to close. */
static int tls_start(dp_peer *c)
{
    uint8_t first = 0;
    ssize_t n = recv(c->io.fd, &first, 1, MSG_PEEK);
    if (n <= 0) return -1;
    if (first == DP_HELLO) {
        send_msg(c, DP_REFUSED, SL_DP_E_AUTH,
                 "refused: this data server speaks TLS only (give the client --tls-ca)");
        return -1;
    }
    char why[300];
    if (dp_tls_accept(&c->io, c->srv->tls, why, sizeof why)) return -1;
    return 0;
}

static int handshake(dp_peer *c)
{
    if (c->srv->tls && tls_start(c)) return -1;
    uint8_t type;
    uint32_t len;
    int rc = dp_recv_frame(&c->io, &type, c->frame, &len);
    if (rc == -1) return -1;
    uint16_t ver = 0;
    char cap[SL_DP_MAX_CAP + 1], why[600];
    size_t cl = 0;
    if (rc == -2 || type != DP_HELLO || dp_dec_hello(c->frame, len, &ver, cap, &cl)) {
        send_msg(c, DP_REFUSED, SL_DP_E_AUTH,
                 "refused: the first frame must be HELLO with a capability");
        return -1;
    }
    if (ver != SL_DP_PROTO_VERSION) {
        send_msg(c, DP_REFUSED, SL_DP_E_VERSION,
                 "refused: protocol version %u is not supported (this server speaks %d)", ver,
                 SL_DP_PROTO_VERSION);
        return -1;
    }
    if (dp_cap_verify(c->srv->key, cap, cl, wall_ms(), &c->cap, why, sizeof why)) {
        send_msg(c, DP_REFUSED, SL_DP_E_AUTH, "refused: %s", why);
        return -1;
    }
    /* A client that proved who it is must be the host the grant is for. */
    if (dp_tls_peer_is(&c->io, c->cap.reader) == 0) {
        send_msg(c, DP_REFUSED, SL_DP_E_AUTH,
                 "refused: capability is for host %.255s, the client certificate is not",
                 c->cap.reader);
        return -1;
    }
    uint8_t w8[8];
    dp_wr w = {w8, 0, 8, 0};
    dp_put16(&w, SL_DP_PROTO_VERSION);
    dp_put16(&w, 0);
    dp_put32(&w, DP_MAX_PAYLOAD);
    return dp_send_frame(&c->io, DP_WELCOME, w8, 8);
}

static void serve(dp_peer *c)
{
    if (handshake(c)) {
        count(c->srv, &c->srv->ctr.conns_refused, 1);
        return;
    }
    for (;;) {
        uint8_t type;
        uint32_t len;
        int rc = dp_recv_frame(&c->io, &type, c->frame, &len);
        if (rc == -1) return;
        if (rc == -2) {
            send_msg(c, DP_ERROR, SL_DP_E_PROTO, "malformed frame header");
            return;
        }
        switch (type) {
        case DP_STAT:
            rc = do_stat(c, len);
            break;
        case DP_GET:
            rc = do_get(c, len);
            break;
        case DP_PUT_OPEN:
            rc = do_put_open(c, len);
            break;
        case DP_PUT_DATA:
            rc = do_put_data(c, len);
            break;
        case DP_PUT_COMMIT:
            rc = do_put_commit(c);
            break;
        default:
            send_msg(c, DP_ERROR, SL_DP_E_PROTO, "unexpected frame type 0x%02x", type);
            rc = -1;
        }
        if (rc) return;
    }
}

static void *conn_main(void *arg)
{
    dp_peer *c = arg;
    sl_dp_server *s = c->srv;
    serve(c);
    put_abort(c);
    free(c->rbuf);
    pthread_mutex_lock(&s->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    dp_conn_close(&c->io);
    s->nconns--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    free(c);
    return NULL;
}

/* Threads we start take no signals: the embedding process (agent, CLI)
 * decides who handles SIGINT/SIGTERM, and SIGPIPE is handled per call. */
static int spawn(pthread_t *th, void *(*fn)(void *), void *arg, int detach)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t at;
    pthread_attr_init(&at);
    if (detach) pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(th, &at, fn, arg);
    pthread_attr_destroy(&at);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static void *accept_main(void *arg)
{
    sl_dp_server *s = arg;
    for (;;) {
        struct pollfd p[2] = {{s->lfd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
        if (poll(p, 2, -1) < 0) continue;
        if (p[1].revents) return NULL;
        int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        dp_sock_setup(fd, s->timeout_ms, s->sock_buf);
        pthread_mutex_lock(&s->lock);
        s->ctr.conns_accepted++;
        int full = s->nconns >= s->max_conns || s->stopping;
        dp_peer *c = full ? NULL : calloc(1, sizeof *c);
        if (c) {
            c->srv = s;
            c->io.fd = fd;
            c->next = s->conns;
            if (s->conns) s->conns->prev = c;
            s->conns = c;
            s->nconns++;
        } else {
            s->ctr.conns_refused++;
        }
        pthread_mutex_unlock(&s->lock);
        if (!c && s->tls) { /* a plain frame would only confuse a TLS client */
            close(fd);
            continue;
        }
        if (!c) {
            uint8_t buf[128];
            size_t n = dp_enc_msg(buf, sizeof buf, SL_DP_E_BUSY,
                                  "refused: data server at its connection limit");
            dp_conn plain = {fd, NULL, 0};
            dp_send_frame(&plain, DP_REFUSED, buf, (uint32_t)n);
            close(fd);
            continue;
        }
        pthread_t th;
        if (spawn(&th, conn_main, c, 1)) {
            /* No thread: undo the registration ourselves. */
            pthread_mutex_lock(&s->lock);
            s->conns = c->next;
            if (c->next) c->next->prev = NULL;
            s->nconns--;
            pthread_mutex_unlock(&s->lock);
            close(fd);
            free(c);
        }
    }
}

static void server_free(sl_dp_server *s)
{
    for (int i = 0; i < s->nroots; i++)
        close(s->roots[i].fd);
    if (s->lfd >= 0) close(s->lfd);
    if (s->wake[0] >= 0) {
        close(s->wake[0]);
        close(s->wake[1]);
    }
    if (s->tls) dp_tls_ctx_free(s->tls);
    OPENSSL_cleanse(s->key, sizeof s->key);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s);
}

sl_dp_server *sl_dp_server_start(const sl_dp_config *cfg, int *bound_port, sl_err *err)
{
    uint8_t key[32];
    if (dp_key_parse(cfg->key, key))
        return sl_errf(err, SL_EINVAL,
                       "data server needs its key: %d lower-case hex characters "
                       "(sl_dp_server_key)",
                       SL_DP_KEY_HEX),
               NULL;
    const sl_dp_tls *t = &cfg->tls;
    if ((t->ca_file || t->cert_file || t->key_file) && (!t->cert_file || !t->key_file))
        return sl_errf(err, SL_EINVAL,
                       "data server TLS needs a certificate and a key file (a CA file alone "
                       "does not turn TLS on)"),
               NULL;
    if (cfg->nroots < 1 || cfg->nroots > SL_DP_MAX_ROOTS)
        return sl_errf(err, SL_EINVAL, "data server needs 1 to %d roots", SL_DP_MAX_ROOTS), NULL;
    sl_dp_server *s = calloc(1, sizeof *s);
    if (!s) return sl_errf(err, SL_ENOMEM, "out of memory"), NULL;
    s->lfd = s->wake[0] = s->wake[1] = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    memcpy(s->key, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    if (t->cert_file && !(s->tls = dp_tls_ctx(t, 1, err))) goto fail;
    s->timeout_ms = cfg->io_timeout_ms > 0 ? cfg->io_timeout_ms : 30000;
    s->max_conns = cfg->max_conns > 0 ? cfg->max_conns : 256;
    s->block_size = sl_dp_block_size(0, cfg->block_size);
    s->rate_limit = cfg->rate_limit;
    s->sock_buf = cfg->sock_buf;
    for (int i = 0; i < cfg->nroots; i++) {
        const sl_dp_root *r = &cfg->roots[i];
        if (!r->name || !dp_root_name_ok(r->name) || !r->path) {
            sl_errf(err, SL_EINVAL, "root %d: name must be [A-Za-z0-9_-]{1,%d} with a path", i,
                    DP_MAX_ROOTNAME);
            goto fail;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(s->roots[j].name, r->name) == 0) {
                sl_errf(err, SL_EINVAL, "root '%s' is given twice", r->name);
                goto fail;
            }
        int fd = open(r->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            sl_errf(err, SL_EIO, "root '%s': cannot open directory %s: %s", r->name, r->path,
                    strerror(errno));
            goto fail;
        }
        snprintf(s->roots[i].name, sizeof s->roots[i].name, "%s", r->name);
        s->roots[i].fd = fd;
        s->nroots = i + 1;
    }
    if (pipe2(s->wake, O_CLOEXEC) < 0) {
        sl_errf(err, SL_EIO, "pipe: %s", strerror(errno));
        goto fail;
    }
    s->lfd = dp_listen(cfg->listen ? cfg->listen : "127.0.0.1:0", bound_port, err);
    if (s->lfd < 0) goto fail;
    if (spawn(&s->acceptor, accept_main, s, 0)) {
        sl_errf(err, SL_EIO, "cannot start the data server thread");
        goto fail;
    }
    return s;
fail:
    server_free(s);
    return NULL;
}

void sl_dp_server_stop(sl_dp_server *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_mutex_unlock(&s->lock);
    char b = 1;
    if (write(s->wake[1], &b, 1) < 0) {
        /* cannot happen with an empty pipe; the join below would hang, so
         * fall back to cutting the listening socket */
        shutdown(s->lfd, SHUT_RDWR);
    }
    pthread_join(s->acceptor, NULL);
    pthread_mutex_lock(&s->lock);
    /* shutdown() (not close) wakes a thread blocked in recv/sendfile on the
     * socket without letting the descriptor number be reused under it. */
    for (dp_peer *c = s->conns; c; c = c->next)
        shutdown(c->io.fd, SHUT_RDWR);
    while (s->nconns > 0)
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
    server_free(s);
}

void sl_dp_server_stats(sl_dp_server *s, sl_dp_server_counters *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->ctr;
    pthread_mutex_unlock(&s->lock);
}
