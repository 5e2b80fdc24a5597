/* psrfits_input.c - PSRFITS search-mode files as one continuous series.
 *
 * A pointing arrives as one or several files of consecutive time ranges.
 * They are ordered by start time and must agree on channels, sample time and
 * frequencies, and must follow each other without gaps (within half a
 * sample); anything else is an error that names the offending file. Values
 * are DATA * DAT_SCL + DAT_OFFS per row and channel; a channel whose DAT_WTS
 * is zero in any row is given weight 0 (the RFI step then ignores it).
 * Structure (columns, row size, file length) is checked when modules/lib
 * opens each file; here the per-row values are checked too (no NaN scales,
 * offsets, weights or frequencies, no scale and offset whose samples
 * overflow a float), so bad input fails with its name. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filterbank.h"
#include "psrfits.h"

typedef struct {
    psrfits *f;
    psrfits_hdr h;
    double start; /* seconds since MJD 0 */
    const char *path;
} seg;

static int cmp_seg(const void *a, const void *b)
{
    double x = ((const seg *)a)->start, y = ((const seg *)b)->start;
    return (x > y) - (x < y);
}

/* The per-channel values of a row must be numbers (a NaN scale or offset
 * would silently turn the channel into NaNs, a NaN frequency would pass the
 * rows-agree check), and frequencies must be positive. 0 or -1 with err. */
static int row_values_bad(const char *path, int64_t row, int nchan, const double *freq,
                          const float *wts, const float *offs, const float *scl, char *err)
{
    for (int c = 0; c < nchan; c++) {
        const char *col = NULL, *need = "";
        double v = 0;
        if (!(freq[c] > 0 && isfinite(freq[c]))) {
            col = "DAT_FREQ";
            v = freq[c];
            need = " of MHz > 0";
        } else if (!(wts[c] >= 0 && isfinite(wts[c]))) {
            col = "DAT_WTS";
            v = wts[c];
            need = " >= 0";
        } else if (!isfinite(offs[c])) {
            col = "DAT_OFFS";
            v = offs[c];
        } else if (!isfinite(scl[c])) {
            col = "DAT_SCL";
            v = scl[c];
        } else if (!(255.0 * fabs(scl[c]) + fabs(offs[c]) < FLT_MAX / 2)) {
            /* each finite, but DATA * DAT_SCL + DAT_OFFS overflows a float */
            col = "DAT_SCL";
            v = scl[c];
            need = " whose DATA * DAT_SCL + DAT_OFFS fits a float";
        }
        if (col) {
            snprintf(err, FB_ERR_LEN,
                     "%.300s: row %lld channel %d: %s is %g (must be a finite "
                     "number%s)",
                     path, (long long)row, c, col, v, need);
            return -1;
        }
    }
    return 0;
}

