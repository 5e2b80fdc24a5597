/* unit_search.c - unit tests of the search's building blocks: the dispersion
 * delay, the DM plan, subband vs direct dedispersion, harmonic summing, the
 * significance of summed powers, the acceleration templates, the folded
 * profile S/N, the RFI mask and the PNG encoder. Each test checks numbers
 * that are known independently of the code under test. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../accel.h"
#include "../filterbank.h"
#include "psrfits.h"
#include "../ddplan.h"
#include "../dedisp.h"
#include "../dispersion.h"
#include "../fftsearch.h"
#include "../fold.h"
#include "../png.h"
#include "../rfi.h"
#include "../stats.h"

static void test_delay_formula(void **state)
{
    (void)state;
    /* MWA.md: about 0.0709 s per unit DM over 138.88-169.60 MHz. */
    double d = dispersion_delay(1.0, 138.88, 169.60);
    assert_true(fabs(d - 0.0709) < 0.0005);
    /* K = 4148.808 s MHz^2: one unit DM at 1 GHz vs infinity is 4.148808 ms. */
    assert_true(fabs(dispersion_delay(1.0, 1000.0, 1e12) - 4.148808e-3) < 1e-9);
    assert_true(fabs(DISPERSION_K - 4148.808) < 1e-9);
    /* Linear in DM, zero at the reference. */
    assert_true(fabs(dispersion_delay(12.5, 150, 169.6) - 12.5 * dispersion_delay(1, 150, 169.6)) <
                1e-12);
    assert_true(dispersion_delay(30, 169.6, 169.6) == 0.0);
    /* Channel smearing: 2 K DM dnu / f^3. */
    double sm = dispersion_channel_smear(12.5, 154.24, 0.08);
    assert_true(fabs(sm - 2 * 4148.808 * 12.5 * 0.08 / pow(154.24, 3)) < 1e-12);
}

static void test_ddplan(void **state)
{
    (void)state;
    char err[256];
    ddplan p;
    ddplan_params in = {.lodm = 0,
                        .hidm = 30,
                        .tsamp = 0.001,
                        .fctr = 154.24,
                        .bw = 30.72,
                        .nchan = 384,
                        .nsub = 32,
                        .ff = 1.0,
                        .max_downsamp = 64};
    assert_int_equal(ddplan_make(&in, &p, err), 0);
    assert_true(p.nsteps >= 2);
    /* First step: full resolution; half a step of DM error <= 1 sample over the band. */
    assert_int_equal(p.step[0].downsamp, 1);
    assert_true(0.5 * p.step[0].ddm * 0.0709 <= 0.001);
    assert_true(fabs(p.step[0].ddm - 0.02) < 1e-9);
    int total = 0;
    for (int s = 0; s < p.nsteps; s++) {
        total += p.step[s].ndm;
        if (s > 0) {
            /* Contiguous, growing steps and down-sampling. */
            double end = p.step[s - 1].lodm + p.step[s - 1].ndm * p.step[s - 1].ddm;
            assert_true(fabs(p.step[s].lodm - end) < 1e-9);
            assert_true(p.step[s].ddm >= p.step[s - 1].ddm);
            assert_int_equal(p.step[s].downsamp, 2 * p.step[s - 1].downsamp);
        }
        assert_true(p.step[s].dms_per_pass >= 1 && p.step[s].dms_per_pass <= p.step[s].ndm);
    }
    assert_int_equal(total, p.total_dms);
    const ddplan_step *last = &p.step[p.nsteps - 1];
    assert_true(last->lodm + last->ndm * last->ddm >= 30.0 - 1e-9);
    int st;
    assert_true(fabs(ddplan_dm(&p, 0, &st) - 0.0) < 1e-12 && st == 0);
    assert_true(fabs(ddplan_dm(&p, p.step[0].ndm, &st) - p.step[1].lodm) < 1e-9 && st == 1);
    assert_true(ddplan_dm(&p, p.total_dms, &st) < 0 && st == -1);
    /* Write and read back. */
    FILE *fp = tmpfile();
    ddplan_write(&p, fp);
    rewind(fp);
    ddplan q;
    assert_int_equal(ddplan_read(&q, fp, err), 0);
    fclose(fp);
    assert_int_equal(q.total_dms, p.total_dms);
    assert_int_equal(q.nsub, p.nsub);
    /* Bad input is refused with a message. */
    in.hidm = -1;
    assert_int_equal(ddplan_make(&in, &p, err), -1);
    assert_non_null(strstr(err, "invalid"));
}

