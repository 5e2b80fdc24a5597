/* dedisp.c - subband dedispersion (see dedisp.h).
 *
 * The inner loops are contiguous float adds over a channel or subband, which
 * the compiler vectorises; the work is bandwidth-bound, so stage 1 adds the
 * channels of one subband into a per-thread accumulator that stays in cache
 * for short series, and threads split subbands (stage 1) while the caller
 * splits DM trials (stage 2). */
#include "dedisp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "dispersion.h"
#include "parallel.h"

typedef struct {
    int c;
    double f;
} chan_freq;

static int cmp_chan(const void *a, const void *b)
{
    double x = ((const chan_freq *)a)->f, y = ((const chan_freq *)b)->f;
    return (x > y) - (x < y);
}

int dedisp_init(dedisp *d, const fb_data *fb, int nsub, int nthreads, char *err)
{
    memset(d, 0, sizeof *d);
    if (nsub < 1 || nsub > fb->nchan) {
        snprintf(err, FB_ERR_LEN, "dedisperse: %d subbands for %d channels", nsub, fb->nchan);
        return -1;
    }
    d->fb = fb;
    d->nsub = nsub;
    d->nthreads = nthreads < 1 ? 1 : nthreads;
    d->sub_of_chan = malloc(sizeof(int) * fb->nchan);
    d->sub_fref = calloc((size_t)nsub, sizeof(double));
    chan_freq *cf = malloc(sizeof *cf * fb->nchan);
    for (int c = 0; c < fb->nchan; c++)
        cf[c] = (chan_freq){c, fb->freq[c]};
    qsort(cf, (size_t)fb->nchan, sizeof *cf, cmp_chan);
    for (int k = 0; k < fb->nchan; k++) {
        int s = (int)((int64_t)k * nsub / fb->nchan);
        d->sub_of_chan[cf[k].c] = s;
        if (cf[k].f > d->sub_fref[s]) d->sub_fref[s] = cf[k].f;
    }
    d->fref = cf[fb->nchan - 1].f;
    free(cf);
    d->scratch = calloc((size_t)d->nthreads, sizeof(float *));
    for (int t = 0; t < d->nthreads; t++)
        d->scratch[t] = malloc(sizeof(float) * fb->nsamp);
    return 0;
}

void dedisp_free(dedisp *d)
{
    if (!d->fb) return;
    for (int t = 0; t < d->nthreads; t++)
        free(d->scratch[t]);
    free(d->scratch);
    free(d->sub_of_chan);
    free(d->sub_fref);
    memset(d, 0, sizeof *d);
}

/* acc[i] += x[i + shift] for the samples that exist. */
static void add_shifted(float *restrict acc, const float *restrict x, int64_t n, int64_t shift)
{
    int64_t m = n - shift;
    for (int64_t i = 0; i < m; i++)
        acc[i] += x[i + shift];
}

typedef struct {
    dedisp *d;
    double subdm;
    int ds;
    float *out;
} sub_ctx;

static void form_subband(void *p, int thread, long s)
{
    sub_ctx *x = p;
    dedisp *d = x->d;
    const fb_data *fb = d->fb;
    int64_t n = fb->nsamp, nds = n / x->ds;
    float *acc = x->ds == 1 ? x->out + (size_t)s * nds : d->scratch[thread];
    memset(acc, 0, sizeof(float) * (x->ds == 1 ? nds : n));
    for (int c = 0; c < fb->nchan; c++) {
        if (d->sub_of_chan[c] != s) continue;
        double t = dispersion_delay(x->subdm, fb->freq[c], d->sub_fref[s]);
        int64_t shift = (int64_t)llround(t / fb->tsamp);
        if (shift >= n) continue;
        add_shifted(acc, fb->data + (size_t)c * n, x->ds == 1 ? nds : n, shift);
    }
    if (x->ds > 1) {
        float *o = x->out + (size_t)s * nds;
        for (int64_t j = 0; j < nds; j++) {
            float v = 0;
            for (int k = 0; k < x->ds; k++)
                v += acc[j * x->ds + k];
            o[j] = v;
        }
    }
}

