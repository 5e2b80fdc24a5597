/* fakepulsar.c - writes the synthetic search observations of MWA.md: Gaussian
 * 8-bit noise over a band of channels, a dispersed pulsar (optionally with a
 * constant fdot, the acceleration a binary orbit imposes over a short
 * observation), an undispersed broadband burst and a periodic interferer in a
 * few channels. Output is SIGPROC .fil (8-bit, raw levels) or PSRFITS (per
 * channel bandpass gain, quantised per row with DAT_SCL/DAT_OFFS), optionally
 * split into consecutive segments. The pulsar's amplitude is set from the
 * folded S/N asked for (ideal matched filter over all channels). */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../dispersion.h"
#include "../filterbank.h"
#include "psrfits.h"

typedef struct {
    uint64_t s[4];
} rng;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}
static uint64_t next(rng *r)
{
    uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}
static double uniform(rng *r)
{
    return ((next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
static void gauss2(rng *r, float *a, float *b)
{
    double u = uniform(r), v = uniform(r), m = sqrt(-2.0 * log(u));
    *a = (float)(m * cos(2 * M_PI * v));
    *b = (float)(m * sin(2 * M_PI * v));
}

static const char *usage =
    "usage: presto-fakepulsar -o OUT.fil|OUT.fits [options]\n"
    "  --nchan N (384) --flo MHZ (138.88) --fhi MHZ (169.60): band edges\n"
    "  --tsamp S (0.001) --nsamp N (32768) --sigma DN (20) --seed N (1)\n"
    "  --period S (0.2137) --dm X (12.5) --width S (0.008, FWHM) --snr X (35) --fdot HZ/S (0)\n"
    "  --burst-time S (10, <0 = none) --burst-width S (0.02) --burst-amp DN (40)\n"
    "  --rfi-freq HZ (31.7, 0 = none) --rfi-chan A (200) --rfi-nchan N (6) --rfi-amp DN (50)\n"
    "  --segments N (1): PSRFITS only, write OUT_0001.fits ... as consecutive files\n"
    "  --nsblk N (1024): PSRFITS samples per row\n";

int main(int argc, char **argv)
{
    const char *out = NULL;
    int nchan = 384, nseg = 1, nsblk = 1024;
    long long nsamp = 32768;
    double flo = 138.88, fhi = 169.60, tsamp = 0.001, sigma = 20, period = 0.2137, dm = 12.5;
    double width = 0.008, snr = 35, fdot = 0, bt = 10, bw = 0.02, ba = 40, rf = 31.7, ra = 50;
    int rc0 = 200, rn = 6;
    unsigned long long seed = 1;
    static struct option lo[] = {
        {"out", 1, 0, 'o'},      {"nchan", 1, 0, 1},       {"flo", 1, 0, 2},
        {"fhi", 1, 0, 3},        {"tsamp", 1, 0, 4},       {"nsamp", 1, 0, 5},
        {"sigma", 1, 0, 6},      {"seed", 1, 0, 7},        {"period", 1, 0, 8},
        {"dm", 1, 0, 9},         {"width", 1, 0, 10},      {"snr", 1, 0, 11},
        {"fdot", 1, 0, 12},      {"burst-time", 1, 0, 13}, {"burst-width", 1, 0, 14},
        {"burst-amp", 1, 0, 15}, {"rfi-freq", 1, 0, 16},   {"rfi-chan", 1, 0, 17},
        {"rfi-nchan", 1, 0, 18}, {"rfi-amp", 1, 0, 19},    {"segments", 1, 0, 20},
        {"nsblk", 1, 0, 21},     {"help", 0, 0, 'h'},      {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        double v = optarg ? atof(optarg) : 0;
        switch (ch) {
        case 'o':
            out = optarg;
            break;
        case 1:
            nchan = (int)v;
            break;
        case 2:
            flo = v;
            break;
        case 3:
            fhi = v;
            break;
        case 4:
            tsamp = v;
            break;
        case 5:
            nsamp = (long long)v;
            break;
        case 6:
            sigma = v;
            break;
        case 7:
            seed = strtoull(optarg, NULL, 10);
            break;
        case 8:
            period = v;
            break;
        case 9:
            dm = v;
            break;
        case 10:
            width = v;
            break;
        case 11:
            snr = v;
            break;
        case 12:
            fdot = v;
            break;
        case 13:
            bt = v;
            break;
        case 14:
            bw = v;
            break;
        case 15:
            ba = v;
            break;
        case 16:
            rf = v;
            break;
        case 17:
            rc0 = (int)v;
            break;
        case 18:
            rn = (int)v;
            break;
        case 19:
            ra = v;
            break;
        case 20:
            nseg = (int)v;
            break;
        case 21:
            nsblk = (int)v;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!out || nchan < 1 || nsamp < 64 || tsamp <= 0 || fhi <= flo || nseg < 1 || nsblk < 1) {
        fputs(usage, stderr);
        return 2;
    }
    size_t len = strlen(out);
    int fits = len > 5 && !strcmp(out + len - 5, ".fits");
    double cbw = (fhi - flo) / nchan;
    double *freq = malloc(sizeof(double) * nchan);
    for (int c = 0; c < nchan; c++)
        freq[c] = fhi - (c + 0.5) * cbw; /* highest first, as SIGPROC */
    double T = nsamp * tsamp, sig_t = width / (2.0 * sqrt(2.0 * log(2.0)));
    double amp = snr * sigma / sqrt(nchan * (T / period) * sig_t * sqrt(M_PI) / tsamp);
    double sig_ph = sig_t / period;
    fprintf(stderr, "fakepulsar: %d ch, %lld samples, pulsar amplitude %.3f DN per channel\n",
            nchan, nsamp, amp);

    rng r = {{seed * 0x9E3779B97F4A7C15ULL + 1, 0xD1B54A32D192ED03ULL, 0xABCDEF12345ULL ^ seed,
              0x123456789ULL}};
    for (int i = 0; i < 16; i++)
        next(&r);
    /* Generate in blocks of nsblk samples (time-major, channel fastest). */
    float *blk = malloc(sizeof(float) * (size_t)nsblk * nchan);
    uint8_t *q = malloc((size_t)nsblk * nchan);
    float *offs = malloc(sizeof(float) * nchan), *scl = malloc(sizeof(float) * nchan);
    float *wts = malloc(sizeof(float) * nchan);
    double *gain = malloc(sizeof(double) * nchan), *base = malloc(sizeof(double) * nchan);
    double *delay = malloc(sizeof(double) * nchan);
    for (int c = 0; c < nchan; c++) {
        wts[c] = 1.0f;
        gain[c] = fits ? 0.6 + 0.8 * c / (double)nchan : 1.0; /* a bandpass slope */
        base[c] = fits ? 1000.0 + 3.0 * c : 128.0;
        delay[c] = dispersion_delay(dm, freq[c], freq[0]);
    }
    char err[PSRFITS_ERR_LEN];
    fil_writer *fw = NULL;
    psrfits *pf = NULL;
    long long per_seg = (nsamp / nseg + nsblk - 1) / nsblk * nsblk;
    int seg = -1;
    for (long long s0 = 0; s0 < nsamp; s0 += nsblk) {
        int n = (int)(nsamp - s0 < nsblk ? nsamp - s0 : nsblk);
        if (s0 / per_seg != seg) {
            seg = (int)(s0 / per_seg);
            if (fits) {
                if (pf && psrfits_close(pf, err)) goto fail;
                char path[1024];
                if (nseg > 1)
                    snprintf(path, sizeof path, "%.*s_%04d.fits", (int)(len - 5), out, seg + 1);
                else
                    snprintf(path, sizeof path, "%s", out);
                psrfits_hdr h;
                memset(&h, 0, sizeof h);
                snprintf(h.src_name, sizeof h.src_name, "FAKE_PSR");
                snprintf(h.ra_str, sizeof h.ra_str, "05:34:31.97");
                snprintf(h.dec_str, sizeof h.dec_str, "+22:00:52.1");
                snprintf(h.telescope, sizeof h.telescope, "MWA");
                double start = 58000 * 86400.0 + 3600.0 + s0 * tsamp;
                h.stt_imjd = (int)(start / 86400);
                double sec = start - h.stt_imjd * 86400.0;
                h.stt_smjd = (int)sec;
                h.stt_offs = sec - h.stt_smjd;
                h.obsfreq = 0.5 * (flo + fhi);
                h.obsbw = -(fhi - flo);
                h.obsnchan = h.nchan = nchan;
                h.nsblk = nsblk;
                h.tbin = tsamp;
                h.chan_bw = -cbw;
                h.nbits = 8;
                h.npol = 1;
                h.ra_deg = 83.633;
                h.dec_deg = 22.0145;
                if (psrfits_create(&pf, path, &h, err)) goto fail;
            } else if (!fw) {
                fil_header h = {.fch1 = freq[0],
                                .foff = -cbw,
                                .nchan = nchan,
                                .tsamp = tsamp,
                                .tstart = 58000.0,
                                .nbits = 8};
                snprintf(h.source, sizeof h.source, "FAKE_PSR");
                if (fil_create(&fw, out, &h, err)) goto fail;
            }
        }
        for (int i = 0; i < n; i++) {
            double t = (s0 + i) * tsamp;
            float *row = blk + (size_t)i * nchan;
            for (int c = 0; c < nchan; c += 2) {
                float a, b;
                gauss2(&r, &a, &b);
                row[c] = (float)(a * sigma);
                if (c + 1 < nchan) row[c + 1] = (float)(b * sigma);
            }
            for (int c = 0; c < nchan; c++) {
                double te = t - delay[c];
                double ph = te / period + 0.5 * fdot * te * te;
                double d = ph - floor(ph + 0.5);
                row[c] += (float)(amp * exp(-0.5 * d * d / (sig_ph * sig_ph)));
            }
            if (bt >= 0 && fabs(t - bt) < 0.5 * bw)
                for (int c = 0; c < nchan; c++)
                    row[c] += (float)ba;
            if (rf > 0 && fmod(t * rf, 1.0) < 0.5)
                for (int c = rc0; c < rc0 + rn && c < nchan; c++)
                    row[c] += (float)ra;
            for (int c = 0; c < nchan; c++)
                row[c] = (float)(base[c] + gain[c] * row[c]);
        }
        if (fits) {
            psrfits_quantise(blk, n, nchan, q, offs, scl);
            if (psrfits_write_row(pf, freq, wts, offs, scl, q, (s0 % per_seg + 0.5 * n) * tsamp,
                                  err))
                goto fail;
        } else {
            for (size_t k = 0; k < (size_t)n * nchan; k++) {
                float v = roundf(blk[k]);
                q[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            if (fil_write_samples(fw, q, n, err)) goto fail;
        }
    }
    if (pf && psrfits_close(pf, err)) goto fail;
    if (fw && fil_close(fw, err)) goto fail;
    return 0;
fail:
    fprintf(stderr, "presto-fakepulsar: %s\n", err);
    return 1;
}
