/* psrfits.h - PSRFITS search-mode files (8-bit, one polarisation): writer and
 * reader on cfitsio.
 *
 * Layout follows the public PSRFITS definition (HDRVER 3.4): a primary HDU
 * with the observation keywords and a SUBINT binary table whose rows each hold
 * NSBLK samples x NCHAN channels of uint8 DATA (channel fastest), with
 * DAT_FREQ, DAT_WTS, DAT_OFFS, DAT_SCL per channel. A sample's value is
 * DATA * DAT_SCL + DAT_OFFS. DAT_FREQ is stored as float32 ('E', as in
 * HDRVER 3.4 and the MWA files: a 128-channel x 10000-sample x 30-row file is
 * exactly 38,479,680 bytes), so frequencies round-trip to float precision.
 *
 * Errors: functions return 0 on success, -1 on failure with a sentence in
 * err (at least PSRFITS_ERR_LEN bytes) naming the file and the problem. */
#ifndef PSRFITS_H
#define PSRFITS_H

#include <stdint.h>

#define PSRFITS_ERR_LEN 512
/* Largest DATA row (NSBLK x NCHAN bytes) psrfits_open accepts: the MWA's
 * merged files have 3072 x 10000 = 30 MB rows. */
#define PSRFITS_MAX_ROW_BYTES (1LL << 30)

typedef struct psrfits_hdr {
    char src_name[64];
    char ra_str[32];    /* "hh:mm:ss.sss" */
    char dec_str[32];   /* "+dd:mm:ss.ss" */
    char telescope[32]; /* "MWA" */
    char backend[32];
    char project[32];
    char observer[32];
    int stt_imjd;    /* start MJD, integer day */
    int stt_smjd;    /* seconds past UTC midnight */
    double stt_offs; /* fractional seconds */
    double obsfreq;  /* centre frequency, MHz */
    double obsbw;    /* bandwidth, MHz */
    int obsnchan;
    int nchan;      /* channels per row (== obsnchan for search mode) */
    int nsblk;      /* samples per row */
    double tbin;    /* sample time, s */
    double chan_bw; /* MHz */
    int nbits;      /* 8 */
    int npol;       /* 1 (total intensity) */
    double ra_deg, dec_deg;
    int64_t nrows; /* rows in SUBINT (filled by the reader) */
} psrfits_hdr;

typedef struct psrfits psrfits;

/* Creates (replacing) path. The writer fills defaults for empty strings. */
int psrfits_create(psrfits **out, const char *path, const psrfits_hdr *h, char *err);
/* Appends one SUBINT row. freq, wts, offs, scl: nchan floats each;
 * data: nsblk*nchan bytes, channel fastest. offs_sub: seconds from the start
 * of the file to the centre of the row. */
int psrfits_write_row(psrfits *f, const double *freq, const float *wts, const float *offs,
                      const float *scl, const uint8_t *data, double offs_sub, char *err);
/* Copies the header keywords of src that psrfits_hdr does not describe
 * (FRONTEND, BECONFIG, CHAN_DM, HISTORY, ... in the primary HDU; DM, RM, ...
 * in SUBINT) into dst, a file being written that has no rows yet. Tools that
 * transform a file (down-sampler, fits-merger) use it to carry keywords over. */
int psrfits_copy_keys(psrfits *dst, psrfits *src, char *err);
/* Appends a HISTORY card to the primary HDU (a file being written). */
int psrfits_add_history(psrfits *f, const char *text, char *err);
/* Opens for reading; fills h (including nrows). */
int psrfits_open(psrfits **out, const char *path, psrfits_hdr *h, char *err);
/* Reads row (0-based). Any output pointer may be NULL. */
int psrfits_read_row(psrfits *f, int64_t row, double *freq, float *wts, float *offs, float *scl,
                     uint8_t *data, double *offs_sub, char *err);
/* Closes (flushing a file being written; updates NAXIS2/checksums). */
int psrfits_close(psrfits *f, char *err);

/* Quantises nsamp x nchan floats (channel fastest) to 8 bits per channel:
 * scl/offs chosen from each channel's mean and standard deviation so that
 * the mean maps to ~128 and +-6 sigma stays in range; rounding to nearest. */
void psrfits_quantise(const float *in, int nsamp, int nchan, uint8_t *out, float *offs, float *scl);

#endif
