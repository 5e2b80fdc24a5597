/* json.c - a validating scanner for small JSON objects (see json.h).
 * Recursive descent over the text; values are skipped, never built. */
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t i;
    int depth;
    int max_depth; /* 0: 64 */
    int too_deep;  /* set when max_depth was what failed */
} scan;

static int deeper(scan *c)
{
    if (++c->depth <= (c->max_depth ? c->max_depth : 64)) return 0;
    c->too_deep = 1;
    return -1;
}

static void ws(scan *c)
{
    while (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' || c->s[c->i] == '\r')
        c->i++;
}

static int value(scan *c);

/* Scans a string starting at the quote; if out is non-NULL unescapes into it. */
static int string(scan *c, sl_buf *out)
{
    if (c->s[c->i] != '"') return -1;
    c->i++;
    for (;;) {
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch == 0 || ch < 0x20) return -1;
        c->i++;
        if (ch == '"') return 0;
        if (ch != '\\') {
            if (out) sl_buf_putc(out, (char)ch);
            continue;
        }
        char e = c->s[c->i++];
        char lit = 0;
        switch (e) {
        case '"':
            lit = '"';
            break;
        case '\\':
            lit = '\\';
            break;
        case '/':
            lit = '/';
            break;
        case 'b':
            lit = '\b';
            break;
        case 'f':
            lit = '\f';
            break;
        case 'n':
            lit = '\n';
            break;
        case 'r':
            lit = '\r';
            break;
        case 't':
            lit = '\t';
            break;
        case 'u': {
            unsigned v = 0;
            for (int k = 0; k < 4; k++) {
                char h = c->s[c->i++];
                v <<= 4;
                if (h >= '0' && h <= '9')
                    v |= (unsigned)(h - '0');
                else if (h >= 'a' && h <= 'f')
                    v |= (unsigned)(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                    v |= (unsigned)(h - 'A' + 10);
                else
                    return -1;
            }
            if (out) { /* UTF-8 encode the BMP code point (surrogates kept as is) */
                if (v < 0x80) {
                    sl_buf_putc(out, (char)v);
                } else if (v < 0x800) {
                    sl_buf_putc(out, (char)(0xC0 | (v >> 6)));
                    sl_buf_putc(out, (char)(0x80 | (v & 0x3F)));
                } else {
                    sl_buf_putc(out, (char)(0xE0 | (v >> 12)));
                    sl_buf_putc(out, (char)(0x80 | ((v >> 6) & 0x3F)));
                    sl_buf_putc(out, (char)(0x80 | (v & 0x3F)));
                }
            }
            continue;
        }
        default:
            return -1;
        }
        if (out) sl_buf_putc(out, lit);
    }
}

static int number(scan *c)
{
    size_t st = c->i;
    if (c->s[c->i] == '-') c->i++;
    if (c->s[c->i] < '0' || c->s[c->i] > '9') return -1;
    while ((c->s[c->i] >= '0' && c->s[c->i] <= '9') || c->s[c->i] == '.' || c->s[c->i] == 'e' ||
           c->s[c->i] == 'E' || c->s[c->i] == '+' || c->s[c->i] == '-')
        c->i++;
    return c->i > st ? 0 : -1;
}

static int lit(scan *c, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(c->s + c->i, w, n) != 0) return -1;
    c->i += n;
    return 0;
}

static int object(scan *c)
{
    if (deeper(c) < 0) return -1;
    c->i++; /* '{' */
    ws(c);
    if (c->s[c->i] == '}') {
        c->i++;
        c->depth--;
        return 0;
    }
    for (;;) {
        ws(c);
        if (string(c, NULL) < 0) return -1;
        ws(c);
        if (c->s[c->i++] != ':') return -1;
        ws(c);
        if (value(c) < 0) return -1;
        ws(c);
        char ch = c->s[c->i++];
        if (ch == '}') break;
        if (ch != ',') return -1;
    }
    c->depth--;
    return 0;
}

