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

int emit_check_template(const char *tmpl, char *err, size_t errlen)
{
    const char *kv[] = {"name", "n", "stem", "n", "path", "d/n", "dir", "d", NULL};
    return module_key_check(tmpl, kv, err, errlen);
}

int emit_expand(const char *tmpl, const char *dir, const char *name, char *out, size_t len)
{
    char stem[4096], path[8192];
    size_t k = strcspn(name, ".");
    snprintf(stem, sizeof stem, "%.*s", (int)k, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    const char *kv[] = {"name", name, "stem", stem, "path", path, "dir", dir, NULL};
    return module_key_expand(tmpl, kv, out, len);
}

int emit_key(const char *key, char *err, size_t errlen)
{
    return module_emit(key, err, errlen);
}
