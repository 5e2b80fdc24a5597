/* series_io.h - dedispersed time series on disk, PRESTO style: NAME.dat holds
 * raw little-endian float32 samples, NAME.inf a small text header (DM, sample
 * time, length, down-sampling). Used by the dedisperse and accelsearch steps
 * when they run as separate commands. */
#ifndef SERIES_IO_H
#define SERIES_IO_H

#include <stdint.h>

typedef struct series_info {
    double dm, tsamp;
    int64_t nsamp;
    int downsamp;
    char source[64];
} series_info;

/* Writes base.dat and base.inf. */
int series_write(const char *base, const series_info *info, const float *x, char *err);
/* Reads the .inf beside a .dat path (or base name); *x is malloc'ed if x. */
int series_read(const char *dat_path, series_info *info, float **x, char *err);

#endif