/* A dispersed impulse: channel c has 1.0 at sample t0 + delay_c. */
static void make_impulse(fb_data *fb, int nchan, int64_t nsamp, double dm, int64_t t0)
{
    memset(fb, 0, sizeof *fb);
    fb->nchan = nchan;
    fb->nsamp = nsamp;
    fb->tsamp = 0.001;
    fb->freq = malloc(sizeof(double) * nchan);
    fb->weight = malloc(sizeof(float) * nchan);
    fb->data = calloc((size_t)nchan * nsamp, sizeof(float));
    for (int c = 0; c < nchan; c++) {
        fb->freq[c] = 169.56 - c * 0.08;
        fb->weight[c] = 1;
        int64_t d = llround(dispersion_delay(dm, fb->freq[c], fb->freq[0]) / fb->tsamp);
        fb->data[(size_t)c * nsamp + t0 + d] = 1.0f;
    }
}

static void test_dedispersion(void **state)
{
    (void)state;
    char err[512];
    fb_data fb;
    make_impulse(&fb, 64, 4096, 20.0, 100);
    dedisp d;
    assert_int_equal(dedisp_init(&d, &fb, 8, 2, err), 0);
    float *out = malloc(sizeof(float) * fb.nsamp);
    dedisp_direct(&d, 20.0, out);
    assert_true(fabs(out[100] - 64.0f) < 1e-4); /* every channel lines up */
    /* Subbands: formed at a nearby DM, trial at the true DM: nearly all of it. */
    float *sub = malloc(sizeof(float) * 8 * fb.nsamp);
    dedisp_subbands(&d, 20.1, 1, sub);
    dedisp_series(&d, sub, 1, 20.0, out);
    float peak = 0;
    for (int i = 98; i <= 102; i++)
        peak += out[i];
    assert_true(peak > 63.5f);
    /* At a wrong DM the impulse is spread out. */
    dedisp_direct(&d, 0.0, out);
    float mx = 0;
    for (int64_t i = 0; i < fb.nsamp; i++)
        mx = out[i] > mx ? out[i] : mx;
    assert_true(mx < 10.0f);
    /* Down-sampled by 4: the sum lands in sample 100/4 = 25. */
    dedisp_subbands(&d, 20.0, 4, sub);
    dedisp_series(&d, sub, 4, 20.0, out);
    assert_true(out[25] + out[24] + out[26] > 63.5f);
    free(sub);
    free(out);
    dedisp_free(&d);
    fb_free(&fb);
}

static void test_harmonic_sum(void **state)
{
    (void)state;
    /* Half-bin powers with a pulsar at r = 100.25 bins: harmonic h at 2*h*100.25
     * half bins, rounded. */
    int64_t len = 8192;
    float *pp = calloc((size_t)len, sizeof(float));
    for (int h = 1; h <= 16; h++)
        pp[llround(2 * h * 100.25)] = 1.0f;
    /* Stage nh walks the top harmonic: j = 2 * nh * r. */
    for (int nh = 1; nh <= 16; nh *= 2) {
        int64_t j = llround(2 * nh * 100.25);
        float s = harmonic_sum(pp, len, j, nh);
        assert_true(fabs(s - nh) < 1e-6);
    }
    /* One half-bin off the top harmonic misses it. */
    assert_true(harmonic_sum(pp, len, llround(2 * 16 * 100.25) + 3, 16) < 16.0f);
    free(pp);
}

