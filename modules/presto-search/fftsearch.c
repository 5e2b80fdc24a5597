/* fftsearch.c - FFT, normalisation, harmonic summing, peak picking.
 *
 * Without acceleration the half-bin powers come from interbinning
 * (|F_k - F_k+1|^2 pi^2/16, as accelsearch -zmax 0 / PRESTO's interbin), so a
 * signal between two bins loses little. As in accelsearch, stage nh walks the
 * half-bin grid of its highest harmonic and reads harmonic h at the nearest
 * half bin to j h / nh, so every harmonic is within a quarter bin of where it
 * should be (walking the fundamental's grid instead would put the 16th
 * harmonic up to 4 bins off). With acceleration the same is done on (r, z).
 * Peaks are runs of bins above the stage's threshold; each run gives one
 * candidate. Independent trials per stage: (rhi - rlo) * nz / nh. */
#include "fftsearch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "stats.h"

#define NSTAGE_MAX 5

struct fft_searcher {
    int64_t n, nb;
    double tsamp, tobs;
    search_params p;
    int nthreads, nstages;
    int64_t rlo, rhi;          /* bins searched for the fundamental */
    double thresh[NSTAGE_MAX]; /* power threshold per stage */
    double numindep[NSTAGE_MAX];
    fftwf_plan plan;
    float **in;
    fftwf_complex **spec;
    float **pp; /* half-bin powers, or the f-fdot plane */
    float **scratch;
    float **acc; /* one harmonic-sum row */
    cand_list *tmp;
    accel_plan *accel;
};

void search_default_params(search_params *p)
{
    p->flo = 1.0;
    p->fhi = 0.0;
    p->numharm = 16;
    p->zmax = 0;
    p->sigma_min = 2.0;
    p->max_cands = 50;
    p->fftw_flags = FFTW_ESTIMATE;
}

double power_for_sigma(double sigma, int numharm, double numindep)
{
    double lo = 0.0, hi = 10.0 * numharm + 100.0;
    while (stats_power_sigma(hi, numharm, numindep) < sigma)
        hi *= 2.0;
    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_power_sigma(mid, numharm, numindep) < sigma)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

fft_searcher *fft_searcher_new(int64_t n, double tsamp, const search_params *p, int nthreads,
                               char *err)
{
    if (n < 256) {
        snprintf(err, 512, "search: series of %lld samples is too short", (long long)n);
        return NULL;
    }
    if (p->numharm != 1 && p->numharm != 2 && p->numharm != 4 && p->numharm != 8 &&
        p->numharm != 16) {
        snprintf(err, 512, "search: numharm must be 1, 2, 4, 8 or 16 (got %d)", p->numharm);
        return NULL;
    }
    fft_searcher *s = calloc(1, sizeof *s);
    s->n = n;
    s->nb = n / 2;
    s->tsamp = tsamp;
    s->tobs = n * tsamp;
    s->p = *p;
    s->nthreads = nthreads < 1 ? 1 : nthreads;
    s->rlo = (int64_t)floor(p->flo * s->tobs);
    if (s->rlo < 1) s->rlo = 1;
    s->rhi = p->fhi > 0 ? (int64_t)ceil(p->fhi * s->tobs) : s->nb - 1;
    if (s->rhi > s->nb - 1) s->rhi = s->nb - 1;
    if (s->rhi <= s->rlo) {
        snprintf(err, 512, "search: empty frequency range %g..%g Hz for T = %g s", p->flo, p->fhi,
                 s->tobs);
        free(s);
        return NULL;
    }
    int nz = p->zmax > 0 ? p->zmax / ACCEL_DZ * 2 + 1 : 1;
    s->nstages = 0;
    for (int nh = 1; nh <= p->numharm; nh *= 2) {
        int st = s->nstages++;
        s->numindep[st] = (double)(s->rhi - s->rlo) * nz / nh;
        if (s->numindep[st] < 1) s->numindep[st] = 1;
        s->thresh[st] = power_for_sigma(p->sigma_min, nh, s->numindep[st]);
    }
    if (p->zmax > 0) {
        s->accel = accel_plan_new(s->nb, p->zmax, s->nthreads, err);
        if (!s->accel) {
            free(s);
            return NULL;
        }
    }
    size_t ppsize = (size_t)2 * s->nb * nz;
    s->in = calloc((size_t)s->nthreads, sizeof *s->in);
    s->spec = calloc((size_t)s->nthreads, sizeof *s->spec);
    s->pp = calloc((size_t)s->nthreads, sizeof *s->pp);
    s->scratch = calloc((size_t)s->nthreads, sizeof *s->scratch);
    s->tmp = calloc((size_t)s->nthreads, sizeof *s->tmp);
    s->acc = calloc((size_t)s->nthreads, sizeof *s->acc);
    for (int t = 0; t < s->nthreads; t++) {
        s->in[t] = fftwf_malloc(sizeof(float) * (n + 2));
        s->spec[t] = fftwf_malloc(sizeof(fftwf_complex) * (s->nb + 1));
        s->pp[t] = malloc(sizeof(float) * ppsize);
        s->scratch[t] = malloc(sizeof(float) * (s->nb + 1));
        s->acc[t] = malloc(sizeof(float) * 2 * (s->nb + 1));
    }
    s->plan = fftwf_plan_dft_r2c_1d((int)n, s->in[0], s->spec[0], (unsigned)p->fftw_flags);
    return s;
}

