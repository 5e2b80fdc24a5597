/* filterbank.c - SIGPROC filterbank reading and writing, and the dispatch
 * from a list of input paths to the right reader.
 *
 * SIGPROC headers are a sequence of (length-prefixed keyword, value) pairs
 * between HEADER_START and HEADER_END; the value type depends on the keyword,
 * so unknown keywords are an error (we could not skip them safely). Samples
 * follow, time-major with channel fastest; we transpose to channel-major in
 * blocks while reading. Before any sample is read the header is checked
 * (fil_check): values we can work with, and a data part that is a whole
 * number of spectra (a partial one means the file was cut mid-spectrum);
 * every refusal names the file and the numbers. */
#include "filterbank.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fil_writer {
    FILE *fp;
    int nchan, nbits;
    char path[400];
};

void fb_free(fb_data *fb)
{
    if (!fb) return;
    free(fb->freq);
    free(fb->weight);
    free(fb->data);
    memset(fb, 0, sizeof *fb);
}

void fb_band(const fb_data *fb, double *fmin, double *fmax, double *chan_bw)
{
    double lo = fb->freq[0], hi = fb->freq[0];
    for (int c = 1; c < fb->nchan; c++) {
        if (fb->freq[c] < lo) lo = fb->freq[c];
        if (fb->freq[c] > hi) hi = fb->freq[c];
    }
    double bw = fb->nchan > 1 ? (hi - lo) / (fb->nchan - 1) : 1.0;
    if (fmin) *fmin = lo;
    if (fmax) *fmax = hi;
    if (chan_bw) *chan_bw = bw;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

int fb_read(fb_data *out, char **paths, int npaths, int64_t max_samples, char *err)
{
    memset(out, 0, sizeof *out);
    if (npaths < 1) {
        snprintf(err, FB_ERR_LEN, "no input file given");
        return -1;
    }
    /* Sniff the first bytes: FITS files start with "SIMPLE". */
    FILE *fp = fopen(paths[0], "rb");
    if (!fp) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot open: %s", paths[0], strerror(errno));
        return -1;
    }
    char magic[16] = {0};
    size_t got = fread(magic, 1, sizeof magic, fp);
    fclose(fp);
    int is_fits = got >= 6 && memcmp(magic, "SIMPLE", 6) == 0;
    if (is_fits) return psrfits_series_read(out, paths, npaths, max_samples, err);
    if (npaths > 1) {
        snprintf(err, FB_ERR_LEN, "%.300s: several inputs are only supported for PSRFITS segments",
                 paths[1]);
        return -1;
    }
    if (!has_suffix(paths[0], ".fil") &&
        !(got > 16 && memcmp(magic + 4, "HEADER_START", 12) == 0)) {
        snprintf(err, FB_ERR_LEN, "%.300s: neither PSRFITS nor SIGPROC filterbank", paths[0]);
        return -1;
    }
    return fil_read(out, paths[0], max_samples, err);
}

/* ---- SIGPROC header parsing ---- */

/* Bounded copy that always terminates (snprintf warns on possible truncation). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* Reads one length-prefixed string. 0, or FIL_EOF when the file ends first,
 * or FIL_BADLEN (with *len_out) when the length is not that of a header
 * string: keywords and values are short, so a huge or negative length means
 * the header is corrupt (or this is not a SIGPROC file). */
enum { FIL_EOF = -1, FIL_BADLEN = -2 };
static int read_string(FILE *fp, char *buf, size_t cap, int32_t *len_out)
{
    int32_t len;
    if (fread(&len, 4, 1, fp) != 1) return FIL_EOF;
    if (len_out) *len_out = len;
    if (len <= 0 || len > 4096) return FIL_BADLEN;
    char tmp[4097];
    if (fread(tmp, 1, (size_t)len, fp) != (size_t)len) return FIL_EOF;
    tmp[len] = 0;
    copy_str(buf, cap, tmp);
    return 0;
}

