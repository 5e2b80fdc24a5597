/* test_psrfits.c - PSRFITS writer/reader round trip and quantisation.
 *
 * Writes a small file with every header field set, reads it back and checks
 * every header value and every byte of every row; checks that fitsverify
 * finds no errors, that a truncated file is refused with a clear message,
 * and that psrfits_quantise reconstructs within half a quantisation step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fitsio.h>

#include "psrfits.h"

enum { NCHAN = 16, NSBLK = 64, NROWS = 3 };

static char tmpdir[256];

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static psrfits_hdr sample_hdr(void)
{
    psrfits_hdr h;
    memset(&h, 0, sizeof h);
    snprintf(h.src_name, sizeof h.src_name, "J0437-4715");
    snprintf(h.ra_str, sizeof h.ra_str, "04:37:15.8961");
    snprintf(h.dec_str, sizeof h.dec_str, "-47:15:09.110");
    snprintf(h.telescope, sizeof h.telescope, "MWA");
    snprintf(h.backend, sizeof h.backend, "sluice-test");
    snprintf(h.project, sizeof h.project, "G0057");
    snprintf(h.observer, sizeof h.observer, "someone");
    h.stt_imjd = 58789;
    h.stt_smjd = 43184;
    h.stt_offs = 0.25;
    h.chan_bw = 0.01;
    h.nchan = NCHAN;
    h.obsnchan = NCHAN;
    h.obsfreq = 140.8;
    h.obsbw = NCHAN * h.chan_bw;
    h.nsblk = NSBLK;
    h.tbin = 1e-4;
    h.nbits = 8;
    h.npol = 1;
    h.ra_deg = 69.316233750;
    h.dec_deg = -47.252530556;
    return h;
}

static void fill_row(int r, double *freq, float *wts, float *offs, float *scl, uint8_t *data)
{
    for (int c = 0; c < NCHAN; c++) {
        freq[c] = (float)(140.8 - 0.08 + 0.005 + 0.01 * c); /* DAT_FREQ is float32 */
        wts[c] = (c == 3) ? 0.0f : 1.0f;
        offs[c] = 100.0f + r + c * 0.5f;
        scl[c] = 0.25f + 0.01f * c;
    }
    for (int i = 0; i < NSBLK * NCHAN; i++)
        data[i] = (uint8_t)(i * 7 + r * 13);
}

