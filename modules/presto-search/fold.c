/* fold.c - folding and refinement (see fold.h).
 *
 * The cube is filled once (each sample is added to its subband, sub-integration
 * and phase bin; channel delays at the candidate DM are whole samples). Trial
 * DMs then shift each subband by the extra delay, trial frequencies and fdots
 * shift each sub-integration by the phase drift, in whole bins, as prepfold
 * does. Noise per bin comes from the channels' own variance (after cleaning
 * they are independent with known variance), so S/N needs no off-pulse
 * window: S/N = max over boxcars (sum of z) / sqrt(width).
 *
 * The expected mean and variance of every cube cell are kept per subband
 * (sample count x the subband's channel means and variances, less the samples
 * a channel's dispersion shift pushes past the end) and travel with the data
 * through every subband and sub-integration shift. Cells hold very different
 * counts when a sub-integration is not much longer than the period (some are
 * empty), so normalising a shifted sum by unshifted counts gives bins whose
 * noise is badly underestimated: on noise alone the refinement then walks to
 * the frequency 1 / (sub-integration length) where those bins line up, and
 * reports S/N ~20 (P = 500 ms for 16 s of data in 32 sub-integrations). */
#include "fold.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispersion.h"
#include "parallel.h"

void fold_default_params(fold_params *p)
{
    p->nbins = 64;
    p->nsubint = 32;
    p->nsubband = 32;
    p->ndm = 30;
    p->dm_range = 0;
    p->f_range = 2.0;
    p->search_fdot = 0;
    p->nthreads = parallel_default_threads();
}

void fold_result_free(fold_result *r)
{
    free(r->profile);
    free(r->time_phase);
    free(r->freq_phase);
    free(r->curve_dm);
    free(r->curve_snr);
    memset(r, 0, sizeof *r);
}

double fold_profile_snr(const float *prof, const float *count, int nbins, double mean, double var,
                        double *redchi, float *z_out)
{
    double em[1024], ev[1024];
    if (nbins > 1024) nbins = 1024;
    for (int b = 0; b < nbins; b++) {
        double c = count[b] > 0 ? count[b] : 1;
        em[b] = c * mean;
        ev[b] = c * var;
    }
    return fold_profile_snr_expected(prof, em, ev, nbins, redchi, z_out);
}

double fold_profile_snr_expected(const float *prof, const double *emean, const double *evar,
                                 int nbins, double *redchi, float *z_out)
{
    float zb[1024];
    float *z = z_out ? z_out : zb;
    if (nbins > 1024) nbins = 1024;
    double zsum = 0;
    for (int b = 0; b < nbins; b++) {
        /* A bin that no sample reached carries no information. */
        z[b] = evar[b] > 0 ? (float)((prof[b] - emean[b]) / sqrt(evar[b])) : 0.0f;
        zsum += z[b];
    }
    /* Remove the residual offset (the mean is estimated from the same data). */
    double zmean = zsum / nbins, chi = 0;
    for (int b = 0; b < nbins; b++) {
        z[b] -= (float)zmean;
        chi += z[b] * z[b];
    }
    if (redchi) *redchi = chi / (nbins - 1);
    /* Boxcars of a few widths via a cyclic prefix sum. */
    double pre[2049];
    pre[0] = 0;
    for (int b = 0; b < 2 * nbins; b++)
        pre[b + 1] = pre[b] + z[b % nbins];
    static const int widths[] = {1,  2,  3,  4,  6,   8,   12,  16,  24,
                                 32, 48, 64, 96, 128, 192, 256, 384, 512};
    double best = -1e30;
    for (size_t k = 0; k < sizeof widths / sizeof widths[0] && widths[k] <= nbins / 2; k++) {
        int w = widths[k];
        double norm = 1.0 / sqrt((double)w);
        for (int s = 0; s < nbins; s++) {
            double snr = (pre[s + w] - pre[s]) * norm;
            if (snr > best) best = snr;
        }
    }
    return best;
}

typedef struct {
    const fb_data *fb;
    const int *sub_of_chan;
    const int64_t *shift;
    const int32_t *cell; /* per sample: subint * nbins + bin */
    const float *cnt;    /* per cell: samples of the whole series */
    int ncell;
    float *cube; /* nsubband x ncell */
    double *em;  /* nsubband x ncell: expected cell sum */
    double *ev;  /* nsubband x ncell: expected cell variance */
    double *var; /* nsubband: per-sample variance sum */
} fill_ctx;

