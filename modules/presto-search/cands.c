/* cands.c - candidate lists and their raw text file (see cands.h).
 * Files are written to a temporary name and renamed, so a reader never sees
 * half a list (modules must be idempotent under retries). */
#include "cands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cand_list_push(cand_list *l, const search_cand *c)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = *c;
}

void cand_list_append(cand_list *dst, const cand_list *src)
{
    for (size_t i = 0; i < src->n; i++)
        cand_list_push(dst, &src->v[i]);
}

void cand_list_free(cand_list *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int cmp_sigma(const void *a, const void *b)
{
    float x = ((const search_cand *)a)->sigma, y = ((const search_cand *)b)->sigma;
    return (x < y) - (x > y);
}

void cand_list_sort(cand_list *l)
{
    if (l->n) qsort(l->v, l->n, sizeof *l->v, cmp_sigma);
}

int cand_list_write(const cand_list *l, const char *path, char *err)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(fp, "# presto-search raw candidates v1\n");
    fprintf(fp, "# %10s %16s %14s %12s %9s %10s %4s %10s %8s\n", "dm", "freq_hz", "fdot_hz_s", "r",
            "z", "tobs_s", "nh", "power", "sigma");
    for (size_t i = 0; i < l->n; i++) {
        const search_cand *c = &l->v[i];
        fprintf(fp, "%12.4f %16.9f %14.6e %12.3f %9.2f %10.4f %4d %10.3f %8.3f\n", c->dm, c->freq,
                c->fdot, c->r, c->z, c->tobs, c->numharm, c->power, c->sigma);
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        snprintf(err, 512, "%.300s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int cand_list_read(cand_list *l, const char *path, char *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        search_cand c;
        if (sscanf(line, "%lf %lf %lf %lf %lf %lf %d %f %f", &c.dm, &c.freq, &c.fdot, &c.r, &c.z,
                   &c.tobs, &c.numharm, &c.power, &c.sigma) != 9) {
            snprintf(err, 512, "%s:%d: not a raw candidate line", path, lineno);
            fclose(fp);
            return -1;
        }
        cand_list_push(l, &c);
    }
    fclose(fp);
    return 0;
}
