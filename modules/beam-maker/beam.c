/* beam.c - the beamformer core (see beam.h for the algorithm).
 *
 * Threads split the fine channels: each owns a B (tiles x 2*samples), a C
 * (pointings x 2*samples) and a W, all allocated and pre-faulted once, and
 * calls a single-threaded cblas_cgemm on its own channel, so decode,
 * calibration, gemm and detection of different channels run side by side
 * with no locking. The detected powers land in det[output][channel][sample];
 * a second pass (threads over outputs) flattens, transposes to the PSRFITS
 * channel-fastest order and quantises; the main thread writes the rows
 * (cfitsio calls stay on one thread). */
#include "beam.h"

#include "astrometry.h"
#include "calib.h"
#include "metafits.h"
#include "psrfits.h"
#include "vcs.h"

#include <cblas.h>
#include <complex.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SPEED_OF_LIGHT 299792458.0
#define SAMPLE_BLOCK 64 /* samples decoded per pass: 64 x (2*ntile) bytes stay in L1 */

typedef struct thread_buf {
    float complex *B; /* [nused][2*nsamp] calibrated voltages, X then Y */
    float complex *C; /* [npointings][2*nsamp] beam voltages */
    float complex *W; /* [npointings][nused] phase weights */
    float *autos;     /* [nsamp] sum over tiles of |x|^2 + |y|^2 */
    float *tr;        /* [nsamp*nfine] flattened, channel fastest */
    uint8_t *stage;   /* [2*ntile][SAMPLE_BLOCK] one channel's bytes, by input */
    double gemm_s, decode_s;
} thread_buf;

struct beam_ctx {
    beam_config cfg;
    metafits m;
    calib cal;
    int coarse_idx;
    int nsamp, nfine, npts, nout;
    int nused;                 /* unflagged tiles with solutions */
    int *used;                 /* [nused] tile index */
    int *off;                  /* [nused][2] input offset inside an (s,k) block */
    size_t stride_s, stride_k; /* byte strides of sample and fine channel */
    float complex *jinv;       /* [nfine][nused][4] inverse Jones (weight folded in) */
    double *freq_hz;           /* [nfine] */
    double *tau;               /* [npts][nused] delays this second, s */
    float complex lut[256];
    uint8_t *raw;
    size_t raw_bytes;
    float *det;          /* [nout][nfine][nsamp] */
    uint8_t *qdata;      /* [nout][nsamp*nfine] */
    float *qoffs, *qscl; /* [nout][nfine] */
    double *mean, *sd;   /* [nout][nfine] bandpass of this second */
    int nthreads;
    thread_buf *tb;
    psrfits **files;
    char **tmp_path, **final_path;
    /* per-second job state, written by the main thread before workers start */
    atomic_int next;
    int phase;
    char err[BEAM_ERR_LEN];
    atomic_int failed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *alloc_faulted(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 1;
    if (posix_memalign(&p, 2 << 20, bytes)) return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    memset(p, 0, bytes); /* fault every page now, not in the hot loop */
    return p;
}

/* ---- pointings ---- */

static int parse_one(const char *ra_s, const char *dec_s, beam_pointing *p)
{
    if (astro_parse_ra(ra_s, &p->ra_deg) || astro_parse_dec(dec_s, &p->dec_deg)) return -1;
    snprintf(p->ra_str, sizeof(p->ra_str), "%s", ra_s);
    snprintf(p->dec_str, sizeof(p->dec_str), "%s", dec_s);
    snprintf(p->name, sizeof(p->name), "%s_%s", p->ra_str, p->dec_str);
    return 0;
}

static int add_item(char *item, beam_pointing **arr, int *n, int *cap)
{
    char *ra = strtok(item, " \t_\r\n"), *dec = ra ? strtok(NULL, " \t_\r\n") : NULL;
    if (!ra || !dec || strtok(NULL, " \t_\r\n") || strlen(ra) > 30 || strlen(dec) > 30) return -1;
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        *arr = realloc(*arr, sizeof(**arr) * (size_t)*cap);
    }
    if (parse_one(ra, dec, &(*arr)[*n])) return -1;
    (*n)++;
    return 0;
}

