/* module_emit.c - append a downstream message for sluice (see emit.h). */
#include "module_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int module_emit(const char *key, char *err, size_t errlen)
{
    printf("%s\n", key);
    fflush(stdout);
    const char *work = getenv("SLUICE_WORK");
    if (!work || !*work) return 0;
    char path[4096], line[4200];
    snprintf(path, sizeof path, "%s/emit", work);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int n = snprintf(line, sizeof line, "%s\n", key);
    ssize_t w = write(fd, line, (size_t)n); /* one write: lines never interleave */
    int e = errno;
    close(fd);
    if (w != n) {
        snprintf(err, errlen, "cannot append to %s: %s", path, w < 0 ? strerror(e) : "short write");
        return -1;
    }
    return 0;
}

/* ---- key templates: {name} placeholders from a name/value list ---- */

static const char *lookup(const char *ph, size_t n, const char *const *kv)
{
    for (; kv[0]; kv += 2)
        if (strlen(kv[0]) == n && !memcmp(kv[0], ph, n)) return kv[1];
    return NULL;
}

int module_key_check(const char *tmpl, const char *const *kv, char *err, size_t errlen)
{
    for (const char *p = tmpl; (p = strchr(p, '{')); p++) {
        const char *e = strchr(p, '}');
        if (!e || !lookup(p + 1, (size_t)(e - p - 1), kv)) {
            size_t o = (size_t)snprintf(
                err, errlen, "key template '%s': unknown placeholder at '%s' (known:", tmpl, p);
            for (const char *const *k = kv; k[0] && o < errlen; k += 2)
                o += (size_t)snprintf(err + o, errlen - o, " {%s}", k[0]);
            if (o < errlen) snprintf(err + o, errlen - o, ")");
            return -1;
        }
    }
    return 0;
}

int module_key_expand(const char *tmpl, const char *const *kv, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = tmpl; *p;) {
        const char *v = NULL;
        size_t vl = 1;
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e) v = lookup(p + 1, (size_t)(e - p - 1), kv);
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
