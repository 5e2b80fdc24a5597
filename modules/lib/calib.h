/* calib.h - calibration solutions in the Offringa binary format
 * ("MWAOCAL", as written by calibrate/hyperdrive/mwa_reduce).
 *
 * Layout (little-endian): char[8] "MWAOCAL\0"; uint32 file type (0),
 * structure type (0), interval count, antenna count, channel count,
 * polarisation count (4); double start time, end time (MJD seconds); then
 * complex double Jones[interval][antenna][channel][xx, xy, yx, yy].
 * A NaN entry means no solution (the tile is flagged). Antennas are indexed by
 * the metafits Antenna field. The channels span the observation's coarse
 * channels in metafits order; a file with one channel applies to all.
 * The model is v_observed = J v_true, so the beamformer applies J^-1.
 *
 * Errors: functions return 0 on success, -1 with a sentence in err. */
#ifndef CALIB_H
#define CALIB_H

#include <complex.h>

#define CALIB_ERR_LEN 512

typedef struct calib {
    int nintervals, nantennas, nchannels;
    double start_time, end_time;
    double complex *jones; /* [interval][antenna][channel][4] */
} calib;

int calib_read(const char *path, calib *c, char *err);
/* Writes (replacing) path via a temporary name and rename. */
int calib_write(const char *path, const calib *c, char *err);
void calib_free(calib *c);

/* The Jones matrix (xx, xy, yx, yy) of antenna ant for fine channel k of the
 * coarse channel at index coarse_idx among ncoarse, each with nfine fine
 * channels; interval 0. Returns 0, or -1 when the solution is missing (NaN)
 * or the channel count does not map onto the observation (err says which). */
int calib_jones(const calib *c, int ant, int coarse_idx, int ncoarse, int nfine, int k,
                double complex j[4], char *err);

/* Inverse of a 2x2 complex matrix; returns -1 when singular. */
int calib_invert(const double complex j[4], double complex inv[4]);

#endif