int beam_parse_pointings(const char *spec, beam_pointing **out, int *n, char *err)
{
    *out = NULL;
    *n = 0;
    int cap = 0;
    struct stat st;
    if (stat(spec, &st) == 0 && S_ISREG(st.st_mode)) {
        FILE *f = fopen(spec, "r");
        if (!f) {
            snprintf(err, BEAM_ERR_LEN, "cannot open pointings file %.300s: %.300s", spec,
                     strerror(errno));
            return -1;
        }
        char line[512];
        int lineno = 0;
        while (fgets(line, sizeof(line), f)) {
            lineno++;
            char *h = strchr(line, '#');
            if (h) *h = 0;
            if (strspn(line, " \t\r\n") == strlen(line)) continue;
            char copy[512];
            snprintf(copy, sizeof(copy), "%s", line);
            copy[strcspn(copy, "\r\n")] = 0;
            if (add_item(line, out, n, &cap)) {
                snprintf(
                    err, BEAM_ERR_LEN,
                    "pointings file %.300s line %d: cannot parse '%.300s' (expected 'hh:mm:ss.s "
                    "+dd:mm:ss.s')",
                    spec, lineno, copy);
                fclose(f);
                free(*out);
                *out = NULL;
                return -1;
            }
        }
        fclose(f);
        if (*n == 0) {
            snprintf(err, BEAM_ERR_LEN, "pointings file %.300s has no pointings", spec);
            return -1;
        }
        return 0;
    }
    char *dup = strdup(spec), *save = NULL;
    for (char *it = strtok_r(dup, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        char copy[256];
        snprintf(copy, sizeof(copy), "%s", it);
        if (add_item(it, out, n, &cap)) {
            snprintf(
                err, BEAM_ERR_LEN,
                "cannot parse pointing '%.300s' (not a file; expected a file of 'RA DEC' lines "
                "or a list like 'hh:mm:ss.s_+dd:mm:ss.s,...')",
                copy);
            free(dup);
            free(*out);
            *out = NULL;
            *n = 0;
            return -1;
        }
    }
    free(dup);
    if (*n == 0) {
        snprintf(err, BEAM_ERR_LEN, "no pointings in '%.300s'", spec);
        return -1;
    }
    return 0;
}

/* ---- per-channel work: decode, calibrate, gemm, detect ---- */

/* Per-channel mean and standard deviation of one second of an output: the
 * bandpass that finish_output flattens. */
static void set_stats(beam_ctx *x, int o, int k, double sum, double sum2)
{
    double mean = sum / x->nsamp, var = sum2 / x->nsamp - mean * mean;
    x->mean[(size_t)o * x->nfine + k] = mean;
    x->sd[(size_t)o * x->nfine + k] = var > 0 ? sqrt(var) : 0;
}

/* Decodes sb samples of one tile (x and y bytes contiguous), applies the
 * inverse Jones matrix J (xx, xy, yx, yy as re, im pairs), writes the
 * calibrated X and Y rows of B and adds |x|^2 + |y|^2 to autos. The nibbles
 * are decoded arithmetically ((n ^ 8) - 8) so the loop vectorises; built for
 * AVX2/FMA machines with a generic fallback. */
__attribute__((target_clones("arch=x86-64-v3", "default"), optimize("O3"))) static void
decode_tile(const uint8_t *restrict sx, const uint8_t *restrict sy, int sb, const float *restrict J,
            float *restrict bx, float *restrict by, float *restrict autos)
{
    const float j0r = J[0], j0i = J[1], j1r = J[2], j1i = J[3], j2r = J[4], j2i = J[5], j3r = J[6],
                j3i = J[7];
    for (int j = 0; j < sb; j++) {
        int ux = sx[j], uy = sy[j];
        float xr = (float)(((ux & 15) ^ 8) - 8), xi = (float)(((ux >> 4) ^ 8) - 8);
        float yr = (float)(((uy & 15) ^ 8) - 8), yi = (float)(((uy >> 4) ^ 8) - 8);
        float cxr = j0r * xr - j0i * xi + j1r * yr - j1i * yi;
        float cxi = j0r * xi + j0i * xr + j1r * yi + j1i * yr;
        float cyr = j2r * xr - j2i * xi + j3r * yr - j3i * yi;
        float cyi = j2r * xi + j2i * xr + j3r * yi + j3i * yr;
        bx[2 * j] = cxr;
        bx[2 * j + 1] = cxi;
        by[2 * j] = cyr;
        by[2 * j + 1] = cyi;
        autos[j] += cxr * cxr + cxi * cxi + cyr * cyr + cyi * cyi;
    }
}

static void form_channel(beam_ctx *x, thread_buf *tb, int k)
{
    const int S = x->nsamp, T = x->nused, P = x->npts;
    const size_t row = 2 * (size_t)S;
    const float complex *jinv = x->jinv + (size_t)k * T * 4;
    double td = now_s();
    float *autos = tb->autos;
    memset(autos, 0, sizeof(float) * (size_t)S);
    const uint8_t *base = x->raw + (size_t)k * x->stride_k;
    for (int s0 = 0; s0 < S; s0 += SAMPLE_BLOCK) {
        int sb = S - s0 < SAMPLE_BLOCK ? S - s0 : SAMPLE_BLOCK;
        /* Gather this channel's bytes for sb samples, transposed to
         * [input][sample]: in the file the (s, k) blocks sit 32 KiB apart
         * (all on the same few cache sets), and per-input runs of samples
         * let the decode below vectorise. */
        const size_t bl = x->stride_k;
        for (int j = 0; j < sb; j++) {
            const uint8_t *src = base + (size_t)(s0 + j) * x->stride_s;
            uint8_t *dst = tb->stage + j;
            for (size_t q = 0; q < bl; q++)
                dst[q * SAMPLE_BLOCK] = src[q];
        }
        for (int i = 0; i < T; i++)
            decode_tile(tb->stage + (size_t)x->off[2 * i] * SAMPLE_BLOCK,
                        tb->stage + (size_t)x->off[2 * i + 1] * SAMPLE_BLOCK, sb,
                        (const float *)(jinv + 4 * i), (float *)(tb->B + i * row + s0),
                        (float *)(tb->B + i * row + S + s0), autos + s0);
    }
    /* Phase weights toward every pointing: W = exp(-2 pi i frac(f tau)). */
    double f = x->freq_hz[k];
    for (int p = 0; p < P; p++)
        for (int i = 0; i < T; i++) {
            double ft = f * x->tau[(size_t)p * T + i];
            double ph = -2 * M_PI * (ft - floor(ft));
            tb->W[(size_t)p * T + i] = (float)cos(ph) + I * (float)sin(ph);
        }
    double t0 = now_s();
    tb->decode_s += t0 - td;
    const float complex one = 1, zero = 0;
    cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, P, (int)row, T, &one, tb->W, T, tb->B,
                (int)row, &zero, tb->C, (int)row);
    tb->gemm_s += now_s() - t0;
    /* Stokes I, autocorrelations removed, normalised by the tiles used. */
    const float norm = 1.0f / (float)T;
    for (int p = 0; p < P; p++) {
        const float *c = (const float *)(tb->C + (size_t)p * row);
        float *d = x->det + ((size_t)p * x->nfine + k) * S;
        double sum = 0, sum2 = 0;
        for (int s = 0; s < S; s++) {
            float xr = c[2 * s], xi = c[2 * s + 1], yr = c[2 * (S + s)], yi = c[2 * (S + s) + 1];
            float v = (xr * xr + xi * xi + yr * yr + yi * yi - autos[s]) * norm;
            d[s] = v;
            sum += v;
            sum2 += (double)v * v;
        }
        set_stats(x, p, k, sum, sum2);
    }
    if (x->cfg.incoherent) {
        float *d = x->det + ((size_t)P * x->nfine + k) * S;
        double sum = 0, sum2 = 0;
        for (int s = 0; s < S; s++) {
            d[s] = autos[s] * norm;
            sum += d[s];
            sum2 += (double)d[s] * d[s];
        }
        set_stats(x, P, k, sum, sum2);
    }
}

