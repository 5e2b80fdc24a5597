/* rfi.c - RFI statistics, mask file and cleaning (see rfi.h).
 *
 * Like PRESTO's rfifind, the data is cut into cells of one channel x one
 * interval (~2 s). Per cell: mean, standard deviation, and the largest power
 * of its FFT normalised by the median power (a periodic interferer in a few
 * channels shows up here long before it is visible in the time series).
 * Outliers are judged robustly (median and MAD over a channel's intervals),
 * so a few bad cells cannot hide each other. The mask then grows to whole
 * channels and whole intervals that are mostly bad. */
#include "rfi.h"

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "stats.h"

void rfi_default_options(rfi_options *o)
{
    o->interval_s = 2.0;
    o->time_sigma = 10.0;
    o->freq_sigma = 4.0;
    o->chan_frac = 0.3;
    o->int_frac = 0.5;
    o->zero_dm = 0;
    o->clip_sigma = 6.0;
    o->nthreads = parallel_default_threads();
}

void rfi_mask_free(rfi_mask *m)
{
    if (!m) return;
    free(m->bad);
    free(m->mean);
    free(m->std);
    free(m->peak);
    memset(m, 0, sizeof *m);
}

typedef struct {
    const fb_data *fb;
    rfi_mask *m;
    fftwf_plan plan;
    float **in;
    fftwf_complex **out;
    float **pow;
} stats_ctx;

static void cell_stats(void *p, int thread, long c)
{
    stats_ctx *x = p;
    rfi_mask *m = x->m;
    int n = m->ptsperint;
    float *in = x->in[thread], *pw = x->pow[thread];
    fftwf_complex *out = x->out[thread];
    for (int j = 0; j < m->nint; j++) {
        const float *d = x->fb->data + (size_t)c * x->fb->nsamp + (size_t)j * n;
        double s = 0, ss = 0;
        for (int i = 0; i < n; i++)
            s += d[i];
        double mean = s / n;
        for (int i = 0; i < n; i++) {
            double v = d[i] - mean;
            ss += v * v;
            in[i] = (float)v;
        }
        size_t cell = (size_t)j * m->nchan + c;
        m->mean[cell] = (float)mean;
        m->std[cell] = (float)sqrt(ss / (n - 1));
        fftwf_execute_dft_r2c(x->plan, in, out);
        int nb = n / 2;
        for (int k = 1; k < nb; k++)
            pw[k - 1] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
        float med = stats_median(pw, (size_t)(nb - 1), in) / (float)M_LN2;
        float peak = 0;
        for (int k = 2; k < nb; k++)
            if (pw[k - 1] > peak) peak = pw[k - 1];
        m->peak[cell] = med > 0 ? peak / med : 0.0f;
    }
}