static void test_sigma(void **state)
{
    (void)state;
    /* Q(1, x) = exp(-x); Q(2, x) = exp(-x)(1 + x). */
    assert_true(fabs(stats_log_gamma_q(1, 7.0) + 7.0) < 1e-9);
    assert_true(fabs(stats_log_gamma_q(2, 3.0) - (-3.0 + log(4.0))) < 1e-9);
    assert_true(fabs(stats_log_gamma_q(4, 0.5) - log(0.998248)) < 1e-5);
    /* Normal tail: P(X > 3) = 1.3499e-3; P(X > 40) via the asymptotic series. */
    assert_true(fabs(stats_log_normal_sf(3.0) - log(1.3498980e-3)) < 1e-6);
    assert_true(fabs(stats_normal_isf_log(stats_log_normal_sf(40.0)) - 40.0) < 1e-6);
    assert_true(fabs(stats_normal_isf_log(log(0.5))) < 1e-6);
    /* A single bin with power P has p = exp(-P): P = 13.4 -> p = 1.5e-6 -> 4.67 sigma. */
    double p = exp(-13.4), expect = stats_normal_isf_log(log(p));
    assert_true(fabs(stats_power_sigma(13.4, 1, 1) - expect) < 1e-6);
    assert_true(fabs(expect - 4.67) < 0.02);
    /* 1e4 trials make the same power less significant: p -> 1e4 p. */
    assert_true(fabs(stats_power_sigma(30, 1, 1e4) - stats_normal_isf_log(-30 + log(1e4))) < 1e-6);
    /* Huge powers do not overflow. */
    double big = stats_power_sigma(3000, 16, 1e6);
    assert_true(big > 70 && big < 80);
    /* Threshold inversion. */
    double thr = power_for_sigma(5.0, 8, 1e5);
    assert_true(fabs(stats_power_sigma(thr, 8, 1e5) - 5.0) < 1e-3);
}

static void test_accel_templates(void **state)
{
    (void)state;
    double re, im;
    accel_response(0, 0, &re, &im);
    assert_true(fabs(re - 1) < 1e-12 && fabs(im) < 1e-12);
    /* z = 0, half a bin: |A|^2 = (2/pi)^2 (the scalloping loss). */
    accel_response(0.5, 0, &re, &im);
    assert_true(fabs(re * re + im * im - 4 / (M_PI * M_PI)) < 1e-9);
    /* Fresnel result against a brute-force integral. */
    double q = 2.3, z = 7.0;
    double sr = 0, si = 0;
    int n = 200000;
    for (int k = 0; k < n; k++) {
        double u = (k + 0.5) / n, ph = 2 * M_PI * (q * u + 0.5 * z * u * u);
        sr += cos(ph) / n;
        si += sin(ph) / n;
    }
    accel_response(q, z, &re, &im);
    assert_true(fabs(re - sr) < 1e-6 && fabs(im - si) < 1e-6);
    accel_response(-q, -z, &re, &im); /* conjugate symmetry */
    assert_true(fabs(re - sr) < 1e-6 && fabs(im + si) < 1e-6);
    /* Templates have unit energy (Parseval), so noise power stays 1. */
    double e = 0;
    for (int d = -200; d <= 220; d++) {
        accel_response(0.25 - d, 20.0, &re, &im);
        e += re * re + im * im;
    }
    assert_true(fabs(e - 1.0) < 0.01);
}

