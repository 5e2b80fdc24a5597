/* sift.h - PRESTO-style sifting: raw candidates from all DM trials are
 * merged into one entry per signal. The same frequency at several DMs is one
 * signal (its DM curve is kept); a frequency that is a ratio n/m (n, m <= 16)
 * of a stronger one is its harmonic and is counted on it. Signals seen at
 * fewer than min_dm_hits DMs or peaking below min_dm are dropped. */
#ifndef SIFT_H
#define SIFT_H

#include "cands.h"

typedef struct sift_params {
    double r_tol;     /* match tolerance in Fourier bins (1.1) */
    int min_dm_hits;  /* distinct DM trials required (2) */
    double min_dm;    /* drop signals whose best DM is below (2.0) */
    double sigma_min; /* drop weaker signals (3.0) */
    int max_harm;     /* largest n, m in harmonic ratios (16) */
} sift_params;

typedef struct sift_cand {
    search_cand best; /* strongest detection */
    int ndm;          /* distinct DM trials with a detection */
    double *dms;      /* those DMs, ascending ... */
    float *dm_sigma;  /* ... and the best sigma at each */
    int nharmonics;   /* raw candidates merged as harmonics of this one */
} sift_cand;

typedef struct sift_list {
    sift_cand *v;
    int n;
} sift_list;

void sift_default_params(sift_params *p);
/* Sifts raw (sorted or not; it is sorted in place). */
int sift_candidates(cand_list *raw, const sift_params *p, sift_list *out);
void sift_list_free(sift_list *l);
/* Text table of sifted candidates (the sift step's output). */
int sift_write(const sift_list *l, const char *path, char *err);
/* Reads the first columns back (best detection only) for folding. */
int sift_read(sift_list *l, const char *path, char *err);

#endif
