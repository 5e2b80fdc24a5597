/* ddplan.h - a DM plan like PRESTO's DDplan.py: DM trials split into steps;
 * within a step the DM spacing is constant, and each later step uses a
 * larger spacing and a larger down-sampling factor because intra-channel
 * smearing has grown past the finer time resolution. Every step also says
 * how many consecutive DM trials share one set of subbands (one "pass"). */
#ifndef DDPLAN_H
#define DDPLAN_H

#include <stdio.h>

#define DDPLAN_MAX_STEPS 32

typedef struct ddplan_params {
    double lodm, hidm;
    double tsamp; /* s */
    double fctr;  /* MHz, centre of the band */
    double bw;    /* MHz, total bandwidth (positive) */
    int nchan;
    int nsub;  /* subbands (0: chosen from nchan) */
    double ff; /* tolerated smearing factor (1.0) */
    int max_downsamp;
} ddplan_params;

typedef struct ddplan_step {
    double lodm, ddm;
    int ndm;
    int downsamp;
    int dms_per_pass; /* DM trials that share one subband DM */
    double smear_ms;  /* total smearing at the step's top DM */
} ddplan_step;

typedef struct ddplan {
    int nsteps;
    int nsub;
    int total_dms;
    ddplan_step step[DDPLAN_MAX_STEPS];
} ddplan;

/* Returns 0 or -1 with err (>= 256 bytes) filled. */
int ddplan_make(const ddplan_params *p, ddplan *plan, char *err);
/* The DM of trial i (0..total_dms-1); *step_out gets its step index. */
double ddplan_dm(const ddplan *plan, int i, int *step_out);
/* Largest DM step (from PRESTO's allowed list) whose half-step error smears
 * the pulse across the band by no more than dt. */
double ddplan_dm_step(double dt, double flo, double fhi);
/* Text form: human-readable table that ddplan_read parses back. */
void ddplan_write(const ddplan *plan, FILE *fp);
int ddplan_read(ddplan *plan, FILE *fp, char *err);

#endif
