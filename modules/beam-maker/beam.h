/* beam.h - the MWA tied-array beamformer core used by beam-maker and bench/beam.
 *
 * One context covers one coarse channel and a time range. For each second it
 * reads the voltage file once and forms every pointing at once: per fine
 * channel, the calibrated voltages of the unflagged tiles become a
 * (tiles x 2*samples) complex matrix B (X samples then Y samples in each row),
 * the phase weights a (pointings x tiles) matrix W, and cblas_cgemm gives the
 * (pointings x 2*samples) beam voltages. Stokes I with the autocorrelations
 * removed, per-channel flattening and 8-bit quantisation follow; each pointing
 * (and the incoherent beam) appends one PSRFITS row per second.
 *
 * Errors: functions return 0 on success, -1 with a sentence in err. */
#ifndef BEAM_H
#define BEAM_H

#define BEAM_ERR_LEN 1024

typedef struct beam_pointing {
    double ra_deg, dec_deg;
    char ra_str[32], dec_str[32];
    char name[72]; /* "RA_DEC" as given, used in file names */
} beam_pointing;

/* spec: a file of "RA DEC" lines (sexagesimal; '#' comments and blank lines
 * skipped), or, when no such file exists, a comma-separated list of "RA_DEC"
 * or "RA DEC" items. Allocates *out. */
int beam_parse_pointings(const char *spec, beam_pointing **out, int *n, char *err);

typedef struct beam_config {
    long obsid, begin, end; /* GPS seconds, end inclusive */
    int coarse;             /* coarse channel number (e.g. 109) */
    const char *data_dir, *metafits_path, *calib_path, *out_dir;
    const beam_pointing *pointings;
    int npointings;
    int incoherent; /* also write the incoherent beam */
    int threads;
} beam_config;

typedef struct beam_timing {
    double read_s, channels_s, output_s; /* wall seconds per phase */
    double gemm_s, decode_s;             /* summed over threads */
    double gemm_flops;                   /* 8 per complex multiply-add */
} beam_timing;

typedef struct beam_ctx beam_ctx;

/* Reads metafits and calibration, checks every .dat file of the range exists
 * with the right size, allocates and pre-faults buffers, creates outputs
 * (under temporary names). */
int beam_open(beam_ctx **out, const beam_config *cfg, char *err);
/* Forms all beams for one second and appends a row to every output. */
int beam_process_second(beam_ctx *ctx, long gps, beam_timing *t, char *err);
/* Closes outputs; on success renames them to their final names, otherwise
 * (ok == 0) removes them. Frees ctx. */
int beam_close(beam_ctx *ctx, int ok, char *err);
/* Final output path of pointing p (p == npointings: the incoherent beam). */
const char *beam_output_path(const beam_ctx *ctx, int p);

#endif
