/* names.c - MWA file-name parsing and the emit-key helpers of the unpack tools.
 * (mwa-down has its own small copy of the emit helper: modules do not share
 * code through framework/, and the two differ in their placeholders.) */
#include "names.h"

#include "module_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int digits(const char **p, int min, int max, int64_t *v)
{
    int n = 0;
    int64_t x = 0;
    while (**p >= '0' && **p <= '9' && n < max) {
        x = x * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    if (n < min || (**p >= '0' && **p <= '9')) return -1;
    *v = x;
    return 0;
}

int chan_file_parse(const char *name, chan_file *out)
{
    const char *p = name;
    int64_t ch;
    if (digits(&p, 1, 12, &out->obsid) || *p++ != '_') return -1;
    if (digits(&p, 1, 12, &out->gps) || strncmp(p, "_ch", 3)) return -1;
    p += 3;
    if (digits(&p, 3, 3, &ch) || strcmp(p, ".dat")) return -1;
    out->ch = (int)ch;
    return 0;
}

int repack_name_parse(const char *name, repack_name *out)
{
    const char *p = name;
    int64_t ch;
    if (digits(&p, 1, 12, &out->t0) || *p++ != '_') return -1;
    if (digits(&p, 1, 12, &out->t1) || strncmp(p, "_ch", 3)) return -1;
    p += 3;
    if (digits(&p, 3, 3, &ch) || strcmp(p, ".dat.tar.zst")) return -1;
    if (out->t1 < out->t0) return -1;
    out->ch = (int)ch;
    return 0;
}

const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int key_check(const char *tmpl, const char *const *kv, char *err, size_t errlen)
{
    return module_key_check(tmpl, kv, err, errlen);
}

int key_expand(const char *tmpl, const char *const *kv, char *out, size_t len)
{
    return module_key_expand(tmpl, kv, out, len);
}

int key_emit(const char *key, char *err, size_t errlen)
{
    return module_emit(key, err, errlen);
}
