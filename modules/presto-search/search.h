/* search.h - the chain as the command line runs it: load and clean the data,
 * make the DM plan, dedisperse and search every trial, sift, fold the best
 * candidates and write the reports. Each function is one step so that the
 * sub-commands can run them alone; all of them report progress on stderr
 * when verbose and return 0 or -1 with err (>= 512 bytes) filled. */
#ifndef SEARCH_H
#define SEARCH_H

#include "cands.h"
#include "ddplan.h"
#include "fftsearch.h"
#include "filterbank.h"
#include "fold.h"
#include "rfi.h"
#include "sift.h"

typedef struct search_config {
    char **inputs;
    int ninputs;
    const char *outdir;
    int64_t max_samples;
    int no_rfi;
    const char *mask_in;  /* use this mask instead of computing one */
    const char *mask_out; /* write the computed mask here (NULL: don't) */
    rfi_options rfi;
    double lodm, hidm;
    int nsub;
    const char *plan_in;
    search_params sp;
    sift_params sift;
    fold_params fold;
    int nfold;
    int nthreads;
    int verbose;
} search_config;

void search_default_config(search_config *c);
int search_load_clean(const search_config *c, fb_data *fb, char *err);
int search_make_plan(const search_config *c, const fb_data *fb, ddplan *plan, char *err);
int search_periodicity(const search_config *c, const fb_data *fb, const ddplan *plan,
                       cand_list *raw, char *err);
/* Folds the first nfold sifted candidates; writes candidates.json,
 * candidates.txt and cand_NNN.png into outdir. */
int search_fold_report(const search_config *c, const fb_data *fb, const sift_list *sifted,
                       char *err);

#endif
