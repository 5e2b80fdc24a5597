/* source.c - file/URL input with optional zstd decoding (see source.h).
 * URLs are driven by a curl multi handle from inside source_read: the write
 * callback appends to a buffer, source_read hands it out and the next call
 * starts a fresh one (libarchive only needs the last block to stay valid).
 * The curl buffer is bounded by curl's own receive size per perform call. */
#include "source.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#define RAW_CAP (1u << 20)

struct source {
    char where[1024];
    int fd; /* local file, or -1 for a URL */
    CURLM *multi;
    CURL *h;
    char *cbuf; /* URL bytes received, not yet handed out */
    size_t clen, ccap;
    int cdone;
    CURLcode cres;
    char cerr[CURL_ERROR_SIZE];
    int raw_eof;
    int64_t raw_bytes;
    /* zstd */
    int zstd;
    ZSTD_DCtx *dctx;
    char *in;
    size_t in_len, in_pos, in_cap;
    int64_t in_off; /* compressed offset of in[0] */
    char *out;
    size_t out_cap;
    size_t last_ret; /* ZSTD_decompressStream's last return: 0 = frame complete */
    int started;
    char err[768];
};

__attribute__((format(printf, 2, 3))) static ssize_t fail(source *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    source *s = ud;
    size_t len = sz * n;
    long code = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300) return 0;
    if (s->clen + len > s->ccap) {
        size_t cap = s->ccap ? s->ccap : RAW_CAP;
        while (cap < s->clen + len)
            cap *= 2;
        char *b = realloc(s->cbuf, cap);
        if (!b) return 0;
        s->cbuf = b;
        s->ccap = cap;
    }
    memcpy(s->cbuf + s->clen, p, len);
    s->clen += len;
    return len;
}

/* Raw (possibly compressed) bytes: *buf points into a source-owned buffer. */
static ssize_t raw_read(source *s, const char **buf)
{
    if (s->fd >= 0) {
        if (!s->in) s->in = malloc(RAW_CAP);
        for (;;) {
            ssize_t n = read(s->fd, s->in, RAW_CAP);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return fail(s, "read: %s", strerror(errno));
            s->raw_bytes += n;
            *buf = s->in;
            return n;
        }
    }
    s->clen = 0;
    while (s->clen == 0 && !s->cdone) {
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                s->cdone = 1;
                s->cres = m->data.result;
            }
        if (s->clen == 0 && !s->cdone) curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
    }
    if (s->clen == 0 && s->cdone) {
        long code = 0;
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 300) return fail(s, "HTTP %ld from %s", code, s->where);
        if (s->cres != CURLE_OK)
            return fail(s, "%s after %" PRId64 " bytes",
                        s->cerr[0] ? s->cerr : curl_easy_strerror(s->cres), s->raw_bytes);
    }
    s->raw_bytes += (int64_t)s->clen;
    *buf = s->cbuf;
    return (ssize_t)s->clen;
}

source *source_open(const char *where, char *err, size_t errlen)
{
    source *s = calloc(1, sizeof *s);
    snprintf(s->where, sizeof s->where, "%s", where);
    s->fd = -1;
    if (strstr(where, "://")) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        s->multi = curl_multi_init();
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_URL, where);
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->cerr);
        curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "http,https,file");
        curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(s->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(s->h, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(s->h, CURLOPT_BUFFERSIZE, 512L << 10);
        curl_easy_setopt(s->h, CURLOPT_USERAGENT, "sluice-pull-unpack/1");
        curl_multi_add_handle(s->multi, s->h);
    } else {
        s->fd = open(where, O_RDONLY | O_CLOEXEC);
        if (s->fd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", where, strerror(errno));
            free(s);
            return NULL;
        }
    }
    return s;
}

const char *source_error(const source *s)
{
    return s->err;
}

int source_is_zstd(const source *s)
{
    return s->zstd;
}

int64_t source_raw_bytes(const source *s)
{
    return s->raw_bytes;
}

ssize_t source_read(source *s, const void **buf)
{
    const char *raw;
    if (!s->started) {
        s->started = 1;
        ssize_t n = raw_read(s, &raw);
        if (n < 0) return -1;
        if (n == 0) return fail(s, "empty input");
        s->zstd = n >= 4 && (unsigned char)raw[0] == 0x28 && (unsigned char)raw[1] == 0xb5 &&
                  (unsigned char)raw[2] == 0x2f && (unsigned char)raw[3] == 0xfd;
        if (!s->zstd) {
            *buf = raw;
            return n;
        }
        s->dctx = ZSTD_createDCtx();
        s->out_cap = ZSTD_DStreamOutSize() * 8;
        s->out = malloc(s->out_cap);
        if (s->fd < 0) { /* URL: keep our own copy of the input block */
            s->in_cap = (size_t)n > RAW_CAP ? (size_t)n : RAW_CAP;
            s->in = malloc(s->in_cap);
            memcpy(s->in, raw, (size_t)n);
        }
        s->in_len = (size_t)n;
        s->in_pos = 0;
        s->last_ret = 1;
    }
    if (!s->zstd) {
        ssize_t n = raw_read(s, &raw);
        *buf = raw;
        return n;
    }
    for (;;) {
        if (s->in_pos == s->in_len && !s->raw_eof) {
            ssize_t n = raw_read(s, &raw);
            if (n < 0) return -1;
            s->in_off += (int64_t)s->in_len;
            if (n == 0) s->raw_eof = 1;
            if (s->fd < 0) { /* URL bytes live in cbuf, reused by the next raw_read */
                if ((size_t)n > s->in_cap) {
                    free(s->in);
                    s->in_cap = (size_t)n;
                    s->in = malloc(s->in_cap);
                }
                memcpy(s->in, raw, (size_t)n);
            }
            s->in_len = (size_t)n;
            s->in_pos = 0;
        }
        if (s->in_pos == s->in_len && s->raw_eof) {
            if (s->last_ret != 0)
                return fail(s,
                            "truncated zstd stream: input ends inside a frame after %" PRId64
                            " compressed bytes",
                            s->in_off);
            return 0;
        }
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        ZSTD_outBuffer out = {s->out, s->out_cap, 0};
        size_t r = ZSTD_decompressStream(s->dctx, &out, &in);
        if (ZSTD_isError(r))
            return fail(s, "corrupt zstd data (detected at compressed byte %" PRId64 "): %s",
                        s->in_off + (int64_t)in.pos, ZSTD_getErrorName(r));
        s->in_pos = in.pos;
        s->last_ret = r;
        if (out.pos > 0) {
            *buf = s->out;
            return (ssize_t)out.pos;
        }
    }
}

void source_close(source *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    if (s->h) {
        curl_multi_remove_handle(s->multi, s->h);
        curl_easy_cleanup(s->h);
        curl_multi_cleanup(s->multi);
    }
    free(s->cbuf);
    free(s->in);
    free(s->out);
    if (s->dctx) ZSTD_freeDCtx(s->dctx);
    free(s);
}
