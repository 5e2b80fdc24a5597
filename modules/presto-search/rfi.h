/* rfi.h - rfifind-like RFI excision: statistics per channel x time interval
 * (mean, standard deviation, largest spectral power), a mask of outlying
 * cells written to a text file, and its application to the data together with
 * optional zero-DM filtering and clipping of impulsive broadband bursts. */
#ifndef RFI_H
#define RFI_H

#include <stdint.h>

#include "filterbank.h"

typedef struct rfi_options {
    double interval_s; /* length of one statistics interval (2 s) */
    double time_sigma; /* cell mean/std outlier threshold, robust sigmas (10) */
    double freq_sigma; /* spectral-peak threshold, Gaussian sigmas after trials (4) */
    double chan_frac;  /* zap a channel with more bad intervals than this (0.3) */
    double int_frac;   /* zap an interval with more bad channels than this (0.5) */
    int zero_dm;       /* subtract the channel mean of each sample (0) */
    double clip_sigma; /* zero samples whose band sum exceeds this many sigma (6; 0 off) */
    int nthreads;
} rfi_options;

typedef struct rfi_mask {
    int nchan, nint, ptsperint;
    double tsamp;
    uint8_t *bad;             /* nint x nchan, 1 = masked ([interval][channel]) */
    float *mean, *std, *peak; /* cell statistics (NULL when read from a file) */
    int nbad_chan, nbad_int;
    double bad_frac; /* fraction of cells masked */
} rfi_mask;

typedef struct rfi_apply_stats {
    int64_t clipped; /* samples zeroed by the burst clipper */
    int good_chans;
} rfi_apply_stats;

void rfi_default_options(rfi_options *o);
int rfi_find(const fb_data *fb, const rfi_options *o, rfi_mask *m, char *err);
int rfi_mask_write(const rfi_mask *m, const char *path, char *err);
int rfi_mask_read(rfi_mask *m, const char *path, char *err);
void rfi_mask_free(rfi_mask *m);
/* Cleans fb in place: each cell's mean removed, each channel scaled to unit
 * variance, masked cells set to zero, then zero-DM and clipping as asked.
 * The mask must match fb (channels, sample time). */
int rfi_apply(fb_data *fb, const rfi_mask *m, const rfi_options *o, rfi_apply_stats *st, char *err);

#endif
