/* partstate.c - the resume sidecar of mwa-down (format in partstate.h).
 * Kept as text so a person can read what a stuck download already has. */
#include "partstate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void partstate_add(partstate *s, int64_t start, int64_t end)
{
    if (end <= start) return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 8;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (byte_range){start, end};
}

static int cmp_range(const void *a, const void *b)
{
    const byte_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

void partstate_normalise(partstate *s)
{
    if (s->n < 2) return;
    qsort(s->v, s->n, sizeof *s->v, cmp_range);
    size_t o = 0;
    for (size_t i = 1; i < s->n; i++) {
        if (s->v[i].start <= s->v[o].end) {
            if (s->v[i].end > s->v[o].end) s->v[o].end = s->v[i].end;
        } else {
            s->v[++o] = s->v[i];
        }
    }
    s->n = o + 1;
}

int64_t partstate_bytes(const partstate *s)
{
    int64_t t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += s->v[i].end - s->v[i].start;
    return t;
}

int partstate_load(const char *path, int64_t size, const char *check, partstate *s)
{
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : -1;
    char line[512], ck[128] = "";
    long long sz = -1, a, b;
    int version = 0, ok = 1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "mwa-down-ranges %d", &version) == 1) continue;
        if (sscanf(line, "size %lld", &sz) == 1) continue;
        if (sscanf(line, "check %127s", ck) == 1) continue;
        if (sscanf(line, "done %lld %lld", &a, &b) == 2) {
            if (a < 0 || b > size || a > b)
                ok = 0;
            else
                partstate_add(s, a, b);
            continue;
        }
        ok = 0;
    }
    fclose(f);
    if (!ok || version != 1 || sz != size || strcmp(ck, check)) {
        s->n = 0;
        return 0;
    }
    partstate_normalise(s);
    return 1;
}

int partstate_save(const char *path, int64_t size, const char *check, const partstate *s)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "mwa-down-ranges 1\nsize %" PRId64 "\ncheck %s\n", size, check);
    for (size_t i = 0; i < s->n; i++)
        fprintf(f, "done %" PRId64 " %" PRId64 "\n", s->v[i].start, s->v[i].end);
    if (fclose(f) != 0) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

void partstate_free(partstate *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}
