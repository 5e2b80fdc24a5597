/* dp_tls.c - the data plane's TLS: contexts, handshakes and TLS-side I/O.
 *
 * Only this file (and dp_cap.c's HMAC) includes OpenSSL. A connection is a
 * dp_conn (fd + SSL*); dp_io.c hands a call here only when ssl is set, so
 * plain TCP keeps its sendfile path untouched. TLS 1.3 only; kTLS is asked
 * for (SSL_OP_ENABLE_KTLS) and, when the kernel took the send key, bulk
 * data still leaves by SSL_sendfile (zero copy, kernel encryption);
 * otherwise it is pread into a 1 MiB buffer and SSL_write. Socket timeouts
 * (SO_RCVTIMEO/SO_SNDTIMEO) surface from OpenSSL as WANT_READ/WANT_WRITE on
 * a blocking socket and become ETIMEDOUT like on the plain path; OpenSSL
 * writes with write(), so every write blocks SIGPIPE around itself. */
#include "dataplane/dp_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "util/clock.h"

#define TLS_SEND_BUF (1u << 20)

/* The most recent OpenSSL reason on this thread, as text. */
static const char *ssl_why(char *buf, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (!e) return snprintf(buf, n, "%s", "no detail from OpenSSL"), buf;
    ERR_error_string_n(e, buf, n);
    /* "error:0A000086:SSL routines::certificate verify failed": keep the
     * human part after the last ':' */
    char *last = strrchr(buf, ':');
    if (last && last[1]) memmove(buf, last + 1, strlen(last + 1) + 1);
    return buf;
}

struct ssl_ctx_st *dp_tls_ctx(const sl_dp_tls *t, int server, sl_err *err)
{
    char why[256];
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) return sl_errf(err, SL_ENOMEM, "TLS: cannot create a context"), NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    /* EOF without close_notify is fine: frames are length-prefixed and all
     * data is hash-checked, so a truncation cannot pass for a message. */
    SSL_CTX_set_options(ctx, SSL_OP_ENABLE_KTLS | SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* AES-128-GCM first: 128-bit security, and faster than OpenSSL's default
     * AES-256-GCM on AES-NI machines; all three are kTLS-capable on Linux. */
    SSL_CTX_set_ciphersuites(
        ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    if (server) {
        SSL_CTX_set_num_tickets(ctx, 0); /* no resumption: connections are long */
        if (!t->cert_file || !t->key_file) {
            sl_errf(err, SL_EINVAL, "TLS server needs both a certificate and a key file");
            goto fail;
        }
    } else if (!t->ca_file) {
        sl_errf(err, SL_EINVAL, "TLS client needs a CA file to verify the server (--tls-ca)");
        goto fail;
    }
    if (t->cert_file || t->key_file) {
        if (!t->cert_file || !t->key_file) {
            sl_errf(err, SL_EINVAL, "TLS: a certificate needs its key file and vice versa");
            goto fail;
        }
        if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
            sl_errf(err, SL_EINVAL, "TLS: cannot load certificate %s: %s", t->cert_file,
                    ssl_why(why, sizeof why));
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            sl_errf(err, SL_EINVAL, "TLS: cannot load key %s (or it does not match %s): %s",
                    t->key_file, t->cert_file, ssl_why(why, sizeof why));
            goto fail;
        }
    }
    if (t->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
            sl_errf(err, SL_EINVAL, "TLS: cannot load CA file %s: %s", t->ca_file,
                    ssl_why(why, sizeof why));
            goto fail;
        }
        int mode = SSL_VERIFY_PEER;
        if (server) {
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca_file);
            if (names) SSL_CTX_set_client_CA_list(ctx, names);
        }
        SSL_CTX_set_verify(ctx, mode, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void dp_tls_ctx_free(struct ssl_ctx_st *ctx)
{
    SSL_CTX_free(ctx);
}

static int is_ip(const char *host)
{
    unsigned char b[16];
    return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

static void ktls_note(dp_conn *c)
{
    c->ktls_send = BIO_get_ktls_send(SSL_get_wbio(c->ssl)) == 1;
}

int dp_tls_accept(dp_conn *c, struct ssl_ctx_st *ctx, char *why, size_t whysz)
{
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        return snprintf(why, whysz, "out of memory"), -1;
    }
    dp_nopipe g;
    dp_nopipe_begin(&g);
    int rc = SSL_accept(ssl);
    int e = errno;
    dp_nopipe_end(&g, rc != 1 && e == EPIPE);
    if (rc != 1) {
        long vr = SSL_get_verify_result(ssl);
        char b[256];
        if (vr != X509_V_OK)
            snprintf(why, whysz, "client certificate not trusted: %s",
                     X509_verify_cert_error_string(vr));
        else
            snprintf(why, whysz, "%s", ssl_why(b, sizeof b));
        SSL_free(ssl);
        return -1;
    }
    c->ssl = ssl;
    ktls_note(c);
    return 0;
}

int dp_tls_connect(dp_conn *c, struct ssl_ctx_st *ctx, const char *addr, sl_err *err)
{
    char host[256], port[16], why[256];
    if (dp_split_addr(addr, host, sizeof host, port, sizeof port))
        return sl_errf(err, SL_EINVAL, "address '%s' is not HOST:PORT", addr);
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        return sl_errf(err, SL_ENOMEM, "TLS: out of memory");
    }
    X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
    int ok = is_ip(host)
                 ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
                 : X509_VERIFY_PARAM_set1_host(vp, host, 0) && SSL_set_tlsext_host_name(ssl, host);
    if (ok != 1) {
        SSL_free(ssl);
        return sl_errf(err, SL_EINVAL, "TLS: cannot verify against host '%s'", host);
    }
    dp_nopipe g;
    dp_nopipe_begin(&g);
    int rc = SSL_connect(ssl);
    int e = errno;
    dp_nopipe_end(&g, rc != 1 && e == EPIPE);
    if (rc != 1) {
        long vr = SSL_get_verify_result(ssl);
        int code = vr != X509_V_OK ? SL_EPERM : SL_EIO;
        if (vr != X509_V_OK)
            sl_errf(err, code,
                    "data server %s: TLS certificate not trusted: %s (is --tls-ca the CA that "
                    "signed its certificate, for this host name or address?)",
                    addr, X509_verify_cert_error_string(vr));
        else if (ERR_peek_last_error())
            sl_errf(err, code, "data server %s: TLS handshake failed: %s (does it serve TLS?)",
                    addr, ssl_why(why, sizeof why));
        else
            sl_errf(err, code, "data server %s: TLS handshake failed: %s", addr,
                    e ? dp_io_why(e) : "connection closed by peer");
        SSL_free(ssl);
        return code;
    }
    c->ssl = ssl;
    ktls_note(c);
    return 0;
}

