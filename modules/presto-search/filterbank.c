/* filterbank.c - SIGPROC filterbank reading and writing, and the dispatch
 * from a list of input paths to the right reader.
 *
 * SIGPROC headers are a sequence of (length-prefixed keyword, value) pairs
 * between HEADER_START and HEADER_END; the value type depends on the keyword,
 * so unknown keywords are an error (we could not skip them safely). Samples
 * follow, time-major with channel fastest; we transpose to channel-major in
 * blocks while reading. */
#include "filterbank.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int read_string(FILE *fp, char *buf, size_t cap)
{
    int32_t len;
    if (fread(&len, 4, 1, fp) != 1 || len < 0 || len > 4096) return -1;
    char tmp[4097];
    if (fread(tmp, 1, (size_t)len, fp) != (size_t)len) return -1;
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

int fil_read(fb_data *out, const char *path, int64_t max_samples, char *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char key[128];
    if (read_string(fp, key, sizeof key) < 0 || strcmp(key, "HEADER_START") != 0) {
        snprintf(err, FB_ERR_LEN, "%.300s: not a SIGPROC filterbank (no HEADER_START)", path);
        fclose(fp);
        return -1;
    }
    int nbits = 0, nchans = 0, nifs = 1, data_type = 1;
    double fch1 = 0, foff = 0, tsamp = 0, tstart = 0;
    for (;;) {
        if (read_string(fp, key, sizeof key) < 0) {
            snprintf(err, FB_ERR_LEN, "%.300s: truncated SIGPROC header", path);
            fclose(fp);
            return -1;
        }
        if (strcmp(key, "HEADER_END") == 0) break;
        int type = -1;
        for (size_t k = 0; k < sizeof fil_keys / sizeof fil_keys[0]; k++)
            if (strcmp(key, fil_keys[k].name) == 0) type = fil_keys[k].type;
        int ok = 1;
        if (type == T_INT) {
            int32_t v;
            ok = fread(&v, 4, 1, fp) == 1;
            if (!strcmp(key, "nbits"))
                nbits = v;
            else if (!strcmp(key, "nchans"))
                nchans = v;
            else if (!strcmp(key, "nifs"))
                nifs = v;
            else if (!strcmp(key, "data_type"))
                data_type = v;
        } else if (type == T_DOUBLE) {
            double v;
            ok = fread(&v, 8, 1, fp) == 1;
            if (!strcmp(key, "fch1"))
                fch1 = v;
            else if (!strcmp(key, "foff"))
                foff = v;
            else if (!strcmp(key, "tsamp"))
                tsamp = v;
            else if (!strcmp(key, "tstart"))
                tstart = v;
        } else if (type == T_STRING) {
            char sval[128];
            ok = read_string(fp, sval, sizeof sval) == 0;
            if (!strcmp(key, "source_name")) copy_str(out->source, sizeof out->source, sval);
        } else {
            snprintf(err, FB_ERR_LEN, "%.300s: unknown SIGPROC header keyword '%.60s'", path, key);
            fclose(fp);
            return -1;
        }
        if (!ok) {
            snprintf(err, FB_ERR_LEN, "%.300s: truncated SIGPROC header at '%.60s'", path, key);
            fclose(fp);
            return -1;
        }
    }
    if (data_type != 1 || nifs != 1) {
        snprintf(err, FB_ERR_LEN,
                 "%.300s: only filterbank data with one IF is supported "
                 "(data_type %d, nifs %d)",
                 path, data_type, nifs);
        fclose(fp);
        return -1;
    }
    if ((nbits != 8 && nbits != 16 && nbits != 32) || nchans <= 0 || tsamp <= 0 || foff == 0) {
        snprintf(err, FB_ERR_LEN,
                 "%.300s: unsupported or missing header values (nbits %d, nchans %d, "
                 "tsamp %g, foff %g); need nbits 8/16/32",
                 path, nbits, nchans, tsamp, foff);
        fclose(fp);
        return -1;
    }
    long hdr_end = ftell(fp);
    fseek(fp, 0, SEEK_END);
    long fsize = ftell(fp);
    fseek(fp, hdr_end, SEEK_SET);
    int64_t bytes_per_samp = (int64_t)nchans * nbits / 8;
    int64_t nsamp = (fsize - hdr_end) / bytes_per_samp;
    if (max_samples > 0 && nsamp > max_samples) nsamp = max_samples;
    if (nsamp < 16) {
        snprintf(err, FB_ERR_LEN, "%.300s: only %lld samples of data", path, (long long)nsamp);
        fclose(fp);
        return -1;
    }
    out->nchan = nchans;
    out->nsamp = nsamp;
    out->tsamp = tsamp;
    out->mjd_start = tstart;
    out->freq = malloc(sizeof(double) * nchans);
    out->weight = malloc(sizeof(float) * nchans);
    out->data = malloc(sizeof(float) * (size_t)nchans * (size_t)nsamp);
    if (!out->freq || !out->weight || !out->data) {
        snprintf(err, FB_ERR_LEN, "%.300s: out of memory for %lld x %d samples", path,
                 (long long)nsamp, nchans);
        fclose(fp);
        fb_free(out);
        return -1;
    }
    for (int c = 0; c < nchans; c++) {
        out->freq[c] = fch1 + c * foff;
        out->weight[c] = 1.0f;
    }
    /* Small blocks keep the block (and each cache line of it, reused by 64
     * consecutive channels) in L2 during the strided transpose. */
    const int64_t block = 128;
    unsigned char *raw = malloc((size_t)(block * bytes_per_samp));
    for (int64_t s0 = 0; s0 < nsamp; s0 += block) {
        int64_t n = nsamp - s0 < block ? nsamp - s0 : block;
        if (fread(raw, (size_t)bytes_per_samp, (size_t)n, fp) != (size_t)n) {
            snprintf(err, FB_ERR_LEN, "%.300s: short read at sample %lld", path, (long long)s0);
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
