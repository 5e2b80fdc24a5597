/* template.c - task key validation and key template expansion (see template.h).
 *
 * A template is compiled into a short list of parts (literal text, the whole
 * input key, one input segment, an integer range). Expansion walks the ranges
 * like an odometer, the first range varying slowest, as shell brace expansion
 * does, so "ch{1..2}/t{1..2}" gives ch1/t1 ch1/t2 ch2/t1 ch2/t2. The number of
 * keys is computed before anything is produced, so a typo such as
 * {1..1000000000} fails fast instead of filling memory.
 *
 * A range may carry an output format after a ':' ({1..12960..24:p%05d_%05e}):
 * %d is the value, %e the last value of its step (value + STEP - 1, never
 * past B), %% a literal '%'; a zero-padded width goes between '%' and the
 * letter (%05d). The format is checked when the template is compiled, so a bad
 * one is an error before any key is made. */
#include "pipeline/template.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/json.h"

enum { P_LIT, P_KEY, P_SEG, P_RANGE };

typedef struct part {
    int kind;
    const char *lit; /* P_LIT: points into the template; {{ and }} are unescaped at output */
    size_t litlen;
    int seg;            /* P_SEG: 1-based, negative counts from the end */
    int64_t a, b, step; /* P_RANGE */
    int width;          /* P_RANGE: zero padding width */
    int64_t count;      /* P_RANGE: number of values */
    const char *fmt;    /* P_RANGE: output format after ':' (NULL: width-padded value) */
    size_t fmtlen;
} part;

typedef struct tmpl {
    part *parts;
    size_t n, cap;
    int64_t total; /* keys produced */
} tmpl;

static void add(tmpl *t, part p)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->parts = sl_xrealloc(t->parts, t->cap * sizeof *t->parts);
    }
    t->parts[t->n++] = p;
}

int sl_key_validate(const char *key, sl_err *err)
{
    if (!key || !*key) return sl_errf(err, SL_EINVAL, "empty key");
    size_t len = strlen(key);
    if (len > SL_KEY_MAX)
        return sl_errf(err, SL_EINVAL, "key '%.40s...' is %zu bytes long (the limit is %d)", key,
                       len, SL_KEY_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x20 || c > 0x7e)
            return sl_errf(err, SL_EINVAL,
                           "key '%s' contains a control or non-ASCII byte 0x%02x at offset %zu",
                           key, c, i);
        /* Keys become file names, argv words and lines of emit files: no
         * whitespace, quotes, shell or template metacharacters. */
        if (!isalnum(c) && !strchr("._-+=,@:%~/#", c))
            return sl_errf(err, SL_EINVAL,
                           "key '%s' contains '%c' at offset %zu (keys may hold letters, digits "
                           "and . _ - + = , @ : %% ~ # /)",
                           key, c, i);
    }
    if (key[0] == '/')
        return sl_errf(err, SL_EINVAL, "key '%s' starts with '/' (keys are relative paths)", key);
    const char *s = key;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0) return sl_errf(err, SL_EINVAL, "key '%s' has an empty path segment", key);
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return sl_errf(err, SL_EINVAL, "key '%s' has a '%.*s' path segment", key, (int)n, s);
        if (!e) break;
        s = e + 1;
    }
    return 0;
}

int sl_headers_validate(const char *headers, sl_err *err)
{
    if (!headers || !*headers) return 0;
    size_t len = strlen(headers);
    if (len > SL_HEADERS_MAX_BYTES)
        return sl_errf(err, SL_EINVAL, "headers of %zu bytes exceed the limit of %d bytes", len,
                       SL_HEADERS_MAX_BYTES);
    return sl_json_check_object_depth(headers, SL_HEADERS_MAX_DEPTH, err);
}