static void fill_subband(void *p, int thread, long s)
{
    (void)thread;
    fill_ctx *x = p;
    const fb_data *fb = x->fb;
    float *cube = x->cube + (size_t)s * x->ncell;
    double *em = x->em + (size_t)s * x->ncell, *ev = x->ev + (size_t)s * x->ncell;
    double vsum = 0, msum = 0;
    for (int c = 0; c < fb->nchan; c++) {
        if (x->sub_of_chan[c] != s) continue;
        const float *d = fb->data + (size_t)c * fb->nsamp;
        int64_t n = fb->nsamp - x->shift[c];
        double a = 0, aa = 0;
        for (int64_t i = 0; i < n; i++) {
            float v = d[i + x->shift[c]];
            cube[x->cell[i]] += v;
            a += v;
            aa += (double)v * v;
        }
        double m = n > 0 ? a / n : 0, var = n > 1 ? aa / n - m * m : 0;
        if (var < 0) var = 0;
        vsum += var;
        msum += m;
        /* The samples this channel does not reach (its shift past the end). */
        for (int64_t i = n > 0 ? n : 0; i < fb->nsamp; i++) {
            em[x->cell[i]] -= m;
            ev[x->cell[i]] -= var;
        }
    }
    for (int k = 0; k < x->ncell; k++) {
        em[k] += x->cnt[k] * msum;
        ev[k] += x->cnt[k] * vsum;
        if (ev[k] < 0) ev[k] = 0;
    }
    x->var[s] = vsum;
}

static int iround_mod(double x, int n)
{
    long v = lround(x);
    return (int)(((v % n) + n) % n);
}

/* The DM x frequency x fdot search works on these arrays. */
typedef struct {
    const float *cube;
    const double *em, *ev; /* expected sum and variance of every cube cell */
    const double *sub_f;
    double fmax, freq;
    int nsub, nsubint, nbins;
    double T;
    float *tp, *prof;
    double *tpm, *tpv, *pm, *pv;
} fold_grid;

/* tp = subbands summed with the extra delay of dm_off (tpm, tpv: its
 * expected sums and variances, shifted the same way). */
static void grid_time_phase(fold_grid *g, double dm_off)
{
    int nb = g->nbins, ncell = g->nsubint * nb;
    memset(g->tp, 0, sizeof(float) * ncell);
    memset(g->tpm, 0, sizeof(double) * ncell);
    memset(g->tpv, 0, sizeof(double) * ncell);
    for (int s = 0; s < g->nsub; s++) {
        double dt = dispersion_delay(dm_off, g->sub_f[s], g->fmax);
        int sh = iround_mod(dt * g->freq * nb, nb);
        const float *src = g->cube + (size_t)s * ncell;
        const double *sm = g->em + (size_t)s * ncell, *sv = g->ev + (size_t)s * ncell;
        for (int j = 0; j < g->nsubint; j++)
            for (int b = 0; b < nb; b++) {
                int k = j * nb + (b + sh) % nb;
                g->tp[j * nb + b] += src[k];
                g->tpm[j * nb + b] += sm[k];
                g->tpv[j * nb + b] += sv[k];
            }
    }
}

/* S/N of tp's sub-integrations summed with the drift of (df, dfd). */
static double grid_eval(fold_grid *g, double df, double dfd)
{
    int nb = g->nbins;
    memset(g->prof, 0, sizeof(float) * nb);
    memset(g->pm, 0, sizeof(double) * nb);
    memset(g->pv, 0, sizeof(double) * nb);
    for (int j = 0; j < g->nsubint; j++) {
        double tm = (j + 0.5) * g->T / g->nsubint;
        int sh = iround_mod((df * tm + 0.5 * dfd * tm * tm) * nb, nb);
        for (int b = 0; b < nb; b++) {
            int src = j * nb + (b + nb - sh) % nb;
            g->prof[b] += g->tp[src];
            g->pm[b] += g->tpm[src];
            g->pv[b] += g->tpv[src];
        }
    }
    return fold_profile_snr_expected(g->prof, g->pm, g->pv, nb, NULL, NULL);
}

