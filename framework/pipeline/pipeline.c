/* pipeline.c - entry points of the pipeline model: load, parse, free, and
 * the small lookups other components use (stage index, retries per exit
 * code, placement names).
 *
 * A parse runs in three steps over one context (see pipeline_int.h): the
 * YAML text becomes a node tree in a scratch arena, the tree becomes the
 * model in the pipeline's own arena, then cross-stage rules are checked.
 * The scratch arena is freed whatever happens. */
#include "pipeline/pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipeline/limits.h"
#include "pipeline/pipeline_int.h"

int sl_pipeline_errf(sl_pctx *c, sl_loc loc, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sl_errf(c->err, SL_EINVAL, "%s:%d:%d: %s", c->file, loc.line, loc.col, msg);
}

int sl_pipeline_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    int d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            /* a swap of two neighbours counts as one edit */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *sl_pipeline_suggest(const char *s, const char *const *names, size_t n)
{
    const char *best = NULL;
    int bd = 99;
    size_t ls = strlen(s);
    int limit = ls <= 3 ? 1 : ls <= 6 ? 2 : 3;
    for (size_t i = 0; i < n; i++) {
        int d = sl_pipeline_edit_distance(s, names[i]);
        if (d < bd) {
            bd = d;
            best = names[i];
        }
    }
    return bd <= limit ? best : NULL;
}

static char *dir_of(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (!slash) return sl_xstrdup(".");
    if (slash == file) return sl_xstrdup("/");
    return sl_xstrndup(file, (size_t)(slash - file));
}

sl_pipeline *sl_pipeline_parse(const char *file, const char *text, size_t len, const sl_varsrc *src,
                               sl_err *err)
{
    sl_err localerr;
    if (!err) err = &localerr;
    sl_err_clear(err);
    if (!file) file = "<pipeline>";
    sl_arena *a = sl_arena_new();
    sl_pipeline *p = sl_arena_alloc(a, sizeof *p);
    p->arena = a;
    p->file = sl_arena_strdup(a, file);
    char *dir = dir_of(file);
    sl_pctx c = {
        .a = a,
        .ta = sl_arena_new(),
        .file = p->file,
        .dir = dir,
        .src = src,
        .err = err,
        .p = p,
    };
    sl_ynode *root = NULL;
    int rc = 0;
    /* checked before libyaml sees the text: it would buffer any scalar whole */
    if (len > SL_PIPE_MAX_DOC_BYTES)
        rc = sl_errf(err, SL_EINVAL, "%s:1:1: document of %zu bytes exceeds the limit of %d", file,
                     len, SL_PIPE_MAX_DOC_BYTES);
    if (rc == 0 && src && src->nvars > SL_PIPE_MAX_VARS)
        rc = sl_errf(err, SL_EINVAL, "%s:1:1: %zu variables given exceed the limit of %d", file,
                     src->nvars, SL_PIPE_MAX_VARS);
    if (rc == 0) rc = sl_ytree_parse(c.ta, file, text, len, &root, err);
    if (rc == 0) rc = sl_pipeline_build(&c, root);
    if (rc == 0) rc = sl_pipeline_validate(&c);
    if (rc == 0) sl_pipeline_vars_finish(&c);
    sl_pipeline_vars_release(&c);
    sl_arena_free(c.ta);
    free(dir);
    if (rc < 0) {
        sl_arena_free(a);
        return NULL;
    }
    return p;
}

sl_pipeline *sl_pipeline_load(const char *file, const sl_varsrc *src, sl_err *err)
{
    FILE *f = fopen(file, "rb");
    if (!f) {
        sl_errf(err, SL_EIO, "%s: cannot open: %s", file, strerror(errno));
        return NULL;
    }
    sl_buf b = SL_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        sl_buf_append(&b, chunk, n);
        if (b.len > SL_PIPE_MAX_DOC_BYTES) { /* sl_pipeline_parse says so, with the size */
            struct stat st;
            size_t size = fstat(fileno(f), &st) == 0 && (size_t)st.st_size > b.len
                              ? (size_t)st.st_size
                              : b.len;
            fclose(f);
            sl_buf_free(&b);
            sl_errf(err, SL_EINVAL, "%s:1:1: document of %zu bytes exceeds the limit of %d", file,
                    size, SL_PIPE_MAX_DOC_BYTES);
            return NULL;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        sl_buf_free(&b);
        sl_errf(err, SL_EIO, "%s: read error", file);
        return NULL;
    }
    sl_pipeline *p = sl_pipeline_parse(file, b.data ? b.data : "", b.len, src, err);
    sl_buf_free(&b);
    return p;
}

void sl_pipeline_free(sl_pipeline *p)
{
    if (p) sl_arena_free(p->arena);
}

int sl_pipeline_stage_index(const sl_pipeline *p, const char *name)
{
    for (size_t i = 0; name && i < p->nstages; i++)
        if (p->stages[i].name && !strcmp(p->stages[i].name, name)) return (int)i;
    return -1;
}

int sl_stage_retries_for(const sl_stage *s, int exit_code)
{
    for (size_t i = 0; i < s->nretry; i++)
        if (s->retry[i].exit_code == exit_code) return s->retry[i].retries;
    return s->retry_default;
}

const char *sl_placement_name(sl_placement p)
{
    switch (p) {
    case SL_PLACE_ANY:
        return "any";
    case SL_PLACE_HOST_BOUND:
        return "host-bound";
    case SL_PLACE_GROUP_BOUND:
        return "group-bound";
    }
    return "?";
}
