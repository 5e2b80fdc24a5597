/* series_io.c - .dat/.inf series files (see series_io.h). Written to
 * temporary names and renamed, so a rerun never leaves half a file. */
#include "series_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int series_write(const char *base, const series_info *info, const float *x, char *err)
{
    char path[1024], tmp[1040];
    snprintf(path, sizeof path, "%s.dat", base);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    size_t n = (size_t)info->nsamp;
    int ok = fwrite(x, sizeof(float), n, fp) == n;
    ok &= fclose(fp) == 0;
    ok = ok && rename(tmp, path) == 0;
    snprintf(path, sizeof path, "%s.inf", base);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fp = ok ? fopen(tmp, "w") : NULL;
    if (fp) {
        fprintf(fp,
                "# presto-search dedispersed series v1\ndm %.6f\ntsamp %.12g\nnsamp %lld\n"
                "downsamp %d\nsource %s\n",
                info->dm, info->tsamp, (long long)info->nsamp, info->downsamp,
                info->source[0] ? info->source : "unknown");
        ok = fclose(fp) == 0 && rename(tmp, path) == 0;
    } else {
        ok = 0;
    }
    if (!ok) {
        snprintf(err, 512, "%.300s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int series_read(const char *dat_path, series_info *info, float **x, char *err)
{
    memset(info, 0, sizeof *info);
    char base[1024], path[1040];
    snprintf(base, sizeof base, "%s", dat_path);
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".dat") == 0) base[len - 4] = 0;
    snprintf(path, sizeof path, "%s.inf", base);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    if (!fgets(line, sizeof line, fp) ||
        strncmp(line, "# presto-search dedispersed series v1", 36)) {
        snprintf(err, 512, "%.300s: not a presto-search .inf file", path);
        fclose(fp);
        return -1;
    }
    long long ns = 0;
    while (fgets(line, sizeof line, fp)) {
        sscanf(line, "dm %lf", &info->dm);
        sscanf(line, "tsamp %lf", &info->tsamp);
        sscanf(line, "nsamp %lld", &ns);
        sscanf(line, "downsamp %d", &info->downsamp);
        sscanf(line, "source %63s", info->source);
    }
    fclose(fp);
    info->nsamp = ns;
    if (info->tsamp <= 0 || ns <= 0) {
        snprintf(err, 512, "%.300s: missing tsamp or nsamp", path);
        return -1;
    }
    if (!x) return 0;
    snprintf(path, sizeof path, "%s.dat", base);
    fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    *x = malloc(sizeof(float) * (size_t)ns);
    if (fread(*x, sizeof(float), (size_t)ns, fp) != (size_t)ns) {
        snprintf(err, 512, "%.300s: shorter than the %lld samples its .inf promises", path, ns);
        free(*x);
        *x = NULL;
        fclose(fp);
        return -1;
    }
    fclose(fp);
    return 0;
}