/* ---- per-output work: flatten the bandpass, transpose, quantise ---- */

static void finish_output(beam_ctx *x, thread_buf *tb, int o)
{
    const int S = x->nsamp, K = x->nfine;
    const float *det = x->det + (size_t)o * K * S;
    for (int s0 = 0; s0 < S; s0 += 32) {
        int sb = S - s0 < 32 ? S - s0 : 32;
        for (int k = 0; k < K; k++) {
            const float *d = det + (size_t)k * S + s0;
            float *t = tb->tr + (size_t)s0 * K + k;
            for (int j = 0; j < sb; j++)
                t[(size_t)j * K] = d[j];
        }
    }
    float *offs = x->qoffs + (size_t)o * K, *scl = x->qscl + (size_t)o * K;
    psrfits_quantise(tb->tr, S, K, x->qdata + (size_t)o * S * K, offs, scl);
    /* Flatten the bandpass: record values in units of each channel's own
     * standard deviation about its mean, (v - mean) / sd. The quantiser's
     * bytes depend only on each channel's mean and spread, so only the
     * scale and offset change. */
    for (int k = 0; k < K; k++) {
        double m = x->mean[(size_t)o * K + k], sd = x->sd[(size_t)o * K + k];
        if (sd > 0) {
            offs[k] = (float)((offs[k] - m) / sd);
            scl[k] = (float)(scl[k] / sd);
        } else {
            offs[k] = 0;
            scl[k] = 0;
        }
    }
}