int rfi_find(const fb_data *fb, const rfi_options *o, rfi_mask *m, char *err)
{
    memset(m, 0, sizeof *m);
    int n = (int)lround(o->interval_s / fb->tsamp);
    if (n < 64) n = 64;
    if (n & 1) n++;
    if (n > fb->nsamp) n = (int)(fb->nsamp & ~1LL);
    m->ptsperint = n;
    m->nint = (int)(fb->nsamp / n);
    m->nchan = fb->nchan;
    m->tsamp = fb->tsamp;
    if (m->nint < 1) {
        snprintf(err, FB_ERR_LEN, "rfifind: data too short (%lld samples)", (long long)fb->nsamp);
        return -1;
    }
    size_t ncell = (size_t)m->nint * m->nchan;
    m->bad = calloc(ncell, 1);
    m->mean = malloc(ncell * sizeof(float));
    m->std = malloc(ncell * sizeof(float));
    m->peak = malloc(ncell * sizeof(float));
    int nt = o->nthreads > 0 ? o->nthreads : 1;
    stats_ctx x = {.fb = fb, .m = m};
    x.in = calloc((size_t)nt, sizeof(float *));
    x.out = calloc((size_t)nt, sizeof(fftwf_complex *));
    x.pow = calloc((size_t)nt, sizeof(float *));
    for (int t = 0; t < nt; t++) {
        x.in[t] = fftwf_malloc(sizeof(float) * (n + 2));
        x.out[t] = fftwf_malloc(sizeof(fftwf_complex) * (n / 2 + 1));
        x.pow[t] = malloc(sizeof(float) * (n / 2 + 1));
    }
    x.plan = fftwf_plan_dft_r2c_1d(n, x.in[0], x.out[0], FFTW_ESTIMATE);
    parallel_for(nt, fb->nchan, cell_stats, &x);
    fftwf_destroy_plan(x.plan);
    for (int t = 0; t < nt; t++) {
        fftwf_free(x.in[t]);
        fftwf_free(x.out[t]);
        free(x.pow[t]);
    }
    free(x.in);
    free(x.out);
    free(x.pow);

    /* Spectral peak threshold: P(max of nb exponentials > p) = P(Gauss > freq_sigma). */
    double nb = n / 2 - 2;
    float peak_thresh = (float)(log(nb) - stats_log_normal_sf(o->freq_sigma));
    float *col = malloc(sizeof(float) * (m->nint + m->nchan)),
          *scratch = malloc(sizeof(float) * (m->nint + m->nchan));
    for (int c = 0; c < m->nchan; c++) {
        float mmed, msig, smed, ssig;
        for (int j = 0; j < m->nint; j++)
            col[j] = m->mean[(size_t)j * m->nchan + c];
        stats_median_mad(col, (size_t)m->nint, scratch, &mmed, &msig);
        for (int j = 0; j < m->nint; j++)
            col[j] = m->std[(size_t)j * m->nchan + c];
        stats_median_mad(col, (size_t)m->nint, scratch, &smed, &ssig);
        /* With few intervals the MAD is noisy: never trust it below the
         * scatter that pure noise gives (std/sqrt(n), std/sqrt(2n)). */
        float mfloor = smed / sqrtf((float)n), sfloor = smed / sqrtf(2.0f * n);
        if (msig < mfloor) msig = mfloor;
        if (ssig < sfloor) ssig = sfloor;
        int dead = smed <= 0.0f || fb->weight[c] == 0.0f;
        for (int j = 0; j < m->nint; j++) {
            size_t cell = (size_t)j * m->nchan + c;
            if (dead || fabsf(m->mean[cell] - mmed) > o->time_sigma * msig ||
                fabsf(m->std[cell] - smed) > o->time_sigma * ssig || m->peak[cell] > peak_thresh ||
                m->std[cell] == 0.0f)
                m->bad[cell] = 1;
        }
    }
    free(col);
    free(scratch);
    /* Grow to whole channels and intervals. */
    for (int c = 0; c < m->nchan; c++) {
        int nbad = 0;
        for (int j = 0; j < m->nint; j++)
            nbad += m->bad[(size_t)j * m->nchan + c];
        if (nbad > o->chan_frac * m->nint) {
            for (int j = 0; j < m->nint; j++)
                m->bad[(size_t)j * m->nchan + c] = 1;
        }
    }
    for (int j = 0; j < m->nint; j++) {
        int nbad = 0;
        for (int c = 0; c < m->nchan; c++)
            nbad += m->bad[(size_t)j * m->nchan + c];
        if (nbad > o->int_frac * m->nchan) memset(m->bad + (size_t)j * m->nchan, 1, m->nchan);
    }
    size_t total = 0;
    m->nbad_chan = m->nbad_int = 0;
    for (int c = 0; c < m->nchan; c++) {
        int all = 1;
        for (int j = 0; j < m->nint; j++)
            all &= m->bad[(size_t)j * m->nchan + c];
        m->nbad_chan += all;
    }
    for (int j = 0; j < m->nint; j++) {
        int all = 1;
        for (int c = 0; c < m->nchan; c++)
            all &= m->bad[(size_t)j * m->nchan + c];
        m->nbad_int += all;
    }
    for (size_t i = 0; i < ncell; i++)
        total += m->bad[i];
    m->bad_frac = (double)total / ncell;
    return 0;
}