/* Parses a non-negative decimal integer of at most 18 digits. */
static int parse_uint(const char *s, size_t n, int64_t *v)
{
    if (n == 0 || n > 18) return -1;
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

/* Checks a range format: text plus %d (value), %e (last value of the step),
 * %% and an optional zero-padded width (0 and at most 2 digits, %05d). At
 * least one %d or %e is required, or every key of the range would be the
 * same. */
static int check_format(const char *tmpl_s, const char *br, size_t brn, const char *f, size_t n,
                        sl_err *err)
{
    int conv = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i] != '%') continue;
        size_t j = i + 1;
        if (j < n && f[j] == '%') {
            i = j;
            continue;
        }
        /* A width pads with zeros (%05d); space padding cannot make a key. */
        size_t w0 = j;
        while (j < n && isdigit((unsigned char)f[j]))
            j++;
        if ((j > w0 && (f[w0] != '0' || j - w0 > 3)) || j >= n || (f[j] != 'd' && f[j] != 'e'))
            return sl_errf(err, SL_EINVAL,
                           "template '%s': bad format in {%.*s} at '%.*s' (use %%d for the value, "
                           "%%e for the last value of its step, a zero-padded width as in "
                           "%%05d, and %%%% for '%%')",
                           tmpl_s, (int)brn, br, (int)(n - i), f + i);
        conv = 1;
        i = j;
    }
    if (!conv)
        return sl_errf(err, SL_EINVAL,
                       "template '%s': the format of {%.*s} has no %%d or %%e, so every key of "
                       "the range would be the same",
                       tmpl_s, (int)brn, br);
    return 0;
}

/* Appends range value x of part p (checked format, or the padded value). */
static void render_range(sl_buf *b, const part *p, int64_t x)
{
    if (!p->fmt) {
        sl_buf_printf(b, "%0*" PRId64, p->width, x);
        return;
    }
    /* The last value of x's step: x + STEP - 1 counting up, x - STEP + 1
     * counting down, clamped to B so the final step ends at B. */
    int64_t e = p->a <= p->b ? x + p->step - 1 : x - p->step + 1;
    if (p->a <= p->b ? e > p->b : e < p->b) e = p->b;
    const char *f = p->fmt, *end = p->fmt + p->fmtlen;
    while (f < end) {
        if (*f != '%') {
            size_t n = 0;
            while (f + n < end && f[n] != '%')
                n++;
            sl_buf_append(b, f, n);
            f += n;
            continue;
        }
        f++;
        if (*f == '%') {
            sl_buf_putc(b, '%');
            f++;
            continue;
        }
        int width = 0;
        while (isdigit((unsigned char)*f))
            width = width * 10 + (*f++ - '0');
        sl_buf_printf(b, "%0*" PRId64, width, *f == 'e' ? e : x);
        f++;
    }
}

static int compile_brace(tmpl *t, const char *tmpl_s, const char *s, size_t n, sl_err *err)
{
    part p = {0};
    if (n == 3 && !memcmp(s, "key", 3)) {
        p.kind = P_KEY;
        add(t, p);
        return 0;
    }
    int64_t v;
    if (n > 0 && (isdigit((unsigned char)s[0]) || s[0] == '-') && !memchr(s, '.', n)) {
        int neg = s[0] == '-';
        if (parse_uint(s + neg, n - neg, &v) < 0 || v == 0 || v > 1000)
            return sl_errf(err, SL_EINVAL,
                           "template '%s': bad segment reference {%.*s} (use {1}, {2}, ... or "
                           "{-1} for the last)",
                           tmpl_s, (int)n, s);
        p.kind = P_SEG;
        p.seg = neg ? -(int)v : (int)v;
        add(t, p);
        return 0;
    }
    /* A range's format follows the first ':' (ranges themselves have none). */
    const char *colon = memchr(s, ':', n);
    size_t rn = colon ? (size_t)(colon - s) : n;
    const char *d1 = rn >= 2 ? memmem(s, rn, "..", 2) : NULL;
    if (colon && !d1)
        return sl_errf(err, SL_EINVAL,
                       "template '%s': {%.*s}: only a range {A..B} or {A..B..STEP} takes a "
                       "':FORMAT'",
                       tmpl_s, (int)n, s);
    if (d1) {
        if (colon && check_format(tmpl_s, s, n, colon + 1, n - rn - 1, err) < 0) return SL_EINVAL;
        const char *aend = d1, *bs = d1 + 2;
        const char *d2 = memmem(bs, rn - (size_t)(bs - s), "..", 2);
        const char *bend = d2 ? d2 : s + rn;
        int64_t a, b, st = 1;
        if (parse_uint(s, (size_t)(aend - s), &a) < 0 ||
            parse_uint(bs, (size_t)(bend - bs), &b) < 0 ||
            (d2 && (parse_uint(d2 + 2, (size_t)(s + rn - d2 - 2), &st) < 0 || st < 1)))
            return sl_errf(err, SL_EINVAL,
                           "template '%s': bad range {%.*s} (use {A..B} or {A..B..STEP} with "
                           "non-negative integers and STEP >= 1, optionally followed by "
                           "':FORMAT')",
                           tmpl_s, (int)n, s);
        p.kind = P_RANGE;
        if (colon) {
            p.fmt = colon + 1;
            p.fmtlen = n - rn - 1;
        }
        p.a = a;
        p.b = b;
        p.step = st;
        p.width = (int)(aend - s);
        p.count = (a <= b ? b - a : a - b) / st + 1;
        if (p.count > SL_TEMPLATE_MAX_KEYS || t->total > SL_TEMPLATE_MAX_KEYS / p.count)
            return sl_errf(err, SL_EINVAL,
                           "template '%s' makes more than %d keys (the limit of keys one message "
                           "may expand to)",
                           tmpl_s, SL_TEMPLATE_MAX_KEYS);
        t->total *= p.count;
        add(t, p);
        return 0;
    }
    return sl_errf(err, SL_EINVAL,
                   "template '%s': unknown placeholder {%.*s} (use {key}, {1}, {-1}, {A..B}, "
                   "{A..B..STEP}, {A..B..STEP:FORMAT}, or {{ and }} for literal braces)",
                   tmpl_s, (int)n, s);
}

