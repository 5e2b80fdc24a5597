/* cands.h - candidate records shared by the search, sifting and folding
 * steps, a growable list of them, and their text/JSON files.
 *
 * A raw candidate is one peak of the (harmonic-summed) power spectrum of one
 * DM trial: fundamental frequency (start of the observation), fdot, number
 * of harmonics summed, summed normalised power and its Gaussian-equivalent
 * sigma after the number of independent Fourier trials. */
#ifndef CANDS_H
#define CANDS_H

#include <stddef.h>
#include <stdio.h>

typedef struct search_cand {
    double dm;
    double freq; /* Hz, fundamental at the start */
    double fdot; /* Hz/s */
    double r, z; /* Fourier bin and fdot in bins (z = fdot T^2) of the fundamental */
    double tobs; /* s: length T of the searched series */
    int numharm;
    float power; /* summed normalised power */
    float sigma; /* Gaussian-equivalent, trials accounted for */
} search_cand;

typedef struct cand_list {
    search_cand *v;
    size_t n, cap;
} cand_list;

void cand_list_push(cand_list *l, const search_cand *c);
void cand_list_append(cand_list *dst, const cand_list *src);
void cand_list_free(cand_list *l);
/* Sorts by sigma, highest first. */
void cand_list_sort(cand_list *l);
/* Raw candidate file: one line per candidate, '#' comments. */
int cand_list_write(const cand_list *l, const char *path, char *err);
int cand_list_read(cand_list *l, const char *path, char *err);

#endif
