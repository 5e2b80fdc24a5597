/* down_sampler.c - `down-sampler`: averages a PSRFITS search-mode file in
 * time by a factor F and re-quantises it to 8 bits.
 *
 * Each output row covers the same time as its input row (OFFS_SUB is kept)
 * with NSBLK/F samples of TBIN*F. Averaging is done on the raw bytes (the mean
 * of DATA*SCL+OFFS over F samples is mean(DATA)*SCL+OFFS), then every row and
 * channel gets a new DAT_SCL/DAT_OFFS from psrfits_quantise. The output is
 * written under a temporary name and renamed on success, so a task that is
 * re-run or killed never leaves a half-written file under the final name.
 * With --zstd the FITS file is streamed through libzstd into OUT.zst. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include "psrfits.h"

static const char usage[] =
    "usage: down-sampler [-f F] [-o OUT] [--zstd] [--zstd-level N] IN.fits\n"
    "\n"
    "Averages a PSRFITS search-mode file in time by F and re-quantises every row\n"
    "and channel to 8 bits (new DAT_SCL/DAT_OFFS). NSBLK becomes NSBLK/F (NSBLK must\n"
    "be divisible by F) and TBIN becomes TBIN*F; all other keywords are carried over.\n"
    "\n"
    "  -f, --factor F     averaging factor (default 4)\n"
    "  -o, --output OUT   output file (default: IN with .fits replaced by _dsF.fits)\n"
    "  -z, --zstd         compress the output with zstd: writes OUT.zst instead of OUT\n"
    "      --zstd-level N zstd level (default 1; 1 is within ~2%% of the best ratio)\n"
    "  -h, --help         this text\n"
    "\n"
    "The output is written to a temporary name beside OUT and renamed on success.\n"
    "Exit status: 0 success, 1 failure (message on stderr), 2 usage error.\n";

struct options {
    int factor;
    const char *in;
    char out[4096];
    int zstd;
    int zstd_level;
};

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"factor", required_argument, 0, 'f'}, {"output", required_argument, 0, 'o'},
        {"zstd", no_argument, 0, 'z'},         {"zstd-level", required_argument, 0, 'L'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->factor = 4;
    o->zstd_level = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "f:o:zh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->factor = (int)strtol(optarg, &end, 10);
            if (*end || o->factor < 1) {
                fprintf(stderr, "down-sampler: -f needs a positive integer, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'o':
            snprintf(o->out, sizeof o->out, "%s", optarg);
            break;
        case 'z':
            o->zstd = 1;
            break;
        case 'L':
            o->zstd_level = (int)strtol(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "down-sampler: --zstd-level needs an integer\n");
                return 2;
            }
            o->zstd = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "down-sampler: expected one input file\n\n%s", usage);
        return 2;
    }
    o->in = argv[optind];
    if (!o->out[0]) {
        size_t n = strlen(o->in);
        if (n > 5 && strcmp(o->in + n - 5, ".fits") == 0) n -= 5;
        snprintf(o->out, sizeof o->out, "%.*s_ds%d.fits", (int)n, o->in, o->factor);
    }
    return 0;
}

/* Writes and renames to final with fsync, so the final name only ever holds
 * a complete file. */
static int sync_and_rename(const char *tmp, const char *final)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        fprintf(stderr, "down-sampler: %s: cannot sync: %s\n", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        fprintf(stderr, "down-sampler: cannot rename %s to %s: %s\n", tmp, final, strerror(errno));
        return -1;
    }
    return 0;
}