int dp_tls_peer_is(dp_conn *c, const char *host)
{
    if (!c->ssl) return -1;
    X509 *cert = SSL_get1_peer_certificate(c->ssl);
    if (!cert) return -1;
    int ok =
        is_ip(host) ? X509_check_ip_asc(cert, host, 0) : X509_check_host(cert, host, 0, 0, NULL);
    X509_free(cert);
    return ok == 1;
}

/* Maps a failed SSL_read/SSL_write to errno like the plain path's. */
static int io_fail(dp_conn *c, int rc)
{
    int e = errno;
    switch (SSL_get_error(c->ssl, rc)) {
    case SSL_ERROR_ZERO_RETURN:
        errno = ECONNRESET;
        break;
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = ETIMEDOUT; /* SO_RCVTIMEO/SO_SNDTIMEO expired */
        break;
    case SSL_ERROR_SYSCALL:
        errno = (e == EAGAIN || e == EWOULDBLOCK) ? ETIMEDOUT : e ? e : ECONNRESET;
        break;
    default:
        errno = EPROTO; /* bad record, alert from the peer */
    }
    return -1;
}

int dp_tls_read_full(dp_conn *c, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        size_t got = 0;
        ERR_clear_error();
        int rc = SSL_read_ex(c->ssl, p, n, &got);
        if (rc != 1) {
            if (errno == EINTR && SSL_get_error(c->ssl, rc) == SSL_ERROR_SYSCALL) continue;
            return io_fail(c, rc);
        }
        p += got;
        n -= got;
    }
    return 0;
}

int dp_tls_write_full(dp_conn *c, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    dp_nopipe g;
    dp_nopipe_begin(&g);
    int rc = 0;
    while (n) {
        size_t put = 0;
        ERR_clear_error();
        if (SSL_write_ex(c->ssl, p, n, &put) != 1) {
            rc = io_fail(c, 0);
            break;
        }
        p += put;
        n -= put;
    }
    int e = errno;
    dp_nopipe_end(&g, rc && e == EPIPE);
    errno = e;
    return rc;
}

int dp_tls_sendfile(dp_conn *c, int fd, uint64_t off, uint64_t len, uint64_t rate)
{
    int64_t t0 = sl_mono_us();
    uint64_t sent = 0;
    if (c->ktls_send) { /* the kernel encrypts: zero copy as on plain TCP */
        dp_nopipe g;
        dp_nopipe_begin(&g);
        int rc = 0;
        while (sent < len) {
            size_t want = len - sent > (1u << 30) ? (1u << 30) : (size_t)(len - sent);
            if (rate) {
                if (want > 65536) want = 65536;
                dp_pace(t0, sent, rate);
            }
            ERR_clear_error();
            ossl_ssize_t r = SSL_sendfile(c->ssl, fd, (off_t)(off + sent), want, 0);
            if (r > 0) {
                sent += (uint64_t)r;
            } else if (r == 0) {
                errno = EIO; /* file shrank under us */
                rc = -1;
                break;
            } else if (errno != EINTR) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ETIMEDOUT;
                rc = -1;
                break;
            }
        }
        int e = errno;
        dp_nopipe_end(&g, rc && e == EPIPE);
        errno = e;
        return rc;
    }
    size_t bufsz = rate ? 65536 : TLS_SEND_BUF;
    uint8_t *buf = malloc(bufsz);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    while (sent < len) {
        size_t want = len - sent > bufsz ? bufsz : (size_t)(len - sent);
        if (rate) dp_pace(t0, sent, rate);
        ssize_t r = pread(fd, buf, want, (off_t)(off + sent));
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) errno = EIO; /* file shrank under us */
            rc = -1;
            break;
        }
        if (dp_tls_write_full(c, buf, (size_t)r)) {
            rc = -1;
            break;
        }
        sent += (uint64_t)r;
    }
    int e = errno;
    free(buf);
    errno = e;
    return rc;
}

void dp_conn_close(dp_conn *c)
{
    if (c->ssl) SSL_free(c->ssl); /* no close_notify: the peer tolerates EOF */
    c->ssl = NULL;
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}