int rfi_mask_write(const rfi_mask *m, const char *path, char *err)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(fp, "# presto-search RFI mask v1\n");
    fprintf(fp, "# cells: one line per interval, one character per channel, 1 = masked\n");
    fprintf(fp, "nchan %d\nnint %d\nptsperint %d\ntsamp %.12g\n", m->nchan, m->nint, m->ptsperint,
            m->tsamp);
    fprintf(fp, "bad_channels %d\nbad_intervals %d\nbad_fraction %.6f\ncells\n", m->nbad_chan,
            m->nbad_int, m->bad_frac);
    for (int j = 0; j < m->nint; j++) {
        for (int c = 0; c < m->nchan; c++)
            fputc(m->bad[(size_t)j * m->nchan + c] ? '1' : '0', fp);
        fputc('\n', fp);
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        snprintf(err, FB_ERR_LEN, "%.300s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int rfi_mask_read(rfi_mask *m, const char *path, char *err)
{
    memset(m, 0, sizeof *m);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, FB_ERR_LEN, "%.300s: cannot open mask: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    if (!fgets(line, sizeof line, fp) || strncmp(line, "# presto-search RFI mask v1", 27) != 0) {
        snprintf(err, FB_ERR_LEN, "%.300s: not a presto-search RFI mask (v1)", path);
        fclose(fp);
        return -1;
    }
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#') continue;
        if (!strncmp(line, "cells", 5)) break;
        sscanf(line, "nchan %d", &m->nchan);
        sscanf(line, "nint %d", &m->nint);
        sscanf(line, "ptsperint %d", &m->ptsperint);
        sscanf(line, "tsamp %lf", &m->tsamp);
        sscanf(line, "bad_channels %d", &m->nbad_chan);
        sscanf(line, "bad_intervals %d", &m->nbad_int);
        sscanf(line, "bad_fraction %lf", &m->bad_frac);
    }
    if (m->nchan <= 0 || m->nint <= 0 || m->ptsperint <= 0 || m->tsamp <= 0) {
        snprintf(err, FB_ERR_LEN, "%.300s: mask header incomplete", path);
        fclose(fp);
        return -1;
    }
    m->bad = calloc((size_t)m->nint * m->nchan, 1);
    for (int j = 0; j < m->nint; j++) {
        for (int c = 0; c < m->nchan; c++) {
            int ch = fgetc(fp);
            if (ch != '0' && ch != '1') {
                snprintf(err, FB_ERR_LEN, "%.300s: bad cell line %d", path, j + 1);
                fclose(fp);
                rfi_mask_free(m);
                return -1;
            }
            m->bad[(size_t)j * m->nchan + c] = ch == '1';
        }
        fgetc(fp);
    }
    fclose(fp);
    return 0;
}

typedef struct {
    fb_data *fb;
    const rfi_mask *m;
} apply_ctx;

static void clean_channel(void *p, int thread, long c)
{
    (void)thread;
    apply_ctx *x = p;
    const rfi_mask *m = x->m;
    int64_t ns = x->fb->nsamp;
    float *d = x->fb->data + (size_t)c * ns;
    int n = m->ptsperint;
    double var_sum = 0;
    int ngood = 0;
    float *means = malloc(sizeof(float) * (m->nint + 1));
    for (int j = 0; j <= m->nint; j++) {
        int64_t a = (int64_t)j * n, b = j == m->nint ? ns : a + n;
        if (j == m->nint && a >= ns) break;
        int jj = j < m->nint ? j : m->nint - 1; /* the tail follows the last interval */
        double s = 0, ss = 0;
        for (int64_t i = a; i < b; i++)
            s += d[i];
        double mean = s / (double)(b - a);
        means[j] = (float)mean;
        if (!m->bad[(size_t)jj * m->nchan + c] && j < m->nint) {
            for (int64_t i = a; i < b; i++)
                ss += (d[i] - mean) * (d[i] - mean);
            var_sum += ss / (double)(b - a);
            ngood++;
        }
    }
    float scale = ngood ? (float)(1.0 / sqrt(var_sum / ngood)) : 0.0f;
    if (!(scale < 1e30f)) scale = 0.0f;
    for (int j = 0; j <= m->nint; j++) {
        int64_t a = (int64_t)j * n, b = j == m->nint ? ns : a + n;
        if (a >= ns) break;
        int jj = j < m->nint ? j : m->nint - 1;
        if (m->bad[(size_t)jj * m->nchan + c] || scale == 0.0f) {
            memset(d + a, 0, sizeof(float) * (size_t)(b - a));
        } else {
            float mu = means[j];
            for (int64_t i = a; i < b; i++)
                d[i] = (d[i] - mu) * scale;
        }
    }
    free(means);
}