static void test_fold_snr(void **state)
{
    (void)state;
    /* 64 bins of 100 samples with unit variance; a 4-bin pulse of z = 5 each. */
    float prof[64], cnt[64], z[64];
    for (int b = 0; b < 64; b++) {
        cnt[b] = 100;
        prof[b] = (b >= 10 && b < 14) ? 5.0f * 10.0f : 0.0f; /* 5 sigma of sqrt(100) */
    }
    double chi;
    double snr = fold_profile_snr(prof, cnt, 64, 0.0, 1.0, &chi, z);
    /* Boxcar of 4: 4 * (5 - mean) / 2, mean = 20/64. */
    assert_true(fabs(snr - 4 * (5 - 20.0 / 64) / 2) < 1e-4);
    assert_true(fabs(chi - (4 * pow(5 - 20.0 / 64, 2) + 60 * pow(20.0 / 64, 2)) / 63) < 1e-3);
    for (int b = 0; b < 64; b++)
        prof[b] = 0;
    snr = fold_profile_snr(prof, cnt, 64, 0.0, 1.0, &chi, NULL);
    assert_true(fabs(snr) < 1e-6 && chi < 1e-9);
}

/* Noise only, 16 s of 4 ms samples in 64 channels (the e2e chain's shape):
 * folding a candidate whose period (529 ms) exceeds the sub-integration
 * (16 s / 32 = 0.5 s) leaves phase cells empty in every sub-integration. The
 * frequency search reaches 2 Hz, where those gaps line up; the bins' noise
 * must follow the shifted data there, or noise folds to S/N ~20 at 500 ms.
 * The same data with a pulsar added must still fold to its S/N. */
static void fill_noise(fb_data *fb, int nchan, int64_t nsamp, uint64_t seed)
{
    memset(fb, 0, sizeof *fb);
    fb->nchan = nchan;
    fb->nsamp = nsamp;
    fb->tsamp = 0.004;
    fb->freq = malloc(sizeof(double) * nchan);
    fb->weight = malloc(sizeof(float) * nchan);
    fb->data = malloc(sizeof(float) * (size_t)nchan * nsamp);
    uint64_t x = seed;
    for (int c = 0; c < nchan; c++) {
        fb->freq[c] = 142.72 - (c + 0.5) * 3.84 / nchan;
        fb->weight[c] = 1;
        for (int64_t i = 0; i < nsamp; i++) {
            double u[2];
            for (int k = 0; k < 2; k++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                u[k] = ((x >> 11) + 0.5) / 9007199254740992.0;
            }
            fb->data[(size_t)c * nsamp + i] = (float)(sqrt(-2 * log(u[0])) * cos(2 * M_PI * u[1]));
        }
    }
}

static void test_fold_noise_subint(void **state)
{
    (void)state;
    char err[512];
    fold_params fp;
    fold_default_params(&fp);
    fp.nthreads = 1;
    double worst = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        fb_data fb;
        fill_noise(&fb, 64, 4000, seed);
        static const double freqs[] = {1.890625, 1.9375, 0.96875, 3.875};
        for (size_t k = 0; k < sizeof freqs / sizeof freqs[0]; k++) {
            fold_result r;
            assert_int_equal(fold_candidate(&fb, 32.5, freqs[k], 0.0, &fp, &r, err), 0);
            if (r.snr > worst) worst = r.snr;
            fold_result_free(&r);
        }
        fb_free(&fb);
    }
    print_message("# noise folds: largest S/N %.2f\n", worst);
    assert_true(worst < 7.0);
    /* A pulsar (P 0.2137 s, DM 30, 8 ms wide) in the same noise. */
    fb_data fb;
    fill_noise(&fb, 64, 4000, 9);
    double P = 0.2137;
    for (int c = 0; c < fb.nchan; c++) {
        double d = dispersion_delay(30.0, fb.freq[c], fb.freq[0]);
        for (int64_t i = 0; i < fb.nsamp; i++) {
            double ph = (i * fb.tsamp - d) / P;
            ph -= floor(ph);
            if (ph > 0.5) ph -= 1;
            fb.data[(size_t)c * fb.nsamp + i] += (float)(0.4 * exp(-0.5 * pow(ph * P / 0.0034, 2)));
        }
    }
    fold_result r;
    assert_int_equal(fold_candidate(&fb, 30.0, 1.0 / P, 0.0, &fp, &r, err), 0);
    print_message("# pulsar fold: S/N %.2f, P %.4f ms, DM %.2f\n", r.snr, r.period * 1e3, r.dm);
    assert_true(r.snr > 20);
    assert_true(fabs(r.period - P) < 1e-3 && fabs(r.dm - 30.0) < 3);
    fold_result_free(&r);
    fb_free(&fb);
}

