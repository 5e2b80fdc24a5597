/* search.c - the steps of the chain glued together (see search.h).
 *
 * The periodicity search runs one FFT searcher per down-sampling factor of
 * the plan (their FFTW plans are made up front: plan creation is not
 * thread-safe, execution is) and collects candidates in one list per worker
 * thread, merged at the end, so workers never share a lock. */
#include "search.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dedisp.h"
#include "parallel.h"
#include "report.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

void search_default_config(search_config *c)
{
    memset(c, 0, sizeof *c);
    rfi_default_options(&c->rfi);
    c->lodm = 0.0;
    c->hidm = 100.0;
    search_default_params(&c->sp);
    sift_default_params(&c->sift);
    fold_default_params(&c->fold);
    c->nfold = 5;
    c->nthreads = parallel_default_threads();
    c->verbose = 1;
}

int search_load_clean(const search_config *c, fb_data *fb, char *err)
{
    double t0 = now_s();
    if (fb_read(fb, c->inputs, c->ninputs, c->max_samples, err) != 0) return -1;
    double fmin, fmax, cbw;
    fb_band(fb, &fmin, &fmax, &cbw);
    if (c->verbose)
        fprintf(stderr,
                "read: %d channels %.3f-%.3f MHz, %lld samples of %.6g s (%.1f s) in %.1f s\n",
                fb->nchan, fmin, fmax, (long long)fb->nsamp, fb->tsamp, fb->nsamp * fb->tsamp,
                now_s() - t0);
    if (c->no_rfi) {
        /* Still normalise channels so that every step sees zero-mean data. */
        rfi_mask m = {.nchan = fb->nchan,
                      .tsamp = fb->tsamp,
                      .nint = 1,
                      .ptsperint = (int)(fb->nsamp > 0x7fffffff ? 0x7fffffff : fb->nsamp)};
        m.bad = calloc((size_t)fb->nchan, 1);
        rfi_options o = c->rfi;
        o.clip_sigma = 0;
        o.zero_dm = 0;
        rfi_apply_stats st;
        int rc = rfi_apply(fb, &m, &o, &st, err);
        free(m.bad);
        return rc;
    }
    rfi_mask m;
    t0 = now_s();
    if (c->mask_in) {
        if (rfi_mask_read(&m, c->mask_in, err) != 0) return -1;
    } else {
        if (rfi_find(fb, &c->rfi, &m, err) != 0) return -1;
        if (c->mask_out && rfi_mask_write(&m, c->mask_out, err) != 0) {
            rfi_mask_free(&m);
            return -1;
        }
    }
    rfi_apply_stats st;
    int rc = rfi_apply(fb, &m, &c->rfi, &st, err);
    if (rc == 0 && c->verbose)
        fprintf(stderr,
                "rfi: %d x %d cells, %.2f%% masked, %d channels and %d intervals fully "
                "masked, %lld samples clipped%s (%.1f s)\n",
                m.nint, m.nchan, 100 * m.bad_frac, m.nbad_chan, m.nbad_int, (long long)st.clipped,
                c->rfi.zero_dm ? ", zero-DM" : "", now_s() - t0);
    rfi_mask_free(&m);
    return rc;
}

int search_make_plan(const search_config *c, const fb_data *fb, ddplan *plan, char *err)
{
    if (c->plan_in) {
        FILE *fp = fopen(c->plan_in, "r");
        if (!fp) {
            snprintf(err, 512, "%.300s: cannot open DM plan: %s", c->plan_in, strerror(errno));
            return -1;
        }
        int rc = ddplan_read(plan, fp, err);
        fclose(fp);
        if (rc == 0 && plan->nsub > fb->nchan) {
            snprintf(err, 512, "%.300s: plan wants %d subbands, data has %d channels", c->plan_in,
                     plan->nsub, fb->nchan);
            return -1;
        }
        return rc;
    }
    double fmin, fmax, cbw;
    fb_band(fb, &fmin, &fmax, &cbw);
    ddplan_params p = {.lodm = c->lodm,
                       .hidm = c->hidm,
                       .tsamp = fb->tsamp,
                       .fctr = 0.5 * (fmin + fmax),
                       .bw = (fmax - fmin) + cbw,
                       .nchan = fb->nchan,
                       .nsub = c->nsub,
                       .ff = 1.0,
                       .max_downsamp = 64};
    int64_t maxds = fb->nsamp / 4096;
    while (p.max_downsamp > 1 && p.max_downsamp > maxds)
        p.max_downsamp /= 2;
    if (ddplan_make(&p, plan, err) != 0) return -1;
    if (c->verbose) {
        fprintf(stderr, "ddplan: %d DM trials %.2f-%.2f in %d steps, %d subbands\n",
                plan->total_dms, c->lodm, c->hidm, plan->nsteps, plan->nsub);
    }
    return 0;
}