int rfi_apply(fb_data *fb, const rfi_mask *m, const rfi_options *o, rfi_apply_stats *st, char *err)
{
    memset(st, 0, sizeof *st);
    if (m->nchan != fb->nchan || fabs(m->tsamp - fb->tsamp) > 1e-9 * fb->tsamp ||
        (int64_t)m->nint * m->ptsperint > fb->nsamp) {
        snprintf(err, FB_ERR_LEN,
                 "mask does not match the data (mask: %d channels, %d x %d "
                 "samples of %g s; data: %d channels, %lld samples of %g s)",
                 m->nchan, m->nint, m->ptsperint, m->tsamp, fb->nchan, (long long)fb->nsamp,
                 fb->tsamp);
        return -1;
    }
    apply_ctx x = {fb, m};
    parallel_for(o->nthreads, fb->nchan, clean_channel, &x);
    int64_t ns = fb->nsamp;
    for (int c = 0; c < fb->nchan; c++) {
        int all = 1;
        for (int j = 0; j < m->nint; j++)
            all &= m->bad[(size_t)j * m->nchan + c];
        st->good_chans += !all;
    }
    if (!o->zero_dm && o->clip_sigma <= 0) return 0;
    /* Band sum and count of live channels per sample. */
    float *sum = calloc((size_t)ns, sizeof(float));
    float *cnt = calloc((size_t)ns, sizeof(float));
    for (int c = 0; c < fb->nchan; c++) {
        const float *d = fb->data + (size_t)c * ns;
        for (int j = 0; j * (int64_t)m->ptsperint < ns; j++) {
            int jj = j < m->nint ? j : m->nint - 1;
            if (m->bad[(size_t)jj * m->nchan + c]) continue;
            int64_t a = (int64_t)j * m->ptsperint, b = a + m->ptsperint;
            if (j >= m->nint || b > ns) b = ns;
            for (int64_t i = a; i < b; i++) {
                sum[i] += d[i];
                cnt[i] += 1.0f;
            }
        }
    }
    uint8_t *clip = calloc((size_t)ns, 1);
    if (o->clip_sigma > 0) {
        float *z = malloc(sizeof(float) * ns), *scratch = malloc(sizeof(float) * ns);
        for (int64_t i = 0; i < ns; i++)
            z[i] = cnt[i] > 0 ? sum[i] / sqrtf(cnt[i]) : 0.0f;
        float med, sig;
        stats_median_mad(z, (size_t)ns, scratch, &med, &sig);
        for (int64_t i = 0; i < ns; i++)
            if (sig > 0 && fabsf(z[i] - med) > o->clip_sigma * sig) {
                /* Bursts have edges below threshold: take one sample either side. */
                for (int64_t k = i - 1; k <= i + 1; k++)
                    if (k >= 0 && k < ns) clip[k] = 1;
            }
        for (int64_t i = 0; i < ns; i++)
            st->clipped += clip[i];
        free(z);
        free(scratch);
    }
    for (int c = 0; c < fb->nchan; c++) {
        float *d = fb->data + (size_t)c * ns;
        for (int64_t i = 0; i < ns; i++) {
            if (clip[i])
                d[i] = 0.0f;
            else if (o->zero_dm && cnt[i] > 0 && d[i] != 0.0f)
                d[i] -= sum[i] / cnt[i];
        }
    }
    free(sum);
    free(cnt);
    free(clip);
    return 0;
}