void fft_searcher_free(fft_searcher *s)
{
    if (!s) return;
    for (int t = 0; t < s->nthreads; t++) {
        fftwf_free(s->in[t]);
        fftwf_free(s->spec[t]);
        free(s->pp[t]);
        free(s->scratch[t]);
        free(s->acc[t]);
        cand_list_free(&s->tmp[t]);
    }
    free(s->in);
    free(s->spec);
    free(s->pp);
    free(s->scratch);
    free(s->acc);
    free(s->tmp);
    fftwf_destroy_plan(s->plan);
    accel_plan_free(s->accel);
    free(s);
}

void fft_rednoise_normalise(fftwf_complex *spec, int64_t nb, float *scratch)
{
    const int startwidth = 6, endwidth = 100;
    const int64_t endbin = nb / 50 > 600 ? nb / 50 : 600; /* width stops growing here */
    spec[0][0] = spec[0][1] = 0.0f;
    /* Block medians of power at block centres. */
    int64_t nblk_max = nb / startwidth + 2;
    double *centre = malloc(sizeof(double) * nblk_max), *level = malloc(sizeof(double) * nblk_max);
    int64_t nblk = 0, k = 1;
    while (k < nb) {
        int64_t w = k >= endbin ? endwidth
                                : startwidth + (int64_t)((endwidth - startwidth) *
                                                         log1p((double)k) / log1p((double)endbin));
        if (k + w > nb) w = nb - k;
        for (int64_t i = 0; i < w; i++)
            scratch[i] = spec[k + i][0] * spec[k + i][0] + spec[k + i][1] * spec[k + i][1];
        float med = stats_median(scratch, (size_t)w, scratch + w);
        centre[nblk] = k + 0.5 * (w - 1);
        level[nblk] = med > 0 ? med / M_LN2 : 1.0;
        nblk++;
        k += w;
    }
    int64_t b = 0;
    for (k = 1; k < nb; k++) {
        while (b + 1 < nblk && centre[b + 1] <= k)
            b++;
        double lv;
        if (k <= centre[0])
            lv = level[0];
        else if (b + 1 >= nblk)
            lv = level[nblk - 1];
        else {
            double f = (k - centre[b]) / (centre[b + 1] - centre[b]);
            lv = level[b] + f * (level[b + 1] - level[b]);
        }
        float g = (float)(1.0 / sqrt(lv));
        spec[k][0] *= g;
        spec[k][1] *= g;
    }
    free(centre);
    free(level);
}

