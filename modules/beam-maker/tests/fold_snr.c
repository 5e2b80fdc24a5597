/* fold_snr.c - test helper: folded S/N of a pulsar in a PSRFITS search file.
 *
 * usage: beam-fold-snr FILE PERIOD DM DUTY OFFSET
 *        beam-fold-snr --info FILE   (prints: nrows nchan nsblk tbin f_first f_last)
 * Every sample of every channel is given its pulse phase,
 * ((OFFSET + t - K DM / f^2) / PERIOD) mod 1 with the pulse centred on phase 0
 * (mwa-sim's convention; OFFSET = file start - pulsar epoch, s). On-pulse
 * samples are those within DUTY/2 of phase 0, off-pulse those further than
 * DUTY. S/N = sum_on (v - mean_off) / (sd_off sqrt(n_on)): the noise comes
 * from the many off-pulse samples, so the estimate scatters by about 1. */
#include "psrfits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPERSION_K 4148.808

static int info(const char *path)
{
    char err[PSRFITS_ERR_LEN];
    psrfits *f;
    psrfits_hdr h;
    if (psrfits_open(&f, path, &h, err)) {
        fprintf(stderr, "beam-fold-snr: %s\n", err);
        return 1;
    }
    double *freq = malloc(sizeof(double) * h.nchan);
    if (psrfits_read_row(f, 0, freq, NULL, NULL, NULL, NULL, NULL, err)) {
        fprintf(stderr, "beam-fold-snr: %s\n", err);
        return 1;
    }
    printf("%lld %d %d %.6g %.4f %.4f\n", (long long)h.nrows, h.nchan, h.nsblk, h.tbin, freq[0],
           freq[h.nchan - 1]);
    free(freq);
    psrfits_close(f, err);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--info") == 0) return info(argv[2]);
    if (argc != 6) {
        fprintf(stderr, "usage: beam-fold-snr FILE PERIOD DM DUTY OFFSET\n");
        return 2;
    }
    double period = atof(argv[2]), dm = atof(argv[3]), duty = atof(argv[4]), offset = atof(argv[5]);
    char err[PSRFITS_ERR_LEN];
    psrfits *f;
    psrfits_hdr h;
    if (psrfits_open(&f, argv[1], &h, err)) {
        fprintf(stderr, "beam-fold-snr: %s\n", err);
        return 1;
    }
    int K = h.nchan, S = h.nsblk;
    double *freq = malloc(sizeof(double) * K), *delay = malloc(sizeof(double) * K);
    float *offs = malloc(sizeof(float) * K), *scl = malloc(sizeof(float) * K);
    unsigned char *data = malloc((size_t)K * S);
    double on_sum = 0, off_sum = 0, off_sum2 = 0;
    long n_on = 0, n_off = 0;
    for (int64_t r = 0; r < h.nrows; r++) {
        if (psrfits_read_row(f, r, freq, NULL, offs, scl, data, NULL, err)) {
            fprintf(stderr, "beam-fold-snr: %s\n", err);
            return 1;
        }
        for (int k = 0; k < K; k++)
            delay[k] = DISPERSION_K * dm / (freq[k] * freq[k]);
        for (int s = 0; s < S; s++) {
            double t = offset + (double)r * S * h.tbin + s * h.tbin;
            for (int k = 0; k < K; k++) {
                double ph = (t - delay[k]) / period;
                ph -= floor(ph);
                if (ph > 0.5) ph -= 1;
                double v = data[(size_t)s * K + k] * scl[k] + offs[k];
                if (fabs(ph) < duty / 2) {
                    on_sum += v;
                    n_on++;
                } else if (fabs(ph) > duty) {
                    off_sum += v;
                    off_sum2 += v * v;
                    n_off++;
                }
            }
        }
    }
    psrfits_close(f, err);
    if (n_on == 0 || n_off < 2) {
        fprintf(stderr, "beam-fold-snr: no on- or off-pulse samples\n");
        return 1;
    }
    double mean = off_sum / n_off, sd = sqrt(off_sum2 / n_off - mean * mean);
    double snr = sd > 0 ? (on_sum - n_on * mean) / (sd * sqrt((double)n_on)) : 0;
    printf("%.3f\n", snr);
    free(freq);
    free(delay);
    free(offs);
    free(scl);
    free(data);
    return 0;
}