typedef struct worker_arg {
    beam_ctx *x;
    int tid;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    beam_ctx *x = w->x;
    thread_buf *tb = &x->tb[w->tid];
    int limit = x->phase == 0 ? x->nfine : x->nout;
    for (;;) {
        int i = atomic_fetch_add(&x->next, 1);
        if (i >= limit) break;
        if (x->phase == 0)
            form_channel(x, tb, i);
        else
            finish_output(x, tb, i);
    }
    return NULL;
}

static void run_phase(beam_ctx *x, int phase)
{
    x->phase = phase;
    atomic_store(&x->next, 0);
    pthread_t th[256];
    worker_arg wa[256];
    for (int i = 0; i < x->nthreads; i++)
        wa[i] = (worker_arg){x, i};
    for (int i = 1; i < x->nthreads; i++)
        pthread_create(&th[i], NULL, worker, &wa[i]);
    worker(&wa[0]);
    for (int i = 1; i < x->nthreads; i++)
        pthread_join(th[i], NULL);
}

/* ---- open / process / close ---- */

const char *beam_output_path(const beam_ctx *x, int p)
{
    return x->final_path[p];
}

static int open_outputs(beam_ctx *x, char *err)
{
    const beam_config *c = &x->cfg;
    x->files = calloc((size_t)x->nout, sizeof(*x->files));
    x->tmp_path = calloc((size_t)x->nout, sizeof(char *));
    x->final_path = calloc((size_t)x->nout, sizeof(char *));
    psrfits_hdr h;
    memset(&h, 0, sizeof(h));
    snprintf(h.telescope, sizeof(h.telescope), "MWA");
    snprintf(h.backend, sizeof(h.backend), "sluice-beam-maker");
    snprintf(h.project, sizeof(h.project), "%s", x->m.project);
    if (astro_gps_to_mjd_parts((double)c->begin, &h.stt_imjd, &h.stt_smjd, &h.stt_offs)) {
        snprintf(err, BEAM_ERR_LEN, "cannot convert GPS %ld to UTC", c->begin);
        return -1;
    }
    h.chan_bw = x->m.fine_khz / 1e3;
    h.obsfreq = (x->freq_hz[0] + x->freq_hz[x->nfine - 1]) / 2e6;
    h.obsbw = h.chan_bw * x->nfine;
    h.obsnchan = h.nchan = x->nfine;
    h.nsblk = x->nsamp;
    h.tbin = 1.0 / x->nsamp;
    h.nbits = 8;
    h.npol = 1;
    for (int o = 0; o < x->nout; o++) {
        char name[600], tail[64];
        snprintf(tail, sizeof(tail), "ch%03d_%ld_%ld.fits", c->coarse, c->begin, c->end);
        if (o < x->npts) {
            const beam_pointing *p = &c->pointings[o];
            snprintf(name, sizeof(name), "%s/%ld_%s_%s", c->out_dir, c->obsid, p->name, tail);
            snprintf(h.src_name, sizeof(h.src_name), "%.60s", p->name);
            snprintf(h.ra_str, sizeof(h.ra_str), "%s", p->ra_str);
            snprintf(h.dec_str, sizeof(h.dec_str), "%s", p->dec_str);
            h.ra_deg = p->ra_deg;
            h.dec_deg = p->dec_deg;
        } else {
            snprintf(name, sizeof(name), "%s/%ld_incoherent_%s", c->out_dir, c->obsid, tail);
            snprintf(h.src_name, sizeof(h.src_name), "incoherent");
            astro_format_ra(x->m.ra_deg, h.ra_str, sizeof(h.ra_str));
            astro_format_dec(x->m.dec_deg, h.dec_str, sizeof(h.dec_str));
            h.ra_deg = x->m.ra_deg;
            h.dec_deg = x->m.dec_deg;
        }
        x->final_path[o] = strdup(name);
        char tmp[700];
        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", name, (int)getpid());
        x->tmp_path[o] = strdup(tmp);
        char perr[PSRFITS_ERR_LEN];
        if (psrfits_create(&x->files[o], tmp, &h, perr)) {
            snprintf(err, BEAM_ERR_LEN, "%.300s", perr);
            return -1;
        }
    }
    return 0;
}