static void test_rfi_mask(void **state)
{
    (void)state;
    char err[512];
    fb_data fb;
    int nchan = 16;
    int64_t ns = 8192;
    make_impulse(&fb, nchan, ns, 0.0, 0);
    /* Deterministic pseudo-noise; channel 5 carries a 50 Hz square wave. */
    uint32_t s = 1;
    for (int c = 0; c < nchan; c++)
        for (int64_t i = 0; i < ns; i++) {
            float v = 0;
            for (int k = 0; k < 12; k++) {
                s = s * 1664525u + 1013904223u;
                v += (s >> 8) / 16777216.0f;
            }
            fb.data[(size_t)c * ns + i] = 100 + 10 * (v - 6) + (c == 5 && (i / 10) % 2 ? 8 : 0);
        }
    rfi_options o;
    rfi_default_options(&o);
    o.interval_s = 1.024;
    o.nthreads = 2;
    rfi_mask m;
    assert_int_equal(rfi_find(&fb, &o, &m, err), 0);
    assert_int_equal(m.nint, 8);
    for (int j = 0; j < m.nint; j++)
        assert_int_equal(m.bad[j * nchan + 5], 1);
    int other = 0;
    for (int j = 0; j < m.nint; j++)
        for (int c = 0; c < nchan; c++)
            other += c != 5 && m.bad[j * nchan + c];
    assert_true(other <= 2);
    char path[] = "/tmp/presto_unit_maskXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(rfi_mask_write(&m, path, err), 0);
    rfi_mask r;
    assert_int_equal(rfi_mask_read(&r, path, err), 0);
    assert_memory_equal(r.bad, m.bad, (size_t)m.nint * nchan);
    unlink(path);
    /* Applying zeroes the masked channel and leaves unit-variance channels. */
    rfi_apply_stats st;
    assert_int_equal(rfi_apply(&fb, &m, &o, &st, err), 0);
    assert_true(fb.data[5 * ns + 123] == 0.0f);
    double ss = 0;
    for (int64_t i = 0; i < ns; i++)
        ss += fb.data[i] * (double)fb.data[i];
    assert_true(fabs(ss / ns - 1.0) < 0.05);
    rfi_mask_free(&m);
    rfi_mask_free(&r);
    fb_free(&fb);
}

static void test_png(void **state)
{
    (void)state;
    char err[512];
    canvas c;
    assert_int_equal(canvas_init(&c, 40, 20, (rgb){255, 255, 255}), 0);
    canvas_text(&c, 1, 1, 1, (rgb){0, 0, 0}, "S/N 1.5");
    canvas_line(&c, 0, 19, 39, 0, (rgb){255, 0, 0});
    char path[] = "/tmp/presto_unit_pngXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(png_write(&c, path, err), 0);
    FILE *fp = fopen(path, "rb");
    unsigned char b[33];
    assert_int_equal(fread(b, 1, 33, fp), 33);
    fclose(fp);
    unlink(path);
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    assert_memory_equal(b, sig, 8);
    assert_memory_equal(b + 12, "IHDR", 4);
    assert_int_equal(b[19], 40); /* width */
    assert_int_equal(b[23], 20); /* height */
    assert_int_equal(b[24], 8);  /* bit depth */
    assert_int_equal(b[25], 2);  /* RGB */
    canvas_free(&c);
}

/* A header whose foff is lost in fch1's rounding (found by fuzz_filterbank:
 * foff -1e-154 MHz made every channel the same frequency, a zero channel
 * width) or whose band is beyond 1 THz is refused; a normal one reads. */
