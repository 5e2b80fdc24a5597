/* fetch.c - the mwa-down engine (contract in fetch.h).
 * Shape: files move WAIT -> RUN -> DONE; a running file owns a list of ranges
 * ("segments") covering what its .part still lacks. The loop admits files up
 * to `jobs`, starts segment transfers up to `streams` per file once their
 * backoff has passed, lets curl_multi_perform move bytes (callbacks pwrite at
 * the segment's offset), then judges each finished transfer: complete, retry
 * later, or fail the file. Everything runs on one thread, so no locks. */
#include "fetch.h"

#include "emit.h"
#include "partstate.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 4096

typedef struct ffile ffile;

typedef struct seg {
    ffile *f;
    int64_t start, end, pos; /* [start, end); pos = next byte to write */
    int64_t pos_at_start;    /* pos when the current attempt began */
    CURL *h;
    int ranged;       /* a Range header was sent */
    int checked;      /* response code looked at (first body byte) */
    long code;        /* HTTP status (0 for file://) */
    int64_t cr_start; /* from Content-Range, -1 if none */
    int64_t cr_total;
    int fails;         /* consecutive failed attempts without progress */
    double not_before; /* backoff: do not start before this time */
    char abort_msg[256];
    int paused;     /* held back by --limit-rate */
    int abort_kind; /* ABORT_RETRY, ABORT_BAD_SOURCE (drop .part), ABORT_LOCAL */
    char errbuf[CURL_ERROR_SIZE];
} seg;

enum { F_WAIT, F_RUN, F_DONE };
enum { ABORT_RETRY, ABORT_BAD_SOURCE, ABORT_LOCAL };

struct ffile {
    struct engine *g;
    const manifest_entry *e;
    fetch_result *res;
    int state;
    int fd;
    int is_file_url;
    char final[PATH_LEN], part[PATH_LEN], side[PATH_LEN];
    char check[64];
    partstate base; /* ranges already good when the segments were made */
    seg *segs;
    int nseg;
    int active;
    int total_fails;
    int no_ranges; /* server ignored Range: restart as one stream */
    int fail_now;  /* a permanent error was seen; fail once handles are gone */
    int drop_part; /* content known bad: delete .part on failure */
    char fail_msg[400];
    double t_start, last_save;
};

