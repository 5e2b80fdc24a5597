/* vars.c - ${NAME} and ${NAME:-default} substitution in scalar values.
 *
 * Values come from, in order: the caller's explicit list (sl_varsrc.vars),
 * the process environment (if use_environ), then the env file. Every
 * variable that was found is recorded with its value so the controller can
 * rebuild the exact same model from p->vars alone. Substitution works on
 * parsed scalars, never on the raw text, so a value cannot inject YAML
 * structure and error positions stay exact. "$$" is a literal '$'; a '$' not
 * followed by '{' or '$' is kept as it is. A default is a template of its
 * own: ${A:-${B:-z}/tail} nests (up to SL_VAR_MAX_DEPTH levels), the default
 * is expanded only when it is used, and its syntax is checked either way. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/limits.h"
#include "pipeline/pipeline_int.h"

static void record(sl_pctx *c, const char *name, const char *value)
{
    for (size_t i = 0; i < c->nused; i++)
        if (!strcmp(c->used[i].key, name)) return;
    if (c->nused == c->capused) {
        c->capused = c->capused ? c->capused * 2 : 8;
        c->used = sl_xrealloc(c->used, c->capused * sizeof *c->used);
    }
    c->used[c->nused++] = (sl_kv){sl_xstrdup(name), sl_xstrdup(value)};
}

static const char *lookup(sl_pctx *c, const char *name)
{
    const sl_varsrc *s = c->src;
    if (s && s->vars)
        for (size_t i = 0; i < s->nvars; i++)
            if (s->vars[i].key && !strcmp(s->vars[i].key, name))
                return s->vars[i].value ? s->vars[i].value : "";
    if (s && s->use_environ) {
        const char *v = getenv(name);
        if (v) return v;
    }
    for (size_t i = 0; i < c->nenvf; i++)
        if (!strcmp(c->envf[i].key, name)) return c->envf[i].value;
    return NULL;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) return 0;
    return 1;
}

/* How deep ${A:-${B:-${C:-...}}} may nest. */
#define SL_VAR_MAX_DEPTH 8

/* The '}' that closes the reference whose body starts at body, skipping
 * nested ${...} and the escaped $${...} (a literal "${...}" in a default);
 * NULL if there is none before end. */
static const char *closing_brace(const char *body, const char *end)
{
    int depth = 0;
    for (const char *q = body; q < end; q++) {
        if (q[0] == '$' && q + 1 < end && q[1] == '$') {
            q++;
            if (q + 1 < end && q[1] == '{') {
                depth++;
                q++;
            }
        } else if (q[0] == '$' && q + 1 < end && q[1] == '{') {
            depth++;
            q++;
        } else if (q[0] == '}') {
            if (depth == 0) return q;
            depth--;
        }
    }
    return NULL;
}

/* Expands the template [s, end) into b (b NULL: only checks the syntax, as
 * for a default that is not used). A default is itself a template, expanded
 * only when it is used, so ${A:-${B:-z}/tail} is A, else B + "/tail", else
 * "z/tail". */
static int expand(sl_pctx *c, const sl_ynode *n, const char *s, const char *end, int depth,
                  sl_buf *b)
{
    for (const char *p = s; p < end;) {
        if (p[0] != '$' || p + 1 >= end || (p[1] != '$' && p[1] != '{')) {
            if (b) sl_buf_putc(b, *p);
            p++;
            continue;
        }
        if (p[1] == '$') {
            if (b) sl_buf_putc(b, '$');
            p += 2;
            continue;
        }
        const char *body = p + 2;
        const char *e = closing_brace(body, end);
        if (!e)
            return sl_pipeline_errf(c, n->loc,
                                    "unterminated '${' in '%s' (write $$ for a literal $)", n->str);
        size_t blen = (size_t)(e - body);
        const char *def = NULL;
        size_t nlen = blen;
        for (const char *q = body; q + 1 < e; q++)
            if (q[0] == ':' && q[1] == '-') {
                nlen = (size_t)(q - body);
                def = q + 2;
                break;
            }
        if (!valid_name(body, nlen))
            return sl_pipeline_errf(c, n->loc,
                                    "bad variable reference '${%.*s}' (use ${NAME} or "
                                    "${NAME:-default}; NAME is letters, digits and _)",
                                    (int)blen, body);
        if (def && depth + 1 >= SL_VAR_MAX_DEPTH)
            return sl_pipeline_errf(c, n->loc, "defaults nested more than %d deep in '%s'",
                                    SL_VAR_MAX_DEPTH, n->str);
        char *name = sl_xstrndup(body, nlen);
        const char *v = b ? lookup(c, name) : NULL;
        int rc = 0;
        if (v) record(c, name, v);
        if (!b) {
            if (def) rc = expand(c, n, def, e, depth + 1, NULL);
        } else if (v && (*v || !def)) {
            sl_buf_puts(b, v);
            if (def) rc = expand(c, n, def, e, depth + 1, NULL); /* unused: syntax only */
        } else if (def) {
            rc = expand(c, n, def, e, depth + 1, b);
        } else {
            rc = sl_pipeline_errf(c, n->loc,
                                  "variable %s is not set (use ${%s:-default} or define it in the "
                                  "environment or env_file)",
                                  name, name);
        }
        free(name);
        if (rc) return rc;
        p = e + 1;
    }
    return 0;
}

