/* cli.c - the presto-search command: `presto-search [search] FILES...` runs
 * the whole chain; `presto-search STEP ...` runs one step (rfifind, ddplan,
 * dedisperse, accelsearch, sift, fold) with files between steps, like PRESTO's
 * separate programs. One option table serves every step; each option lists
 * the steps that accept it, so a misplaced option is an error, not ignored.
 * Exit codes: 0 success, 1 failure of the data or I/O, 2 usage error.
 * Inputs are read (and checked) before any product is written, so a bad
 * input fails with no output. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cands.h"
#include "dedisp.h"
#include "parallel.h"
#include "search.h"
#include "series_io.h"

enum {
    S_SEARCH = 1,
    S_RFI = 2,
    S_DDPLAN = 4,
    S_DEDISP = 8,
    S_ACCEL = 16,
    S_SIFT = 32,
    S_FOLD = 64
};
#define S_DATA (S_SEARCH | S_RFI | S_DEDISP | S_FOLD)
#define S_ALL 127

static const char *usage_text =
    "usage: presto-search [search] [options] FILE...      whole chain, reports in --out\n"
    "       presto-search rfifind    [options] FILE...    RFI mask -> --out (rfi.mask)\n"
    "       presto-search ddplan     [options] [FILE...]  DM plan -> stdout or --out\n"
    "       presto-search dedisperse [options] FILE...    DM trials -> --out DIR/*.dat,*.inf\n"
    "       presto-search accelsearch [options] DAT...    raw candidates -> --out (cands_raw.txt)\n"
    "       presto-search sift       [options] RAW...     sifted list -> --out (sifted.txt)\n"
    "       presto-search fold --cands SIFTED [options] FILE...  folds, plots -> --out DIR\n"
    "\n"
    "FILE: PSRFITS search-mode files (several consecutive segments are joined) or one\n"
    "SIGPROC .fil. Full documentation: modules/presto-search/README.md\n"
    "\n"
    "common:   -o, --out PATH        output directory or file (see above)\n"
    "          --threads N           worker threads (default: online CPUs)\n"
    "          --max-samples N       use only the first N samples\n"
    "          -q, --quiet           no progress lines on stderr\n"
    "rfi:      --mask FILE           apply this mask instead of computing one\n"
    "          --no-rfi              no mask, no clipping (channels still normalised)\n"
    "          --rfi-interval S      statistics interval, s (2)\n"
    "          --rfi-time-sigma X    cell mean/std outlier threshold (10)\n"
    "          --rfi-freq-sigma X    cell spectral-peak threshold (4)\n"
    "          --clip-sigma X        clip broadband bursts above X sigma, 0 = off (6)\n"
    "          --zero-dm             subtract the band mean from every sample\n"
    "ddplan:   --dm-min X --dm-max X DM range (0, 100)\n"
    "          --nsub N              subbands (auto: 16/32/128 by channel count)\n"
    "          --plan FILE           use a plan written by `ddplan --out`\n"
    "          --tsamp S --fctr MHZ --bw MHZ --nchan N   ddplan without a data file\n"
    "search:   --flo HZ --fhi HZ     frequency range (1, Nyquist)\n"
    "          --numharm N           harmonics summed: 1, 2, 4, 8, 16 (16)\n"
    "          --zmax Z              acceleration search to |z| <= Z bins, even (0)\n"
    "          --sigma X             keep raw candidates above X sigma (2)\n"
    "          --cands-per-dm N      at most N candidates per DM trial (50)\n"
    "          --fftw-measure        plan FFTs with FFTW_MEASURE (slower start)\n"
    "sift:     --min-dm-hits N       DM trials a signal must appear at (2)\n"
    "          --min-dm X            drop signals peaking below this DM (2)\n"
    "          --sift-sigma X        drop signals weaker than X sigma (3)\n"
    "fold:     --cands FILE          sifted list to fold (fold step)\n"
    "          --nfold N             fold the best N candidates (5)\n"
    "          --fold-bins N         phase bins (64)\n"
    "          -h, --help            this text\n";

enum {
    O_OUT = 'o',
    O_QUIET = 'q',
    O_HELP = 'h',
    O_THREADS = 256,
    O_MAXSAMP,
    O_MASK,
    O_NORFI,
    O_RFIINT,
    O_RFITS,
    O_RFIFS,
    O_CLIP,
    O_ZERODM,
    O_DMMIN,
    O_DMMAX,
    O_NSUB,
    O_PLAN,
    O_TSAMP,
    O_FCTR,
    O_BW,
    O_NCHAN,
    O_FLO,
    O_FHI,
    O_NUMHARM,
    O_ZMAX,
    O_SIGMA,
    O_CPD,
    O_MEASURE,
    O_MINHITS,
    O_MINDM,
    O_SIFTSIG,
    O_CANDS,
    O_NFOLD,
    O_FBINS
};

static const struct {
    struct option o;
    int steps;
} opts[] = {
    {{"out", required_argument, 0, O_OUT}, S_ALL},
    {{"quiet", no_argument, 0, O_QUIET}, S_ALL},
    {{"help", no_argument, 0, O_HELP}, S_ALL},
    {{"threads", required_argument, 0, O_THREADS}, S_ALL},
    {{"max-samples", required_argument, 0, O_MAXSAMP}, S_DATA},
    {{"mask", required_argument, 0, O_MASK}, S_SEARCH | S_DEDISP | S_FOLD},
    {{"no-rfi", no_argument, 0, O_NORFI}, S_SEARCH | S_DEDISP | S_FOLD},
    {{"rfi-interval", required_argument, 0, O_RFIINT}, S_SEARCH | S_RFI | S_DEDISP | S_FOLD},
    {{"rfi-time-sigma", required_argument, 0, O_RFITS}, S_SEARCH | S_RFI | S_DEDISP | S_FOLD},
    {{"rfi-freq-sigma", required_argument, 0, O_RFIFS}, S_SEARCH | S_RFI | S_DEDISP | S_FOLD},
    {{"clip-sigma", required_argument, 0, O_CLIP}, S_SEARCH | S_DEDISP | S_FOLD},
    {{"zero-dm", no_argument, 0, O_ZERODM}, S_SEARCH | S_DEDISP | S_FOLD},
    {{"dm-min", required_argument, 0, O_DMMIN}, S_SEARCH | S_DDPLAN | S_DEDISP},
    {{"dm-max", required_argument, 0, O_DMMAX}, S_SEARCH | S_DDPLAN | S_DEDISP},
    {{"nsub", required_argument, 0, O_NSUB}, S_SEARCH | S_DDPLAN | S_DEDISP},
    {{"plan", required_argument, 0, O_PLAN}, S_SEARCH | S_DEDISP},
    {{"tsamp", required_argument, 0, O_TSAMP}, S_DDPLAN},
    {{"fctr", required_argument, 0, O_FCTR}, S_DDPLAN},
    {{"bw", required_argument, 0, O_BW}, S_DDPLAN},
    {{"nchan", required_argument, 0, O_NCHAN}, S_DDPLAN},
    {{"flo", required_argument, 0, O_FLO}, S_SEARCH | S_ACCEL},
    {{"fhi", required_argument, 0, O_FHI}, S_SEARCH | S_ACCEL},
    {{"numharm", required_argument, 0, O_NUMHARM}, S_SEARCH | S_ACCEL},
    {{"zmax", required_argument, 0, O_ZMAX}, S_SEARCH | S_ACCEL},
    {{"sigma", required_argument, 0, O_SIGMA}, S_SEARCH | S_ACCEL},
    {{"cands-per-dm", required_argument, 0, O_CPD}, S_SEARCH | S_ACCEL},
    {{"fftw-measure", no_argument, 0, O_MEASURE}, S_SEARCH | S_ACCEL},
    {{"min-dm-hits", required_argument, 0, O_MINHITS}, S_SEARCH | S_SIFT},
    {{"min-dm", required_argument, 0, O_MINDM}, S_SEARCH | S_SIFT},
    {{"sift-sigma", required_argument, 0, O_SIFTSIG}, S_SEARCH | S_SIFT},
    {{"cands", required_argument, 0, O_CANDS}, S_FOLD},
    {{"nfold", required_argument, 0, O_NFOLD}, S_SEARCH | S_FOLD},
    {{"fold-bins", required_argument, 0, O_FBINS}, S_SEARCH | S_FOLD},
};
#define NOPTS ((int)(sizeof opts / sizeof opts[0]))

typedef struct cli {
    search_config cfg;
    const char *out;
    const char *cands;
    double tsamp, fctr, bw;
    int nchan;
    char **args;
    int nargs;
} cli;

static int bad_usage(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "presto-search: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n(see presto-search --help)\n");
    return 2;
}

static int num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr,
                "presto-search: --%s: '%s' is not a number in [%g, %g]\n(see "
                "presto-search --help)\n",
                opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse(cli *c, int step, const char *stepname, int argc, char **argv)
{
    struct option lo[NOPTS + 1];
    for (int i = 0; i < NOPTS; i++)
        lo[i] = opts[i].o;
    memset(&lo[NOPTS], 0, sizeof lo[NOPTS]);
    search_config *g = &c->cfg;
    optind = 1;
    opterr = 0;
    int ch, idx;
    double v;
    while ((ch = getopt_long(argc, argv, "o:qh", lo, &idx)) != -1) {
        if (ch == '?')
            return bad_usage("unknown option or missing value: %s%s", argv[optind - 1], "");
        const char *name = NULL;
        for (int i = 0; i < NOPTS; i++)
            if (opts[i].o.val == ch) {
                name = opts[i].o.name;
                if (!(opts[i].steps & step))
                    return bad_usage("option --%s does not apply to the %s step", name, stepname);
            }
#define NUM(lo_, hi_)                                                                              \
    if (num(name, optarg, lo_, hi_, &v)) return 2
        switch (ch) {
        case O_OUT:
            c->out = optarg;
            break;
        case O_QUIET:
            g->verbose = 0;
            break;
        case O_HELP:
            fputs(usage_text, stdout);
            return 1;
        case O_THREADS:
            NUM(1, 64);
            g->nthreads = (int)v;
            break;
        case O_MAXSAMP:
            NUM(16, 1e15);
            g->max_samples = (int64_t)v;
            break;
        case O_MASK:
            g->mask_in = optarg;
            break;
        case O_NORFI:
            g->no_rfi = 1;
            break;
        case O_RFIINT:
            NUM(1e-3, 1e6);
            g->rfi.interval_s = v;
            break;
        case O_RFITS:
            NUM(0.5, 1e6);
            g->rfi.time_sigma = v;
            break;
        case O_RFIFS:
            NUM(0.5, 1e6);
            g->rfi.freq_sigma = v;
            break;
        case O_CLIP:
            NUM(0, 1e6);
            g->rfi.clip_sigma = v;
            break;
        case O_ZERODM:
            g->rfi.zero_dm = 1;
            break;
        case O_DMMIN:
            NUM(0, 1e5);
            g->lodm = v;
            break;
        case O_DMMAX:
            NUM(0, 1e5);
            g->hidm = v;
            break;
        case O_NSUB:
            NUM(1, 65536);
            g->nsub = (int)v;
            break;
        case O_PLAN:
            g->plan_in = optarg;
            break;
        case O_TSAMP:
            NUM(1e-9, 1e3);
            c->tsamp = v;
            break;
        case O_FCTR:
            NUM(1e-3, 1e7);
            c->fctr = v;
            break;
        case O_BW:
            NUM(1e-6, 1e7);
            c->bw = v;
            break;
        case O_NCHAN:
            NUM(1, 1e7);
            c->nchan = (int)v;
            break;
        case O_FLO:
            NUM(0, 1e6);
            g->sp.flo = v;
            break;
        case O_FHI:
            NUM(0, 1e6);
            g->sp.fhi = v;
            break;
        case O_NUMHARM:
            NUM(1, 16);
            g->sp.numharm = (int)v;
            break;
        case O_ZMAX:
            NUM(0, 1200);
            g->sp.zmax = (int)v;
            break;
        case O_SIGMA:
            NUM(0, 1e4);
            g->sp.sigma_min = v;
            break;
        case O_CPD:
            NUM(1, 1e6);
            g->sp.max_cands = (int)v;
            break;
        case O_MEASURE:
            g->sp.fftw_flags = FFTW_MEASURE;
            break;
        case O_MINHITS:
            NUM(1, 1e6);
            g->sift.min_dm_hits = (int)v;
            break;
        case O_MINDM:
            NUM(0, 1e5);
            g->sift.min_dm = v;
            break;
        case O_SIFTSIG:
            NUM(0, 1e4);
            g->sift.sigma_min = v;
            break;
        case O_CANDS:
            c->cands = optarg;
            break;
        case O_NFOLD:
            NUM(0, 1e4);
            g->nfold = (int)v;
            break;
        case O_FBINS:
            NUM(8, 1024);
            g->fold.nbins = (int)v;
            break;
        }
#undef NUM
    }
    if (g->sp.zmax % 2) return bad_usage("--zmax must be even%s%s", "", "");
    if (g->sp.numharm & (g->sp.numharm - 1))
        return bad_usage("--numharm must be 1, 2, 4, 8 or 16%s%s", "", "");
    if (g->hidm <= g->lodm) return bad_usage("--dm-max must exceed --dm-min%s%s", "", "");
    c->args = argv + optind;
    c->nargs = argc - optind;
    g->inputs = c->args;
    g->ninputs = c->nargs;
    return 0;
}

static int need_inputs(const cli *c, const char *what)
{
    if (c->nargs > 0) return 0;
    fprintf(stderr, "presto-search: no %s given\n(see presto-search --help)\n", what);
    return 2;
}

static int fail(const char *err)
{
    fprintf(stderr, "presto-search: %s\n", err);
    return 1;
}

/* Creates dir if needed; *made says whether this run created it, so that a
 * run that fails (bad input above all) can remove it again with
 * drop_dir and leave no trace. */
