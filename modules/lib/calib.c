/* calib.c - Offringa binary calibration solutions: read, write, lookup.
 *
 * The whole file is small (tiles x channels x 64 bytes), so it is read into
 * memory once; lookups map the observation's fine channels onto however many
 * solution channels the file carries (1, per coarse channel, or finer). */
#include "calib.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int calib_read(const char *path, calib *c, char *err)
{
    memset(c, 0, sizeof(*c));
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, CALIB_ERR_LEN, "cannot open calibration file %.200s: %.200s", path,
                 strerror(errno));
        return -1;
    }
    char magic[8];
    uint32_t h[6];
    double t[2];
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "MWAOCAL", 8) != 0 || fread(h, 4, 6, f) != 6 ||
        fread(t, 8, 2, f) != 2) {
        snprintf(
            err, CALIB_ERR_LEN,
            "calibration file %.200s is not an Offringa binary solution file (no MWAOCAL header)",
            path);
        fclose(f);
        return -1;
    }
    if (h[0] != 0 || h[1] != 0 || h[5] != 4 || h[2] == 0 || h[3] == 0 || h[4] == 0 ||
        h[2] > 100000 || h[3] > 100000 || h[4] > 1000000) {
        snprintf(
            err, CALIB_ERR_LEN,
            "calibration file %.200s: unsupported header (type %u, structure %u, %u intervals, "
            "%u antennas, %u channels, %u pols; need type 0, structure 0, 4 pols)",
            path, h[0], h[1], h[2], h[3], h[4], h[5]);
        fclose(f);
        return -1;
    }
    c->nintervals = (int)h[2];
    c->nantennas = (int)h[3];
    c->nchannels = (int)h[4];
    c->start_time = t[0];
    c->end_time = t[1];
    size_t n = (size_t)c->nintervals * c->nantennas * c->nchannels * 4;
    /* The header's counts are only believed as far as the file backs them:
     * a corrupt count must not size a huge allocation before the short read
     * would notice. */
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 48 ||
        (uint64_t)sb.st_size - 48 < (uint64_t)n * sizeof(double complex)) {
        snprintf(err, CALIB_ERR_LEN,
                 "calibration file %.200s is truncated or not a regular file: %lld bytes, but its "
                 "header (%d intervals x %d antennas x %d channels) needs %zu",
                 path, (long long)sb.st_size, c->nintervals, c->nantennas, c->nchannels,
                 48 + n * sizeof(double complex));
        fclose(f);
        return -1;
    }
    c->jones = malloc(n * sizeof(double complex));
    if (!c->jones || fread(c->jones, sizeof(double complex), n, f) != n) {
        snprintf(err, CALIB_ERR_LEN,
                 "calibration file %.200s is truncated (expected %zu Jones terms)", path, n);
        fclose(f);
        calib_free(c);
        return -1;
    }
    fclose(f);
    return 0;
}

int calib_write(const char *path, const calib *c, char *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, CALIB_ERR_LEN, "cannot create %.200s: %.200s", tmp, strerror(errno));
        return -1;
    }
    uint32_t h[6] = {0, 0, (uint32_t)c->nintervals, (uint32_t)c->nantennas, (uint32_t)c->nchannels,
                     4};
    double t[2] = {c->start_time, c->end_time};
    size_t n = (size_t)c->nintervals * c->nantennas * c->nchannels * 4;
    int bad = fwrite("MWAOCAL", 1, 8, f) != 8 || fwrite(h, 4, 6, f) != 6 ||
              fwrite(t, 8, 2, f) != 2 || fwrite(c->jones, sizeof(double complex), n, f) != n;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, CALIB_ERR_LEN, "cannot write calibration file %.200s", path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

void calib_free(calib *c)
{
    free(c->jones);
    c->jones = NULL;
}

int calib_jones(const calib *c, int ant, int coarse_idx, int ncoarse, int nfine, int k,
                double complex j[4], char *err)
{
    if (ant < 0 || ant >= c->nantennas) {
        snprintf(err, CALIB_ERR_LEN, "calibration has %d antennas, no solution for antenna %d",
                 c->nantennas, ant);
        return -1;
    }
    int ch;
    if (c->nchannels == 1) {
        ch = 0;
    } else if (c->nchannels % ncoarse == 0) {
        int per = c->nchannels / ncoarse; /* solution channels per coarse channel */
        ch = coarse_idx * per + (int)((long)k * per / nfine);
    } else if (c->nchannels == nfine) {
        ch = k;
    } else {
        snprintf(err, CALIB_ERR_LEN,
                 "calibration has %d channels, which does not map onto %d coarse channels of %d "
                 "fine channels",
                 c->nchannels, ncoarse, nfine);
        return -1;
    }
    const double complex *src = c->jones + ((size_t)ant * c->nchannels + ch) * 4;
    for (int i = 0; i < 4; i++) {
        if (isnan(creal(src[i])) || isnan(cimag(src[i]))) {
            snprintf(err, CALIB_ERR_LEN, "no calibration solution for antenna %d channel %d", ant,
                     ch);
            return -1;
        }
        j[i] = src[i];
    }
    return 0;
}

int calib_invert(const double complex j[4], double complex inv[4])
{
    double complex det = j[0] * j[3] - j[1] * j[2];
    if (cabs(det) < 1e-30) return -1;
    inv[0] = j[3] / det;
    inv[1] = -j[1] / det;
    inv[2] = -j[2] / det;
    inv[3] = j[0] / det;
    return 0;
}