float harmonic_sum(const float *pp, int64_t len, int64_t j, int numharm)
{
    /* numharm is a power of two: the rounding division is a shift. */
    int sh = 0;
    while ((1 << sh) < numharm)
        sh++;
    int64_t half = numharm >> 1;
    float sum = 0;
    if (j < len) { /* the top harmonic is the largest index */
        for (int h = 1; h <= numharm; h++)
            sum += pp[(j * h + half) >> sh];
    } else {
        for (int h = 1; h <= numharm; h++) {
            int64_t idx = (j * h + half) >> sh;
            if (idx < len) sum += pp[idx];
        }
    }
    return sum;
}

typedef struct {
    int active;
    int64_t last;
    float best;
    double r, z;
} run;

static void run_offer(run *rn, int64_t j, float pw, double r, double z, int stage, double dm,
                      const fft_searcher *s, cand_list *out)
{
    if (rn->active && j - rn->last > 2) {
        search_cand c = {.dm = dm,
                         .r = rn->r,
                         .z = rn->z,
                         .numharm = 1 << stage,
                         .power = rn->best,
                         .tobs = s->tobs};
        cand_list_push(out, &c);
        rn->active = 0;
    }
    if (!rn->active || pw > rn->best) {
        rn->best = pw;
        rn->r = r;
        rn->z = z;
    }
    rn->active = 1;
    rn->last = j;
}

static void run_flush(run *rn, int stage, double dm, const fft_searcher *s, cand_list *out)
{
    if (rn->active) {
        search_cand c = {.dm = dm,
                         .r = rn->r,
                         .z = rn->z,
                         .numharm = 1 << stage,
                         .power = rn->best,
                         .tobs = s->tobs};
        cand_list_push(out, &c);
    }
    rn->active = 0;
}

static int cmp_power_desc(const void *a, const void *b)
{
    float x = ((const search_cand *)a)->sigma, y = ((const search_cand *)b)->sigma;
    return (x < y) - (x > y);
}

/* acc[j - jlo] = harmonic sum of stage nh = 2^sh for top-harmonic half-bins
 * jlo..jhi, harmonic h read from row(h). Looping h outside j keeps each
 * row's reads sequential. */
static void stage_sum(float *acc, int64_t jlo, int64_t jhi, int sh, const float *const *rows)
{
    int nh = 1 << sh;
    int64_t half = nh >> 1, n = jhi - jlo + 1;
    memcpy(acc, rows[nh] + jlo, sizeof(float) * n); /* h = nh reads j itself */
    for (int h = 1; h < nh; h++) {
        const float *row = rows[h];
        int64_t num = jlo * h + half; /* index * nh, stepped instead of multiplied */
        for (int64_t k = 0; k < n; k++, num += h)
            acc[k] += row[num >> sh];
    }
}

static void pick_peaks(fft_searcher *s, const float *acc, int64_t jlo, int64_t jhi, int st,
                       double z, double dm, cand_list *found)
{
    int nh = 1 << st;
    float thr = (float)s->thresh[st];
    run rn = {0};
    for (int64_t j = jlo; j <= jhi; j++)
        if (acc[j - jlo] >= thr) run_offer(&rn, j, acc[j - jlo], 0.5 * j / nh, z, st, dm, s, found);
    run_flush(&rn, st, dm, s, found);
}

static void search_plain(fft_searcher *s, int thread, const float *pp, double dm, cand_list *found)
{
    int64_t len = 2 * s->nb;
    const float *rows[17];
    for (int h = 0; h <= 16; h++)
        rows[h] = pp;
    for (int st = 0; st < s->nstages; st++) {
        int64_t jlo = 2 * s->rlo * (1 << st), jhi = 2 * s->rhi;
        if (jhi >= len) jhi = len - 1;
        if (jhi < jlo) continue;
        stage_sum(s->acc[thread], jlo, jhi, st, rows);
        pick_peaks(s, s->acc[thread], jlo, jhi, st, 0.0, dm, found);
    }
}

