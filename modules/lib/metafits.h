/* metafits.h - MWA observation metadata (metafits): reader and writer.
 *
 * Primary header: GPSTIME (the obsid), RA, DEC (pointing centre, degrees),
 * AZIMUTH, ALTITUDE, PROJECT, CHANNELS (comma list of coarse channels),
 * FINECHAN (fine channel width, kHz). Keywords that only sluice writes, for
 * small simulated observations (absent in real metafits: full size assumed):
 * VCSNFINE (fine channels per coarse channel in the .dat files), VCSNSAMP
 * (samples per second), VCSORDER ('FULL' or 'REDUCED', see vcs.h).
 * TILEDATA table: one row per input, two per tile (row 2a = tile a pol X,
 * row 2a+1 = pol Y): Input, Antenna, Tile, TileName, Pol, Rx, Slot, Flag,
 * Length ('EL_<metres>'), North, East, Height.
 *
 * Errors: functions return 0 on success, -1 with a sentence in err. */
#ifndef METAFITS_H
#define METAFITS_H

#include "vcs.h"

#define METAFITS_ERR_LEN 512
#define METAFITS_MAX_COARSE 24

typedef struct metafits_tile {
    int antenna;                /* Antenna field: index into calibration solutions */
    int tile_id;                /* Tile field */
    char name[16];              /* TileName */
    double north, east, height; /* metres */
    double length;              /* electrical cable length, metres (from EL_<m>) */
    int flag;                   /* 1 when either input is flagged */
} metafits_tile;

typedef struct metafits {
    long obsid; /* GPSTIME */
    double ra_deg, dec_deg, az_deg, alt_deg;
    char project[32];
    int ncoarse;
    int coarse[METAFITS_MAX_COARSE];
    double fine_khz;      /* FINECHAN */
    vcs_shape shape;      /* tiles, fine channels, samples, layout of .dat files */
    metafits_tile *tiles; /* shape.ntile entries, tile a = TILEDATA row / 2 */
} metafits;

int metafits_read(const char *path, metafits *m, char *err);
/* Writes (replacing) path via a temporary name and rename. */
int metafits_write(const char *path, const metafits *m, char *err);
void metafits_free(metafits *m);
/* Index of coarse channel ch in m->coarse, or -1. */
int metafits_coarse_index(const metafits *m, int ch);
/* Centre frequency (Hz) of fine channel k of coarse channel ch:
 * ch*1.28 MHz - 640 kHz + k*FINECHAN. */
double metafits_fine_freq_hz(const metafits *m, int ch, int k);

#endif