int psrfits_series_read(fb_data *out, char **paths, int npaths, int64_t max_samples, char *err)
{
    memset(out, 0, sizeof *out);
    seg *s = calloc((size_t)npaths, sizeof *s);
    char perr[PSRFITS_ERR_LEN];
    int rc = -1;
    double *rowfreq = NULL;
    float *wts = NULL, *offs = NULL, *scl = NULL;
    uint8_t *raw = NULL;
    for (int i = 0; i < npaths; i++) {
        s[i].path = paths[i];
        if (psrfits_open(&s[i].f, paths[i], &s[i].h, perr) != 0) {
            snprintf(err, FB_ERR_LEN, "%s", perr);
            goto done;
        }
        const psrfits_hdr *h = &s[i].h;
        if (!(h->tbin > 0 && isfinite(h->tbin))) {
            snprintf(err, FB_ERR_LEN, "%.300s: TBIN %g s is not a sample time (must be > 0)",
                     paths[i], h->tbin);
            goto done;
        }
        if (h->nbits != 8 || h->npol != 1 || h->nchan <= 0 || h->nsblk <= 0) {
            snprintf(err, FB_ERR_LEN,
                     "%.300s: unsupported PSRFITS (nbits %d, npol %d, nchan %d, "
                     "nsblk %d); need 8-bit total intensity",
                     paths[i], h->nbits, h->npol, h->nchan, h->nsblk);
            goto done;
        }
        s[i].start = h->stt_imjd * 86400.0 + h->stt_smjd + h->stt_offs;
    }
    qsort(s, (size_t)npaths, sizeof *s, cmp_seg);
    const psrfits_hdr *h0 = &s[0].h;
    int nchan = h0->nchan;
    int64_t total = 0;
    for (int i = 0; i < npaths; i++) {
        const psrfits_hdr *h = &s[i].h;
        if (h->nchan != nchan || fabs(h->tbin - h0->tbin) > 1e-9 * h0->tbin) {
            snprintf(err, FB_ERR_LEN,
                     "%.300s: inconsistent with %s (nchan %d vs %d, tbin %g vs %g)", s[i].path,
                     s[0].path, h->nchan, nchan, h->tbin, h0->tbin);
            goto done;
        }
        if (i > 0) {
            double expect = s[i - 1].start + (double)s[i - 1].h.nrows * s[i - 1].h.nsblk * h0->tbin;
            if (fabs(s[i].start - expect) > 0.5 * h0->tbin) {
                snprintf(err, FB_ERR_LEN,
                         "%.300s: does not follow %s in time (starts %.6f s %s its "
                         "end); segments must be consecutive",
                         s[i].path, s[i - 1].path, fabs(s[i].start - expect),
                         s[i].start > expect ? "after" : "before");
                goto done;
            }
        }
        total += h->nrows * h->nsblk;
    }
    if (max_samples > 0 && total > max_samples) total = max_samples;
    if (total < 16) {
        snprintf(err, FB_ERR_LEN, "%.300s: only %lld samples of data", s[0].path, (long long)total);
        goto done;
    }
    out->nchan = nchan;
    out->nsamp = total;
    out->tsamp = h0->tbin;
    out->mjd_start = s[0].start / 86400.0;
    snprintf(out->source, sizeof out->source, "%s", h0->src_name);
    out->freq = malloc(sizeof(double) * nchan);
    out->weight = malloc(sizeof(float) * nchan);
    out->data = malloc(sizeof(float) * (size_t)nchan * (size_t)total);
    rowfreq = malloc(sizeof(double) * nchan);
    wts = malloc(sizeof(float) * nchan);
    offs = malloc(sizeof(float) * nchan);
    scl = malloc(sizeof(float) * nchan);
    if (!out->freq || !out->weight || !out->data || !rowfreq || !wts || !offs || !scl) {
        snprintf(err, FB_ERR_LEN, "%.300s: out of memory for %lld x %d samples", s[0].path,
                 (long long)total, nchan);
        goto done;
    }
    for (int c = 0; c < nchan; c++)
        out->weight[c] = 1.0f;
    int64_t pos = 0;
    for (int i = 0; i < npaths && pos < total; i++) {
        const psrfits_hdr *h = &s[i].h;
        free(raw);
        raw = malloc((size_t)h->nsblk * nchan);
        for (int64_t row = 0; row < h->nrows && pos < total; row++) {
            if (psrfits_read_row(s[i].f, row, rowfreq, wts, offs, scl, raw, NULL, perr) != 0) {
                snprintf(err, FB_ERR_LEN, "%s", perr);
                goto done;
            }
            if (row_values_bad(s[i].path, row, nchan, rowfreq, wts, offs, scl, err)) goto done;
            if (i == 0 && row == 0) {
                memcpy(out->freq, rowfreq, sizeof(double) * nchan);
            } else {
                for (int c = 0; c < nchan; c++)
                    if (fabs(rowfreq[c] - out->freq[c]) > 1e-6) {
                        snprintf(err, FB_ERR_LEN,
                                 "%.300s: row %lld channel %d frequency %.6f MHz "
                                 "differs from %.6f MHz of the first row",
                                 s[i].path, (long long)row, c, rowfreq[c], out->freq[c]);
                        goto done;
                    }
            }
            int64_t n = h->nsblk;
            if (pos + n > total) n = total - pos;
            for (int c = 0; c < nchan; c++) {
                if (wts[c] == 0.0f) out->weight[c] = 0.0f;
                float *dst = out->data + (size_t)c * total + pos;
                float a = scl[c], b = offs[c];
                for (int64_t k = 0; k < n; k++)
                    dst[k] = raw[k * nchan + c] * a + b;
            }
            pos += n;
        }
    }
    rc = 0;
done:
    for (int i = 0; i < npaths; i++)
        if (s[i].f) psrfits_close(s[i].f, perr);
    free(s);
    free(rowfreq);
    free(wts);
    free(offs);
    free(scl);
    free(raw);
    if (rc != 0) fb_free(out);
    return rc;
}
