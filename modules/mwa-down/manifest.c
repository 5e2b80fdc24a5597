/* manifest.c - parser for mwa-down manifests (format in manifest.h).
 * Every error names the file and line, and duplicate target names are refused
 * up front: two entries writing one file would race on its .part. */
#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_ok(const char *s)
{
    if (!*s || *s == '.' || strlen(s) > 255) return 0;
    for (const char *p = s; *p; p++)
        if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

static char *name_from_url(const char *url)
{
    const char *q = url + strcspn(url, "?#");
    const char *s = q;
    while (s > url && s[-1] != '/')
        s--;
    return strndup(s, (size_t)(q - s));
}

int manifest_load(const char *path, manifest *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        snprintf(err, errlen, "cannot open manifest %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *tok[5];
        int nt = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
            if (nt == 0 && t[0] == '#') break;
            if (nt == 5) break;
            tok[nt++] = t;
        }
        if (nt == 0) continue;
        if (nt < 3 || nt > 4) {
            snprintf(err, errlen, "%s:%d: expected 'URL SIZE CHECKSUM [NAME]', got %d field%s",
                     path, lineno, nt, nt == 1 ? "" : "s");
            rc = -1;
            break;
        }
        manifest_entry e = {.line = lineno};
        char *end;
        errno = 0;
        long long sz = strtoll(tok[1], &end, 10);
        if (errno || *end || sz < 0) {
            snprintf(err, errlen, "%s:%d: size '%s' is not a byte count", path, lineno, tok[1]);
            rc = -1;
            break;
        }
        e.size = sz;
        if (checksum_parse(tok[2], &e.check)) {
            snprintf(err, errlen,
                     "%s:%d: checksum '%s' not understood (use xxh64:HEX16, xxh3:HEX16 or -)", path,
                     lineno, tok[2]);
            rc = -1;
            break;
        }
        e.name = nt == 4 ? strdup(tok[3]) : name_from_url(tok[0]);
        if (!name_ok(e.name)) {
            snprintf(err, errlen,
                     "%s:%d: target name '%s' is not a plain file name (give NAME as 4th field)",
                     path, lineno, e.name);
            free(e.name);
            rc = -1;
            break;
        }
        for (size_t i = 0; i < m->n; i++)
            if (!strcmp(m->v[i].name, e.name)) {
                snprintf(err, errlen, "%s:%d: name '%s' already used on line %d", path, lineno,
                         e.name, m->v[i].line);
                rc = -1;
            }
        if (rc) {
            free(e.name);
            break;
        }
        e.url = strdup(tok[0]);
        if (m->n == alloc) {
            alloc = alloc ? 2 * alloc : 16;
            m->v = realloc(m->v, alloc * sizeof *m->v);
        }
        m->v[m->n++] = e;
    }
    free(line);
    if (f != stdin) fclose(f);
    if (rc) manifest_free(m);
    return rc;
}

void manifest_free(manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].url);
        free(m->v[i].name);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
}