static int compile(tmpl *t, const char *s, sl_err *err)
{
    memset(t, 0, sizeof *t);
    t->total = 1;
    if (!s) return sl_errf(err, SL_EINVAL, "missing template");
    const char *p = s;
    while (*p) {
        if (*p == '{' && p[1] == '{') {
            add(t, (part){.kind = P_LIT, .lit = p, .litlen = 1});
            p += 2;
        } else if (*p == '}' && p[1] == '}') {
            add(t, (part){.kind = P_LIT, .lit = p, .litlen = 1});
            p += 2;
        } else if (*p == '}') {
            return sl_errf(
                err, SL_EINVAL,
                "template '%s': unmatched '}' at offset %zu (write }} for a literal brace)", s,
                (size_t)(p - s));
        } else if (*p == '{') {
            const char *e = strchr(p + 1, '}');
            const char *o = strchr(p + 1, '{');
            if (!e || (o && o < e))
                return sl_errf(err, SL_EINVAL,
                               "template '%s': unclosed '{' at offset %zu (write {{ for a literal "
                               "brace)",
                               s, (size_t)(p - s));
            if (compile_brace(t, s, p + 1, (size_t)(e - p - 1), err) < 0) return SL_EINVAL;
            p = e + 1;
        } else {
            size_t n = strcspn(p, "{}");
            add(t, (part){.kind = P_LIT, .lit = p, .litlen = n});
            p += n;
        }
    }
    return 0;
}

int sl_template_check(const char *tmpl_s, sl_err *err)
{
    tmpl t;
    int rc = compile(&t, tmpl_s, err);
    free(t.parts);
    return rc;
}

/* Finds segment `seg` of key; returns 0 and sets *s, *n, or -1. */
static int segment(const char *key, int seg, const char **s, size_t *n)
{
    int nseg = 1;
    for (const char *c = key; *c; c++)
        nseg += *c == '/';
    int idx = seg > 0 ? seg : nseg + seg + 1;
    if (idx < 1 || idx > nseg) return -1;
    const char *c = key;
    for (int i = 1; i < idx; i++)
        c = strchr(c, '/') + 1;
    const char *e = strchr(c, '/');
    *s = c;
    *n = e ? (size_t)(e - c) : strlen(c);
    return 0;
}

/* Expands keys [start, start + limit) of the template's ordered key space
 * (limit < 0: to the end). The odometer starts at `start` by writing the
 * ordinal in the mixed radix of the range counts, last range fastest. */
/* Replaces the input-dependent parts ({key}, {N}) by the text they stand
 * for in `in`, so that only ranges vary from key to key. */
static int bind_input(tmpl *t, const char *tmpl_s, const char *in, sl_err *err)
{
    for (size_t i = 0; i < t->n; i++) {
        part *p = &t->parts[i];
        if (p->kind != P_KEY && p->kind != P_SEG) continue;
        if (!in)
            return sl_errf(err, SL_EINVAL,
                           "template '%s' uses the input key, but there is no input key here",
                           tmpl_s);
        if (p->kind == P_KEY) {
            p->lit = in;
            p->litlen = strlen(in);
        } else if (segment(in, p->seg, &p->lit, &p->litlen) < 0) {
            return sl_errf(err, SL_EINVAL, "template '%s': key '%s' has no segment {%d}", tmpl_s,
                           in, p->seg);
        }
        p->kind = P_LIT;
    }
    return 0;
}

