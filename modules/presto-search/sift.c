/* sift.c - merging candidates across DMs and harmonics (see sift.h).
 *
 * Greedy in order of significance: the strongest raw candidate founds a
 * signal; each weaker one either joins a signal with the same fundamental
 * (within r_tol bins, scaled to the candidate's own observation length), or
 * is a harmonic of one (f = f0 n/m), or founds a new signal. Frequencies are
 * compared in bins of the longest series so DM steps with different
 * down-sampling compare equally. */
#include "sift.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void sift_default_params(sift_params *p)
{
    p->r_tol = 1.1;
    p->min_dm_hits = 2;
    p->min_dm = 2.0;
    p->sigma_min = 3.0;
    p->max_harm = 16;
}

typedef struct {
    search_cand best;
    int nharm;
    int nhit, cap;
    double *dm;
    float *sig;
} group;

static void group_hit(group *g, double dm, float sigma)
{
    for (int i = 0; i < g->nhit; i++)
        if (fabs(g->dm[i] - dm) < 1e-6) {
            if (sigma > g->sig[i]) g->sig[i] = sigma;
            return;
        }
    if (g->nhit == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->dm = realloc(g->dm, sizeof(double) * g->cap);
        g->sig = realloc(g->sig, sizeof(float) * g->cap);
    }
    g->dm[g->nhit] = dm;
    g->sig[g->nhit++] = sigma;
}

static int gcd(int a, int b)
{
    return b ? gcd(b, a % b) : a;
}

int sift_candidates(cand_list *raw, const sift_params *p, sift_list *out)
{
    memset(out, 0, sizeof *out);
    cand_list_sort(raw);
    group *g = NULL;
    int ng = 0, gcap = 0;
    for (size_t i = 0; i < raw->n; i++) {
        const search_cand *c = &raw->v[i];
        double tol = p->r_tol / c->tobs; /* Hz */
        int joined = 0;
        for (int k = 0; k < ng && !joined; k++) {
            double f0 = g[k].best.freq;
            /* fdot changes the mean frequency: compare at mid-observation. */
            double fc = c->freq + 0.5 * c->fdot * c->tobs;
            double fg = f0 + 0.5 * g[k].best.fdot * g[k].best.tobs;
            if (fabs(fc - fg) < tol) {
                group_hit(&g[k], c->dm, c->sigma);
                joined = 1;
                break;
            }
            for (int n = 1; n <= p->max_harm && !joined; n++)
                for (int m = 1; m <= p->max_harm && !joined; m++) {
                    if (n == m || gcd(n, m) != 1) continue;
                    if (fabs(fc - fg * n / m) < tol) {
                        g[k].nharm++;
                        joined = 1;
                    }
                }
        }
        if (joined) continue;
        if (ng == gcap) {
            gcap = gcap ? 2 * gcap : 64;
            g = realloc(g, sizeof *g * gcap);
        }
        memset(&g[ng], 0, sizeof g[ng]);
        g[ng].best = *c;
        group_hit(&g[ng], c->dm, c->sigma);
        ng++;
    }
    out->v = calloc((size_t)(ng ? ng : 1), sizeof *out->v);
    for (int k = 0; k < ng; k++) {
        int keep = g[k].nhit >= p->min_dm_hits && g[k].best.dm >= p->min_dm &&
                   g[k].best.sigma >= p->sigma_min;
        if (keep) {
            sift_cand *s = &out->v[out->n++];
            s->best = g[k].best;
            s->ndm = g[k].nhit;
            s->nharmonics = g[k].nharm;
            /* Sort the DM curve by DM. */
            s->dms = malloc(sizeof(double) * g[k].nhit);
            s->dm_sigma = malloc(sizeof(float) * g[k].nhit);
            for (int a = 0; a < g[k].nhit; a++) {
                int pos = 0;
                for (int b = 0; b < g[k].nhit; b++)
                    pos += g[k].dm[b] < g[k].dm[a] || (g[k].dm[b] == g[k].dm[a] && b < a);
                s->dms[pos] = g[k].dm[a];
                s->dm_sigma[pos] = g[k].sig[a];
            }
        }
        free(g[k].dm);
        free(g[k].sig);
    }
    free(g);
    return 0;
}

void sift_list_free(sift_list *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].dms);
        free(l->v[i].dm_sigma);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

int sift_write(const sift_list *l, const char *path, char *err)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(fp, "# presto-search sifted candidates v1\n");
    fprintf(fp, "# %4s %10s %14s %12s %14s %9s %10s %4s %8s %5s %5s %9s %9s\n", "rank", "dm",
            "period_ms", "freq_hz", "fdot_hz_s", "z", "tobs_s", "nh", "sigma", "ndm", "nharm",
            "dm_lo", "dm_hi");
    for (int i = 0; i < l->n; i++) {
        const sift_cand *s = &l->v[i];
        fprintf(fp, "%6d %10.4f %14.8f %12.7f %14.6e %9.2f %10.4f %4d %8.2f %5d %5d %9.3f %9.3f\n",
                i + 1, s->best.dm, 1e3 / s->best.freq, s->best.freq, s->best.fdot, s->best.z,
                s->best.tobs, s->best.numharm, s->best.sigma, s->ndm, s->nharmonics, s->dms[0],
                s->dms[s->ndm - 1]);
    }
    if (fclose(fp) != 0 || rename(tmp, path) != 0) {
        snprintf(err, 512, "%.300s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int sift_read(sift_list *l, const char *path, char *err)
{
    memset(l, 0, sizeof *l);
    FILE *fp = fopen(path, "r");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[512];
    int cap = 0, lineno = 0;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        sift_cand s;
        memset(&s, 0, sizeof s);
        int rank;
        double period, dlo, dhi;
        if (sscanf(line, "%d %lf %lf %lf %lf %lf %lf %d %f %d %d %lf %lf", &rank, &s.best.dm,
                   &period, &s.best.freq, &s.best.fdot, &s.best.z, &s.best.tobs, &s.best.numharm,
                   &s.best.sigma, &s.ndm, &s.nharmonics, &dlo, &dhi) != 13) {
            snprintf(err, 512, "%s:%d: not a sifted candidate line", path, lineno);
            fclose(fp);
            sift_list_free(l);
            return -1;
        }
        s.best.r = s.best.freq * s.best.tobs;
        /* Only the range of the DM curve survives the text form. */
        s.dms = malloc(sizeof(double) * 2);
        s.dm_sigma = malloc(sizeof(float) * 2);
        s.dms[0] = dlo;
        s.dms[1] = dhi;
        s.dm_sigma[0] = s.dm_sigma[1] = 0;
        s.ndm = s.ndm >= 2 ? 2 : 1;
        if (l->n == cap) {
            cap = cap ? 2 * cap : 16;
            l->v = realloc(l->v, sizeof *l->v * cap);
        }
        l->v[l->n++] = s;
    }
    fclose(fp);
    return 0;
}
