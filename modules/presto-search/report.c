/* report.c - candidates.json, candidates.txt and candidate plots.
 *
 * The JSON is written by hand (flat numbers and strings, no library); both
 * text files go to a temporary name first and are renamed into place. The
 * plot is drawn on the canvas of png.c: text is upper case in the built-in
 * font, axes carry their end values. */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png.h"

static int cmp_final(const void *a, const void *b)
{
    const final_cand *x = a, *y = b;
    if (x->folded != y->folded) return y->folded - x->folded;
    double u = x->folded ? x->f.snr : x->s.best.sigma, v = y->folded ? y->f.snr : y->s.best.sigma;
    return (u < v) - (u > v);
}

void report_sort(final_cand *c, int n)
{
    if (n > 1) qsort(c, (size_t)n, sizeof *c, cmp_final);
}

static FILE *open_tmp(const char *path, char *tmp, size_t cap, char *err)
{
    snprintf(tmp, cap, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) snprintf(err, 512, "%.300s: cannot create: %s", tmp, strerror(errno));
    return fp;
}

static int close_rename(FILE *fp, const char *tmp, const char *path, char *err)
{
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        snprintf(err, 512, "%.300s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(fp, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(fp, "\\u%04x", *s);
        else
            fputc(*s, fp);
    }
    fputc('"', fp);
}

int report_write_json(const final_cand *c, int n, const char *path, const char *source,
                      const char *input, char *err)
{
    char tmp[1024];
    FILE *fp = open_tmp(path, tmp, sizeof tmp, err);
    if (!fp) return -1;
    fprintf(fp, "{\n  \"format\": \"presto-search candidates v1\",\n  \"source\": ");
    json_string(fp, source);
    fprintf(fp, ",\n  \"input\": ");
    json_string(fp, input);
    fprintf(fp, ",\n  \"candidates\": [");
    for (int i = 0; i < n; i++) {
        const search_cand *b = &c[i].s.best;
        fprintf(fp,
                "%s\n    {\"rank\": %d, \"dm\": %.4f, \"freq_hz\": %.9f, \"period_ms\": %.8f, "
                "\"fdot_hz_s\": %.6e, \"z\": %.2f, \"numharm\": %d, \"sigma\": %.3f, "
                "\"dm_hits\": %d, \"harmonics_merged\": %d",
                i ? "," : "", i + 1, b->dm, b->freq, 1e3 / b->freq, b->fdot, b->z, b->numharm,
                b->sigma, c[i].s.ndm, c[i].s.nharmonics);
        if (c[i].folded) {
            const fold_result *f = &c[i].f;
            fprintf(fp,
                    ",\n     \"fold\": {\"dm\": %.4f, \"freq_hz\": %.9f, \"period_ms\": %.8f, "
                    "\"fdot_hz_s\": %.6e, \"snr\": %.2f, \"reduced_chi2\": %.3f, \"nbins\": %d, "
                    "\"png\": ",
                    f->dm, f->freq, f->period * 1e3, f->fdot, f->snr, f->redchi, f->nbins);
            json_string(fp, c[i].png);
            fprintf(fp, "}");
        }
        fprintf(fp, "}");
    }
    fprintf(fp, "\n  ]\n}\n");
    return close_rename(fp, tmp, path, err);
}

int report_write_table(const final_cand *c, int n, const char *path, char *err)
{
    char tmp[1024];
    FILE *fp = open_tmp(path, tmp, sizeof tmp, err);
    if (!fp) return -1;
    fprintf(fp, "# %4s %14s %9s %8s %4s %5s %5s | %14s %9s %8s %8s  %s\n", "rank", "period_ms",
            "dm", "sigma", "nh", "ndm", "nharm", "fold_period_ms", "fold_dm", "fold_snr", "redchi",
            "png");
    for (int i = 0; i < n; i++) {
        const search_cand *b = &c[i].s.best;
        fprintf(fp, "%6d %14.8f %9.3f %8.2f %4d %5d %5d |", i + 1, 1e3 / b->freq, b->dm, b->sigma,
                b->numharm, c[i].s.ndm, c[i].s.nharmonics);
        if (c[i].folded)
            fprintf(fp, " %14.8f %9.3f %8.2f %8.2f  %s\n", c[i].f.period * 1e3, c[i].f.dm,
                    c[i].f.snr, c[i].f.redchi, c[i].png);
        else
            fprintf(fp, " %14s %9s %8s %8s  -\n", "-", "-", "-", "-");
    }
    return close_rename(fp, tmp, path, err);
}

static const rgb BLACK = {0, 0, 0}, BLUE = {20, 60, 200}, RED = {200, 30, 30},
                 GREY = {120, 120, 120};