int beam_open(beam_ctx **out, const beam_config *cfg, char *err)
{
    *out = NULL;
    beam_ctx *x = calloc(1, sizeof(*x));
    x->cfg = *cfg;
    char e2[METAFITS_ERR_LEN > CALIB_ERR_LEN ? METAFITS_ERR_LEN : CALIB_ERR_LEN];
    if (metafits_read(cfg->metafits_path, &x->m, e2)) {
        snprintf(err, BEAM_ERR_LEN, "%.300s", e2);
        free(x);
        return -1;
    }
    if (cfg->end < cfg->begin || cfg->begin < x->m.obsid) {
        snprintf(err, BEAM_ERR_LEN, "bad time range %ld..%ld (obsid %ld)", cfg->begin, cfg->end,
                 x->m.obsid);
        goto fail;
    }
    x->coarse_idx = metafits_coarse_index(&x->m, cfg->coarse);
    if (x->coarse_idx < 0) {
        snprintf(err, BEAM_ERR_LEN, "coarse channel %d is not in the metafits CHANNELS list",
                 cfg->coarse);
        goto fail;
    }
    if (calib_read(cfg->calib_path, &x->cal, e2)) {
        snprintf(err, BEAM_ERR_LEN, "%.300s", e2);
        goto fail;
    }
    vcs_shape *sh = &x->m.shape;
    x->nsamp = sh->nsamp;
    x->nfine = sh->nfine;
    x->npts = cfg->npointings;
    x->nout = x->npts + (cfg->incoherent ? 1 : 0);
    x->raw_bytes = vcs_second_bytes(sh);
    /* Every second's file must exist with the size the metafits implies:
     * fail before hours of work, not in the middle. */
    for (long g = cfg->begin; g <= cfg->end; g++) {
        char path[1024];
        struct stat st;
        vcs_file_name(path, sizeof(path), cfg->data_dir, cfg->obsid, g, cfg->coarse);
        if (stat(path, &st) != 0) {
            snprintf(err, BEAM_ERR_LEN, "missing voltage file %.300s: %.300s", path,
                     strerror(errno));
            goto fail;
        }
        if ((size_t)st.st_size != x->raw_bytes) {
            snprintf(err, BEAM_ERR_LEN,
                     "voltage file %.300s has %lld bytes but the metafits %.300s describes %zu (%d "
                     "samples x %d fine channels x %d tiles x 2 pols): a truncated file or a "
                     "metafits that does not match the data",
                     path, (long long)st.st_size, cfg->metafits_path, x->raw_bytes, sh->nsamp,
                     sh->nfine, sh->ntile);
            goto fail;
        }
    }
    /* Tiles used: unflagged in the metafits and calibrated. */
    x->used = malloc(sizeof(int) * (size_t)sh->ntile);
    x->off = malloc(sizeof(int) * 2 * (size_t)sh->ntile);
    x->jinv = malloc(sizeof(float complex) * 4 * (size_t)sh->ntile * x->nfine);
    int T = 0;
    for (int a = 0; a < sh->ntile; a++) {
        if (x->m.tiles[a].flag) continue;
        double complex j[4], inv[4];
        int ok = 1;
        for (int k = 0; k < x->nfine && ok; k++) {
            if (calib_jones(&x->cal, x->m.tiles[a].antenna, x->coarse_idx, x->m.ncoarse, x->nfine,
                            k, j, e2)) {
                if (strstr(e2, "does not map") || strstr(e2, "antennas")) {
                    snprintf(err, BEAM_ERR_LEN, "calibration %.300s vs metafits %.300s: %.300s",
                             cfg->calib_path, cfg->metafits_path, e2);
                    goto fail;
                }
                ok = 0; /* NaN solution: the tile is flagged */
            } else if (calib_invert(j, inv)) {
                ok = 0;
            }
        }
        if (!ok) continue;
        x->used[T] = a;
        x->off[2 * T] = vcs_input_offset(sh, a, 0);
        x->off[2 * T + 1] = vcs_input_offset(sh, a, 1);
        T++;
    }
    x->nused = T;
    if (T == 0) {
        snprintf(err, BEAM_ERR_LEN, "every tile is flagged or uncalibrated");
        goto fail;
    }
    for (int k = 0; k < x->nfine; k++)
        for (int i = 0; i < T; i++) {
            double complex j[4], inv[4];
            calib_jones(&x->cal, x->m.tiles[x->used[i]].antenna, x->coarse_idx, x->m.ncoarse,
                        x->nfine, k, j, e2);
            calib_invert(j, inv);
            for (int q = 0; q < 4; q++)
                x->jinv[((size_t)k * T + i) * 4 + q] = (float complex)inv[q];
        }
    x->stride_k = 2 * (size_t)sh->ntile;
    x->stride_s = x->stride_k * (size_t)sh->nfine;
    /* Both orders keep each (s, k) block of 2*ntile bytes contiguous; only the
     * offsets inside a block differ (x->off). */
    x->freq_hz = malloc(sizeof(double) * (size_t)x->nfine);
    for (int k = 0; k < x->nfine; k++)
        x->freq_hz[k] = metafits_fine_freq_hz(&x->m, cfg->coarse, k);
    x->tau = malloc(sizeof(double) * (size_t)x->npts * T);
    vcs_decode_table(x->lut);

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    x->nthreads = cfg->threads > 0 ? cfg->threads : (ncpu > 0 ? (int)ncpu : 1);
    if (x->nthreads > 256) x->nthreads = 256;
    openblas_set_num_threads(1); /* threads are ours: one channel each */
    size_t S = (size_t)x->nsamp;
    x->raw = alloc_faulted(x->raw_bytes);
    x->det = alloc_faulted(sizeof(float) * (size_t)x->nout * x->nfine * S);
    x->qdata = alloc_faulted((size_t)x->nout * x->nfine * S);
    x->qoffs = calloc((size_t)x->nout * x->nfine, sizeof(float));
    x->qscl = calloc((size_t)x->nout * x->nfine, sizeof(float));
    x->mean = calloc((size_t)x->nout * x->nfine, sizeof(double));
    x->sd = calloc((size_t)x->nout * x->nfine, sizeof(double));
    x->tb = calloc((size_t)x->nthreads, sizeof(thread_buf));
    int bad = !x->raw || !x->det || !x->qdata;
    for (int t = 0; t < x->nthreads && !bad; t++) {
        thread_buf *tb = &x->tb[t];
        tb->B = alloc_faulted(sizeof(float complex) * (size_t)T * 2 * S);
        tb->C = alloc_faulted(sizeof(float complex) * (size_t)x->npts * 2 * S);
        tb->W = alloc_faulted(sizeof(float complex) * (size_t)x->npts * T);
        tb->autos = alloc_faulted(sizeof(float) * S);
        tb->tr = alloc_faulted(sizeof(float) * S * x->nfine);
        tb->stage = alloc_faulted(SAMPLE_BLOCK * x->stride_k);
        bad = !tb->B || !tb->C || !tb->W || !tb->autos || !tb->tr || !tb->stage;
    }
    if (bad) {
        snprintf(err, BEAM_ERR_LEN, "out of memory allocating beamformer buffers");
        goto fail;
    }
    *out = x;
    if (open_outputs(x, err)) {
        *out = NULL;
        beam_close(x, 0, e2);
        return -1;
    }
    return 0;
fail:
    *out = NULL;
    beam_close(x, 0, e2);
    return -1;
}

