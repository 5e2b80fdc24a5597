/* dp_io.c - sockets, files and hashing for the data plane.
 *
 * All blocking I/O goes through here so that the rules are applied once:
 * every socket has send/receive timeouts (a stalled peer becomes ETIMEDOUT,
 * never a hung thread), every send is SIGPIPE-free (MSG_NOSIGNAL, and
 * sendfile with SIGPIPE blocked in the calling thread and drained after
 * EPIPE), short reads and writes are retried (a TLS connection is handed to
 * dp_tls.c at the top of each call, so plain TCP pays one branch), and files inside a root are
 * opened component by component with O_NOFOLLOW so no symlink can lead out.
 * The per-file block hashes are cached in an xattr keyed by size, mtime and
 * block size so an object is hashed once, not once per transfer. */
#include "dataplane/dp_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "util/clock.h"

#define DP_XATTR "user.sluice.dp"
#define DP_XATTR_VERSION 1u

int dp_split_addr(const char *addr, char *host, size_t hmax, char *port, size_t pmax)
{
    const char *colon;
    const char *h = addr;
    size_t hl;
    if (addr[0] == '[') { /* [v6]:port */
        const char *rb = strchr(addr, ']');
        if (!rb || rb[1] != ':') return -1;
        h = addr + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon) return -1;
        hl = (size_t)(colon - addr);
    }
    size_t pl = strlen(colon + 1);
    if (hl == 0 || hl >= hmax || pl == 0 || pl >= pmax) return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

void dp_sock_setup(int fd, int timeout_ms, int sock_buf)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    /* Requests are small frames answered at once; Nagle would only add
     * latency. Bulk data is unaffected (large writes fill segments). */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (sock_buf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sock_buf, sizeof sock_buf);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sock_buf, sizeof sock_buf);
    }
}

static struct addrinfo *resolve(const char *addr, int passive, sl_err *err)
{
    char host[256], port[16];
    if (dp_split_addr(addr, host, sizeof host, port, sizeof port))
        return sl_errf(err, SL_EINVAL, "address '%s' is not HOST:PORT", addr), NULL;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) return sl_errf(err, SL_EINVAL, "cannot resolve '%s': %s", addr, gai_strerror(rc)), NULL;
    return res;
}

int dp_listen(const char *addr, int *bound_port, sl_err *err)
{
    struct addrinfo *res = resolve(addr, 1, err);
    if (!res) return -1;
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) return sl_errf(err, SL_EIO, "cannot listen on %s: %s", addr, strerror(e)), -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    if (bound_port)
        *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                               : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

int dp_connect(const char *addr, int timeout_ms, int sock_buf, sl_err *err)
{
    struct addrinfo *res = resolve(addr, 0, err);
    if (!res) return -1;
    int fd = -1, e = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        /* Buffer sizes must be set before connect to affect the window scale. */
        dp_sock_setup(fd, timeout_ms, sock_buf);
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            rc = poll(&p, 1, timeout_ms);
            if (rc == 0) {
                errno = ETIMEDOUT;
                rc = -1;
            } else if (rc > 0) {
                socklen_t l = sizeof e;
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
                rc = e ? (errno = e, -1) : 0;
            }
        }
        if (rc == 0) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            break;
        }
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sl_errf(err, SL_EIO, "cannot connect to data server %s: %s", addr, strerror(e)), -1;
    return fd;
}

int dp_read_full(dp_conn *c, void *buf, size_t n)
{
    if (c->ssl) return dp_tls_read_full(c, buf, n);
    int fd = c->fd;
    uint8_t *p = buf;
    while (n) {
        ssize_t r = recv(fd, p, n, MSG_WAITALL);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            errno = ECONNRESET;
            return -1;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            errno = ETIMEDOUT; /* SO_RCVTIMEO expired: the peer is too slow */
            return -1;
        } else if (errno != EINTR) {
            return -1;
        }
    }
    return 0;
}

static int sendmsg_all(int fd, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        struct msghdr m = {0};
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)iovcnt;
        ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
            return -1;
        }
        while (iovcnt > 0 && (size_t)r >= iov->iov_len) {
            r -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
    return 0;
}

int dp_write_full(dp_conn *c, const void *buf, size_t n)
{
    if (c->ssl) return dp_tls_write_full(c, buf, n);
    struct iovec v = {(void *)buf, n};
    return sendmsg_all(c->fd, &v, 1);
}

