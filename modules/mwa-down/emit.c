/* emit.c - key templates and the append to $SLUICE_WORK/emit.
 * Each key is appended with a single write() on an O_APPEND descriptor, so
 * lines from several processes sharing a work dir never interleave. */
#include "emit.h"
#include "module_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *lookup(const char *ph, size_t n, const char *dir, const char *name,
                          char *tmp, size_t tmplen)
{
    if (n == 4 && !memcmp(ph, "name", 4)) return name;
    if (n == 3 && !memcmp(ph, "dir", 3)) return dir;
    if (n == 4 && !memcmp(ph, "stem", 4)) {
        size_t k = strcspn(name, ".");
        if (k >= tmplen) k = tmplen - 1;
        memcpy(tmp, name, k);
        tmp[k] = 0;
        return tmp;
    }
    if (n == 4 && !memcmp(ph, "path", 4)) {
        snprintf(tmp, tmplen, "%s/%s", dir, name);
        return tmp;
    }
    return NULL;
}

int emit_check_template(const char *tmpl, char *err, size_t errlen)
{
    char tmp[16];
    for (const char *p = tmpl; (p = strchr(p, '{')); p++) {
        const char *e = strchr(p, '}');
        if (!e || !lookup(p + 1, (size_t)(e - p - 1), "d", "n", tmp, sizeof tmp)) {
            snprintf(err, errlen,
                     "key template '%s': unknown or unclosed placeholder at '%s' "
                     "(known: {name} {stem} {path} {dir})",
                     tmpl, p);
            return -1;
        }
    }
    return 0;
}

int emit_expand(const char *tmpl, const char *dir, const char *name, char *out, size_t len)
{
    size_t o = 0;
    char tmp[4096];
    for (const char *p = tmpl; *p;) {
        const char *v = NULL;
        size_t vl = 1;
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e) v = lookup(p + 1, (size_t)(e - p - 1), dir, name, tmp, sizeof tmp);
            if (v) {
                vl = strlen(v);
                p = e + 1;
            }
        }
        if (!v) v = p++;
        if (o + vl >= len) return -1;
        memcpy(out + o, v, vl);
        o += vl;
    }
    out[o] = 0;
    return 0;
}

int emit_key(const char *key, char *err, size_t errlen)
{
    return module_emit(key, err, errlen);
}