int beam_process_second(beam_ctx *x, long gps, beam_timing *t, char *err)
{
    const beam_config *c = &x->cfg;
    char path[1024], verr[VCS_ERR_LEN];
    double t0 = now_s();
    vcs_file_name(path, sizeof(path), c->data_dir, c->obsid, gps, c->coarse);
    if (vcs_read_second(path, &x->m.shape, x->raw, verr)) {
        snprintf(err, BEAM_ERR_LEN, "%.300s", verr);
        return -1;
    }
    double t1 = now_s();
    /* Delays toward each pointing at the middle of the second. */
    const metafits_tile *r = &x->m.tiles[0];
    for (int p = 0; p < x->npts; p++) {
        double az, el, u[3];
        if (astro_radec_to_azel(c->pointings[p].ra_deg, c->pointings[p].dec_deg, gps + 0.5, &az,
                                &el)) {
            snprintf(err, BEAM_ERR_LEN, "astrometry failed for pointing %.300s",
                     c->pointings[p].name);
            return -1;
        }
        astro_enu(az, el, u);
        for (int i = 0; i < x->nused; i++) {
            const metafits_tile *tl = &x->m.tiles[x->used[i]];
            x->tau[(size_t)p * x->nused + i] =
                ((tl->east - r->east) * u[0] + (tl->north - r->north) * u[1] +
                 (tl->height - r->height) * u[2] - (tl->length - r->length)) /
                SPEED_OF_LIGHT;
        }
    }
    for (int i = 0; i < x->nthreads; i++)
        x->tb[i].gemm_s = x->tb[i].decode_s = 0;
    run_phase(x, 0);
    double t2 = now_s();
    run_phase(x, 1);
    int64_t row = gps - c->begin;
    double *freq_mhz = malloc(sizeof(double) * (size_t)x->nfine);
    float *wts = malloc(sizeof(float) * (size_t)x->nfine);
    for (int k = 0; k < x->nfine; k++) {
        freq_mhz[k] = x->freq_hz[k] / 1e6;
        wts[k] = 1;
    }
    int rc = 0;
    for (int o = 0; o < x->nout && !rc; o++) {
        char perr[PSRFITS_ERR_LEN];
        size_t K = (size_t)x->nfine;
        if (psrfits_write_row(x->files[o], freq_mhz, wts, x->qoffs + o * K, x->qscl + o * K,
                              x->qdata + (size_t)o * K * x->nsamp, (double)row + 0.5, perr)) {
            snprintf(err, BEAM_ERR_LEN, "%.300s", perr);
            rc = -1;
        }
    }
    free(freq_mhz);
    free(wts);
    double t3 = now_s();
    if (t) {
        t->read_s += t1 - t0;
        t->channels_s += t2 - t1;
        t->output_s += t3 - t2;
        for (int i = 0; i < x->nthreads; i++) {
            t->gemm_s += x->tb[i].gemm_s;
            t->decode_s += x->tb[i].decode_s;
        }
        t->gemm_flops += 8.0 * x->npts * x->nused * 2.0 * x->nsamp * x->nfine;
    }
    return rc;
}