static int down_sample(const struct options *o, const char *tmp)
{
    char err[PSRFITS_ERR_LEN];
    psrfits *in = NULL, *out = NULL;
    psrfits_hdr h;
    int rc = -1;
    double *freq = NULL;
    float *wts = NULL, *offs = NULL, *scl = NULL, *avg = NULL;
    uint32_t *acc = NULL;
    uint8_t *data = NULL, *odata = NULL;

    if (psrfits_open(&in, o->in, &h, err)) {
        fprintf(stderr, "down-sampler: %s\n", err);
        return -1;
    }
    if (h.nsblk % o->factor != 0) {
        fprintf(stderr,
                "down-sampler: %s: NSBLK=%d is not divisible by the factor %d; choose a factor "
                "that divides %d\n",
                o->in, h.nsblk, o->factor, h.nsblk);
        goto done;
    }
    int nchan = h.nchan, nin = h.nsblk, nout = h.nsblk / o->factor, F = o->factor;
    psrfits_hdr oh = h;
    oh.nsblk = nout;
    oh.tbin = h.tbin * F;
    freq = malloc(sizeof *freq * nchan);
    wts = malloc(sizeof *wts * nchan);
    offs = malloc(sizeof *offs * nchan);
    scl = malloc(sizeof *scl * nchan);
    acc = malloc(sizeof *acc * nchan);
    avg = malloc(sizeof *avg * (size_t)nout * nchan);
    data = malloc((size_t)nin * nchan);
    odata = malloc((size_t)nout * nchan);
    if (!freq || !wts || !offs || !scl || !acc || !avg || !data || !odata) {
        fprintf(stderr, "down-sampler: out of memory (%d x %d samples)\n", nin, nchan);
        goto done;
    }
    if (psrfits_create(&out, tmp, &oh, err) || psrfits_copy_keys(out, in, err)) {
        fprintf(stderr, "down-sampler: %s\n", err);
        goto done;
    }
    char hist[80];
    snprintf(hist, sizeof hist, "down-sampler: averaged x%d in time, re-quantised", F);
    if (psrfits_add_history(out, hist, err)) {
        fprintf(stderr, "down-sampler: %s\n", err);
        goto done;
    }
    const float invF = 1.0f / F;
    for (int64_t r = 0; r < h.nrows; r++) {
        double offs_sub;
        if (psrfits_read_row(in, r, freq, wts, offs, scl, data, &offs_sub, err)) {
            fprintf(stderr, "down-sampler: %s\n", err);
            goto done;
        }
        for (int s = 0; s < nout; s++) {
            const uint8_t *p = data + (size_t)s * F * nchan;
            for (int c = 0; c < nchan; c++)
                acc[c] = p[c];
            for (int k = 1; k < F; k++) {
                const uint8_t *q = p + (size_t)k * nchan;
                for (int c = 0; c < nchan; c++)
                    acc[c] += q[c];
            }
            float *a = avg + (size_t)s * nchan;
            for (int c = 0; c < nchan; c++)
                a[c] = (float)acc[c] * invF * scl[c] + offs[c];
        }
        psrfits_quantise(avg, nout, nchan, odata, offs, scl);
        if (psrfits_write_row(out, freq, wts, offs, scl, odata, offs_sub, err)) {
            fprintf(stderr, "down-sampler: %s\n", err);
            goto done;
        }
    }
    psrfits *o2 = out;
    out = NULL;
    if (psrfits_close(o2, err)) {
        fprintf(stderr, "down-sampler: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    if (out) psrfits_close(out, err);
    psrfits_close(in, err);
    free(freq);
    free(wts);
    free(offs);
    free(scl);
    free(acc);
    free(avg);
    free(data);
    free(odata);
    return rc;
}

/* Streams src through a zstd compressor into dst (1 MiB at a time). */
static int compress_file(const char *src, const char *dst, int level)
{
    int rc = -1;
    FILE *fi = fopen(src, "rb"), *fo = fopen(dst, "wb");
    size_t isz = ZSTD_CStreamInSize(), osz = ZSTD_CStreamOutSize();
    if (isz < (1 << 20)) isz = 1 << 20;
    void *ibuf = malloc(isz), *obuf = malloc(osz);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!fi || !fo || !ibuf || !obuf || !cc) {
        fprintf(stderr, "down-sampler: cannot compress %s into %s: %s\n", src, dst,
                strerror(errno));
        goto done;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_nbWorkers, 2); /* ignored by single-thread builds */
    for (;;) {
        size_t n = fread(ibuf, 1, isz, fi);
        if (ferror(fi)) {
            fprintf(stderr, "down-sampler: %s: read error: %s\n", src, strerror(errno));
            goto done;
        }
        int last = n < isz;
        ZSTD_inBuffer inb = {ibuf, n, 0};
        ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
        int finished;
        do {
            ZSTD_outBuffer outb = {obuf, osz, 0};
            size_t left = ZSTD_compressStream2(cc, &outb, &inb, mode);
            if (ZSTD_isError(left)) {
                fprintf(stderr, "down-sampler: zstd: %s\n", ZSTD_getErrorName(left));
                goto done;
            }
            if (fwrite(obuf, 1, outb.pos, fo) != outb.pos) {
                fprintf(stderr, "down-sampler: %s: write error: %s\n", dst, strerror(errno));
                goto done;
            }
            finished = last ? (left == 0) : (inb.pos == inb.size);
        } while (!finished);
        if (last) break;
    }
    if (fflush(fo) != 0 || fsync(fileno(fo)) != 0) {
        fprintf(stderr, "down-sampler: %s: write error: %s\n", dst, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fi) fclose(fi);
    if (fo && fclose(fo) != 0 && rc == 0) {
        fprintf(stderr, "down-sampler: %s: write error: %s\n", dst, strerror(errno));
        rc = -1;
    }
    ZSTD_freeCCtx(cc);
    free(ibuf);
    free(obuf);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    int prc = parse_args(argc, argv, &o);
    if (prc) return prc;
    char tmp[4200], ztmp[4200], zfinal[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", o.out, (long)getpid());
    if (down_sample(&o, tmp) != 0) {
        unlink(tmp);
        return 1;
    }
    if (!o.zstd) {
        if (sync_and_rename(tmp, o.out) != 0) {
            unlink(tmp);
            return 1;
        }
        return 0;
    }
    snprintf(zfinal, sizeof zfinal, "%s.zst", o.out);
    snprintf(ztmp, sizeof ztmp, "%s.zst.tmp.%ld", o.out, (long)getpid());
    int rc = compress_file(tmp, ztmp, o.zstd_level);
    unlink(tmp);
    if (rc == 0 && rename(ztmp, zfinal) != 0) {
        fprintf(stderr, "down-sampler: cannot rename %s to %s: %s\n", ztmp, zfinal,
                strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        unlink(ztmp);
        return 1;
    }
    return 0;
}
