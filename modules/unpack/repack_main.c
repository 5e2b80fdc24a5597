/* repack_main.c - `repack`: N seconds of one channel -> one
 * `{t0}_{t1}_ch{NNN}.dat.tar.zst`, so that a host processing a channel never
 * reads the other 23. The tar stream (libarchive, ustar, unblocked) goes
 * straight into a multi-threaded zstd compressor (ZSTD_c_nbWorkers) with
 * content checksums on, written to a hidden temp name and renamed at the end.
 * Every member's size is checked before anything is written and again while
 * it is read; any error removes the temp file. */
#include "names.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

static const char usage[] =
    "usage: repack [OPTIONS] FILE...\n"
    "       repack [OPTIONS] --dir DIR --obsid OBSID --ch NNN --t0 GPS --seconds N\n"
    "Packs consecutive seconds of one coarse channel ({obsid}_{gps}_ch{NNN}.dat files)\n"
    "into OUT/{t0}_{t1}_ch{NNN}.dat.tar.zst (t1 = last second, inclusive).\n"
    "  -o, --out DIR       output directory (default $SLUICE_MEM, else .)\n"
    "      --size BYTES    size every member must have (327680000; 0 = any)\n"
    "  -l, --level N       zstd level (1: within 2%% of the best ratio on voltages)\n"
    "  -T, --threads N     zstd worker threads (0 = one per online CPU; default 0)\n"
    "      --allow-gaps    accept missing seconds between t0 and t1\n"
    "  -k, --key TEMPLATE  emitted key (default {name}); {name} {t0} {t1} {ch} {path}\n"
    "  -q, --quiet\n"
    "  -h, --help\n";

typedef struct zout {
    int fd;
    ZSTD_CCtx *cctx;
    char *buf;
    size_t cap;
    int64_t in_bytes, out_bytes;
    char err[512];
} zout;

static int flush_out(zout *z, ZSTD_outBuffer *out)
{
    for (size_t o = 0; o < out->pos;) {
        ssize_t w = write(z->fd, (char *)out->dst + o, out->pos - o);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            snprintf(z->err, sizeof z->err, "write: %s", strerror(errno));
            return -1;
        }
        o += (size_t)w;
    }
    z->out_bytes += (int64_t)out->pos;
    out->pos = 0;
    return 0;
}

static int zfeed(zout *z, const void *p, size_t len, ZSTD_EndDirective mode)
{
    ZSTD_inBuffer in = {p, len, 0};
    for (;;) {
        ZSTD_outBuffer out = {z->buf, z->cap, 0};
        size_t r = ZSTD_compressStream2(z->cctx, &out, &in, mode);
        if (ZSTD_isError(r)) {
            snprintf(z->err, sizeof z->err, "zstd: %s", ZSTD_getErrorName(r));
            return -1;
        }
        if (flush_out(z, &out)) return -1;
        if (mode == ZSTD_e_end ? r == 0 : in.pos == in.size) return 0;
    }
}

