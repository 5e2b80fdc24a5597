/* fold.h - prepfold-like folding of a candidate from the cleaned filterbank:
 * a cube of (subband x sub-integration x phase bin) at the candidate's DM,
 * then a search over DM, frequency and fdot offsets by shifting subbands and
 * sub-integrations in phase, and the profile S/N and reduced chi-square at
 * the best point. */
#ifndef FOLD_H
#define FOLD_H

#include "filterbank.h"

typedef struct fold_params {
    int nbins;       /* phase bins (64; fewer when the period is short) */
    int nsubint;     /* sub-integrations (32) */
    int nsubband;    /* subbands (32) */
    int ndm;         /* DM trials either side (30) */
    double dm_range; /* half range of the DM search; 0 = half a period of band delay */
    double f_range;  /* half range of the frequency search in Fourier bins (2) */
    int search_fdot; /* also search fdot (1 if the candidate has one) */
    int nthreads;
} fold_params;

typedef struct fold_result {
    double dm, freq, fdot, period; /* refined values (freq, fdot at the start) */
    double snr, redchi;
    double tobs; /* s folded */
    int nbins, nsubint, nsubband;
    float *profile;    /* nbins, in units of the noise per bin */
    float *time_phase; /* nsubint x nbins */
    float *freq_phase; /* nsubband x nbins, lowest frequency first */
    int ndm_curve;
    double *curve_dm;
    float *curve_snr; /* best S/N at each trial DM */
} fold_result;

void fold_default_params(fold_params *p);
int fold_candidate(const fb_data *fb, double dm, double freq, double fdot, const fold_params *p,
                   fold_result *r, char *err);
void fold_result_free(fold_result *r);
/* Boxcar S/N of a profile with per-bin counts, given the per-sample mean and
 * variance; also returns the reduced chi-square. Exposed for tests. */
double fold_profile_snr(const float *prof, const float *count, int nbins, double mean, double var,
                        double *redchi, float *z_out);
/* The same with each bin's expected sum and variance given (a bin with zero
 * expected variance counts as z = 0). */
double fold_profile_snr_expected(const float *prof, const double *emean, const double *evar,
                                 int nbins, double *redchi, float *z_out);

#endif
