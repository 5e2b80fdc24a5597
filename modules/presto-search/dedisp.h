/* dedisp.h - subband dedispersion (PRESTO's prepsubband scheme).
 *
 * Two stages per pass of DM trials: channels are first summed into nsub
 * subbands aligned at one "subband DM" (and down-sampled), then each DM trial
 * of the pass only shifts and sums nsub subbands instead of nchan channels.
 * Delays are referenced to the highest channel frequency, rounded to whole
 * (down-sampled) samples; samples shifted past the end count as zero (the
 * cleaned data has zero mean). */
#ifndef DEDISP_H
#define DEDISP_H

#include <stdint.h>

#include "ddplan.h"
#include "filterbank.h"

typedef struct dedisp {
    const fb_data *fb;
    int nsub;
    int *sub_of_chan; /* subband index of each channel */
    double *sub_fref; /* highest frequency in each subband */
    double fref;      /* highest frequency overall */
    int nthreads;
    float **scratch; /* one full-rate accumulator per thread */
} dedisp;

/* Groups channels into nsub equal subbands by frequency. */
int dedisp_init(dedisp *d, const fb_data *fb, int nsub, int nthreads, char *err);
void dedisp_free(dedisp *d);
/* Length of a series down-sampled by ds. */
static inline int64_t dedisp_len(const dedisp *d, int ds)
{
    return d->fb->nsamp / ds;
}
/* Forms subbands at subdm, down-sampled by ds: out is nsub x dedisp_len(ds). */
void dedisp_subbands(dedisp *d, double subdm, int ds, float *out);
/* One DM trial from subbands made by dedisp_subbands with the same ds. */
void dedisp_series(const dedisp *d, const float *sub, int ds, double dm, float *out);
/* Brute force from channels (reference and folding): out has nsamp samples. */
void dedisp_direct(const dedisp *d, double dm, float *out);

/* Called for every DM trial of a plan with the dedispersed, down-sampled
 * series (n samples of tsamp * ds); thread is the worker's index. The
 * series buffer belongs to the worker and may be modified. */
typedef void (*dedisp_series_fn)(void *ctx, int thread, double dm, int ds, float *series,
                                 int64_t n);
/* Runs the whole plan: per pass, subbands at the pass's middle DM, then the
 * pass's DM trials in parallel. progress: print a line to stderr every 10 %. */
int dedisp_run_plan(dedisp *d, const ddplan *plan, int progress, dedisp_series_fn fn, void *ctx,
                    char *err);

#endif