/* Line plot of y against x in the box, with end values on the axes. */
static void plot_xy(canvas *cv, int x0, int y0, int x1, int y1, const double *x, const float *y,
                    int n, rgb col, int dots)
{
    double xl = x[0], xh = x[n - 1];
    float yl = y[0], yh = y[0];
    for (int i = 0; i < n; i++) {
        if (y[i] < yl) yl = y[i];
        if (y[i] > yh) yh = y[i];
    }
    if (xh <= xl) xh = xl + 1;
    if (yh <= yl) yh = yl + 1;
    float pad = 0.05f * (yh - yl);
    yl -= pad;
    yh += pad;
    canvas_frame(cv, x0, y0, x1, y1, BLACK);
    int px = 0, py = 0;
    for (int i = 0; i < n; i++) {
        int X = x0 + (int)((x[i] - xl) / (xh - xl) * (x1 - x0));
        int Y = y1 - (int)((y[i] - yl) / (yh - yl) * (y1 - y0));
        if (i) canvas_line(cv, px, py, X, Y, col);
        if (dots) canvas_rect(cv, X - 1, Y - 1, X + 1, Y + 1, col);
        px = X;
        py = Y;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.4g", xl);
    canvas_text(cv, x0, y1 + 4, 1, GREY, buf);
    snprintf(buf, sizeof buf, "%.4g", xh);
    canvas_text(cv, x1 - 6 * (int)strlen(buf), y1 + 4, 1, GREY, buf);
    snprintf(buf, sizeof buf, "%.3g", yh - pad);
    canvas_text(cv, x0 - 6 * (int)strlen(buf) - 3, y0 + 2, 1, GREY, buf);
    snprintf(buf, sizeof buf, "%.3g", yl + pad);
    canvas_text(cv, x0 - 6 * (int)strlen(buf) - 3, y1 - 8, 1, GREY, buf);
}

int report_plot(const final_cand *c, int rank, const char *path, char *err)
{
    const fold_result *f = &c->f;
    const search_cand *b = &c->s.best;
    canvas cv;
    if (canvas_init(&cv, 960, 680, (rgb){255, 255, 255}) != 0) {
        snprintf(err, 512, "%.300s: out of memory for the plot", path);
        return -1;
    }
    char line[256];
    snprintf(line, sizeof line, "CAND %d  P %.6f MS  DM %.3f  S/N %.1f", rank, f->period * 1e3,
             f->dm, f->snr);
    canvas_text(&cv, 20, 10, 2, BLACK, line);
    snprintf(line, sizeof line,
             "F %.7f HZ  FDOT %.3e HZ/S  REDCHI %.2f  SEARCH: DM %.3f "
             "SIGMA %.1f NH %d  DM HITS %d  HARMONICS %d",
             f->freq, f->fdot, f->redchi, b->dm, b->sigma, b->numharm, c->s.ndm, c->s.nharmonics);
    canvas_text(&cv, 20, 34, 1, BLACK, line);

    int nb = f->nbins;
    /* Profile, two cycles. */
    double *ph = malloc(sizeof(double) * 2 * nb);
    float *pr = malloc(sizeof(float) * 2 * nb);
    for (int i = 0; i < 2 * nb; i++) {
        ph[i] = (double)i / nb;
        pr[i] = f->profile[i % nb];
    }
    canvas_text(&cv, 60, 60, 1, BLACK, "PULSE PROFILE (2 CYCLES), S/N PER BIN VS PHASE");
    plot_xy(&cv, 60, 75, 460, 255, ph, pr, 2 * nb, BLUE, 0);
    /* Phase vs time, two cycles. */
    float *img =
        malloc(sizeof(float) * 2 * nb * (f->nsubint > f->nsubband ? f->nsubint : f->nsubband));
    for (int j = 0; j < f->nsubint; j++)
        for (int i = 0; i < 2 * nb; i++)
            img[j * 2 * nb + i] = f->time_phase[j * nb + i % nb];
    canvas_text(&cv, 60, 285, 1, BLACK, "PHASE (0-2) VS TIME (TOP = START)");
    canvas_image(&cv, 60, 300, 460, 640, img, f->nsubint, 2 * nb);
    canvas_frame(&cv, 60, 300, 460, 640, BLACK);
    canvas_text(&cv, 30, 302, 1, GREY, "0 S");
    snprintf(line, sizeof line, "%.0f S", f->tobs);
    canvas_text(&cv, 54 - 6 * (int)strlen(line), 632, 1, GREY, line);
    /* S/N vs DM. */
    canvas_text(&cv, 540, 60, 1, BLACK, "FOLDED S/N VS DM (PC/CM3)");
    plot_xy(&cv, 540, 75, 930, 290, f->curve_dm, f->curve_snr, f->ndm_curve, RED, 1);
    /* Phase vs frequency, highest frequency on top. */
    for (int s = 0; s < f->nsubband; s++)
        for (int i = 0; i < 2 * nb; i++)
            img[(f->nsubband - 1 - s) * 2 * nb + i] = f->freq_phase[s * nb + i % nb];
    canvas_text(&cv, 540, 325, 1, BLACK, "PHASE (0-2) VS FREQUENCY (TOP = HIGHEST)");
    canvas_image(&cv, 540, 340, 930, 640, img, f->nsubband, 2 * nb);
    canvas_frame(&cv, 540, 340, 930, 640, BLACK);
    free(ph);
    free(pr);
    free(img);
    int rc = png_write(&cv, path, err);
    canvas_free(&cv);
    return rc;
}
