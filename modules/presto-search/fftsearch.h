/* fftsearch.h - periodicity search of one dedispersed time series: real FFT
 * (one FFTW plan per length, reused by every DM trial and thread), red-noise
 * normalisation, incoherent harmonic summing (1, 2, 4, 8, 16 harmonics) at
 * half-bin resolution, optionally over the f-fdot plane of accel.h, and the
 * candidates' sigma with the number of independent trials accounted for. */
#ifndef FFTSEARCH_H
#define FFTSEARCH_H

#include <fftw3.h>
#include <stdint.h>

#include "cands.h"

typedef struct search_params {
    double flo, fhi;  /* Hz searched; fhi 0 = Nyquist (defaults 1, 0) */
    int numharm;      /* largest harmonic sum: 1, 2, 4, 8 or 16 (16) */
    int zmax;         /* 0 = no acceleration search; even (0) */
    double sigma_min; /* keep candidates at least this significant (2.0) */
    int max_cands;    /* per DM trial (50) */
    int fftw_flags;   /* FFTW_ESTIMATE (default) or FFTW_MEASURE */
} search_params;

typedef struct fft_searcher fft_searcher;

void search_default_params(search_params *p);
fft_searcher *fft_searcher_new(int64_t n, double tsamp, const search_params *p, int nthreads,
                               char *err);
/* Searches series (n floats, used as scratch) at this DM; appends to out.
 * Thread-safe for distinct thread indices. */
void fft_searcher_run(fft_searcher *s, int thread, float *series, double dm, cand_list *out);
/* The searcher's real FFT alone (for the benchmark's reference rate). */
void fft_searcher_fft_only(fft_searcher *s, int thread, float *series);
void fft_searcher_free(fft_searcher *s);

/* Divides complex amplitudes by the local noise level so that powers have
 * unit mean: medians over blocks growing from 6 to 100 bins (PRESTO's
 * deredden), interpolated between block centres. spec[0] is zeroed. */
void fft_rednoise_normalise(fftwf_complex *spec, int64_t nb, float *scratch);
/* Harmonic sum for top-harmonic half-bin j: sum over h = 1..numharm of
 * pp[round(j h / numharm)] (pp: half-bin powers, len entries). */
float harmonic_sum(const float *pp, int64_t len, int64_t j, int numharm);
/* Summed power that reaches sigma after numindep trials. */
double power_for_sigma(double sigma, int numharm, double numindep);

#endif
