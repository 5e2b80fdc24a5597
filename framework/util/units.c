/* units.c - parse and format durations and byte sizes (see units.h).
 *
 * Numbers are parsed as an integer part plus at most 9 fractional digits and
 * scaled with integer arithmetic, so "1.5GB" is exactly 1500000000 and
 * overflow is detected instead of silently wrapping through a double. */
#include "util/units.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Parses [digits][.digits] at *p. Returns 0 and advances *p, or -1. */
static int parse_number(const char **p, int64_t *ip, int64_t *frac, int *fdigits, int *overflow)
{
    const char *s = *p;
    int64_t v = 0;
    int nint = 0;
    *overflow = 0;
    while (isdigit((unsigned char)*s)) {
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            *overflow = 1;
        else
            v = v * 10 + d;
        s++;
        nint++;
    }
    int64_t f = 0;
    int nf = 0, any_frac = 0;
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (nf < 9) {
                f = f * 10 + (*s - '0');
                nf++;
            }
            any_frac = 1;
            s++;
        }
        if (!any_frac) return -1;
    }
    if (nint == 0 && !any_frac) return -1;
    *ip = v;
    *frac = f;
    *fdigits = nf;
    *p = s;
    return 0;
}

/* v = ip * unit + round(frac / 10^fd * unit); -1 on overflow. */
static int scale(int64_t ip, int64_t frac, int fd, int64_t unit, int64_t *out)
{
    int64_t whole;
    if (__builtin_mul_overflow(ip, unit, &whole)) return -1;
    int64_t pow10 = 1;
    for (int i = 0; i < fd; i++)
        pow10 *= 10;
    /* frac < 1e9 and unit <= 2^50 would overflow; split the unit instead. */
    int64_t part;
    __int128 t = (__int128)frac * unit;
    t = (t + pow10 / 2) / pow10;
    part = (int64_t)t;
    if (__builtin_add_overflow(whole, part, out)) return -1;
    return 0;
}

static int bad(sl_err *err, const char *what, const char *s, const char *why)
{
    return sl_errf(err, SL_EINVAL, "bad %s '%s': %s", what, s, why);
}

int sl_parse_duration_ms(const char *s, int64_t *ms, sl_err *err)
{
    if (!s || !*s) return bad(err, "duration", s ? s : "", "empty");
    if (*s == '-') return bad(err, "duration", s, "negative durations are not allowed");
    const char *p = s;
    int64_t total = 0;
    int parts = 0;
    while (*p) {
        int64_t ip, frac;
        int fd, ovf;
        if (parse_number(&p, &ip, &frac, &fd, &ovf) < 0)
            return bad(err, "duration", s, "expected a number such as 10s, 5m, 1h30m or 250ms");
        if (ovf) return bad(err, "duration", s, "too large");
        const char *u = p;
        while (isalpha((unsigned char)*p))
            p++;
        size_t ul = (size_t)(p - u);
        int64_t unit;
        if (*p == ' ' || *p == '\t')
            return bad(err, "duration", s, "spaces are not allowed (write e.g. 10m, 1h30m)");
        if (ul == 0) {
            if (parts > 0 || *p)
                return bad(err, "duration", s,
                           *p ? "unexpected character (use e.g. 10s, 5m, 1h30m, 250ms)"
                              : "missing unit after the last number");
            unit = 1000; /* a plain number is seconds */
        } else if (ul == 2 && !strncmp(u, "ms", 2)) {
            unit = 1;
        } else if (ul == 1 && *u == 's') {
            unit = 1000;
        } else if (ul == 1 && *u == 'm') {
            unit = 60000;
        } else if (ul == 1 && *u == 'h') {
            unit = 3600000;
        } else if (ul == 1 && *u == 'd') {
            unit = 86400000;
        } else {
            return sl_errf(err, SL_EINVAL,
                           "bad duration '%s': unknown unit '%.*s' (use ms, s, m, h or d)", s,
                           (int)ul, u);
        }
        int64_t v;
        if (scale(ip, frac, fd, unit, &v) < 0 || __builtin_add_overflow(total, v, &total))
            return bad(err, "duration", s, "too large");
        parts++;
        if (*p && !isdigit((unsigned char)*p) && *p != '.')
            return bad(err, "duration", s, "unexpected character (use e.g. 10s, 5m, 1h30m, 250ms)");
    }
    *ms = total;
    return 0;
}