enum { T_INT, T_DOUBLE, T_STRING };
static const struct {
    const char *name;
    int type;
} fil_keys[] = {
    {"telescope_id", T_INT},   {"machine_id", T_INT},     {"data_type", T_INT},
    {"barycentric", T_INT},    {"pulsarcentric", T_INT},  {"nbits", T_INT},
    {"nsamples", T_INT},       {"nchans", T_INT},         {"nifs", T_INT},
    {"nbeams", T_INT},         {"ibeam", T_INT},          {"fch1", T_DOUBLE},
    {"foff", T_DOUBLE},        {"tstart", T_DOUBLE},      {"tsamp", T_DOUBLE},
    {"src_raj", T_DOUBLE},     {"src_dej", T_DOUBLE},     {"az_start", T_DOUBLE},
    {"za_start", T_DOUBLE},    {"refdm", T_DOUBLE},       {"period", T_DOUBLE},
    {"source_name", T_STRING}, {"rawdatafile", T_STRING},
};

/* The header values fil_read uses; have_* say which keywords were present. */
typedef struct fil_in {
    int nbits, nchans, nifs, data_type, nsamples;
    double fch1, foff, tsamp, tstart;
    int have_nbits, have_nchans, have_fch1, have_foff, have_tsamp, have_nsamples;
    int64_t data_start, data_bytes; /* byte offset of the samples, and their size */
} fil_in;

/* Largest channel count we accept: more is a corrupt header, not a telescope. */
#define FIL_MAX_NCHANS (1 << 20)
/* Narrowest channel (1 Hz) and highest frequency (1 THz), in MHz: together
 * they keep every channel frequency distinct in double precision. */
#define FIL_MIN_FOFF 1e-6
#define FIL_MAX_FREQ 1e6

/* The error for a header the file ends inside of (in the value of key, if
 * not NULL), or, for a string value, whose length is not sane. */
static int header_cut(FILE *fp, const char *path, const char *key, char *err)
{
    struct stat sb;
    long long size = fstat(fileno(fp), &sb) == 0 ? (long long)sb.st_size : -1;
    if (key && ftell(fp) < size)
        snprintf(err, FB_ERR_LEN, "%.300s: corrupt SIGPROC header: bad value of '%.60s'", path,
                 key);
    else
        snprintf(err, FB_ERR_LEN,
                 "%.300s: SIGPROC header truncated: the file ends (%lld bytes) %s%.60s%s before "
                 "HEADER_END",
                 path, size, key ? "in the value of '" : "", key ? key : "", key ? "'," : "");
    return -1;
}