int beam_close(beam_ctx *x, int ok, char *err)
{
    int rc = 0;
    for (int o = 0; x->files && o < x->nout; o++) {
        if (!x->files[o]) continue;
        char perr[PSRFITS_ERR_LEN];
        if (psrfits_close(x->files[o], perr)) {
            if (!rc) snprintf(err, BEAM_ERR_LEN, "%.300s", perr);
            rc = -1;
        }
    }
    for (int o = 0; x->tmp_path && o < x->nout; o++) {
        if (!x->tmp_path[o]) continue;
        if (ok && rc == 0) {
            if (rename(x->tmp_path[o], x->final_path[o]) != 0) {
                snprintf(err, BEAM_ERR_LEN, "cannot rename %.300s to %.300s: %.300s",
                         x->tmp_path[o], x->final_path[o], strerror(errno));
                rc = -1;
            }
        } else {
            unlink(x->tmp_path[o]);
        }
    }
    for (int o = 0; x->tmp_path && o < x->nout; o++) {
        free(x->tmp_path[o]);
        free(x->final_path[o]);
    }
    free(x->files);
    free(x->tmp_path);
    free(x->final_path);
    for (int t = 0; x->tb && t < x->nthreads; t++) {
        free(x->tb[t].B);
        free(x->tb[t].C);
        free(x->tb[t].W);
        free(x->tb[t].autos);
        free(x->tb[t].tr);
        free(x->tb[t].stage);
    }
    free(x->tb);
    free(x->raw);
    free(x->det);
    free(x->qdata);
    free(x->qoffs);
    free(x->qscl);
    free(x->mean);
    free(x->sd);
    free(x->used);
    free(x->off);
    free(x->jinv);
    free(x->freq_hz);
    free(x->tau);
    calib_free(&x->cal);
    metafits_free(&x->m);
    free(x);
    return ok ? rc : -1;
}