int sl_pipeline_subst(sl_pctx *c, const sl_ynode *n, char **out)
{
    const char *s = n->str;
    if (!strchr(s, '$')) {
        *out = sl_arena_strndup(c->a, s, n->len);
        return 0;
    }
    sl_buf b = SL_BUF_INIT;
    int rc = expand(c, n, s, s + strlen(s), 0, &b);
    if (rc == 0 && b.len > SL_PIPE_MAX_SCALAR_BYTES)
        rc = sl_pipeline_errf(c, n->loc,
                              "scalar of %zu bytes after variable substitution exceeds the limit "
                              "of %d",
                              b.len, SL_PIPE_MAX_SCALAR_BYTES);
    if (rc == 0) *out = sl_arena_strndup(c->a, b.data ? b.data : "", b.len);
    sl_buf_free(&b);
    return rc;
}

/* KEY=VALUE lines; '#' comments, blank lines, an optional "export ", and
 * values optionally wrapped in matching single or double quotes. */
int sl_pipeline_load_env_file(sl_pctx *c, const char *path, sl_loc loc)
{
    FILE *f = fopen(path, "r");
    if (!f) return sl_pipeline_errf(c, loc, "cannot read env_file '%s': %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, cnt = 0, lineno = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s || *s == '#') continue;
        if (!strncmp(s, "export ", 7)) s += 7;
        char *eq = strchr(s, '=');
        if (!eq || !valid_name(s, (size_t)(eq - s))) {
            rc = sl_errf(c->err, SL_EINVAL,
                         "%s:%zu:1: expected NAME=VALUE (NAME is letters, digits and _)", path,
                         lineno);
            break;
        }
        char *v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v++;
            vl -= 2;
        }
        if (c->nenvf == cnt) {
            cnt = cnt ? cnt * 2 : 16;
            sl_kv *nk = sl_arena_array(c->ta, cnt, sizeof *nk);
            if (c->nenvf) memcpy(nk, c->envf, c->nenvf * sizeof *nk);
            c->envf = nk;
        }
        /* A later line overrides an earlier one, as in a shell. */
        size_t i;
        char *name = sl_arena_strndup(c->ta, s, (size_t)(eq - s));
        for (i = 0; i < c->nenvf; i++)
            if (!strcmp(c->envf[i].key, name)) break;
        if (i == c->nenvf && c->nenvf == SL_PIPE_MAX_VARS) {
            rc = sl_errf(c->err, SL_EINVAL,
                         "%s:%zu:1: variable %s exceeds the limit of %d variables in an env_file",
                         path, lineno, name, SL_PIPE_MAX_VARS);
            break;
        }
        c->envf[i] = (sl_kv){name, sl_arena_strndup(c->ta, v, vl)};
        if (i == c->nenvf) c->nenvf++;
    }
    free(line);
    fclose(f);
    return rc;
}

void sl_pipeline_vars_finish(sl_pctx *c)
{
    sl_pipeline *p = c->p;
    p->nvars = c->nused;
    p->vars = sl_arena_array(c->a, c->nused, sizeof *p->vars);
    for (size_t i = 0; i < c->nused; i++) {
        p->vars[i].key = sl_arena_strdup(c->a, c->used[i].key);
        p->vars[i].value = sl_arena_strdup(c->a, c->used[i].value);
    }
}

void sl_pipeline_vars_release(sl_pctx *c)
{
    for (size_t i = 0; i < c->nused; i++) {
        free(c->used[i].key);
        free(c->used[i].value);
    }
    free(c->used);
    c->used = NULL;
    c->nused = c->capused = 0;
}