int dp_send_frame(dp_conn *c, uint8_t type, const void *payload, uint32_t len)
{
    uint8_t h[DP_HDR];
    dp_hdr_encode(h, type, len);
    if (c->ssl) {
        /* one TLS record for a small frame instead of two */
        uint8_t one[DP_HDR + 4096];
        if (len > sizeof one - DP_HDR)
            return dp_tls_write_full(c, h, DP_HDR) ? -1 : dp_tls_write_full(c, payload, len);
        memcpy(one, h, DP_HDR);
        if (len) memcpy(one + DP_HDR, payload, len);
        return dp_tls_write_full(c, one, DP_HDR + len);
    }
    struct iovec v[2] = {{h, DP_HDR}, {(void *)payload, len}};
    return sendmsg_all(c->fd, v, len ? 2 : 1);
}

int dp_recv_frame(dp_conn *c, uint8_t *type, uint8_t *payload, uint32_t *len)
{
    uint8_t h[DP_HDR];
    if (dp_read_full(c, h, DP_HDR)) return -1;
    if (dp_hdr_decode(h, type, len)) return -2;
    return *len ? dp_read_full(c, payload, *len) : 0;
}

void dp_pace(int64_t t0, uint64_t sent, uint64_t rate)
{
    int64_t due = t0 + (int64_t)(sent * 1000000.0 / (double)rate);
    int64_t now = sl_mono_us();
    if (due > now) {
        struct timespec ts = {(due - now) / 1000000, ((due - now) % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

/* sendfile() (and OpenSSL's write() on a socket) take no MSG_NOSIGNAL: block
 * SIGPIPE for this thread only, and if the peer vanished, consume the
 * SIGPIPE we raised before unblocking so the process never sees it. */
void dp_nopipe_begin(dp_nopipe *g)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old);
}

void dp_nopipe_end(dp_nopipe *g, int epipe)
{
    if (epipe && !g->was_pending) {
        sigset_t pipe_set;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

int dp_sendfile_all(dp_conn *c, int fd, uint64_t off, uint64_t len, uint64_t rate)
{
    if (c->ssl) return dp_tls_sendfile(c, fd, off, len, rate);
    int sock = c->fd;
    dp_nopipe g;
    dp_nopipe_begin(&g);
    int rc = 0, e = 0;
    int64_t t0 = sl_mono_us();
    uint64_t sent = 0;
    while (sent < len) {
        size_t want = len - sent > (1u << 30) ? (1u << 30) : (size_t)(len - sent);
        if (rate) {
            if (want > 65536) want = 65536;
            dp_pace(t0, sent, rate);
        }
        off_t o = (off_t)(off + sent);
        ssize_t r = sendfile(sock, fd, &o, want);
        if (r > 0) {
            sent += (uint64_t)r;
        } else if (r == 0) {
            e = EIO; /* file shrank under us */
            rc = -1;
            break;
        } else if (errno != EINTR) {
            e = (errno == EAGAIN || errno == EWOULDBLOCK) ? ETIMEDOUT : errno;
            rc = -1;
            break;
        }
    }
    dp_nopipe_end(&g, rc && e == EPIPE);
    if (rc) errno = e;
    return rc;
}

static int walk(int dirfd, const char *rel, int mkdirs, const char **last)
{
    char path[SL_DP_MAX_NAME + 16]; /* + ".pushed/" for staged pushes */
    size_t n = strlen(rel);
    if (n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, rel, n + 1);
    int cur = dup(dirfd);
    if (cur < 0) return -1;
    char *c = path;
    for (;;) {
        char *slash = strchr(c, '/');
        if (!slash) break;
        *slash = 0;
        int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && mkdirs) {
            if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(cur);
                errno = e;
                return -1;
            }
            next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        close(cur);
        if (next < 0) {
            errno = e == ENOTDIR ? ELOOP : e; /* a symlinked directory reads as ENOTDIR */
            return -1;
        }
        cur = next;
        c = slash + 1;
    }
    *last = rel + (c - path);
    return cur;
}

int dp_open_beneath(int dirfd, const char *rel, int flags)
{
    const char *last;
    int d = walk(dirfd, rel, 0, &last);
    if (d < 0) return -1;
    int fd = openat(d, last, flags | O_NOFOLLOW | O_CLOEXEC, 0644);
    int e = errno;
    close(d);
    errno = e;
    return fd;
}

int dp_open_parent_beneath(int dirfd, const char *rel, int mkdirs, const char **last)
{
    return walk(dirfd, rel, mkdirs, last);
}

static uint64_t mtime_ns(const struct stat *st)
{
    return (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
}

static int geom_cache_load(int fd, dp_geom *g)
{
    static const size_t max = 32 + 8 * SL_DP_MAX_BLOCKS;
    uint8_t *buf = malloc(max);
    if (!buf) return -1;
    ssize_t n = fgetxattr(fd, DP_XATTR, buf, max);
    int rc = -1;
    if (n > 0) {
        dp_rd r = {buf, (size_t)n, 0, 0};
        uint32_t ver = dp_get32(&r), bs = dp_get32(&r);
        uint64_t size = dp_get64(&r), mt = dp_get64(&r);
        uint32_t nb = dp_get32(&r);
        if (!r.bad && ver == DP_XATTR_VERSION && bs == g->block_size && size == g->size &&
            mt == g->mtime_ns && nb == g->nblocks && r.len - r.off == 8 * (size_t)nb) {
            for (uint32_t i = 0; i < nb; i++)
                g->hashes[i] = dp_get64(&r);
            g->checksum = dp_hash_list(g->hashes, nb);
            rc = 0;
        }
    }
    free(buf);
    return rc;
}

void dp_geom_cache_store(int fd, const dp_geom *g)
{
    size_t cap = 32 + 8 * (size_t)g->nblocks;
    uint8_t *buf = malloc(cap);
    if (!buf) return;
    dp_wr w = {buf, 0, cap, 0};
    dp_put32(&w, DP_XATTR_VERSION);
    dp_put32(&w, g->block_size);
    dp_put64(&w, g->size);
    dp_put64(&w, g->mtime_ns);
    dp_put32(&w, g->nblocks);
    for (uint32_t i = 0; i < g->nblocks; i++)
        dp_put64(&w, g->hashes[i]);
    /* Best effort: without xattr support the file is simply rehashed. */
    (void)fsetxattr(fd, DP_XATTR, buf, w.len, 0);
    free(buf);
}

int dp_file_geom(int fd, uint32_t pref_block, dp_geom *g, int *computed, sl_err *err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return sl_errf(err, SL_EIO, "fstat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return sl_errf(err, SL_EINVAL, "not a regular file");
    g->size = (uint64_t)st.st_size;
    g->mtime_ns = mtime_ns(&st);
    g->block_size = sl_dp_block_size(g->size, pref_block);
    g->nblocks = dp_nblocks(g->size, g->block_size);
    *computed = 0;
    if (geom_cache_load(fd, g) == 0) return 0;
    size_t bufsz = 1u << 20;
    uint8_t *buf = malloc(bufsz);
    if (!buf) return sl_errf(err, SL_ENOMEM, "out of memory hashing a file");
    XXH3_state_t hs;
    for (uint32_t b = 0; b < g->nblocks; b++) {
        uint64_t off = (uint64_t)b * g->block_size;
        uint64_t end = off + g->block_size < g->size ? off + g->block_size : g->size;
        XXH3_64bits_reset(&hs);
        while (off < end) {
            size_t want = end - off < bufsz ? (size_t)(end - off) : bufsz;
            ssize_t r = pread(fd, buf, want, (off_t)off);
            if (r <= 0) {
                int e = r < 0 ? errno : EIO;
                free(buf);
                return sl_errf(err, SL_EIO, "read while hashing: %s",
                               r < 0 ? strerror(e) : "file shrank");
            }
            XXH3_64bits_update(&hs, buf, (size_t)r);
            off += (uint64_t)r;
        }
        g->hashes[b] = XXH3_64bits_digest(&hs);
    }
    free(buf);
    g->checksum = dp_hash_list(g->hashes, g->nblocks);
    /* A writer still busy with the file would make the hashes a mix of old
     * and new data: refuse rather than cache a lie. */
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != g->size || mtime_ns(&st) != g->mtime_ns)
        return sl_errf(err, SL_EIO, "file changed while it was being hashed");
    dp_geom_cache_store(fd, g);
    *computed = 1;
    return 0;
}

const char *dp_io_why(int e)
{
    switch (e) {
    case ECONNRESET:
    case EPIPE:
        return "connection closed by peer";
    case ETIMEDOUT:
        return "peer too slow (I/O timeout)";
    default:
        return strerror(e);
    }
}