static void write_sample(const char *path)
{
    psrfits_hdr h = sample_hdr();
    psrfits *f;
    char err[PSRFITS_ERR_LEN];
    assert_int_equal(psrfits_create(&f, path, &h, err), 0);
    double freq[NCHAN];
    float wts[NCHAN], offs[NCHAN], scl[NCHAN];
    uint8_t data[NSBLK * NCHAN];
    for (int r = 0; r < NROWS; r++) {
        fill_row(r, freq, wts, offs, scl, data);
        int rc = psrfits_write_row(f, freq, wts, offs, scl, data, (r + 0.5) * NSBLK * h.tbin, err);
        if (rc) fail_msg("%s", err);
    }
    assert_int_equal(psrfits_close(f, err), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[300], err[PSRFITS_ERR_LEN];
    path_in(path, sizeof path, "rt.fits");
    write_sample(path);
    psrfits_hdr w = sample_hdr(), h;
    psrfits *f;
    if (psrfits_open(&f, path, &h, err)) fail_msg("%s", err);
    assert_string_equal(h.src_name, w.src_name);
    assert_string_equal(h.ra_str, w.ra_str);
    assert_string_equal(h.dec_str, w.dec_str);
    assert_string_equal(h.telescope, w.telescope);
    assert_string_equal(h.backend, w.backend);
    assert_string_equal(h.project, w.project);
    assert_string_equal(h.observer, w.observer);
    assert_int_equal(h.stt_imjd, w.stt_imjd);
    assert_int_equal(h.stt_smjd, w.stt_smjd);
    assert_true(h.stt_offs == w.stt_offs);
    assert_true(h.obsfreq == w.obsfreq);
    assert_true(h.obsbw == w.obsbw);
    assert_int_equal(h.obsnchan, w.obsnchan);
    assert_int_equal(h.nchan, w.nchan);
    assert_int_equal(h.nsblk, w.nsblk);
    assert_true(h.tbin == w.tbin);
    assert_true(h.chan_bw == w.chan_bw);
    assert_int_equal(h.nbits, 8);
    assert_int_equal(h.npol, 1);
    assert_true(h.ra_deg == w.ra_deg);
    assert_true(h.dec_deg == w.dec_deg);
    assert_int_equal(h.nrows, NROWS);

    double freq[NCHAN], rfreq[NCHAN], offs_sub;
    float wts[NCHAN], offs[NCHAN], scl[NCHAN], rwts[NCHAN], roffs[NCHAN], rscl[NCHAN];
    uint8_t data[NSBLK * NCHAN], rdata[NSBLK * NCHAN];
    for (int r = 0; r < NROWS; r++) {
        fill_row(r, freq, wts, offs, scl, data);
        if (psrfits_read_row(f, r, rfreq, rwts, roffs, rscl, rdata, &offs_sub, err))
            fail_msg("%s", err);
        assert_memory_equal(freq, rfreq, sizeof freq);
        assert_memory_equal(wts, rwts, sizeof wts);
        assert_memory_equal(offs, roffs, sizeof offs);
        assert_memory_equal(scl, rscl, sizeof scl);
        assert_memory_equal(data, rdata, sizeof data);
        assert_true(offs_sub == (r + 0.5) * NSBLK * w.tbin);
    }
    /* NULL outputs are allowed; out-of-range rows are refused. */
    assert_int_equal(psrfits_read_row(f, 1, NULL, NULL, NULL, NULL, rdata, NULL, err), 0);
    assert_int_equal(psrfits_read_row(f, NROWS, NULL, NULL, NULL, NULL, rdata, NULL, err), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(psrfits_close(f, err), 0);
}

static void test_fitsverify(void **state)
{
    (void)state;
    char path[300], cmd[700];
    path_in(path, sizeof path, "fv.fits");
    write_sample(path);
    snprintf(cmd, sizeof cmd,
             "fitsverify -e %s 2>&1 | grep -q ' 0 error(s)' || { fitsverify %s; exit 1; }", path,
             path);
    if (system("command -v fitsverify >/dev/null") != 0) skip();
    assert_int_equal(system(cmd), 0);
    /* And no warnings either. */
    snprintf(cmd, sizeof cmd, "fitsverify %s 2>&1 | grep -q ' 0 warning(s) and 0 error(s)'", path);
    assert_int_equal(system(cmd), 0);
}

/* Rows whose length is not a multiple of 4 bytes exercise the running
 * DATASUM's word alignment; fitsverify checks CHECKSUM and DATASUM. */
static void test_odd_row_length(void **state)
{
    (void)state;
    char path[300], cmd[700], err[PSRFITS_ERR_LEN];
    path_in(path, sizeof path, "odd.fits");
    psrfits_hdr h = sample_hdr();
    h.nchan = h.obsnchan = 3;
    h.nsblk = 5;
    psrfits *f;
    assert_int_equal(psrfits_create(&f, path, &h, err), 0);
    double freq[3] = {140.0, 140.01, 140.02};
    float wts[3] = {1, 1, 1}, offs[3] = {1, 2, 3}, scl[3] = {0.5f, 0.25f, 2};
    uint8_t data[15];
    for (int r = 0; r < 7; r++) {
        for (int i = 0; i < 15; i++)
            data[i] = (uint8_t)(r * 31 + i * 17 + 1);
        assert_int_equal(psrfits_write_row(f, freq, wts, offs, scl, data, r * 5e-4, err), 0);
    }
    assert_int_equal(psrfits_close(f, err), 0);
    snprintf(cmd, sizeof cmd,
             "fitsverify %s 2>&1 | grep -q ' 0 warning(s) and 0 error(s)' || { fitsverify %s; "
             "exit 1; }",
             path, path);
    assert_int_equal(system(cmd), 0);
    psrfits_hdr rh;
    assert_int_equal(psrfits_open(&f, path, &rh, err), 0);
    assert_int_equal(rh.nrows, 7);
    uint8_t back[15];
    assert_int_equal(psrfits_read_row(f, 6, NULL, NULL, NULL, NULL, back, NULL, err), 0);
    assert_memory_equal(back, data, 15);
    psrfits_close(f, err);
}

static void test_truncated(void **state)
{
    (void)state;
    char path[300], err[PSRFITS_ERR_LEN];
    path_in(path, sizeof path, "trunc.fits");
    write_sample(path);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(path, size - 3000), 0);
    psrfits *f = NULL;
    psrfits_hdr h;
    assert_int_equal(psrfits_open(&f, path, &h, err), -1);
    assert_null(f);
    assert_non_null(strstr(err, "truncated"));
    assert_non_null(strstr(err, path));
    /* Whole blocks missing: the headers promise more rows than the file holds. */
    write_sample(path);
    assert_int_equal(truncate(path, size - 2880), 0);
    assert_int_equal(psrfits_open(&f, path, &h, err), -1);
    assert_non_null(strstr(err, "truncated"));
    assert_non_null(strstr(err, "rows"));
    /* Not FITS at all. */
    fp = fopen(path, "wb");
    fputs("hello", fp);
    fclose(fp);
    assert_int_equal(psrfits_open(&f, path, &h, err), -1);
    assert_non_null(strstr(err, path));
    path_in(path, sizeof path, "does-not-exist.fits");
    assert_int_equal(psrfits_open(&f, path, &h, err), -1);
}

/* A file with no rows has no size to betray a header whose row is absurd
 * (NSBLK x NCHAN = 2 GiB): refused, since readers size buffers from it. */
static void test_huge_row_no_rows(void **state)
{
    (void)state;
    char path[300], err[PSRFITS_ERR_LEN];
    path_in(path, sizeof path, "hugerow.fits");
    psrfits_hdr h = sample_hdr();
    psrfits *f;
    assert_int_equal(psrfits_create(&f, path, &h, err), 0);
    assert_int_equal(psrfits_close(f, err), 0);
    fitsfile *fp;
    int st = 0, col = 0, nsblk = 1 << 27; /* x 16 channels = 2 GiB */
    fits_open_file(&fp, path, READWRITE, &st);
    fits_movnam_hdu(fp, BINARY_TBL, "SUBINT", 0, &st);
    fits_update_key(fp, TINT, "NSBLK", &nsblk, NULL, &st);
    fits_get_colnum(fp, CASEINSEN, "DATA", &col, &st);
    fits_modify_vector_len(fp, col, (long long)nsblk * NCHAN, &st);
    fits_close_file(fp, &st);
    assert_int_equal(st, 0);
    assert_int_equal(psrfits_open(&f, path, &h, err), -1);
    assert_non_null(strstr(err, "bytes a row"));
}

static void test_quantise(void **state)
{
    (void)state;
    enum { NS = 500, NC = 7 };
    float in[NS * NC], offs[NC], scl[NC];
    uint8_t q[NS * NC];
    unsigned s = 12345;
    for (int i = 0; i < NS * NC; i++) {
        s = s * 1103515245u + 12345u;
        int c = i % NC;
        in[i] = 1000.0f * c + (float)((s >> 8) % 2001) / 100.0f - 10.0f; /* uniform +-10 */
    }
    for (int i = 0; i < NS; i++)
        in[i * NC + 6] = 42.0f; /* a constant channel */
    psrfits_quantise(in, NS, NC, q, offs, scl);
    double sum128 = 0;
    for (int i = 0; i < NS * NC; i++) {
        int c = i % NC;
        double v = q[i] * (double)scl[c] + offs[c];
        assert_true(fabs(v - in[i]) <= 0.5 * scl[c] * 1.0001 + 1e-3);
        if (c == 0) sum128 += q[i];
    }
    assert_true(fabs(sum128 / NS - 128.0) < 3.0); /* mean maps to ~128 */
    for (int i = 0; i < NS; i++)
        assert_int_equal(q[i * NC + 6], 128);
}

static void test_bad_header(void **state)
{
    (void)state;
    char path[300], err[PSRFITS_ERR_LEN];
    path_in(path, sizeof path, "bad.fits");
    psrfits_hdr h = sample_hdr();
    h.nbits = 4;
    psrfits *f;
    assert_int_equal(psrfits_create(&f, path, &h, err), -1);
    assert_non_null(strstr(err, "8-bit"));
    h = sample_hdr();
    h.nsblk = 0;
    assert_int_equal(psrfits_create(&f, path, &h, err), -1);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/test_psrfits.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_fitsverify),
        cmocka_unit_test(test_truncated),        cmocka_unit_test(test_odd_row_length),
        cmocka_unit_test(test_quantise),         cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_huge_row_no_rows),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (!getenv("KEEP_TMP") && system(cmd) != 0) rc = rc ? rc : 1;
    return rc;
}
