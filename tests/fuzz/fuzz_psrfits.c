/* fuzz_psrfits.c - libFuzzer harness: PSRFITS search-mode reading, both the
 * row reader (modules/lib/psrfits.c) and presto-search's series reader
 * (modules/presto-search/psrfits_input.c) on top of it.
 *
 * Each input is a whole FITS file, handed over through a memfd. When
 * psrfits_open accepts it, the header must describe 8-bit single-pol rows
 * and every row (up to a bound, to stay fast) must read into buffers of
 * exactly nchan and nsblk*nchan elements, so ASan sees any over-read or
 * over-write. Then psrfits_series_read reads the same file as one series;
 * what it accepts must have finite, positive frequencies and every sample
 * finite. Refusals must say why. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <fitsio.h>

#include "filterbank.h"
#include "memfile.h"
#include "psrfits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rows read per input: enough to reach the end of any seed. */
#define MAX_ROWS 64

static void read_rows(const char *path)
{
    psrfits *f = NULL;
    psrfits_hdr h;
    char err[PSRFITS_ERR_LEN] = "";
    if (psrfits_open(&f, path, &h, err) != 0) {
        fuzz_note("psrfits_open", err);
        if (!err[0] || f) abort();
        fits_clear_errmsg();
        return;
    }
    if (h.nbits != 8 || h.npol != 1 || h.nchan <= 0 || h.nsblk <= 0 || h.nrows < 0) abort();
    size_t nchan = (size_t)h.nchan, nblk = (size_t)h.nsblk * nchan;
    double *freq = malloc(sizeof *freq * nchan);
    float *wts = malloc(sizeof *wts * nchan), *offs = malloc(sizeof *offs * nchan),
          *scl = malloc(sizeof *scl * nchan);
    uint8_t *raw = malloc(nblk);
    if (!freq || !wts || !offs || !scl || !raw) abort();
    for (int64_t r = 0; r < h.nrows && r < MAX_ROWS; r++) {
        double offs_sub;
        err[0] = 0;
        if (psrfits_read_row(f, r, freq, wts, offs, scl, raw, &offs_sub, err) != 0) {
            if (!err[0]) abort();
            fits_clear_errmsg();
            break;
        }
    }
    err[0] = 0;
    if (psrfits_read_row(f, h.nrows, freq, NULL, NULL, NULL, NULL, NULL, err) == 0) abort();
    free(freq);
    free(wts);
    free(offs);
    free(scl);
    free(raw);
    psrfits_close(f, err);
    fits_clear_errmsg();
}

static void read_series(const char *path)
{
    fb_data fb;
    char err[FB_ERR_LEN] = "";
    char *paths[1] = {(char *)path};
    /* max_samples bounds the float copy: the file's rows may be many */
    if (psrfits_series_read(&fb, paths, 1, 1 << 16, err) != 0) {
        fuzz_note("psrfits_series_read", err);
        if (!err[0] || fb.data) abort();
        fits_clear_errmsg();
        return;
    }
    if (fb.nchan <= 0 || fb.nsamp < 16 || fb.nsamp > (1 << 16) || !(fb.tsamp > 0)) abort();
    for (int c = 0; c < fb.nchan; c++)
        if (!(fb.freq[c] > 0) || !isfinite(fb.freq[c]) || !(fb.weight[c] >= 0)) abort();
    for (size_t i = 0; i < (size_t)fb.nchan * (size_t)fb.nsamp; i++)
        if (!isfinite(fb.data[i])) abort();
    double lo, hi, bw;
    fb_band(&fb, &lo, &hi, &bw);
    if (lo > hi) abort();
    fb_free(&fb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = memfile_put(data, size);
    read_rows(path);
    read_series(path);
    return 0;
}