static void test_fil_channel_spacing(void **state)
{
    (void)state;
    char path[] = "/tmp/unit_search_fil_XXXXXX";
    close(mkstemp(path));
    uint8_t samples[16 * 4];
    for (int i = 0; i < 64; i++)
        samples[i] = (uint8_t)i;
    const double foffs[] = {-1e-154, 1e-7, -1.28, 1.28};
    const double fch1s[] = {169.6, 169.6, 2e6, 169.6};
    const int ok[] = {0, 0, 0, 1};
    for (int t = 0; t < 4; t++) {
        fil_header h = {.source = "T",
                        .fch1 = fch1s[t],
                        .foff = foffs[t],
                        .nchan = 4,
                        .tsamp = 1e-3,
                        .tstart = 58000,
                        .nbits = 8};
        fil_writer *w;
        char err[FB_ERR_LEN] = "";
        assert_int_equal(fil_create(&w, path, &h, err), 0);
        assert_int_equal(fil_write_samples(w, samples, 16, err), 0);
        assert_int_equal(fil_close(w, err), 0);
        fb_data fb;
        int rc = fil_read(&fb, path, 0, err);
        if (ok[t]) {
            assert_int_equal(rc, 0);
            fb_free(&fb);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(err, "foff"));
        }
    }
    unlink(path);
}

/* Finite DAT_SCL and DAT_OFFS whose samples overflow a float (found by
 * fuzz_psrfits: DAT_SCL 4.1e36 x 255 = inf in the series) are refused with
 * the row and channel; an ordinary scale reads. */
static void test_psrfits_scale_overflow(void **state)
{
    (void)state;
    char path[] = "/tmp/unit_search_fits_XXXXXX";
    close(mkstemp(path));
    const float scales[] = {4.1e36f, 0.5f};
    for (int t = 0; t < 2; t++) {
        psrfits_hdr h = {.src_name = "T",
                         .ra_str = "00:00:00",
                         .dec_str = "+00:00:00",
                         .telescope = "MWA",
                         .stt_imjd = 58000,
                         .obsfreq = 150,
                         .obsbw = 1.28,
                         .obsnchan = 4,
                         .nchan = 4,
                         .nsblk = 16,
                         .tbin = 1e-3,
                         .chan_bw = 0.32,
                         .nbits = 8,
                         .npol = 1};
        psrfits *f;
        char err[PSRFITS_ERR_LEN] = "";
        assert_int_equal(psrfits_create(&f, path, &h, err), 0);
        double freq[4] = {149.52, 149.84, 150.16, 150.48};
        float wts[4] = {1, 1, 1, 1}, offs[4] = {0, 0, 0, 0}, scl[4] = {1, 1, scales[t], 1};
        uint8_t data[64];
        for (int i = 0; i < 64; i++)
            data[i] = (uint8_t)(200 + i % 50);
        assert_int_equal(psrfits_write_row(f, freq, wts, offs, scl, data, 0.008, err), 0);
        assert_int_equal(psrfits_close(f, err), 0);
        fb_data fb;
        char *paths[1] = {path};
        char ferr[FB_ERR_LEN] = "";
        int rc = psrfits_series_read(&fb, paths, 1, 0, ferr);
        if (t == 0) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(ferr, "channel 2: DAT_SCL"));
        } else {
            assert_int_equal(rc, 0);
            fb_free(&fb);
        }
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_formula),
        cmocka_unit_test(test_ddplan),
        cmocka_unit_test(test_dedispersion),
        cmocka_unit_test(test_harmonic_sum),
        cmocka_unit_test(test_sigma),
        cmocka_unit_test(test_accel_templates),
        cmocka_unit_test(test_fold_snr),
        cmocka_unit_test(test_fold_noise_subint),
        cmocka_unit_test(test_rfi_mask),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_fil_channel_spacing),
        cmocka_unit_test(test_psrfits_scale_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
