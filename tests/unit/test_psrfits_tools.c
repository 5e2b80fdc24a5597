/* test_psrfits_tools.c - the MWA.md "plumbing" tests on the real programs.
 *
 * Builds small single-channel PSRFITS files with the library, runs
 * build/bin/fits-merger and build/bin/down-sampler as processes, and checks:
 * splice identity (every channel block of every row byte-identical to its
 * source, frequencies/weights/scales right), zero-weight padding of a gap,
 * refusal of mismatched inputs, down-sampling x4 within one quantisation step
 * of the float mean, --zstd output, fitsverify with no errors, and that a
 * truncated input gives a clear error and leaves no output behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <fitsio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "psrfits.h"

enum { NCH = 8, NSBLK = 32, NROWS = 3 };
#define CHAN_BW 0.16 /* MHz: 8 channels per 1.28 MHz coarse channel */

static char tmpdir[256], bindir[512];

struct gen {
    int coarse; /* MWA coarse channel number */
    int nchan, nsblk, nrows;
    int smjd;
    const char *src;
    unsigned seed;
    double fshift; /* MHz added to every DAT_FREQ */
};

static unsigned rnd(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

/* Roughly Gaussian 8-bit noise around 128, sigma about 20. */
static uint8_t noise_byte(unsigned *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++)
        v += rnd(s) % 70;
    v = 128 + (v - 138);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void gen_row(const struct gen *g, int r, double *freq, float *wts, float *offs, float *scl,
                    uint8_t *data)
{
    unsigned s = g->seed * 7919u + (unsigned)r * 104729u + (unsigned)g->coarse;
    for (int c = 0; c < g->nchan; c++) {
        freq[c] =
            (float)(g->coarse * 1.28 - 0.64 + (c + 0.5) * CHAN_BW + g->fshift); /* stored as E */
        wts[c] = (c == 1 && g->coarse % 2) ? 0.0f : 1.0f;
        offs[c] = (float)(rnd(&s) % 1000) / 10.0f - 50.0f;
        scl[c] = 0.5f + (float)(rnd(&s) % 100) / 50.0f;
    }
    for (int i = 0; i < g->nsblk * g->nchan; i++)
        data[i] = noise_byte(&s);
}

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void gen_file(const char *path, const struct gen *g)
{
    psrfits_hdr h;
    memset(&h, 0, sizeof h);
    snprintf(h.src_name, sizeof h.src_name, "%s", g->src ? g->src : "J0534+2200");
    snprintf(h.ra_str, sizeof h.ra_str, "05:34:31.97");
    snprintf(h.dec_str, sizeof h.dec_str, "+22:00:52.07");
    snprintf(h.telescope, sizeof h.telescope, "MWA");
    h.stt_imjd = 58789;
    h.stt_smjd = g->smjd ? g->smjd : 43184;
    h.stt_offs = 0.0;
    h.nchan = g->nchan;
    h.chan_bw = CHAN_BW;
    h.obsfreq = g->coarse * 1.28;
    h.obsbw = g->nchan * CHAN_BW;
    h.nsblk = g->nsblk;
    h.tbin = 1e-4;
    psrfits *f;
    char err[PSRFITS_ERR_LEN];
    if (psrfits_create(&f, path, &h, err)) fail_msg("%s", err);
    if (psrfits_add_history(f, "test-input-marker", err)) fail_msg("%s", err);
    double freq[64];
    float wts[64], offs[64], scl[64];
    uint8_t *data = malloc((size_t)g->nsblk * g->nchan);
    for (int r = 0; r < g->nrows; r++) {
        gen_row(g, r, freq, wts, offs, scl, data);
        if (psrfits_write_row(f, freq, wts, offs, scl, data, (r + 0.5) * g->nsblk * h.tbin, err))
            fail_msg("%s", err);
    }
    free(data);
    if (psrfits_close(f, err)) fail_msg("%s", err);
}

static struct gen std_gen(int coarse)
{
    struct gen g = {coarse, NCH, NSBLK, NROWS, 0, NULL, 42, 0.0};
    return g;
}

/* Runs a shell command; stderr goes to tmpdir/stderr.txt (read by last_stderr). */
static int run(const char *fmt, ...)
{
    char cmd[4096], full[4600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "cd %s && %s 2>stderr.txt >/dev/null", tmpdir, cmd);
    int rc = system(full);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static const char *last_stderr(void)
{
    static char buf[4096];
    char p[300];
    path_in(p, sizeof p, "stderr.txt");
    FILE *fp = fopen(p, "r");
    buf[0] = 0;
    if (fp) {
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        buf[n] = 0;
        fclose(fp);
    }
    return buf;
}

static int exists(const char *name)
{
    char p[300];
    path_in(p, sizeof p, name);
    return access(p, F_OK) == 0;
}

/* No "*.tmp.*" file may be left behind by a failed or successful run. */
static int temp_files_left(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

static void assert_fitsverify_clean(const char *name)
{
    char p[300], cmd[700];
    path_in(p, sizeof p, name);
    snprintf(cmd, sizeof cmd,
             "fitsverify %s 2>&1 | grep -q ' 0 warning(s) and 0 error(s)' || { fitsverify %s; "
             "exit 1; }",
             p, p);
    assert_int_equal(system(cmd), 0);
}

static int has_history(const char *path, const char *text)
{
    fitsfile *fp;
    int st = 0, nkeys = 0, found = 0;
    fits_open_diskfile(&fp, path, READONLY, &st);
    fits_get_hdrspace(fp, &nkeys, NULL, &st);
    for (int k = 1; k <= nkeys && !st; k++) {
        char card[FLEN_CARD];
        fits_read_record(fp, k, card, &st);
        if (!strncmp(card, "HISTORY", 7) && strstr(card, text)) found = 1;
    }
    int st2 = 0;
    fits_close_file(fp, &st2);
    return found;
}

/* Checks the merged file against its sources; pads lists coarse channels
 * expected to be missing (zero weight). */
static void check_merged(const char *name, const int *coarse, int n, int first, int last)
{
    char p[300], err[PSRFITS_ERR_LEN];
    path_in(p, sizeof p, name);
    psrfits *f;
    psrfits_hdr h;
    if (psrfits_open(&f, p, &h, err)) fail_msg("%s", err);
    int total = (last - first + 1) * NCH;
    assert_int_equal(h.nchan, total);
    assert_int_equal(h.obsnchan, total);
    assert_int_equal(h.nsblk, NSBLK);
    assert_int_equal(h.nrows, NROWS);
    assert_true(fabs(h.obsbw - total * CHAN_BW) < 1e-9);
    double f0 = first * 1.28 - 0.64 + 0.5 * CHAN_BW;
    double f1 = last * 1.28 - 0.64 + (NCH - 0.5) * CHAN_BW;
    assert_true(fabs(h.obsfreq - (f0 + f1) / 2) < 1e-5); /* from float32 DAT_FREQ */
    assert_true(fabs(h.obsfreq - (first + last) * 1.28 / 2) < 1e-5);
    assert_string_equal(h.src_name, "J0534+2200");
    assert_int_equal(h.stt_smjd, 43184);
    assert_true(has_history(p, "test-input-marker"));

    double *freq = malloc(sizeof *freq * total), sfreq[NCH], offs_sub;
    float *wts = malloc(sizeof *wts * total), *offs = malloc(sizeof *offs * total);
    float *scl = malloc(sizeof *scl * total);
    float swts[NCH], soffs[NCH], sscl[NCH];
    uint8_t *data = malloc((size_t)NSBLK * total), sdata[NSBLK * NCH];
    for (int r = 0; r < NROWS; r++) {
        if (psrfits_read_row(f, r, freq, wts, offs, scl, data, &offs_sub, err)) fail_msg("%s", err);
        assert_true(fabs(offs_sub - (r + 0.5) * NSBLK * 1e-4) < 1e-12);
        for (int cc = first; cc <= last; cc++) {
            int block = (cc - first) * NCH, present = 0;
            for (int i = 0; i < n; i++)
                present |= coarse[i] == cc;
            if (present) {
                struct gen g = std_gen(cc);
                gen_row(&g, r, sfreq, swts, soffs, sscl, sdata);
                assert_memory_equal(freq + block, sfreq, sizeof sfreq);
                assert_memory_equal(wts + block, swts, sizeof swts);
                assert_memory_equal(offs + block, soffs, sizeof soffs);
                assert_memory_equal(scl + block, sscl, sizeof sscl);
                for (int s = 0; s < NSBLK; s++)
                    assert_memory_equal(data + (size_t)s * total + block, sdata + s * NCH, NCH);
            } else {
                for (int c = 0; c < NCH; c++) {
                    assert_true(wts[block + c] == 0.0f);
                    assert_true(offs[block + c] == 0.0f);
                    double want = cc * 1.28 - 0.64 + (c + 0.5) * CHAN_BW;
                    assert_true(fabs(freq[block + c] - want) < 1e-5);
                    for (int s = 0; s < NSBLK; s++)
                        assert_int_equal(data[(size_t)s * total + block + c], 0);
                }
            }
        }
    }
    free(freq);
    free(wts);
    free(offs);
    free(scl);
    free(data);
    psrfits_close(f, err);
}

static void make_inputs(const int *coarse, int n)
{
    for (int i = 0; i < n; i++) {
        char name[64], p[300];
        snprintf(name, sizeof name, "ch%03d.fits", coarse[i]);
        path_in(p, sizeof p, name);
        struct gen g = std_gen(coarse[i]);
        gen_file(p, &g);
    }
}

static void test_merge_splice(void **state)
{
    (void)state;
    int coarse[] = {109, 110, 111, 112};
    make_inputs(coarse, 4);
    /* Inputs deliberately out of order: the merger sorts by frequency. */
    assert_int_equal(run("%s/fits-merger -o merged.fits ch111.fits ch109.fits ch112.fits "
                         "ch110.fits",
                         bindir),
                     0);
    check_merged("merged.fits", coarse, 4, 109, 112);
    assert_fitsverify_clean("merged.fits");
    assert_int_equal(temp_files_left(), 0);
}

static void test_merge_gap(void **state)
{
    (void)state;
    int coarse[] = {109, 110, 112};
    make_inputs(coarse, 3);
    assert_int_equal(run("%s/fits-merger -o gap.fits ch109.fits ch110.fits ch112.fits", bindir), 0);
    assert_non_null(strstr(last_stderr(), "padded with zero weights"));
    check_merged("gap.fits", coarse, 3, 109, 112);
    assert_fitsverify_clean("gap.fits");
}

static void expect_refusal(const char *bad, const char *word)
{
    assert_int_not_equal(run("%s/fits-merger -o refused.fits ch109.fits %s", bindir, bad), 0);
    const char *e = last_stderr();
    if (!strstr(e, bad) || !strstr(e, word))
        fail_msg("expected a message naming %s and '%s', got: %s", bad, word, e);
    assert_false(exists("refused.fits"));
    assert_int_equal(temp_files_left(), 0);
}

static void test_merge_refuses_mismatch(void **state)
{
    (void)state;
    int coarse[] = {109};
    make_inputs(coarse, 1);
    char p[300];
    struct gen g = std_gen(110);
    g.nrows = NROWS + 1;
    path_in(p, sizeof p, "rows.fits");
    gen_file(p, &g);
    expect_refusal("rows.fits", "rows");
    g = std_gen(110);
    g.nsblk = NSBLK * 2;
    path_in(p, sizeof p, "nsblk.fits");
    gen_file(p, &g);
    expect_refusal("nsblk.fits", "NSBLK");
    g = std_gen(110);
    g.smjd = 43185;
    path_in(p, sizeof p, "start.fits");
    gen_file(p, &g);
    expect_refusal("start.fits", "starts at");
    g = std_gen(110);
    g.src = "J0835-4510";
    path_in(p, sizeof p, "src.fits");
    gen_file(p, &g);
    expect_refusal("src.fits", "SRC_NAME");
    /* The same coarse channel twice overlaps. */
    g = std_gen(109);
    path_in(p, sizeof p, "dup109.fits");
    gen_file(p, &g);
    expect_refusal("dup109.fits", "overlaps");
    /* Half a channel off the grid. */
    g = std_gen(110);
    g.fshift = CHAN_BW / 2;
    path_in(p, sizeof p, "offgrid.fits");
    gen_file(p, &g);
    expect_refusal("offgrid.fits", "channel grid");
}

static void truncate_copy(const char *src, const char *dst, long cut)
{
    char a[300], b[300], cmd[700];
    path_in(a, sizeof a, src);
    path_in(b, sizeof b, dst);
    snprintf(cmd, sizeof cmd, "cp %s %s", a, b);
    assert_int_equal(system(cmd), 0);
    struct stat sb;
    assert_int_equal(stat(b, &sb), 0);
    assert_int_equal(truncate(b, sb.st_size - cut), 0);
}

static void test_truncated_input(void **state)
{
    (void)state;
    int coarse[] = {109, 110};
    make_inputs(coarse, 2);
    truncate_copy("ch110.fits", "short.fits", 2880 + 100);
    assert_int_not_equal(run("%s/fits-merger -o t.fits ch109.fits short.fits", bindir), 0);
    assert_non_null(strstr(last_stderr(), "short.fits"));
    assert_non_null(strstr(last_stderr(), "truncated"));
    assert_false(exists("t.fits"));
    assert_int_not_equal(run("%s/down-sampler -o t.fits short.fits", bindir), 0);
    assert_non_null(strstr(last_stderr(), "truncated"));
    assert_false(exists("t.fits"));
    assert_int_equal(temp_files_left(), 0);
    /* Not a FITS file at all. */
    assert_int_not_equal(
        run("echo hello > junk.fits && %s/down-sampler -o t.fits junk.fits", bindir), 0);
    assert_non_null(strstr(last_stderr(), "junk.fits"));
    assert_false(exists("t.fits"));
}

/* Compares a x4 down-sampled file with the float mean of its source. */
static void check_downsampled(const char *src, const char *dst, int F)
{
    char a[300], b[300], err[PSRFITS_ERR_LEN];
    path_in(a, sizeof a, src);
    path_in(b, sizeof b, dst);
    psrfits *fi, *fo;
    psrfits_hdr hi, ho;
    if (psrfits_open(&fi, a, &hi, err) || psrfits_open(&fo, b, &ho, err)) fail_msg("%s", err);
    assert_int_equal(ho.nsblk, hi.nsblk / F);
    assert_true(fabs(ho.tbin - hi.tbin * F) < 1e-15);
    assert_int_equal(ho.nchan, hi.nchan);
    assert_int_equal(ho.nrows, hi.nrows);
    assert_true(ho.obsfreq == hi.obsfreq && ho.obsbw == hi.obsbw && ho.chan_bw == hi.chan_bw);
    assert_string_equal(ho.src_name, hi.src_name);
    assert_string_equal(ho.ra_str, hi.ra_str);
    assert_string_equal(ho.dec_str, hi.dec_str);
    assert_int_equal(ho.stt_imjd, hi.stt_imjd);
    assert_int_equal(ho.stt_smjd, hi.stt_smjd);
    assert_true(ho.stt_offs == hi.stt_offs);
    assert_true(has_history(b, "test-input-marker"));
    int nc = hi.nchan;
    double fi_[64], fo_[64], osi, oso;
    float wi[64], wo[64], oi[64], oo[64], si[64], so[64];
    uint8_t *di = malloc((size_t)hi.nsblk * nc), *dout = malloc((size_t)ho.nsblk * nc);
    double maxerr = 0, sumerr = 0;
    long count = 0;
    for (int r = 0; r < hi.nrows; r++) {
        if (psrfits_read_row(fi, r, fi_, wi, oi, si, di, &osi, err) ||
            psrfits_read_row(fo, r, fo_, wo, oo, so, dout, &oso, err))
            fail_msg("%s", err);
        assert_true(osi == oso);
        assert_memory_equal(fi_, fo_, sizeof(double) * nc);
        assert_memory_equal(wi, wo, sizeof(float) * nc);
        for (int s = 0; s < ho.nsblk; s++)
            for (int c = 0; c < nc; c++) {
                double mean = 0;
                for (int k = 0; k < F; k++)
                    mean += di[(size_t)(s * F + k) * nc + c] * (double)si[c] + oi[c];
                mean /= F;
                double got = dout[(size_t)s * nc + c] * (double)so[c] + oo[c];
                double e = fabs(got - mean) / so[c]; /* in output quantisation steps */
                if (e > 1.0)
                    fail_msg("row %d sample %d chan %d: %g vs mean %g (%.3f steps)", r, s, c, got,
                             mean, e);
                maxerr = fmax(maxerr, e);
                sumerr += e;
                count++;
            }
    }
    /* Rounding to nearest: mean error about a quarter step. */
    assert_true(sumerr / count < 0.3);
    assert_true(maxerr <= 1.0);
    free(di);
    free(dout);
    psrfits_close(fi, err);
    psrfits_close(fo, err);
}

static void test_downsample(void **state)
{
    (void)state;
    int coarse[] = {113};
    make_inputs(coarse, 1);
    assert_int_equal(run("%s/down-sampler -f 4 -o ds.fits ch113.fits", bindir), 0);
    check_downsampled("ch113.fits", "ds.fits", 4);
    assert_fitsverify_clean("ds.fits");
    /* Re-running is harmless (idempotent) and leaves no temporary files. */
    assert_int_equal(run("%s/down-sampler -o ds.fits ch113.fits", bindir), 0);
    check_downsampled("ch113.fits", "ds.fits", 4);
    /* Default name. */
    assert_int_equal(run("%s/down-sampler -f 2 ch113.fits", bindir), 0);
    check_downsampled("ch113.fits", "ch113_ds2.fits", 2);
    assert_int_equal(temp_files_left(), 0);
}

static void test_downsample_not_divisible(void **state)
{
    (void)state;
    int coarse[] = {114};
    make_inputs(coarse, 1);
    assert_int_not_equal(run("%s/down-sampler -f 5 -o nd.fits ch114.fits", bindir), 0);
    assert_non_null(strstr(last_stderr(), "not divisible"));
    assert_false(exists("nd.fits"));
    assert_int_equal(temp_files_left(), 0);
}

static void decompress(const char *src, const char *dst)
{
    FILE *fi = fopen(src, "rb"), *fo = fopen(dst, "wb");
    assert_non_null(fi);
    assert_non_null(fo);
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    size_t isz = ZSTD_DStreamInSize(), osz = ZSTD_DStreamOutSize(), n, last = 1;
    void *ib = malloc(isz), *ob = malloc(osz);
    while ((n = fread(ib, 1, isz, fi)) > 0) {
        ZSTD_inBuffer in = {ib, n, 0};
        while (in.pos < in.size) {
            ZSTD_outBuffer out = {ob, osz, 0};
            last = ZSTD_decompressStream(dc, &out, &in);
            assert_false(ZSTD_isError(last));
            fwrite(ob, 1, out.pos, fo);
        }
    }
    assert_int_equal(last, 0); /* a complete frame */
    ZSTD_freeDCtx(dc);
    free(ib);
    free(ob);
    fclose(fi);
    fclose(fo);
}

static void test_downsample_zstd(void **state)
{
    (void)state;
    int coarse[] = {115};
    make_inputs(coarse, 1);
    assert_int_equal(run("%s/down-sampler --zstd -o z.fits ch115.fits", bindir), 0);
    assert_true(exists("z.fits.zst"));
    assert_false(exists("z.fits"));
    assert_int_equal(temp_files_left(), 0);
    char a[300], b[300];
    path_in(a, sizeof a, "z.fits.zst");
    path_in(b, sizeof b, "unz.fits");
    decompress(a, b);
    check_downsampled("ch115.fits", "unz.fits", 4);
    assert_fitsverify_clean("unz.fits");
}

static void test_help(void **state)
{
    (void)state;
    assert_int_equal(run("%s/down-sampler --help", bindir), 0);
    assert_int_equal(run("%s/fits-merger --help", bindir), 0);
    assert_int_equal(run("%s/fits-merger ch109.fits", bindir), 2);
    assert_non_null(strstr(last_stderr(), "-o OUT is required"));
    assert_int_equal(run("%s/down-sampler -f x in.fits", bindir), 2);
}

int main(void)
{
    const char *root = getenv("SLUICE_ROOT");
    char cwd[400];
    if (!root) root = getcwd(cwd, sizeof cwd);
    snprintf(bindir, sizeof bindir, "%s/build/bin", root ? root : ".");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_psrfits_tools.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_splice),
        cmocka_unit_test(test_merge_gap),
        cmocka_unit_test(test_merge_refuses_mismatch),
        cmocka_unit_test(test_truncated_input),
        cmocka_unit_test(test_downsample),
        cmocka_unit_test(test_downsample_not_divisible),
        cmocka_unit_test(test_downsample_zstd),
        cmocka_unit_test(test_help),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (!getenv("KEEP_TMP") && system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