static la_ssize_t on_write(struct archive *a, void *ud, const void *p, size_t len)
{
    zout *z = ud;
    z->in_bytes += (int64_t)len;
    if (zfeed(z, p, len, ZSTD_e_continue)) {
        archive_set_error(a, EIO, "%s", z->err);
        return -1;
    }
    return (la_ssize_t)len;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

typedef struct input {
    char *path;
    chan_file cf;
    int64_t size;
} input;

static int cmp_input(const void *a, const void *b)
{
    const input *x = a, *y = b;
    return x->cf.gps < y->cf.gps ? -1 : x->cf.gps > y->cf.gps;
}

/* Writes the archive to tmp; 0 or -1 with err. */
static int write_archive(const char *tmp, input *in, size_t n, int level, int threads, int64_t *ib,
                         int64_t *ob, char *err, size_t errlen)
{
    zout z = {.cctx = ZSTD_createCCtx(), .cap = ZSTD_CStreamOutSize() * 4};
    z.buf = malloc(z.cap);
    ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_checksumFlag, 1);
    size_t r = ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_nbWorkers, threads);
    int rc = 0;
    if (ZSTD_isError(r) && threads > 0)
        fprintf(stderr, "repack: zstd without thread support, compressing on one thread\n");
    z.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (z.fd < 0) rc = fail(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
    struct archive *a = archive_write_new();
    archive_write_set_format_ustar(a);
    archive_write_set_bytes_per_block(a, 0);
    if (!rc && archive_write_open(a, &z, NULL, on_write, NULL) != ARCHIVE_OK)
        rc = fail(err, errlen, "tar writer: %s", archive_error_string(a));
    const size_t blk = 8u << 20;
    char *buf = malloc(blk);
    for (size_t i = 0; i < n && !rc; i++) {
        int fd = open(in[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = fail(err, errlen, "%s: %s", in[i].path, strerror(errno));
            break;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, base_name(in[i].path));
        archive_entry_set_size(e, in[i].size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, time(NULL), 0);
        if (archive_write_header(a, e) != ARCHIVE_OK)
            rc = fail(err, errlen, "%s: tar header: %s", in[i].path, archive_error_string(a));
        archive_entry_free(e);
        int64_t got = 0;
        while (!rc) {
            ssize_t k = read(fd, buf, blk);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) rc = fail(err, errlen, "%s: read: %s", in[i].path, strerror(errno));
            if (k <= 0) break;
            if (got + k > in[i].size) {
                rc = fail(err, errlen, "%s grew while being read (more than %" PRId64 " bytes)",
                          in[i].path, in[i].size);
                break;
            }
            if (archive_write_data(a, buf, (size_t)k) != k)
                rc = fail(err, errlen, "%s: %s", in[i].path, archive_error_string(a));
            got += k;
        }
        if (!rc && got != in[i].size)
            rc = fail(err, errlen, "%s: read %" PRId64 " bytes, expected %" PRId64, in[i].path, got,
                      in[i].size);
        close(fd);
    }
    if (!rc && archive_write_close(a) != ARCHIVE_OK)
        rc = fail(err, errlen, "tar writer: %s", archive_error_string(a));
    archive_write_free(a);
    if (!rc && zfeed(&z, NULL, 0, ZSTD_e_end)) rc = fail(err, errlen, "%s: %s", tmp, z.err);
    if (z.fd >= 0 && close(z.fd) && !rc)
        rc = fail(err, errlen, "%s: close: %s", tmp, strerror(errno));
    *ib = z.in_bytes;
    *ob = z.out_bytes;
    free(buf);
    free(z.buf);
    ZSTD_freeCCtx(z.cctx);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *mem = getenv("SLUICE_MEM");
    const char *outdir = mem && *mem ? mem : ".", *dir = NULL, *tmpl = "{name}";
    int64_t size = 327680000, obsid = -1, t0 = -1, seconds = 0, ch = -1, level = 1, threads = 0;
    int gaps = 0, quiet = 0;
    enum { OPT_SIZE = 256, OPT_DIR, OPT_OBS, OPT_CH, OPT_T0, OPT_SEC, OPT_GAPS };
    static const struct option lo[] = {
        {"out", 1, 0, 'o'},
        {"size", 1, 0, OPT_SIZE},
        {"level", 1, 0, 'l'},
        {"threads", 1, 0, 'T'},
        {"key", 1, 0, 'k'},
        {"dir", 1, 0, OPT_DIR},
        {"obsid", 1, 0, OPT_OBS},
        {"ch", 1, 0, OPT_CH},
        {"t0", 1, 0, OPT_T0},
        {"seconds", 1, 0, OPT_SEC},
        {"allow-gaps", 0, 0, OPT_GAPS},
        {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:l:T:k:qh", lo, NULL)) != -1) {
        int64_t *dst = NULL;
        switch (c) {
        case 'o':
            outdir = optarg;
            break;
        case 'k':
            tmpl = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case OPT_DIR:
            dir = optarg;
            break;
        case OPT_GAPS:
            gaps = 1;
            break;
        case OPT_SIZE:
            dst = &size;
            break;
        case 'l':
            dst = &level;
            break;
        case 'T':
            dst = &threads;
            break;
        case OPT_OBS:
            dst = &obsid;
            break;
        case OPT_CH:
            dst = &ch;
            break;
        case OPT_T0:
            dst = &t0;
            break;
        case OPT_SEC:
            dst = &seconds;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (dst) {
            char *end;
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || v < 0) {
                fprintf(stderr, "repack: bad value '%s' for %s\n", optarg, argv[optind - 1]);
                return 2;
            }
            *dst = v;
        }
    }
    if (level < 1 || level > ZSTD_maxCLevel()) {
        fprintf(stderr, "repack: level must be 1..%d\n", ZSTD_maxCLevel());
        return 2;
    }
    if (threads == 0) threads = sysconf(_SC_NPROCESSORS_ONLN);
    char err[1024];
    static const char *const keys[] = {"name", "", "t0", "", "t1", "", "ch", "", "path", "", NULL};
    if (key_check(tmpl, keys, err, sizeof err)) {
        fprintf(stderr, "repack: %s\n", err);
        return 2;
    }
    /* the inputs: explicit files, or a time range of one channel in --dir */
    size_t n = 0;
    input *in = NULL;
    if (dir) {
        if (optind < argc || obsid < 0 || ch < 0 || t0 < 0 || seconds < 1) {
            fprintf(stderr, "repack: --dir needs --obsid, --ch, --t0, --seconds and no FILEs\n");
            return 2;
        }
        in = calloc((size_t)seconds, sizeof *in);
        for (int64_t s = 0; s < seconds; s++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%" PRId64 "_%" PRId64 "_ch%03d.dat", dir, obsid, t0 + s,
                     (int)ch);
            if (access(p, F_OK) && gaps) continue;
            in[n++].path = strdup(p);
        }
    } else {
        if (optind >= argc) {
            fprintf(stderr, "repack: no input files\n%s", usage);
            return 2;
        }
        n = (size_t)(argc - optind);
        in = calloc(n, sizeof *in);
        for (size_t i = 0; i < n; i++)
            in[i].path = strdup(argv[optind + (int)i]);
    }
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (chan_file_parse(base_name(in[i].path), &in[i].cf)) {
            fprintf(stderr, "repack: %s is not named {obsid}_{gps}_ch{NNN}.dat\n", in[i].path);
            bad = 1;
        } else if (stat(in[i].path, &st) || !S_ISREG(st.st_mode)) {
            fprintf(stderr, "repack: %s: %s\n", in[i].path, errno ? strerror(errno) : "not a file");
            bad = 1;
        } else if (size && st.st_size != size) {
            fprintf(stderr, "repack: %s has %lld bytes, expected %" PRId64 "\n", in[i].path,
                    (long long)st.st_size, size);
            bad = 1;
        } else {
            in[i].size = st.st_size;
        }
    }
    if (n == 0) {
        fprintf(stderr, "repack: no input files found\n");
        bad = 1;
    }
    if (!bad) {
        qsort(in, n, sizeof *in, cmp_input);
        for (size_t i = 1; i < n && !bad; i++) {
            if (in[i].cf.ch != in[0].cf.ch || in[i].cf.obsid != in[0].cf.obsid) {
                fprintf(stderr, "repack: %s and %s are not the same observation and channel\n",
                        in[0].path, in[i].path);
                bad = 1;
            } else if (in[i].cf.gps == in[i - 1].cf.gps) {
                fprintf(stderr, "repack: second %" PRId64 " given twice\n", in[i].cf.gps);
                bad = 1;
            } else if (!gaps && in[i].cf.gps != in[i - 1].cf.gps + 1) {
                fprintf(stderr, "repack: seconds %" PRId64 "..%" PRId64 " missing (--allow-gaps)\n",
                        in[i - 1].cf.gps + 1, in[i].cf.gps - 1);
                bad = 1;
            }
        }
    }
    if (bad) return 1;
    char name[256], final[4096], tmp[4200];
    snprintf(name, sizeof name, "%" PRId64 "_%" PRId64 "_ch%03d.dat.tar.zst", in[0].cf.gps,
             in[n - 1].cf.gps, in[0].cf.ch);
    snprintf(final, sizeof final, "%s/%s", outdir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", outdir, name, (long)getpid());
    double ts = now_s();
    int64_t ib = 0, ob = 0;
    int rc = write_archive(tmp, in, n, (int)level, (int)threads, &ib, &ob, err, sizeof err);
    if (!rc && rename(tmp, final))
        rc = fail(err, sizeof err, "rename %s: %s", final, strerror(errno));
    if (rc) {
        unlink(tmp);
        fprintf(stderr, "repack: FAILED %s: %s (nothing written)\n", name, err);
    } else {
        double dt = now_s() - ts;
        if (!quiet)
            fprintf(stderr,
                    "repack: %s: %zu members, %.1f MB -> %.1f MB (ratio %.3f) in %.2f s, "
                    "%.0f MB/s in, level %d, %d threads\n",
                    name, n, (double)ib / 1e6, (double)ob / 1e6, ib ? (double)ob / (double)ib : 0,
                    dt, (double)ib / 1e6 / (dt > 1e-6 ? dt : 1e-6), (int)level, (int)threads);
        char t0s[24], t1s[24], chs[8], key[4096];
        snprintf(t0s, sizeof t0s, "%" PRId64, in[0].cf.gps);
        snprintf(t1s, sizeof t1s, "%" PRId64, in[n - 1].cf.gps);
        snprintf(chs, sizeof chs, "%03d", in[0].cf.ch);
        const char *kv[] = {"name", name, "t0", t0s, "t1", t1s, "ch", chs, "path", final, NULL};
        if (key_expand(tmpl, kv, key, sizeof key) || key_emit(key, err, sizeof err)) {
            fprintf(stderr, "repack: %s stored but not emitted: %s\n", name, err);
            rc = -1;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(in[i].path);
    free(in);
    return rc ? 1 : 0;
}