static const struct {
    const char *suffix;
    int64_t mult;
} size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1LL << 10},
    {"m", 1LL << 20},
    {"g", 1LL << 30},
    {"t", 1LL << 40},
    {"p", 1LL << 50},
    {"kib", 1LL << 10},
    {"mib", 1LL << 20},
    {"gib", 1LL << 30},
    {"tib", 1LL << 40},
    {"pib", 1LL << 50},
    {"kb", 1000LL},
    {"mb", 1000000LL},
    {"gb", 1000000000LL},
    {"tb", 1000000000000LL},
    {"pb", 1000000000000000LL},
};

int sl_parse_size(const char *s, int64_t *bytes, sl_err *err)
{
    if (!s || !*s) return bad(err, "size", s ? s : "", "empty");
    if (*s == '-') return bad(err, "size", s, "negative sizes are not allowed");
    const char *p = s;
    int64_t ip, frac;
    int fd, ovf;
    if (parse_number(&p, &ip, &frac, &fd, &ovf) < 0)
        return bad(err, "size", s, "expected a number such as 512, 64m, 300MiB or 1.5GB");
    if (ovf) return bad(err, "size", s, "too large");
    if (*p == ' ' || *p == '\t')
        return bad(err, "size", s, "spaces are not allowed (write e.g. 300MiB)");
    for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++) {
        if (strcasecmp(p, size_units[i].suffix)) continue;
        int64_t v;
        if (scale(ip, frac, fd, size_units[i].mult, &v) < 0)
            return bad(err, "size", s, "too large");
        *bytes = v;
        return 0;
    }
    return sl_errf(err, SL_EINVAL,
                   "bad size '%s': unknown unit '%s' (use B, k/m/g/t or KiB/MiB/GiB/TiB for "
                   "powers of 1024, KB/MB/GB/TB for powers of 1000)",
                   s, p);
}

char *sl_format_size(int64_t bytes, char *buf, size_t n)
{
    static const char *names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(buf, n, "%" PRId64 "B", bytes);
        return buf;
    }
    int u = 0;
    int64_t div = 1;
    while (u < 5 && bytes / div >= 1024) {
        div <<= 10;
        u++;
    }
    if (bytes % div == 0) {
        snprintf(buf, n, "%" PRId64 "%s", bytes / div, names[u]);
    } else {
        /* One decimal is what a person reads; exactness is not the point here. */
        int64_t tenths = (int64_t)(((__int128)bytes * 10 + div / 2) / div);
        if (tenths % 10 == 0)
            snprintf(buf, n, "%" PRId64 "%s", tenths / 10, names[u]);
        else
            snprintf(buf, n, "%" PRId64 ".%d%s", tenths / 10, (int)(tenths % 10), names[u]);
    }
    return buf;
}

char *sl_format_duration(int64_t ms, char *buf, size_t n)
{
    static const struct {
        const char *name;
        int64_t ms;
    } parts[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
    if (n == 0) return buf;
    buf[0] = 0;
    if (ms <= 0) {
        snprintf(buf, n, ms == 0 ? "0s" : "-");
        return buf;
    }
    size_t used = 0;
    for (size_t i = 0; i < 5 && ms > 0; i++) {
        int64_t q = ms / parts[i].ms;
        if (!q) continue;
        ms -= q * parts[i].ms;
        int w = snprintf(buf + used, n - used, "%" PRId64 "%s", q, parts[i].name);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
    return buf;
}
