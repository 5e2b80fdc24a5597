/* report.h - the search's final products: candidates.json, candidates.txt
 * (one line per candidate, best first) and one PNG per folded candidate
 * (profile, phase vs time, S/N vs DM, phase vs frequency). */
#ifndef REPORT_H
#define REPORT_H

#include "fold.h"
#include "sift.h"

typedef struct final_cand {
    sift_cand s; /* search detection (DM curve etc.) */
    int folded;
    fold_result f;
    char png[256]; /* file name of the plot, relative to the output dir */
} final_cand;

/* Orders folded candidates by folded S/N, then the rest by sigma. */
void report_sort(final_cand *c, int n);
int report_write_json(const final_cand *c, int n, const char *path, const char *source,
                      const char *input, char *err);
int report_write_table(const final_cand *c, int n, const char *path, char *err);
int report_plot(const final_cand *c, int rank, const char *path, char *err);

#endif