static int ensure_dir(const char *dir, int *made, char *err)
{
    *made = mkdir(dir, 0777) == 0;
    if (!*made && errno != EEXIST) {
        snprintf(err, 512, "%.300s: cannot create directory: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Fails with err, removing dir if this run made it and it is still empty
 * (rmdir never removes files, so earlier products are safe). */
static int fail_drop_dir(const char *err, const char *dir, int made)
{
    if (made) rmdir(dir);
    return fail(err);
}

static int cmd_search(cli *c)
{
    char err[1024], path[1024];
    search_config *g = &c->cfg;
    g->outdir = c->out ? c->out : "presto_search_out";
    int made;
    if (ensure_dir(g->outdir, &made, err)) return fail(err);
    snprintf(path, sizeof path, "%s/rfi.mask", g->outdir);
    if (!g->mask_in) g->mask_out = path;
    fb_data fb;
    if (search_load_clean(g, &fb, err)) return fail_drop_dir(err, g->outdir, made);
    ddplan plan;
    if (search_make_plan(g, &fb, &plan, err)) {
        fb_free(&fb);
        return fail(err);
    }
    snprintf(path, sizeof path, "%s/ddplan.txt", g->outdir);
    FILE *fp = fopen(path, "w");
    if (fp) {
        ddplan_write(&plan, fp);
        fclose(fp);
    }
    cand_list raw = {0};
    int rc = search_periodicity(g, &fb, &plan, &raw, err);
    snprintf(path, sizeof path, "%s/cands_raw.txt", g->outdir);
    if (rc == 0) rc = cand_list_write(&raw, path, err);
    sift_list sifted = {0};
    if (rc == 0) rc = sift_candidates(&raw, &g->sift, &sifted);
    if (rc == 0 && g->verbose) fprintf(stderr, "sift: %zu raw -> %d candidates\n", raw.n, sifted.n);
    snprintf(path, sizeof path, "%s/sifted.txt", g->outdir);
    if (rc == 0) rc = sift_write(&sifted, path, err);
    if (rc == 0) rc = search_fold_report(g, &fb, &sifted, err);
    sift_list_free(&sifted);
    cand_list_free(&raw);
    fb_free(&fb);
    return rc ? fail(err) : 0;
}

static int cmd_rfifind(cli *c)
{
    char err[1024];
    int u = need_inputs(c, "input file");
    if (u) return u;
    fb_data fb;
    if (fb_read(&fb, c->args, c->nargs, c->cfg.max_samples, err)) return fail(err);
    rfi_mask m;
    c->cfg.rfi.nthreads = c->cfg.nthreads;
    int rc = rfi_find(&fb, &c->cfg.rfi, &m, err);
    const char *out = c->out ? c->out : "rfi.mask";
    if (rc == 0) rc = rfi_mask_write(&m, out, err);
    if (rc == 0 && c->cfg.verbose)
        fprintf(stderr,
                "rfifind: %d intervals x %d channels, %.2f%% masked, %d channels and %d "
                "intervals fully masked -> %s\n",
                m.nint, m.nchan, 100 * m.bad_frac, m.nbad_chan, m.nbad_int, out);
    rfi_mask_free(&m);
    fb_free(&fb);
    return rc ? fail(err) : 0;
}

static int cmd_ddplan(cli *c)
{
    char err[1024];
    ddplan plan;
    if (c->nargs > 0) {
        fb_data fb;
        if (fb_read(&fb, c->args, c->nargs, 1 << 16, err)) return fail(err);
        c->cfg.verbose = 0;
        int rc = search_make_plan(&c->cfg, &fb, &plan, err);
        fb_free(&fb);
        if (rc) return fail(err);
    } else {
        if (c->tsamp <= 0 || c->fctr <= 0 || c->bw <= 0 || c->nchan <= 0)
            return bad_usage("ddplan needs a data file or all of --tsamp --fctr --bw --nchan%s%s",
                             "", "");
        ddplan_params p = {.lodm = c->cfg.lodm,
                           .hidm = c->cfg.hidm,
                           .tsamp = c->tsamp,
                           .fctr = c->fctr,
                           .bw = c->bw,
                           .nchan = c->nchan,
                           .nsub = c->cfg.nsub,
                           .ff = 1.0,
                           .max_downsamp = 64};
        if (ddplan_make(&p, &plan, err)) return fail(err);
    }
    FILE *fp = c->out ? fopen(c->out, "w") : stdout;
    if (!fp) {
        snprintf(err, sizeof err, "%.300s: cannot create: %s", c->out, strerror(errno));
        return fail(err);
    }
    ddplan_write(&plan, fp);
    if (c->out) fclose(fp);
    return 0;
}

typedef struct {
    const char *dir;
    const char *source;
    double tsamp;
    int failed;
    char err[512];
} write_ctx;

static void write_one(void *p, int thread, double dm, int ds, float *series, int64_t n)
{
    (void)thread;
    write_ctx *w = p;
    char base[1024], err[512];
    snprintf(base, sizeof base, "%s/DM%.3f", w->dir, dm);
    series_info info = {.dm = dm, .tsamp = w->tsamp * ds, .nsamp = n, .downsamp = ds};
    snprintf(info.source, sizeof info.source, "%s", w->source[0] ? w->source : "unknown");
    if (series_write(base, &info, series, err) != 0 && !w->failed) {
        w->failed = 1; /* a benign race: only the first message is kept */
        snprintf(w->err, sizeof w->err, "%s", err);
    }
}

static int cmd_dedisperse(cli *c)
{
    char err[1024];
    int u = need_inputs(c, "input file");
    if (u) return u;
    search_config *g = &c->cfg;
    const char *dir = c->out ? c->out : "dedispersed";
    int made;
    if (ensure_dir(dir, &made, err)) return fail(err);
    fb_data fb;
    if (search_load_clean(g, &fb, err)) return fail_drop_dir(err, dir, made);
    ddplan plan;
    dedisp d;
    int rc = search_make_plan(g, &fb, &plan, err);
    if (rc == 0) rc = dedisp_init(&d, &fb, plan.nsub, g->nthreads, err);
    if (rc == 0) {
        write_ctx w = {.dir = dir, .source = fb.source, .tsamp = fb.tsamp};
        rc = dedisp_run_plan(&d, &plan, g->verbose, write_one, &w, err);
        if (rc == 0 && w.failed) {
            snprintf(err, sizeof err, "%s", w.err);
            rc = -1;
        }
        dedisp_free(&d);
        if (rc == 0 && g->verbose)
            fprintf(stderr, "dedisperse: %d series written to %s\n", plan.total_dms, dir);
    }
    fb_free(&fb);
    return rc ? fail(err) : 0;
}

typedef struct {
    char **paths;
    fft_searcher **searcher; /* per file (shared by files of the same length) */
    cand_list *per_thread;
    int failed;
    char err[512];
} accel_ctx;

static void accel_one(void *p, int thread, long i)
{
    accel_ctx *a = p;
    series_info info;
    float *x = NULL;
    char err[512];
    if (series_read(a->paths[i], &info, &x, err) != 0) {
        if (!a->failed) snprintf(a->err, sizeof a->err, "%s", err);
        a->failed = 1;
        return;
    }
    fft_searcher_run(a->searcher[i], thread, x, info.dm, &a->per_thread[thread]);
    free(x);
}

static int cmd_accelsearch(cli *c)
{
    char err[1024];
    int u = need_inputs(c, ".dat file");
    if (u) return u;
    search_config *g = &c->cfg;
    int n = c->nargs, nt = g->nthreads;
    accel_ctx a = {.paths = c->args};
    a.searcher = calloc((size_t)n, sizeof *a.searcher);
    a.per_thread = calloc((size_t)nt, sizeof(cand_list));
    /* One searcher per distinct (length, sample time). */
    fft_searcher **made = calloc((size_t)n, sizeof *made);
    series_info *inf = calloc((size_t)n, sizeof *inf);
    int nmade = 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (series_read(c->args[i], &inf[i], NULL, err) != 0) {
            rc = -1;
            break;
        }
        for (int k = 0; k < i && !a.searcher[i]; k++)
            if (inf[k].nsamp == inf[i].nsamp && fabs(inf[k].tsamp - inf[i].tsamp) < 1e-12)
                a.searcher[i] = a.searcher[k];
        if (!a.searcher[i]) {
            a.searcher[i] = fft_searcher_new(inf[i].nsamp, inf[i].tsamp, &g->sp, nt, err);
            if (!a.searcher[i])
                rc = -1;
            else
                made[nmade++] = a.searcher[i];
        }
    }
    if (rc == 0) {
        parallel_for(nt, n, accel_one, &a);
        if (a.failed) {
            snprintf(err, sizeof err, "%s", a.err);
            rc = -1;
        }
    }
    cand_list raw = {0};
    for (int t = 0; t < nt; t++) {
        cand_list_append(&raw, &a.per_thread[t]);
        cand_list_free(&a.per_thread[t]);
    }
    cand_list_sort(&raw);
    const char *out = c->out ? c->out : "cands_raw.txt";
    if (rc == 0) rc = cand_list_write(&raw, out, err);
    if (rc == 0 && g->verbose)
        fprintf(stderr, "accelsearch: %d series, %zu candidates above %.1f sigma -> %s\n", n, raw.n,
                g->sp.sigma_min, out);
    for (int k = 0; k < nmade; k++)
        fft_searcher_free(made[k]);
    free(made);
    free(inf);
    free(a.searcher);
    free(a.per_thread);
    cand_list_free(&raw);
    return rc ? fail(err) : 0;
}

static int cmd_sift(cli *c)
{
    char err[1024];
    int u = need_inputs(c, "raw candidate file");
    if (u) return u;
    cand_list raw = {0};
    for (int i = 0; i < c->nargs; i++)
        if (cand_list_read(&raw, c->args[i], err)) {
            cand_list_free(&raw);
            return fail(err);
        }
    sift_list s;
    sift_candidates(&raw, &c->cfg.sift, &s);
    const char *out = c->out ? c->out : "sifted.txt";
    int rc = sift_write(&s, out, err);
    if (rc == 0 && c->cfg.verbose)
        fprintf(stderr, "sift: %zu raw -> %d candidates -> %s\n", raw.n, s.n, out);
    sift_list_free(&s);
    cand_list_free(&raw);
    return rc ? fail(err) : 0;
}

static int cmd_fold(cli *c)
{
    char err[1024];
    int u = need_inputs(c, "input file");
    if (u) return u;
    if (!c->cands) return bad_usage("fold needs --cands SIFTED (from the sift step)%s%s", "", "");
    search_config *g = &c->cfg;
    g->outdir = c->out ? c->out : "folds";
    sift_list s;
    if (sift_read(&s, c->cands, err)) return fail(err);
    fb_data fb;
    int rc = search_load_clean(g, &fb, err);
    if (rc == 0) {
        rc = search_fold_report(g, &fb, &s, err);
        fb_free(&fb);
    }
    sift_list_free(&s);
    return rc ? fail(err) : 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int step;
        int (*fn)(cli *);
    } steps[] = {
        {"search", S_SEARCH, cmd_search},
        {"rfifind", S_RFI, cmd_rfifind},
        {"ddplan", S_DDPLAN, cmd_ddplan},
        {"dedisperse", S_DEDISP, cmd_dedisperse},
        {"accelsearch", S_ACCEL, cmd_accelsearch},
        {"sift", S_SIFT, cmd_sift},
        {"fold", S_FOLD, cmd_fold},
    };
    int which = 0, shift = 0;
    if (argc > 1)
        for (int i = 0; i < (int)(sizeof steps / sizeof steps[0]); i++)
            if (!strcmp(argv[1], steps[i].name)) {
                which = i;
                shift = 1;
            }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return 2;
    }
    cli c;
    memset(&c, 0, sizeof c);
    search_default_config(&c.cfg);
    int rc = parse(&c, steps[which].step, steps[which].name, argc - shift, argv + shift);
    if (rc == 1) return 0; /* --help */
    if (rc) return rc;
    c.cfg.rfi.nthreads = c.cfg.nthreads;
    c.cfg.fold.nthreads = c.cfg.nthreads;
    if (steps[which].step == S_SEARCH) {
        int u = need_inputs(&c, "input file");
        if (u) return u;
    }
    return steps[which].fn(&c);
}