/* Parses HEADER_START ... HEADER_END. 0, or -1 with err naming the problem. */
static int fil_parse_header(FILE *fp, const char *path, fil_in *h, fb_data *out, char *err)
{
    memset(h, 0, sizeof *h);
    h->nifs = 1;
    h->data_type = 1;
    char key[128];
    int32_t len = 0;
    int r = read_string(fp, key, sizeof key, &len);
    if (r != 0 || strcmp(key, "HEADER_START") != 0) {
        snprintf(err, FB_ERR_LEN, "%.300s: not a SIGPROC filterbank (no HEADER_START)", path);
        return -1;
    }
    for (;;) {
        long at = ftell(fp);
        r = read_string(fp, key, sizeof key, &len);
        if (r == FIL_EOF) return header_cut(fp, path, NULL, err);
        if (r == FIL_BADLEN || len > 80) {
            snprintf(err, FB_ERR_LEN,
                     "%.300s: corrupt SIGPROC header: keyword length %d at byte %ld (expected "
                     "1..80; HEADER_END missing?)",
                     path, (int)len, at);
            return -1;
        }
        if (strcmp(key, "HEADER_END") == 0) break;
        int type = -1;
        for (size_t k = 0; k < sizeof fil_keys / sizeof fil_keys[0]; k++)
            if (strcmp(key, fil_keys[k].name) == 0) type = fil_keys[k].type;
        int ok = 1;
        if (type == T_INT) {
            int32_t v = 0;
            ok = fread(&v, 4, 1, fp) == 1;
            if (!strcmp(key, "nbits")) {
                h->nbits = v;
                h->have_nbits = 1;
            } else if (!strcmp(key, "nchans")) {
                h->nchans = v;
                h->have_nchans = 1;
            } else if (!strcmp(key, "nifs")) {
                h->nifs = v;
            } else if (!strcmp(key, "data_type")) {
                h->data_type = v;
            } else if (!strcmp(key, "nsamples")) {
                h->nsamples = v;
                h->have_nsamples = 1;
            }
        } else if (type == T_DOUBLE) {
            double v = 0;
            ok = fread(&v, 8, 1, fp) == 1;
            if (!strcmp(key, "fch1")) {
                h->fch1 = v;
                h->have_fch1 = 1;
            } else if (!strcmp(key, "foff")) {
                h->foff = v;
                h->have_foff = 1;
            } else if (!strcmp(key, "tsamp")) {
                h->tsamp = v;
                h->have_tsamp = 1;
            } else if (!strcmp(key, "tstart")) {
                h->tstart = v;
            }
        } else if (type == T_STRING) {
            char sval[128];
            ok = read_string(fp, sval, sizeof sval, NULL) == 0;
            if (ok && !strcmp(key, "source_name")) copy_str(out->source, sizeof out->source, sval);
        } else {
            int printable = 1;
            for (const char *k = key; *k; k++)
                if (*k < 0x20 || *k > 0x7e) printable = 0;
            if (printable)
                snprintf(err, FB_ERR_LEN, "%.300s: unknown SIGPROC header keyword '%.60s'", path,
                         key);
            else
                snprintf(err, FB_ERR_LEN,
                         "%.300s: corrupt SIGPROC header at byte %ld (binary data where a "
                         "keyword should be; HEADER_END missing?)",
                         path, at);
            return -1;
        }
        if (!ok) return header_cut(fp, path, key, err);
    }
    h->data_start = ftell(fp);
    return 0;
}

/* Header values we can work with, and data that is a whole number of
 * spectra agreeing with nsamples when the header gives it. A data part cut
 * at a spectrum boundary is fine (just fewer samples); a partial spectrum
 * means the file was cut short or the header's shape is wrong. */
static int fil_check(const char *path, const fil_in *h, char *err)
{
#define BAD(...) (snprintf(err, FB_ERR_LEN, __VA_ARGS__), -1)
    if (h->data_type != 1)
        return BAD("%.300s: SIGPROC header: data_type %d; only filterbank data (1) is supported",
                   path, h->data_type);
    if (h->nifs != 1)
        return BAD("%.300s: SIGPROC header: nifs %d; only one IF (total intensity) is supported",
                   path, h->nifs);
    if (!h->have_nbits || !h->have_nchans || !h->have_tsamp || !h->have_foff || !h->have_fch1)
        return BAD("%.300s: SIGPROC header lacks %s%s%s%s%s(needed to read the data)", path,
                   h->have_nbits ? "" : "nbits ", h->have_nchans ? "" : "nchans ",
                   h->have_tsamp ? "" : "tsamp ", h->have_fch1 ? "" : "fch1 ",
                   h->have_foff ? "" : "foff ");
    if (h->nbits != 8 && h->nbits != 16 && h->nbits != 32)
        return BAD("%.300s: SIGPROC header: nbits %d; supported are 8, 16 and 32", path, h->nbits);
    if (h->nchans < 1 || h->nchans > FIL_MAX_NCHANS)
        return BAD("%.300s: SIGPROC header: nchans %d is not a channel count (1..%d)", path,
                   h->nchans, FIL_MAX_NCHANS);
    if (!(h->tsamp > 0 && h->tsamp <= 1000))
        return BAD("%.300s: SIGPROC header: tsamp %g s is not a sample time (0 < tsamp <= 1000)",
                   path, h->tsamp);
    double flast = h->fch1 + (h->nchans - 1) * h->foff;
    if (!isfinite(h->fch1) || !isfinite(h->foff) || h->foff == 0 || !(h->fch1 > 0) || !(flast > 0))
        return BAD("%.300s: SIGPROC header: channels from fch1 %g MHz in steps of foff %g MHz "
                   "(last %g MHz) are not a band of positive frequencies",
                   path, h->fch1, h->foff, flast);
    /* Channels must be distinct frequencies: a foff lost in fch1's rounding
     * (or an absurd fch1) gives a zero channel width downstream. */
    if (!(fabs(h->foff) >= FIL_MIN_FOFF) || !(h->fch1 <= FIL_MAX_FREQ) || !(flast <= FIL_MAX_FREQ))
        return BAD("%.300s: SIGPROC header: fch1 %g MHz, foff %g MHz: need |foff| >= %g MHz and "
                   "frequencies <= %g MHz",
                   path, h->fch1, h->foff, FIL_MIN_FOFF, FIL_MAX_FREQ);
    if (!isfinite(h->tstart))
        return BAD("%.300s: SIGPROC header: tstart %g is not an MJD", path, h->tstart);
    if (h->have_nsamples && h->nsamples < 0)
        return BAD("%.300s: SIGPROC header: nsamples %d is negative", path, h->nsamples);
    int64_t spec = (int64_t)h->nchans * h->nbits / 8;
    if (h->data_bytes % spec != 0)
        return BAD("%.300s: data is %lld bytes, not a whole number of %lld-byte spectra "
                   "(%d channels x %d bits; truncated mid-spectrum?)",
                   path, (long long)h->data_bytes, (long long)spec, h->nchans, h->nbits);
    /* nsamples 0 is what some writers put when they do not know the length */
    int64_t nspec = h->data_bytes / spec;
    if (h->have_nsamples && h->nsamples > 0 && nspec != h->nsamples)
        return BAD("%.300s: data is %lld bytes = %lld spectra of %lld bytes, but the header says "
                   "nsamples %d (%s)",
                   path, (long long)h->data_bytes, (long long)nspec, (long long)spec, h->nsamples,
                   nspec < h->nsamples ? "truncated?" : "data after the promised samples");
    return 0;
#undef BAD
}