static int array(scan *c)
{
    if (deeper(c) < 0) return -1;
    c->i++;
    ws(c);
    if (c->s[c->i] == ']') {
        c->i++;
        c->depth--;
        return 0;
    }
    for (;;) {
        ws(c);
        if (value(c) < 0) return -1;
        ws(c);
        char ch = c->s[c->i++];
        if (ch == ']') break;
        if (ch != ',') return -1;
    }
    c->depth--;
    return 0;
}

static int value(scan *c)
{
    switch (c->s[c->i]) {
    case '{':
        return object(c);
    case '[':
        return array(c);
    case '"':
        return string(c, NULL);
    case 't':
        return lit(c, "true");
    case 'f':
        return lit(c, "false");
    case 'n':
        return lit(c, "null");
    default:
        return number(c);
    }
}

static int by_name(const void *a, const void *b)
{
    const sl_buf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->data, y->data, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* A field named twice is refused: readers would disagree on which one
 * counts (a `to_host` given as a number, then as a string). text is a
 * valid object. */
static int duplicate_names(const char *text, sl_err *err)
{
    scan c = {text, 0, 0, 0, 0};
    ws(&c);
    c.i++; /* '{' */
    sl_buf *names = NULL;
    size_t n = 0;
    ws(&c);
    while (c.s[c.i] == '"') {
        names = sl_xrealloc(names, (n + 1) * sizeof *names);
        names[n] = (sl_buf)SL_BUF_INIT;
        string(&c, &names[n]);
        sl_buf_reserve(&names[n], 0);
        n++;
        ws(&c);
        c.i++; /* ':' */
        ws(&c);
        value(&c);
        ws(&c);
        if (c.s[c.i] != ',') break;
        c.i++;
        ws(&c);
    }
    int rc = 0;
    if (n > 1) {
        qsort(names, n, sizeof *names, by_name);
        for (size_t i = 1; i < n && rc == 0; i++)
            if (by_name(&names[i - 1], &names[i]) == 0)
                rc = sl_errf(err, SL_EINVAL, "field \"%.64s\" is given twice in the headers",
                             names[i].data);
    }
    for (size_t i = 0; i < n; i++)
        sl_buf_free(&names[i]);
    free(names);
    return rc;
}

int sl_json_check_object(const char *text, sl_err *err)
{
    return sl_json_check_object_depth(text, 64, err);
}

int sl_json_check_object_depth(const char *text, int max_depth, sl_err *err)
{
    scan c = {text ? text : "", 0, 0, max_depth > 0 ? max_depth : 64, 0};
    ws(&c);
    if (c.s[c.i] != '{')
        return sl_errf(err, SL_EINVAL, "headers must be a JSON object (starting with '{')");
    if (object(&c) < 0) {
        if (c.too_deep)
            return sl_errf(err, SL_EINVAL,
                           "JSON nested deeper than the limit of %d levels (at byte %zu)",
                           c.max_depth, c.i);
        return sl_errf(err, SL_EINVAL, "malformed JSON near byte %zu", c.i);
    }
    ws(&c);
    if (c.s[c.i])
        return sl_errf(err, SL_EINVAL, "trailing characters after JSON object at byte %zu", c.i);
    return duplicate_names(text, err);
}

/* Finds top-level field `name`; on success c->i points at its value. The
 * start offset of the member's key is stored in *member_start. */
static int find_field(scan *c, const char *name, size_t *member_start)
{
    ws(c);
    if (c->s[c->i] != '{') return 0;
    c->i++;
    ws(c);
    if (c->s[c->i] == '}') return 0;
    sl_buf k = SL_BUF_INIT;
    int found = 0;
    for (;;) {
        ws(c);
        size_t st = c->i;
        sl_buf_reset(&k);
        if (string(c, &k) < 0) break;
        ws(c);
        if (c->s[c->i++] != ':') break;
        ws(c);
        if (k.data && strcmp(k.data, name) == 0) {
            if (member_start) *member_start = st;
            found = 1;
            break;
        }
        if (value(c) < 0) break;
        ws(c);
        if (c->s[c->i++] != ',') break;
    }
    sl_buf_free(&k);
    return found;
}

int sl_json_get_str(const char *obj, const char *name, sl_buf *out)
{
    if (!obj) return 0;
    scan c = {obj, 0, 0, 0, 0};
    if (!find_field(&c, name, NULL) || c.s[c.i] != '"') return 0;
    sl_buf_reset(out);
    if (string(&c, out) < 0) return 0;
    if (!out->data) sl_buf_puts(out, "");
    return 1;
}

void sl_json_set_str(sl_buf *out, const char *obj, const char *name, const char *value_s)
{
    sl_buf_reset(out);
    scan d0 = {obj ? obj : "", 0, 0, 0, 0};
    ws(&d0);
    /* Not an object at all (empty, blank, another value): start from {}.
     * Reading on as if there were a '{' would run past the end. */
    if (d0.s[d0.i] != '{') obj = "{}";
    scan c = {obj, 0, 0, 0, 0};
    size_t mstart = 0;
    if (find_field(&c, name, &mstart)) {
        /* Drop the old member (and one adjacent comma), then add ours in front. */
        size_t vstart = c.i;
        if (value(&c) < 0) {
            c.i = vstart;
        }
        size_t end = c.i;
        scan d = {obj, end, 0, 0, 0};
        ws(&d);
        if (obj[d.i] == ',') {
            end = d.i + 1;
        } else {
            /* last member: remove the comma before it, if any */
            size_t j = mstart;
            while (j > 0 && (obj[j - 1] == ' ' || obj[j - 1] == '\n' || obj[j - 1] == '\t' ||
                             obj[j - 1] == '\r'))
                j--;
            if (j > 0 && obj[j - 1] == ',') mstart = j - 1;
        }
        sl_buf tmp = SL_BUF_INIT;
        sl_buf_append(&tmp, obj, mstart);
        sl_buf_puts(&tmp, obj + end);
        sl_json_set_str(out, tmp.data, name, value_s);
        sl_buf_free(&tmp);
        return;
    }
    /* Insert as the first member. */
    scan d = {obj, 0, 0, 0, 0};
    ws(&d);
    sl_buf_append(out, obj, d.i + 1); /* up to and including '{' */
    sl_buf_json_str(out, name);
    sl_buf_putc(out, ':');
    sl_buf_json_str(out, value_s);
    scan e = {obj, d.i + 1, 0, 0, 0};
    ws(&e);
    if (obj[e.i] != '}') sl_buf_putc(out, ',');
    sl_buf_puts(out, obj + d.i + 1);
}

int sl_json_each_str(const char *obj, sl_json_str_fn fn, void *ctx)
{
    scan c = {obj ? obj : "", 0, 0, 0, 0};
    ws(&c);
    if (c.s[c.i] != '{') return -1;
    c.i++;
    ws(&c);
    if (c.s[c.i] == '}') return 0;
    sl_buf k = SL_BUF_INIT, v = SL_BUF_INIT;
    int n = 0;
    for (;;) {
        ws(&c);
        sl_buf_reset(&k);
        if (string(&c, &k) < 0) break;
        ws(&c);
        if (c.s[c.i++] != ':') break;
        ws(&c);
        if (c.s[c.i] == '"') {
            sl_buf_reset(&v);
            if (string(&c, &v) < 0) break;
            n++;
            if (fn(ctx, k.data ? k.data : "", v.data ? v.data : "")) break;
        } else if (value(&c) < 0) {
            break;
        }
        ws(&c);
        if (c.s[c.i++] != ',') break;
    }
    sl_buf_free(&k);
    sl_buf_free(&v);
    return n;
}
