/* filterbank.h - the in-memory dynamic spectrum every search step works on,
 * and the readers/writers that fill it.
 *
 * Data is float, channel-major ([chan][sample]): dedispersion and folding walk
 * one channel at a time along time, so this is the cache-friendly order.
 * Inputs: SIGPROC filterbank (.fil, 8/16/32-bit, time-major on disk) and
 * PSRFITS search mode (one or several consecutive files joined into one
 * series, DAT_SCL/DAT_OFFS applied, DAT_WTS kept as channel weights). */
#ifndef FILTERBANK_H
#define FILTERBANK_H

#include <stdint.h>

#define FB_ERR_LEN 512

typedef struct fb_data {
    int nchan;
    int64_t nsamp;
    double tsamp;  /* seconds */
    double *freq;  /* MHz, per channel, in file order */
    float *weight; /* per channel, 0 = flagged by the producer */
    float *data;   /* nchan * nsamp, channel-major */
    double mjd_start;
    char source[64];
} fb_data;

/* Header of a SIGPROC file to write (8-bit, one IF). */
typedef struct fil_header {
    char source[64];
    double fch1, foff; /* MHz: first channel's frequency and the step */
    int nchan;
    double tsamp;  /* s */
    double tstart; /* MJD */
    int nbits;     /* 8 or 32 */
} fil_header;

/* Reads one .fil or one or more PSRFITS files (joined in time order).
 * max_samples > 0 truncates. Returns 0 or -1 with err filled. */
int fb_read(fb_data *out, char **paths, int npaths, int64_t max_samples, char *err);
void fb_free(fb_data *fb);
/* Lowest and highest channel frequency and the channel width (MHz, > 0). */
void fb_band(const fb_data *fb, double *fmin, double *fmax, double *chan_bw);

/* SIGPROC: header then nsamp x nchan samples (channel fastest). */
int fil_read(fb_data *out, const char *path, int64_t max_samples, char *err);
/* Writer: opens path, writes the header; samples are appended with
 * fil_write_samples (nsamp x nchan values, channel fastest, in the header's
 * nbits: uint8 for 8, float for 32). */
typedef struct fil_writer fil_writer;
int fil_create(fil_writer **out, const char *path, const fil_header *h, char *err);
int fil_write_samples(fil_writer *w, const void *samples, int64_t nsamp, char *err);
int fil_close(fil_writer *w, char *err);

/* PSRFITS search mode through modules/lib/psrfits.h. */
int psrfits_series_read(fb_data *out, char **paths, int npaths, int64_t max_samples, char *err);

#endif