typedef struct {
    fft_searcher *by_ds[64]; /* index: log2(downsamp) */
    cand_list *per_thread;
    int64_t trials;
} periodicity_ctx;

static int ilog2(int v)
{
    int k = 0;
    while ((1 << k) < v)
        k++;
    return k;
}

static void search_one(void *p, int thread, double dm, int ds, float *series, int64_t n)
{
    (void)n;
    periodicity_ctx *x = p;
    fft_searcher_run(x->by_ds[ilog2(ds)], thread, series, dm, &x->per_thread[thread]);
}

int search_periodicity(const search_config *c, const fb_data *fb, const ddplan *plan,
                       cand_list *raw, char *err)
{
    double t0 = now_s();
    dedisp d;
    if (dedisp_init(&d, fb, plan->nsub, c->nthreads, err) != 0) return -1;
    periodicity_ctx x;
    memset(&x, 0, sizeof x);
    x.per_thread = calloc((size_t)d.nthreads, sizeof(cand_list));
    int rc = 0;
    for (int s = 0; s < plan->nsteps && rc == 0; s++) {
        int ds = plan->step[s].downsamp, k = ilog2(ds);
        if ((1 << k) != ds || k >= 64) {
            snprintf(err, 512, "search: down-sampling %d is not a power of two", ds);
            rc = -1;
        } else if (!x.by_ds[k] && dedisp_len(&d, ds) >= 256) {
            x.by_ds[k] =
                fft_searcher_new(dedisp_len(&d, ds), fb->tsamp * ds, &c->sp, d.nthreads, err);
            if (!x.by_ds[k]) rc = -1;
        }
    }
    if (rc == 0) rc = dedisp_run_plan(&d, plan, c->verbose, search_one, &x, err);
    for (int t = 0; t < d.nthreads; t++) {
        cand_list_append(raw, &x.per_thread[t]);
        cand_list_free(&x.per_thread[t]);
    }
    free(x.per_thread);
    for (int k = 0; k < 64; k++)
        fft_searcher_free(x.by_ds[k]);
    dedisp_free(&d);
    if (rc == 0 && c->verbose)
        fprintf(stderr, "search: %d DM trials, %zu raw candidates above %.1f sigma (%.1f s)\n",
                plan->total_dms, raw->n, c->sp.sigma_min, now_s() - t0);
    return rc;
}

int search_fold_report(const search_config *c, const fb_data *fb, const sift_list *sifted,
                       char *err)
{
    double t0 = now_s();
    if (mkdir(c->outdir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, 512, "%.300s: cannot create output directory: %s", c->outdir,
                 strerror(errno));
        return -1;
    }
    int n = sifted->n;
    final_cand *fc = calloc((size_t)(n ? n : 1), sizeof *fc);
    for (int i = 0; i < n; i++)
        fc[i].s = sifted->v[i];
    int nfold = c->nfold < n ? c->nfold : n;
    for (int i = 0; i < nfold; i++) {
        fold_params fp = c->fold;
        fp.nthreads = c->nthreads;
        if (fc[i].s.best.fdot != 0.0 || c->sp.zmax > 0) fp.search_fdot = 1;
        char ferr[512];
        if (fold_candidate(fb, fc[i].s.best.dm, fc[i].s.best.freq, fc[i].s.best.fdot, &fp, &fc[i].f,
                           ferr) != 0) {
            fprintf(stderr, "fold: candidate %d skipped: %s\n", i + 1, ferr);
            continue;
        }
        fc[i].folded = 1;
        if (c->verbose)
            fprintf(stderr, "fold: candidate %d: P %.6f ms DM %.3f -> P %.6f ms DM %.3f S/N %.1f\n",
                    i + 1, 1e3 / fc[i].s.best.freq, fc[i].s.best.dm, fc[i].f.period * 1e3,
                    fc[i].f.dm, fc[i].f.snr);
    }
    report_sort(fc, n);
    int rc = 0;
    char path[1024];
    for (int i = 0; i < n && rc == 0; i++) {
        if (!fc[i].folded) continue;
        snprintf(fc[i].png, sizeof fc[i].png, "cand_%03d.png", i + 1);
        snprintf(path, sizeof path, "%s/%s", c->outdir, fc[i].png);
        rc = report_plot(&fc[i], i + 1, path, err);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/candidates.json", c->outdir);
        rc = report_write_json(fc, n, path, fb->source, c->ninputs ? c->inputs[0] : "", err);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/candidates.txt", c->outdir);
        rc = report_write_table(fc, n, path, err);
    }
    if (rc == 0 && c->verbose)
        fprintf(stderr, "fold: %d candidates folded, reports in %s (%.1f s)\n", nfold, c->outdir,
                now_s() - t0);
    for (int i = 0; i < n; i++)
        fold_result_free(&fc[i].f);
    free(fc);
    return rc;
}