int fil_read(fb_data *out, const char *path, int64_t max_samples, char *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    fil_in h;
    struct stat sb;
    if (fil_parse_header(fp, path, &h, out, err) != 0) {
        fclose(fp);
        return -1;
    }
    if (fstat(fileno(fp), &sb) != 0 || h.data_start < 0) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot stat: %s", path, strerror(errno));
        fclose(fp);
        return -1;
    }
    h.data_bytes = (int64_t)sb.st_size - h.data_start;
    if (fil_check(path, &h, err) != 0) {
        fclose(fp);
        return -1;
    }
    int nchans = h.nchans, nbits = h.nbits;
    int64_t bytes_per_samp = (int64_t)nchans * nbits / 8;
    int64_t nsamp = h.data_bytes / bytes_per_samp;
    if (max_samples > 0 && nsamp > max_samples) nsamp = max_samples;
    if (nsamp < 16) {
        snprintf(err, FB_ERR_LEN, "%.300s: only %lld samples of data (need at least 16)", path,
                 (long long)nsamp);
        fclose(fp);
        return -1;
    }
    out->nchan = nchans;
    out->nsamp = nsamp;
    out->tsamp = h.tsamp;
    out->mjd_start = h.tstart;
    out->freq = malloc(sizeof(double) * nchans);
    out->weight = malloc(sizeof(float) * nchans);
    out->data = malloc(sizeof(float) * (size_t)nchans * (size_t)nsamp);
    /* Small blocks keep the block (and each cache line of it, reused by 64
     * consecutive channels) in L2 during the strided transpose. */
    const int64_t block = 128;
    unsigned char *raw = malloc((size_t)(block * bytes_per_samp));
    if (!out->freq || !out->weight || !out->data || !raw) {
        snprintf(err, FB_ERR_LEN, "%.300s: out of memory for %lld x %d samples", path,
                 (long long)nsamp, nchans);
        free(raw);
        fclose(fp);
        fb_free(out);
        return -1;
    }
    for (int c = 0; c < nchans; c++) {
        out->freq[c] = h.fch1 + c * h.foff;
        out->weight[c] = 1.0f;
    }
    for (int64_t s0 = 0; s0 < nsamp; s0 += block) {
        int64_t n = nsamp - s0 < block ? nsamp - s0 : block;
        if (fread(raw, (size_t)bytes_per_samp, (size_t)n, fp) != (size_t)n) {
            snprintf(err, FB_ERR_LEN, "%.300s: short read at sample %lld", path, (long long)s0);
            free(raw);
            fclose(fp);
            fb_free(out);
            return -1;
        }
        if (nbits == 32) /* a NaN or Inf would poison every sum downstream */
            for (int64_t k = 0; k < n * nchans; k++)
                if (!isfinite(((float *)raw)[k])) {
                    snprintf(err, FB_ERR_LEN,
                             "%.300s: sample %lld channel %lld is %g (32-bit data must be finite)",
                             path, (long long)(s0 + k / nchans), (long long)(k % nchans),
                             ((float *)raw)[k]);
                    free(raw);
                    fclose(fp);
                    fb_free(out);
                    return -1;
                }
        for (int c = 0; c < nchans; c++) {
            float *dst = out->data + (size_t)c * nsamp + s0;
            if (nbits == 8)
                for (int64_t i = 0; i < n; i++)
                    dst[i] = raw[i * nchans + c];
            else if (nbits == 16)
                for (int64_t i = 0; i < n; i++)
                    dst[i] = ((uint16_t *)raw)[i * nchans + c];
            else
                for (int64_t i = 0; i < n; i++)
                    dst[i] = ((float *)raw)[i * nchans + c];
        }
    }
    free(raw);
    fclose(fp);
    return 0;
}