int fold_candidate(const fb_data *fb, double dm, double freq, double fdot, const fold_params *p,
                   fold_result *r, char *err)
{
    memset(r, 0, sizeof *r);
    if (!(freq > 0) || dm < 0) {
        snprintf(err, 512, "fold: bad candidate (f %g Hz, DM %g)", freq, dm);
        return -1;
    }
    double period = 1.0 / freq;
    int nbins = p->nbins;
    int maxbins = (int)(period / fb->tsamp);
    if (nbins > maxbins) nbins = maxbins;
    if (nbins < 8) {
        snprintf(err, 512, "fold: period %.6f s is too short for %.6f s samples", period,
                 fb->tsamp);
        return -1;
    }
    if (nbins > 1024) nbins = 1024;
    int nsubint = p->nsubint, nsub = p->nsubband > fb->nchan ? fb->nchan : p->nsubband;
    int ncell = nsubint * nbins;
    double T = fb->nsamp * fb->tsamp;

    /* Subbands by frequency rank; reference = highest frequency. */
    int *sub_of_chan = malloc(sizeof(int) * fb->nchan);
    double *sub_f = calloc((size_t)nsub, sizeof(double));
    int *sub_n = calloc((size_t)nsub, sizeof(int));
    int64_t *shift = malloc(sizeof(int64_t) * fb->nchan);
    double fmin, fmax, cbw;
    fb_band(fb, &fmin, &fmax, &cbw);
    for (int c = 0; c < fb->nchan; c++) {
        int rank = 0;
        for (int k = 0; k < fb->nchan; k++)
            rank += fb->freq[k] < fb->freq[c] || (fb->freq[k] == fb->freq[c] && k < c);
        int s = (int)((int64_t)rank * nsub / fb->nchan);
        sub_of_chan[c] = s;
        sub_f[s] += fb->freq[c];
        sub_n[s]++;
        int64_t sh = llround(dispersion_delay(dm, fb->freq[c], fmax) / fb->tsamp);
        shift[c] = sh < fb->nsamp ? sh : fb->nsamp;
    }
    for (int s = 0; s < nsub; s++)
        sub_f[s] = sub_n[s] ? sub_f[s] / sub_n[s] : fmax;

    int32_t *cell = malloc(sizeof(int32_t) * fb->nsamp);
    float *cnt = calloc((size_t)ncell, sizeof(float));
    for (int64_t i = 0; i < fb->nsamp; i++) {
        double t = i * fb->tsamp;
        double ph = freq * t + 0.5 * fdot * t * t;
        ph -= floor(ph);
        int b = (int)(ph * nbins);
        if (b >= nbins) b = nbins - 1;
        int si = (int)(i * nsubint / fb->nsamp);
        cell[i] = si * nbins + b;
        cnt[cell[i]] += 1.0f;
    }
    float *cube = calloc((size_t)nsub * ncell, sizeof(float));
    double *em = calloc((size_t)nsub * ncell, sizeof(double)),
           *ev = calloc((size_t)nsub * ncell, sizeof(double));
    double *svar = calloc((size_t)nsub, sizeof(double));
    fill_ctx fc = {fb, sub_of_chan, shift, cell, cnt, ncell, cube, em, ev, svar};
    parallel_for(p->nthreads, nsub, fill_subband, &fc);
    double var = 0;
    for (int s = 0; s < nsub; s++)
        var += svar[s];
    if (!(var > 0)) {
        snprintf(err, 512, "fold: data has no variance (all channels masked?)");
        free(sub_of_chan);
        free(sub_f);
        free(sub_n);
        free(shift);
        free(cell);
        free(cnt);
        free(cube);
        free(em);
        free(ev);
        free(svar);
        return -1;
    }

    /* Trial grids. */
    double band_per_dm = DISPERSION_K * (1.0 / (fmin * fmin) - 1.0 / (fmax * fmax));
    double dm_half = p->dm_range > 0 ? p->dm_range : 0.5 * period / band_per_dm;
    int ndm = p->ndm;
    double ddm = dm_half / ndm;
    double df_step = 1.0 / (nbins * T); /* one bin of drift over the observation */
    int nf = (int)ceil(p->f_range / T / df_step);
    int nfd = p->search_fdot ? 10 : 0;
    double dfd_step = 2.0 / (nbins * T * T); /* one bin of quadratic drift */

    float *tp = malloc(sizeof(float) * ncell); /* time-phase at a trial DM */
    float *prof = malloc(sizeof(float) * nbins);
    double *tpm = malloc(sizeof(double) * ncell), *tpv = malloc(sizeof(double) * ncell);
    double *pm = malloc(sizeof(double) * nbins), *pv = malloc(sizeof(double) * nbins);
    r->ndm_curve = 2 * ndm + 1;
    r->curve_dm = malloc(sizeof(double) * r->ndm_curve);
    r->curve_snr = malloc(sizeof(float) * r->ndm_curve);
    fold_grid g = {cube,  em, ev, sub_f, fmax, freq, nsub, nsubint,
                   nbins, T,  tp, prof,  tpm,  tpv,  pm,   pv};
    double best_snr = -1e30, best_ddm = 0, best_df = 0, best_dfd = 0;
    /* Pass 1: DM x frequency at the candidate's fdot. */
    for (int id = -ndm; id <= ndm; id++) {
        double dm_off = id * ddm;
        r->curve_dm[id + ndm] = dm + dm_off;
        r->curve_snr[id + ndm] = 0;
        if (dm + dm_off < 0) continue;
        grid_time_phase(&g, dm_off);
        double dm_best = -1e30;
        for (int jf = -nf; jf <= nf; jf++) {
            double snr = grid_eval(&g, jf * df_step, 0.0);
            if (snr > dm_best) dm_best = snr;
            if (snr > best_snr) {
                best_snr = snr;
                best_ddm = dm_off;
                best_df = jf * df_step;
            }
        }
        r->curve_snr[id + ndm] = (float)dm_best;
    }
    /* Pass 2: frequency x fdot at the best DM. */
    if (nfd) {
        grid_time_phase(&g, best_ddm);
        for (int ifd = -nfd; ifd <= nfd; ifd++)
            for (int jf = -nf; jf <= nf; jf++) {
                double snr = grid_eval(&g, jf * df_step, ifd * dfd_step);
                if (snr > best_snr) {
                    best_snr = snr;
                    best_df = jf * df_step;
                    best_dfd = ifd * dfd_step;
                }
            }
    }

    /* Final products at the best point. */
    r->nbins = nbins;
    r->tobs = T;
    r->nsubint = nsubint;
    r->nsubband = nsub;
    r->dm = dm + best_ddm;
    r->freq = freq + best_df;
    r->fdot = fdot + best_dfd;
    r->period = 1.0 / r->freq;
    r->profile = calloc((size_t)nbins, sizeof(float));
    r->time_phase = calloc((size_t)ncell, sizeof(float));
    r->freq_phase = calloc((size_t)nsub * nbins, sizeof(float));
    memset(prof, 0, sizeof(float) * nbins);
    memset(pm, 0, sizeof(double) * nbins);
    memset(pv, 0, sizeof(double) * nbins);
    int *subint_shift = malloc(sizeof(int) * nsubint);
    for (int j = 0; j < nsubint; j++) {
        double tm = (j + 0.5) * T / nsubint;
        subint_shift[j] = iround_mod((best_df * tm + 0.5 * best_dfd * tm * tm) * nbins, nbins);
    }
    for (int s = 0; s < nsub; s++) {
        int sh = iround_mod(dispersion_delay(best_ddm, sub_f[s], fmax) * freq * nbins, nbins);
        const float *src = cube + (size_t)s * ncell;
        const double *sm = em + (size_t)s * ncell, *sv = ev + (size_t)s * ncell;
        for (int j = 0; j < nsubint; j++)
            for (int b = 0; b < nbins; b++) {
                int bb = (b + nbins - subint_shift[j]) % nbins;
                int k = j * nbins + (bb + sh) % nbins;
                float v = src[k];
                r->time_phase[j * nbins + b] += v;
                r->freq_phase[s * nbins + b] += v;
                prof[b] += v;
                pm[b] += sm[k];
                pv[b] += sv[k];
            }
    }
    r->snr = fold_profile_snr_expected(prof, pm, pv, nbins, &r->redchi, r->profile);
    /* Sub-integration and subband panels: remove each row's mean for display. */
    for (int j = 0; j < nsubint; j++) {
        double m = 0;
        for (int b = 0; b < nbins; b++)
            m += r->time_phase[j * nbins + b];
        for (int b = 0; b < nbins; b++)
            r->time_phase[j * nbins + b] -= (float)(m / nbins);
    }
    for (int s = 0; s < nsub; s++) {
        double m = 0;
        for (int b = 0; b < nbins; b++)
            m += r->freq_phase[s * nbins + b];
        for (int b = 0; b < nbins; b++)
            r->freq_phase[s * nbins + b] -= (float)(m / nbins);
    }
    free(subint_shift);
    free(tp);
    free(prof);
    free(tpm);
    free(tpv);
    free(pm);
    free(pv);
    free(sub_of_chan);
    free(sub_f);
    free(sub_n);
    free(shift);
    free(cell);
    free(cnt);
    free(cube);
    free(em);
    free(ev);
    free(svar);
    return 0;
}