static void search_accel(fft_searcher *s, int thread, const float *plane, double dm,
                         cand_list *found)
{
    int64_t len = 2 * s->nb;
    int nz = accel_nz(s->accel), zmax = s->p.zmax;
    const float *rows[17];
    for (int st = 0; st < s->nstages; st++) {
        int nh = 1 << st;
        int64_t jlo = 2 * s->rlo * nh, jhi = 2 * s->rhi;
        if (jhi >= len) jhi = len - 1;
        if (jhi < jlo) continue;
        for (int iz = 0; iz < nz; iz++) {
            double ztop = -zmax + ACCEL_DZ * iz;
            /* Harmonic h of this top-harmonic row lies at z ztop h / nh. */
            for (int h = 1; h <= nh; h++) {
                long zr = lround((ztop * h / nh + zmax) / ACCEL_DZ);
                rows[h] = plane + (size_t)zr * len;
            }
            stage_sum(s->acc[thread], jlo, jhi, st, rows);
            pick_peaks(s, s->acc[thread], jlo, jhi, st, ztop / nh, dm, found);
        }
    }
}

void fft_searcher_fft_only(fft_searcher *s, int thread, float *series)
{
    fftwf_execute_dft_r2c(s->plan, series, s->spec[thread]);
}

void fft_searcher_run(fft_searcher *s, int thread, float *series, double dm, cand_list *out)
{
    float *in = s->in[thread];
    fftwf_complex *spec = s->spec[thread];
    double mean = 0;
    for (int64_t i = 0; i < s->n; i++)
        mean += series[i];
    mean /= s->n;
    for (int64_t i = 0; i < s->n; i++)
        in[i] = series[i] - (float)mean;
    fftwf_execute_dft_r2c(s->plan, in, spec);
    fft_rednoise_normalise(spec, s->nb, s->scratch[thread]);
    cand_list *found = &s->tmp[thread];
    found->n = 0;
    float *pp = s->pp[thread];
    if (s->accel) {
        accel_plane(s->accel, thread, spec, pp);
        search_accel(s, thread, pp, dm, found);
    } else {
        const float interbin = (float)(M_PI * M_PI / 16.0);
        for (int64_t k = 0; k < s->nb; k++) {
            pp[2 * k] = spec[k][0] * spec[k][0] + spec[k][1] * spec[k][1];
            if (k + 1 < s->nb) {
                float dr = spec[k][0] - spec[k + 1][0], di = spec[k][1] - spec[k + 1][1];
                pp[2 * k + 1] = interbin * (dr * dr + di * di);
            } else {
                pp[2 * k + 1] = 0.0f;
            }
        }
        search_plain(s, thread, pp, dm, found);
    }
    for (size_t i = 0; i < found->n; i++) {
        search_cand *c = &found->v[i];
        int st = 0;
        while ((1 << st) < c->numharm)
            st++;
        c->sigma = (float)stats_power_sigma(c->power, c->numharm, s->numindep[st]);
        c->freq = c->r / s->tobs;
        c->fdot = c->z / (s->tobs * s->tobs);
    }
    /* With acceleration one signal lights up neighbouring z rows: keep the
     * best of any group within 1.5 bins and 8 z (fundamental units). */
    qsort(found->v, found->n, sizeof *found->v, cmp_power_desc);
    size_t kept = 0;
    for (size_t i = 0; i < found->n && kept < (size_t)s->p.max_cands; i++) {
        int dup = 0;
        for (size_t k = 0; k < kept && !dup; k++)
            dup = fabs(found->v[k].r - found->v[i].r) < 1.5 &&
                  fabs(found->v[k].z - found->v[i].z) <= 8.0 &&
                  found->v[k].numharm == found->v[i].numharm;
        if (!dup) found->v[kept++] = found->v[i];
    }
    for (size_t i = 0; i < kept; i++)
        cand_list_push(out, &found->v[i]);
}