typedef struct engine engine;
struct engine {
    const fetch_opts *o;
    CURLM *multi;
    ffile *files;
    size_t n;
    int active;      /* transfers in flight, all files */
    int paused;      /* transfers paused by the rate limit */
    double tokens;   /* rate limit bucket, bytes */
    double tokens_t; /* time of the last refill */
    int64_t total_bytes;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void say(const engine *g, const char *fmt, ...)
{
    if (g->o->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("mwa-down: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* snprintf without gcc's truncation warning: long paths are cut, on purpose. */
__attribute__((format(printf, 3, 4))) static void msgf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

static const char *human(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4)
        b /= 1024, i++;
    snprintf(buf, len, i ? "%.2f %s" : "%.0f %s", b, u[i]);
    return buf;
}

/* Global token bucket for --limit-rate: the write callback pauses a transfer
 * (CURL_WRITEFUNC_PAUSE, curl keeps the bytes) when the bucket is empty and
 * the main loop resumes it once tokens have accrued. Per-handle curl limits
 * were too coarse on fast links (they act per read loop, not per byte). */
static void bucket_refill(engine *g)
{
    double t = now_s();
    g->tokens += (t - g->tokens_t) * (double)g->o->limit_rate;
    double cap = (double)g->o->limit_rate / 8;
    if (cap < 65536) cap = 65536;
    if (g->tokens > cap) g->tokens = cap;
    g->tokens_t = t;
}

/* ---- curl callbacks ---------------------------------------------------- */

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    seg *s = ud;
    size_t len = sz * n;
    if (len > 5 && !strncasecmp(p, "HTTP/", 5)) {
        s->cr_start = s->cr_total = -1; /* a new response (after a redirect) */
    } else if (len > 14 && !strncasecmp(p, "content-range:", 14)) {
        long long a, b, t;
        char line[256];
        size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, p, k);
        line[k] = 0;
        if (sscanf(line + 14, " bytes %lld-%lld/%lld", &a, &b, &t) == 3) {
            s->cr_start = a;
            s->cr_total = t;
        } else if (sscanf(line + 14, " bytes %lld-%lld/*", &a, &b) == 2) {
            s->cr_start = a;
        }
    }
    return len;
}

static size_t seg_abort(seg *s, int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->abort_msg, sizeof s->abort_msg, fmt, ap);
    va_end(ap);
    s->abort_kind = kind;
    return 0; /* makes curl stop with CURLE_WRITE_ERROR */
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
    seg *s = ud;
    ffile *f = s->f;
    size_t len = sz * n;
    if (!s->checked) {
        s->checked = 1;
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->code);
        if (s->code >= 300) return len; /* error body: judged when done */
        if (s->ranged && s->code == 200) {
            f->no_ranges = 1;
            return seg_abort(s, ABORT_RETRY, "server ignored the Range request");
        }
        if (s->code == 206) {
            if (s->cr_start >= 0 && s->cr_start != s->pos)
                return seg_abort(s, ABORT_BAD_SOURCE,
                                 "server sent a range starting at %" PRId64 ", asked %" PRId64,
                                 s->cr_start, s->pos);
            if (s->cr_total >= 0 && s->cr_total != f->e->size)
                return seg_abort(s, ABORT_BAD_SOURCE,
                                 "server says the file has %" PRId64
                                 " bytes, the manifest says %" PRId64,
                                 s->cr_total, f->e->size);
        }
        if (s->code == 200) {
            curl_off_t cl = -1;
            curl_easy_getinfo(s->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            if (cl >= 0 && cl != f->e->size)
                return seg_abort(s, ABORT_BAD_SOURCE,
                                 "server says the file has %" PRId64
                                 " bytes, the manifest says %" PRId64,
                                 (int64_t)cl, f->e->size);
        }
    }
    if (s->code >= 300) return len;
    engine *g = f->g;
    if (g->o->limit_rate) {
        bucket_refill(g);
        if (g->tokens <= 0) {
            s->paused = 1;
            g->paused++;
            return CURL_WRITEFUNC_PAUSE;
        }
        g->tokens -= (double)len;
    }
    if ((int64_t)len > s->end - s->pos)
        return seg_abort(s, ABORT_BAD_SOURCE,
                         "source holds more than the %" PRId64 " bytes the manifest says",
                         f->e->size);
    for (size_t off = 0; off < len;) {
        ssize_t w = pwrite(f->fd, p + off, len - off, s->pos + (int64_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return seg_abort(s, ABORT_LOCAL, "writing %s: %s", f->part, strerror(errno));
        off += (size_t)w;
    }
    s->pos += (int64_t)len;
    return len;
}

/* ---- segments ---------------------------------------------------------- */

static void seg_release(engine *g, seg *s)
{
    if (!s->h) return;
    if (s->paused) {
        s->paused = 0;
        g->paused--;
    }
    curl_multi_remove_handle(g->multi, s->h);
    curl_easy_cleanup(s->h);
    s->h = NULL;
    s->f->active--;
    g->active--;
}

static int seg_start(engine *g, seg *s)
{
    ffile *f = s->f;
    CURL *h = curl_easy_init();
    if (!h) return -1;
    s->h = h;
    s->checked = 0;
    s->code = 0;
    s->cr_start = s->cr_total = -1;
    s->abort_msg[0] = 0;
    s->abort_kind = ABORT_RETRY;
    s->errbuf[0] = 0;
    s->pos_at_start = s->pos;
    s->ranged = !(s->pos == 0 && s->end == f->e->size);
    curl_easy_setopt(h, CURLOPT_URL, f->e->url);
    curl_easy_setopt(h, CURLOPT_PRIVATE, s);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sluice-mwa-down/1");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, g->o->connect_timeout);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, g->o->stall_timeout);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, g->o->limit_rate ? 64L << 10 : 1L << 20);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (s->ranged) {
        char r[64];
        snprintf(r, sizeof r, "%" PRId64 "-%" PRId64, s->pos, s->end - 1);
        curl_easy_setopt(h, CURLOPT_RANGE, r);
    }
    if (curl_multi_add_handle(g->multi, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        s->h = NULL;
        return -1;
    }
    f->active++;
    g->active++;
    return 0;
}

/* Splits what base lacks into at most ~streams ranges of >= min_chunk. */
static void file_make_segments(engine *g, ffile *f, int streams)
{
    int64_t size = f->e->size, missing = size - partstate_bytes(&f->base);
    int64_t want = missing / (g->o->min_chunk > 0 ? g->o->min_chunk : 1);
    if (want > streams) want = streams;
    if (want < 1) want = 1;
    int64_t piece = (missing + want - 1) / want;
    if (piece < 1) piece = 1;
    free(f->segs);
    f->segs = NULL;
    f->nseg = 0;
    int cap = 0;
    int64_t at = 0;
    for (size_t i = 0; i <= f->base.n; i++) {
        int64_t gap_end = i < f->base.n ? f->base.v[i].start : size;
        for (int64_t a = at; a < gap_end; a += piece) {
            if (f->nseg == cap) {
                cap = cap ? 2 * cap : 8;
                f->segs = realloc(f->segs, (size_t)cap * sizeof *f->segs);
            }
            seg *s = &f->segs[f->nseg++];
            memset(s, 0, sizeof *s);
            s->f = f;
            s->start = s->pos = a;
            s->end = a + piece < gap_end ? a + piece : gap_end;
        }
        if (i < f->base.n) at = f->base.v[i].end;
    }
}

static void file_save_state(ffile *f)
{
    partstate st = {0};
    for (size_t i = 0; i < f->base.n; i++)
        partstate_add(&st, f->base.v[i].start, f->base.v[i].end);
    for (int i = 0; i < f->nseg; i++)
        partstate_add(&st, f->segs[i].start, f->segs[i].pos);
    partstate_normalise(&st);
    partstate_save(f->side, f->e->size, f->check, &st);
    partstate_free(&st);
}

static int64_t file_have(const ffile *f)
{
    if (f->state == F_DONE) return f->e->size;
    int64_t t = partstate_bytes(&f->base);
    for (int i = 0; i < f->nseg; i++)
        t += f->segs[i].pos - f->segs[i].start;
    return t;
}

/* ---- file life cycle --------------------------------------------------- */

static void file_close(ffile *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    free(f->segs);
    f->segs = NULL;
    f->nseg = 0;
    partstate_free(&f->base);
    f->res->seconds = now_s() - f->t_start;
}

static void file_fail(engine *g, ffile *f, const char *msg)
{
    for (int i = 0; i < f->nseg; i++)
        seg_release(g, &f->segs[i]);
    if (f->drop_part || file_have(f) == 0) {
        unlink(f->part);
        unlink(f->side);
    } else if (f->fd >= 0) {
        file_save_state(f);
    }
    f->res->status = FETCH_FAILED;
    snprintf(f->res->msg, sizeof f->res->msg, "%s", msg);
    file_close(f);
    f->state = F_DONE;
    fprintf(stderr, "mwa-down: %s: FAILED: %s\n", f->e->name, msg);
}

static int emit_file(engine *g, ffile *f, char *err, size_t errlen)
{
    char key[4096];
    if (emit_expand(g->o->key_tmpl, g->o->dest, f->e->name, key, sizeof key)) {
        snprintf(err, errlen, "emit key too long");
        return -1;
    }
    return emit_key(key, err, errlen);
}

/* Verifies size and checksum of fd; 0 ok, -1 with msg. */
static int verify(const ffile *f, int fd, char *msg, size_t len)
{
    struct stat st;
    if (fstat(fd, &st) || st.st_size != f->e->size) {
        snprintf(msg, len, "size is %lld bytes, the manifest says %" PRId64, (long long)st.st_size,
                 f->e->size);
        return -1;
    }
    if (f->e->check.algo == CHECK_NONE) return 0;
    uint64_t got;
    if (checksum_fd(fd, f->e->size, f->e->check.algo, &got)) {
        snprintf(msg, len, "cannot read back for the checksum: %s", strerror(errno));
        return -1;
    }
    if (got != f->e->check.value) {
        checksum c = {f->e->check.algo, got};
        char cb[40];
        snprintf(msg, len, "checksum mismatch: manifest %s, data %s", f->check,
                 checksum_format(&c, cb, sizeof cb));
        return -1;
    }
    return 0;
}

static void file_finish(engine *g, ffile *f)
{
    char msg[400], err[300];
    if (verify(f, f->fd, msg, sizeof msg)) {
        f->drop_part = 1;
        char full[400];
        msgf(full, sizeof full, "%s (partial data removed; nothing emitted)", msg);
        file_fail(g, f, full);
        return;
    }
    if (g->o->do_fsync && fsync(f->fd)) {
        msgf(msg, sizeof msg, "fsync %s: %s", f->part, strerror(errno));
        file_fail(g, f, msg);
        return;
    }
    if (rename(f->part, f->final)) {
        msgf(msg, sizeof msg, "rename %s -> %s: %s", f->part, f->final, strerror(errno));
        file_fail(g, f, msg);
        return;
    }
    unlink(f->side);
    file_close(f);
    f->state = F_DONE;
    char hb[32], rb[32];
    double secs = f->res->seconds > 1e-6 ? f->res->seconds : 1e-6;
    say(g, "%s: done, %s in %.2f s (%s/s)", f->e->name, human((double)f->e->size, hb, sizeof hb),
        secs, human((double)f->res->fetched / secs, rb, sizeof rb));
    if (emit_file(g, f, err, sizeof err)) {
        f->res->status = FETCH_FAILED;
        snprintf(f->res->msg, sizeof f->res->msg, "stored but not emitted: %s", err);
        fprintf(stderr, "mwa-down: %s: FAILED: %s\n", f->e->name, f->res->msg);
    } else {
        f->res->status = FETCH_OK;
    }
}

/* Prepares a file: already present? resumable? Leaves it F_RUN or F_DONE. */
static void file_open(engine *g, ffile *f)
{
    const fetch_opts *o = g->o;
    char msg[400];
    f->t_start = now_s();
    f->fd = -1;
    f->state = F_RUN;
    f->is_file_url = !strncasecmp(f->e->url, "file:", 5);
    snprintf(f->final, sizeof f->final, "%s/%s", o->dest, f->e->name);
    snprintf(f->part, sizeof f->part, "%s/%s.part", o->dest, f->e->name);
    snprintf(f->side, sizeof f->side, "%s/%s.part.ranges", o->dest, f->e->name);
    checksum_format(&f->e->check, f->check, sizeof f->check);

    int fd = open(f->final, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        int bad = verify(f, fd, msg, sizeof msg);
        close(fd);
        if (!bad) {
            f->state = F_DONE;
            f->res->status = FETCH_PRESENT;
            say(g, "%s: already present and verified", f->e->name);
            char err[300];
            if (emit_file(g, f, err, sizeof err)) {
                f->res->status = FETCH_FAILED;
                snprintf(f->res->msg, sizeof f->res->msg, "present but not emitted: %s", err);
            }
            return;
        }
        say(g, "%s: existing file is not the right one (%s); fetching again", f->e->name, msg);
    }

    int loaded = partstate_load(f->side, f->e->size, f->check, &f->base);
    struct stat st;
    int have_part = stat(f->part, &st) == 0;
    if (loaded <= 0) {
        partstate_free(&f->base);
        if (have_part && loaded == 0 && st.st_size <= f->e->size && access(f->side, F_OK) != 0) {
            partstate_add(&f->base, 0, st.st_size); /* bare .part: good prefix */
        } else if (have_part) {
            unlink(f->part); /* stale: other size/checksum, or unreadable sidecar */
        }
    } else if (!have_part) {
        partstate_free(&f->base);
    }
    f->fd = open(f->part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        msgf(msg, sizeof msg, "cannot create %s: %s", f->part, strerror(errno));
        file_fail(g, f, msg);
        return;
    }
    int64_t have = partstate_bytes(&f->base);
    if (have > 0) {
        char hb[32];
        say(g, "%s: resuming, %s already in %s", f->e->name, human((double)have, hb, sizeof hb),
            f->part);
    }
    file_make_segments(g, f, o->streams);
    file_save_state(f);
    f->last_save = now_s();
}

/* Judges a finished transfer. */
static void seg_done(engine *g, seg *s, CURLcode rc)
{
    ffile *f = s->f;
    char msg[400];
    int permanent = 0, retry = 0;
    long code = s->code;
    if (!s->checked) curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
    int64_t progress = s->pos - s->pos_at_start;
    seg_release(g, s);
    if (s->abort_msg[0]) {
        snprintf(msg, sizeof msg, "%s", s->abort_msg);
        if (f->no_ranges) return; /* handled by the main loop */
        permanent = s->abort_kind != ABORT_RETRY;
        if (s->abort_kind == ABORT_BAD_SOURCE) f->drop_part = 1;
        retry = !permanent;
    } else if (rc != CURLE_OK) {
        snprintf(msg, sizeof msg, "%s", s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
        switch (rc) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_FILE_COULDNT_READ_FILE:
        case CURLE_REMOTE_FILE_NOT_FOUND:
        case CURLE_BAD_DOWNLOAD_RESUME:
        case CURLE_RANGE_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_TOO_MANY_REDIRECTS:
        case CURLE_LOGIN_DENIED:
            permanent = 1;
            break;
        default:
            retry = 1;
        }
    } else if (code >= 400) {
        snprintf(msg, sizeof msg, "HTTP %ld for bytes %" PRId64 "-%" PRId64 "%s", code, s->pos,
                 s->end - 1,
                 code == 416 ? " (range not satisfiable: source shorter than the manifest size?)"
                             : "");
        if (code >= 500 || code == 408 || code == 429)
            retry = 1;
        else
            permanent = 1;
    } else if (code >= 300) {
        snprintf(msg, sizeof msg, "HTTP %ld without a usable redirect", code);
        permanent = 1;
    } else if (s->pos < s->end) {
        snprintf(msg, sizeof msg,
                 "connection ended at byte %" PRId64 ", range wanted up to %" PRId64, s->pos,
                 s->end);
        if (f->is_file_url) {
            snprintf(msg, sizeof msg,
                     "source ended at byte %" PRId64 ", the manifest says %" PRId64, s->pos,
                     f->e->size);
            permanent = 1;
        } else {
            retry = 1;
        }
    }
    if (!permanent && !retry) return; /* range complete */
    if (retry) {
        if (progress > 0) s->fails = 0;
        s->fails++;
        f->total_fails++;
        int cap_total = 2 * (g->o->retries + 1) * (f->nseg > 1 ? f->nseg : 2);
        if (s->fails > g->o->retries || f->total_fails > cap_total) {
            permanent = 1;
            size_t l = strlen(msg);
            snprintf(msg + l, sizeof msg - l, " (gave up after %d failed attempts)",
                     f->total_fails);
        } else {
            double d = g->o->retry_delay * pow(2.0, s->fails - 1);
            if (d > g->o->retry_max_delay) d = g->o->retry_max_delay;
            s->not_before = now_s() + d;
            say(g, "%s: %s; retry %d/%d in %.2f s", f->e->name, msg, s->fails, g->o->retries, d);
            return;
        }
    }
    /* a permanent answer means the source is wrong or gone: its bytes are
     * not worth keeping; local write errors keep them for the next run */
    if (!retry && s->abort_kind != ABORT_LOCAL) f->drop_part = 1;
    if (!f->fail_now) {
        f->fail_now = 1;
        snprintf(f->fail_msg, sizeof f->fail_msg, "%s", msg);
    }
}

static void resume_paused(engine *g)
{
    if (!g->o->limit_rate || !g->paused) return;
    bucket_refill(g);
    for (size_t i = 0; i < g->n && g->tokens > 0; i++)
        for (int k = 0; g->files[i].state == F_RUN && k < g->files[i].nseg; k++) {
            seg *s = &g->files[i].segs[k];
            if (s->h && s->paused && g->tokens > 0) {
                s->paused = 0;
                g->paused--;
                curl_easy_pause(s->h, CURLPAUSE_CONT);
            }
        }
}

static void progress_line(engine *g, double t0, double *last_t, int64_t *last_b, int final)
{
    int64_t have = 0;
    size_t done = 0;
    for (size_t i = 0; i < g->n; i++) {
        have += g->files[i].state == F_WAIT ? 0 : file_have(&g->files[i]);
        done += g->files[i].state == F_DONE;
    }
    double t = now_s();
    int64_t run = 0;
    for (size_t i = 0; i < g->n; i++)
        run += g->files[i].res->fetched;
    double rate = (t - *last_t) > 0 ? (double)(run - *last_b) / (t - *last_t) : 0;
    if (final) rate = (t - t0) > 0 ? (double)run / (t - t0) : 0;
    *last_t = t;
    *last_b = run;
    char hb[32], tb[32], rb[32], eta[32] = "-";
    if (!final && rate > 0 && g->total_bytes > have)
        snprintf(eta, sizeof eta, "%.0f s", (double)(g->total_bytes - have) / rate);
    fprintf(stderr, "mwa-down: %zu/%zu files, %s of %s, %s/s%s, ETA %s\n", done, g->n,
            human((double)have, hb, sizeof hb), human((double)g->total_bytes, tb, sizeof tb),
            human(rate, rb, sizeof rb), final ? " average" : "", final ? "0 s" : eta);
}

int fetch_run(const manifest *m, const fetch_opts *o, fetch_result *res)
{
    engine g = {.o = o, .n = m->n, .tokens_t = now_s()};
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "mwa-down: curl_global_init failed\n");
        return -1;
    }
    g.multi = curl_multi_init();
    g.files = calloc(m->n ? m->n : 1, sizeof *g.files);
    for (size_t i = 0; i < m->n; i++) {
        g.files[i].g = &g;
        g.files[i].e = &m->v[i];
        g.files[i].res = &res[i];
        g.files[i].fd = -1;
        memset(&res[i], 0, sizeof res[i]);
        g.total_bytes += m->v[i].size;
    }
    size_t next = 0;
    int running = 0;
    double t0 = now_s(), last_prog = t0, last_t = t0;
    int64_t last_b = 0;
    for (;;) {
        double t = now_s();
        while (running < o->jobs && next < m->n) {
            ffile *f = &g.files[next++];
            file_open(&g, f);
            if (f->state == F_RUN) running++;
        }
        for (size_t i = 0; i < m->n; i++) {
            ffile *f = &g.files[i];
            if (f->state != F_RUN) continue;
            if (f->no_ranges && !f->fail_now) {
                for (int k = 0; k < f->nseg; k++)
                    seg_release(&g, &f->segs[k]);
                say(&g, "%s: server does not honour Range requests; one stream from byte 0",
                    f->e->name);
                partstate_free(&f->base);
                file_make_segments(&g, f, 1);
                f->no_ranges = 0;
                file_save_state(f);
            }
            if (f->fail_now) {
                running--;
                file_fail(&g, f, f->fail_msg);
                continue;
            }
            int complete = 1;
            for (int k = 0; k < f->nseg; k++) {
                seg *s = &f->segs[k];
                if (s->pos < s->end) complete = 0;
                if (!s->h && s->pos < s->end && f->active < o->streams && t >= s->not_before &&
                    seg_start(&g, s)) {
                    f->fail_now = 1;
                    snprintf(f->fail_msg, sizeof f->fail_msg, "cannot start a transfer");
                }
            }
            if (complete && f->active == 0) {
                running--;
                file_finish(&g, f);
            }
        }
        if (running == 0 && next >= m->n) break;
        resume_paused(&g);
        int still = 0;
        curl_multi_perform(g.multi, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(g.multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            seg *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            seg_done(&g, s, msg->data.result);
        }
        /* bytes moved this round, per file (for rates and reports) */
        for (size_t i = 0; i < m->n; i++) {
            ffile *f = &g.files[i];
            if (f->state != F_RUN) continue;
            int64_t got = 0;
            for (int k = 0; k < f->nseg; k++)
                got += f->segs[k].pos - f->segs[k].start;
            f->res->fetched = got;
            if (now_s() - f->last_save > 1.0) {
                file_save_state(f);
                f->last_save = now_s();
            }
        }
        if (o->progress_interval > 0 && !o->quiet && now_s() - last_prog >= o->progress_interval) {
            progress_line(&g, t0, &last_t, &last_b, 0);
            last_prog = now_s();
        }
        if (g.active)
            curl_multi_poll(g.multi, NULL, 0, g.paused ? 5 : 100, NULL);
        else {
            /* only backoff timers pending: sleep until the nearest one */
            double wake = now_s() + 0.1;
            for (size_t i = 0; i < m->n; i++)
                for (int k = 0; g.files[i].state == F_RUN && k < g.files[i].nseg; k++)
                    if (g.files[i].segs[k].not_before < wake && g.files[i].segs[k].not_before > 0)
                        wake = g.files[i].segs[k].not_before;
            double d = wake - now_s();
            if (d > 0) usleep((useconds_t)(d * 1e6));
        }
    }
    if (o->progress_interval > 0 && !o->quiet) progress_line(&g, t0, &last_t, &last_b, 1);
    int failed = 0;
    for (size_t i = 0; i < m->n; i++)
        failed += res[i].status == FETCH_FAILED;
    free(g.files);
    curl_multi_cleanup(g.multi);
    curl_global_cleanup();
    return failed;
}