/* ---- SIGPROC writing ---- */

static void put_string(FILE *fp, const char *s)
{
    int32_t len = (int32_t)strlen(s);
    fwrite(&len, 4, 1, fp);
    fwrite(s, 1, (size_t)len, fp);
}
static void put_int(FILE *fp, const char *k, int32_t v)
{
    put_string(fp, k);
    fwrite(&v, 4, 1, fp);
}
static void put_double(FILE *fp, const char *k, double v)
{
    put_string(fp, k);
    fwrite(&v, 8, 1, fp);
}

int fil_create(fil_writer **out, const char *path, const fil_header *h, char *err)
{
    *out = NULL;
    if (h->nbits != 8 && h->nbits != 32) {
        snprintf(err, FB_ERR_LEN, "%.300s: can only write 8 or 32-bit filterbank", path);
        return -1;
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    put_string(fp, "HEADER_START");
    put_string(fp, "source_name");
    put_string(fp, h->source[0] ? h->source : "unknown");
    put_int(fp, "telescope_id", 0);
    put_int(fp, "machine_id", 0);
    put_int(fp, "data_type", 1);
    put_double(fp, "fch1", h->fch1);
    put_double(fp, "foff", h->foff);
    put_int(fp, "nchans", h->nchan);
    put_int(fp, "nbits", h->nbits);
    put_double(fp, "tstart", h->tstart);
    put_double(fp, "tsamp", h->tsamp);
    put_int(fp, "nifs", 1);
    put_string(fp, "HEADER_END");
    fil_writer *w = calloc(1, sizeof *w);
    w->fp = fp;
    w->nchan = h->nchan;
    w->nbits = h->nbits;
    snprintf(w->path, sizeof w->path, "%s", path);
    *out = w;
    return 0;
}

int fil_write_samples(fil_writer *w, const void *samples, int64_t nsamp, char *err)
{
    size_t bytes = (size_t)nsamp * (size_t)w->nchan * (size_t)(w->nbits / 8);
    if (fwrite(samples, 1, bytes, w->fp) != bytes) {
        snprintf(err, FB_ERR_LEN, "%.300s: write failed: %s", w->path, strerror(errno));
        return -1;
    }
    return 0;
}

int fil_close(fil_writer *w, char *err)
{
    if (!w) return 0;
    int rc = fclose(w->fp);
    if (rc != 0) snprintf(err, FB_ERR_LEN, "%.300s: close failed: %s", w->path, strerror(errno));
    free(w);
    return rc == 0 ? 0 : -1;
}