/* Expands keys [start, start + limit) of the template's ordered key space
 * (limit < 0: to the end). The odometer starts at `start` by writing the
 * ordinal in the mixed radix of the range counts, last range fastest. */
static int expand_at(const char *tmpl_s, const char *in, int64_t start, int64_t limit,
                     sl_template_fn fn, void *ctx, sl_err *err)
{
    tmpl t;
    int rc = compile(&t, tmpl_s, err);
    if (rc < 0) goto out;
    if ((rc = bind_input(&t, tmpl_s, in, err)) < 0) goto out;
    int64_t *val = sl_xcalloc(t.n, sizeof *val); /* per-range index */
    if (start < 0) start = 0;
    int64_t end = limit < 0 || limit > t.total - start ? t.total : start + limit;
    int64_t rem = start;
    for (size_t i = t.n; i-- > 0 && rem > 0;) {
        if (t.parts[i].kind != P_RANGE) continue;
        val[i] = rem % t.parts[i].count;
        rem /= t.parts[i].count;
    }
    sl_buf b = SL_BUF_INIT;
    for (int64_t k = start; k < end; k++) {
        sl_buf_reset(&b);
        for (size_t i = 0; i < t.n; i++) {
            part *p = &t.parts[i];
            if (p->kind == P_LIT) {
                sl_buf_append(&b, p->lit, p->litlen);
            } else {
                int64_t x = p->a <= p->b ? p->a + val[i] * p->step : p->a - val[i] * p->step;
                render_range(&b, p, x);
            }
        }
        if (sl_key_validate(b.data ? b.data : "", err) < 0) {
            rc = sl_err_prefix(err, "template '%s'", tmpl_s);
            break;
        }
        if ((rc = fn(ctx, b.data)) != 0) break;
        /* Odometer: the last range varies fastest. */
        for (size_t i = t.n; i-- > 0;) {
            if (t.parts[i].kind != P_RANGE) continue;
            if (++val[i] < t.parts[i].count) break;
            val[i] = 0;
        }
    }
    sl_buf_free(&b);
    free(val);
out:
    free(t.parts);
    return rc;
}

int sl_template_expand(const char *tmpl_s, const char *in, sl_template_fn fn, void *ctx,
                       sl_err *err)
{
    return expand_at(tmpl_s, in, 0, -1, fn, ctx, err);
}

int sl_template_expand_at(const char *tmpl_s, const char *in, int64_t start, int64_t limit,
                          sl_template_fn fn, void *ctx, sl_err *err)
{
    return expand_at(tmpl_s, in, start, limit, fn, ctx, err);
}

int64_t sl_template_count(const char *tmpl_s, sl_err *err)
{
    tmpl t;
    int rc = compile(&t, tmpl_s, err);
    free(t.parts);
    return rc < 0 ? rc : t.total;
}

static int first_key(void *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return 1; /* stop: the first key was made and is valid */
}

int sl_template_check_keys(const char *tmpl_s, const char *in, sl_err *err)
{
    /* The keys differ only in the digits of their ranges: a range's text is
     * never empty and always holds a digit, so it cannot make an empty, "."
     * or ".." segment, and digits are valid key bytes. So every key is
     * valid if the first one is and the longest one is short enough. Ranges
     * vary independently and a value's text grows with the value, so the
     * longest key takes each range at whichever end renders longer. */
    int rc = expand_at(tmpl_s, in, 0, 1, first_key, NULL, err);
    if (rc < 0) return rc;
    tmpl t;
    if ((rc = compile(&t, tmpl_s, err)) < 0 || (rc = bind_input(&t, tmpl_s, in, err)) < 0) {
        free(t.parts);
        return rc;
    }
    size_t max = 0;
    sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < t.n; i++) {
        const part *p = &t.parts[i];
        if (p->kind == P_LIT) {
            max += p->litlen;
            continue;
        }
        int64_t last =
            p->a <= p->b ? p->a + (p->count - 1) * p->step : p->a - (p->count - 1) * p->step;
        sl_buf_reset(&b);
        render_range(&b, p, p->a);
        size_t l0 = b.len;
        sl_buf_reset(&b);
        render_range(&b, p, last);
        max += b.len > l0 ? b.len : l0;
    }
    sl_buf_free(&b);
    free(t.parts);
    if (max > SL_KEY_MAX)
        return sl_errf(err, SL_EINVAL,
                       "template '%s' makes keys of up to %zu bytes (the limit is %d)", tmpl_s, max,
                       SL_KEY_MAX);
    return 0;
}