void dedisp_subbands(dedisp *d, double subdm, int ds, float *out)
{
    sub_ctx x = {d, subdm, ds, out};
    parallel_for(d->nthreads, d->nsub, form_subband, &x);
}

void dedisp_series(const dedisp *d, const float *sub, int ds, double dm, float *out)
{
    int64_t nds = d->fb->nsamp / ds;
    double dt = d->fb->tsamp * ds;
    memset(out, 0, sizeof(float) * nds);
    for (int s = 0; s < d->nsub; s++) {
        int64_t shift = (int64_t)llround(dispersion_delay(dm, d->sub_fref[s], d->fref) / dt);
        if (shift >= nds) continue;
        add_shifted(out, sub + (size_t)s * nds, nds, shift);
    }
}

void dedisp_direct(const dedisp *d, double dm, float *out)
{
    const fb_data *fb = d->fb;
    memset(out, 0, sizeof(float) * fb->nsamp);
    for (int c = 0; c < fb->nchan; c++) {
        int64_t shift = (int64_t)llround(dispersion_delay(dm, fb->freq[c], d->fref) / fb->tsamp);
        if (shift >= fb->nsamp) continue;
        add_shifted(out, fb->data + (size_t)c * fb->nsamp, fb->nsamp, shift);
    }
}

typedef struct {
    const dedisp *d;
    const float *sub;
    int ds;
    double lodm, ddm;
    int first;
    float **series;
    dedisp_series_fn fn;
    void *ctx;
} pass_ctx;

static void run_trial(void *p, int thread, long i)
{
    pass_ctx *x = p;
    double dm = x->lodm + (x->first + i) * x->ddm;
    int64_t n = dedisp_len(x->d, x->ds);
    dedisp_series(x->d, x->sub, x->ds, dm, x->series[thread]);
    x->fn(x->ctx, thread, dm, x->ds, x->series[thread], n);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int dedisp_run_plan(dedisp *d, const ddplan *plan, int progress, dedisp_series_fn fn, void *ctx,
                    char *err)
{
    if (plan->nsub != d->nsub) {
        snprintf(err, FB_ERR_LEN, "dedisperse: plan has %d subbands, dedisperser %d", plan->nsub,
                 d->nsub);
        return -1;
    }
    int64_t n = d->fb->nsamp;
    float *sub = malloc(sizeof(float) * (size_t)d->nsub * n);
    float **series = calloc((size_t)d->nthreads, sizeof(float *));
    if (!sub || !series) {
        snprintf(err, FB_ERR_LEN, "dedisperse: out of memory");
        free(sub);
        free(series);
        return -1;
    }
    for (int t = 0; t < d->nthreads; t++)
        series[t] = malloc(sizeof(float) * n);
    int done = 0, next_report = plan->total_dms / 10;
    double t0 = now_s();
    for (int s = 0; s < plan->nsteps; s++) {
        const ddplan_step *st = &plan->step[s];
        if (dedisp_len(d, st->downsamp) < 256) continue; /* too short to search */
        for (int first = 0; first < st->ndm; first += st->dms_per_pass) {
            int count = st->ndm - first < st->dms_per_pass ? st->ndm - first : st->dms_per_pass;
            double subdm = st->lodm + (first + 0.5 * (count - 1)) * st->ddm;
            dedisp_subbands(d, subdm, st->downsamp, sub);
            pass_ctx x = {d, sub, st->downsamp, st->lodm, st->ddm, first, series, fn, ctx};
            parallel_for(d->nthreads, count, run_trial, &x);
            done += count;
            if (progress && done >= next_report) {
                double el = now_s() - t0;
                fprintf(stderr,
                        "  dedisperse+search: %d/%d DM trials (%.0f%%), %.1f s, ~%.0f s left\n",
                        done, plan->total_dms, 100.0 * done / plan->total_dms, el,
                        el * (plan->total_dms - done) / done);
                next_report = done + plan->total_dms / 10;
            }
        }
    }
    for (int t = 0; t < d->nthreads; t++)
        free(series[t]);
    free(series);
    free(sub);
    return 0;
}
