/* dp_cap.c - per-object capabilities: minting, parsing, verifying, scoping.
 *
 * A capability says "host R may read (or push to) object P until T", signed
 * with the key of the one data server it is meant for. Everything here is
 * pure (no I/O, the clock is a parameter) so every refusal can be unit-tested
 * byte by byte. The MAC covers a length-prefixed encoding of the fields, so
 * no byte can move from one field to the next; the printable form carries
 * reader and path in hex so they can hold any byte the name rules allow
 * without an escaping scheme. Messages never contain key or MAC bytes. */
#include "dataplane/dp_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char CAP_DOMAIN[] = "sluice-dp-cap-v1";
static const char KEY_DOMAIN[] = "sluice-dp-key-v1";
static const char hexd[] = "0123456789abcdef";

static void to_hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[b[i] >> 4];
        out[2 * i + 1] = hexd[b[i] & 15];
    }
    out[2 * n] = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* lower case only: one spelling per capability */
}

/* Decodes exactly n hex chars into n/2 bytes; -1 on a bad digit or odd n. */
static int from_hex(const char *s, size_t n, uint8_t *out)
{
    if (n % 2) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int dp_key_parse(const char *hex, uint8_t key[32])
{
    if (!hex || strlen(hex) != SL_DP_KEY_HEX) return -1;
    return from_hex(hex, SL_DP_KEY_HEX, key);
}

void sl_dp_server_key(const uint8_t master[32], const char *host, char out[SL_DP_KEY_HEX + 1])
{
    size_t hl = strlen(host);
    uint8_t *msg = malloc(sizeof KEY_DOMAIN + hl); /* domain, its NUL, host */
    uint8_t mac[32];
    unsigned int ml = sizeof mac;
    if (!msg) {
        out[0] = 0; /* an empty key is refused by sl_dp_server_start */
        return;
    }
    memcpy(msg, KEY_DOMAIN, sizeof KEY_DOMAIN);
    memcpy(msg + sizeof KEY_DOMAIN, host, hl);
    HMAC(EVP_sha256(), master, 32, msg, sizeof KEY_DOMAIN + hl, mac, &ml);
    to_hex(mac, 32, out);
    OPENSSL_cleanse(mac, sizeof mac);
    free(msg);
}

static void put_field(uint8_t *buf, size_t *n, const void *p, size_t len)
{
    buf[(*n)++] = (uint8_t)(len >> 24);
    buf[(*n)++] = (uint8_t)(len >> 16);
    buf[(*n)++] = (uint8_t)(len >> 8);
    buf[(*n)++] = (uint8_t)len;
    memcpy(buf + *n, p, len);
    *n += len;
}

/* mac = HMAC-SHA256(key, domain || [len:u32 field] for op, expires, reader, path) */
static void cap_mac(const uint8_t key[32], int op, int64_t expires_ms, const char *reader,
                    const char *path, uint8_t mac[32])
{
    uint8_t buf[sizeof CAP_DOMAIN + 4 * 4 + 1 + 8 + SL_DP_MAX_READER + SL_DP_MAX_NAME];
    size_t n = 0;
    memcpy(buf, CAP_DOMAIN, sizeof CAP_DOMAIN - 1);
    n = sizeof CAP_DOMAIN - 1;
    uint8_t o = (uint8_t)op, e[8];
    for (int i = 0; i < 8; i++)
        e[i] = (uint8_t)((uint64_t)expires_ms >> (56 - 8 * i));
    put_field(buf, &n, &o, 1);
    put_field(buf, &n, e, 8);
    put_field(buf, &n, reader, strlen(reader));
    put_field(buf, &n, path, strlen(path));
    unsigned int ml = 32;
    HMAC(EVP_sha256(), key, 32, buf, n, mac, &ml);
}

int dp_cap_path_ok(const char *path, const char **why)
{
    if (!path || !*path) return *why = "capability path is empty", -1;
    if (strlen(path) > SL_DP_MAX_NAME - DP_MAX_ROOTNAME - 1)
        return *why = "capability path is too long", -1;
    if (path[0] == '.') return *why = "capability path may not start in a hidden area ('.')", -1;
    return dp_rel_ok(path, why);
}

static int reader_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > SL_DP_MAX_READER) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)r[i] <= 0x20 || r[i] == 0x7f) return 0;
    return 1;
}

int sl_dp_cap_make(const char *key_hex, int op, const char *path, const char *reader,
                   int64_t expires_ms, char *out, size_t outsz, sl_err *err)
{
    uint8_t key[32], mac[32];
    const char *why;
    if (dp_key_parse(key_hex, key))
        return sl_errf(err, SL_EINVAL, "capability key must be %d lower-case hex characters",
                       SL_DP_KEY_HEX),
               -1;
    if (op != SL_DP_CAP_READ && op != SL_DP_CAP_PUSH)
        return sl_errf(err, SL_EINVAL, "capability op must be 'r' (read) or 'p' (push)"), -1;
    if (dp_cap_path_ok(path, &why)) return sl_errf(err, SL_EINVAL, "%s: '%s'", why, path), -1;
    if (!reader || !reader_ok(reader))
        return sl_errf(err, SL_EINVAL,
                       "capability reader must be a host name of 1 to %d printable bytes",
                       SL_DP_MAX_READER),
               -1;
    if (expires_ms <= 0) return sl_errf(err, SL_EINVAL, "capability expiry must be positive"), -1;
    size_t rl = strlen(reader), pl = strlen(path);
    char num[24];
    snprintf(num, sizeof num, "%" PRId64, expires_ms);
    size_t need = 3 + 2 + strlen(num) + 1 + 2 * rl + 1 + 2 * pl + 1 + 64;
    if (need > SL_DP_MAX_CAP || need + 1 > outsz) {
        OPENSSL_cleanse(key, sizeof key);
        return sl_errf(err, SL_EINVAL, "capability needs %zu bytes, buffer has %zu", need + 1,
                       outsz),
               -1;
    }
    cap_mac(key, op, expires_ms, reader, path, mac);
    OPENSSL_cleanse(key, sizeof key);
    char *p = out;
    p += sprintf(p, "v1.%c.%s.", op, num);
    to_hex((const uint8_t *)reader, rl, p);
    p += 2 * rl;
    *p++ = '.';
    to_hex((const uint8_t *)path, pl, p);
    p += 2 * pl;
    *p++ = '.';
    to_hex(mac, 32, p);
    p += 64;
    return (int)(p - out);
}

/* Next '.'-separated field of [*s, end): sets f and n, advances *s. */
static int next_field(const char **s, const char *end, const char **f, size_t *n)
{
    if (*s > end) return -1;
    const char *dot = memchr(*s, '.', (size_t)(end - *s));
    *f = *s;
    *n = dot ? (size_t)(dot - *s) : (size_t)(end - *s);
    *s = dot ? dot + 1 : end + 1;
    return 0;
}

int dp_cap_verify(const uint8_t key[32], const char *cap, size_t caplen, int64_t now_ms,
                  dp_cap *out, char *why, size_t whysz)
{
    const char *s = cap, *end = cap + caplen, *f[6];
    size_t n[6];
    int nf = 0;
    if (caplen == 0) return snprintf(why, whysz, "no capability given"), -1;
    if (caplen > SL_DP_MAX_CAP) return snprintf(why, whysz, "capability too long"), -1;
    while (nf < 6 && next_field(&s, end, &f[nf], &n[nf]) == 0)
        nf++;
    if (nf != 6 || s <= end || n[0] != 2 || memcmp(f[0], "v1", 2) != 0)
        return snprintf(why, whysz,
                        "malformed capability (expected v1.OP.EXPIRES.READER.PATH.MAC)"),
               -1;
    if (n[1] != 1 || (f[1][0] != SL_DP_CAP_READ && f[1][0] != SL_DP_CAP_PUSH))
        return snprintf(why, whysz, "malformed capability: unknown op"), -1;
    out->op = f[1][0];
    int64_t exp = 0;
    if (n[2] == 0 || n[2] > 18 || (n[2] > 1 && f[2][0] == '0'))
        return snprintf(why, whysz, "malformed capability: bad expiry"), -1;
    for (size_t i = 0; i < n[2]; i++) {
        if (f[2][i] < '0' || f[2][i] > '9')
            return snprintf(why, whysz, "malformed capability: bad expiry"), -1;
        exp = exp * 10 + (f[2][i] - '0');
    }
    out->expires_ms = exp;
    if (n[3] == 0 || n[3] > 2 * SL_DP_MAX_READER || n[4] == 0 || n[4] > 2 * SL_DP_MAX_NAME ||
        n[5] != 64 || from_hex(f[3], n[3], (uint8_t *)out->reader) ||
        from_hex(f[4], n[4], (uint8_t *)out->path))
        return snprintf(why, whysz, "malformed capability: bad hex field"), -1;
    out->reader[n[3] / 2] = 0;
    out->path[n[4] / 2] = 0;
    uint8_t mac[32], want[32];
    if (from_hex(f[5], 64, mac)) return snprintf(why, whysz, "malformed capability: bad MAC"), -1;
    /* A NUL inside a hex field would make the strings below shorter than
     * what was signed; reader/path checks reject them anyway, but check the
     * MAC over exactly the decoded lengths first. */
    if (strlen(out->reader) != n[3] / 2 || strlen(out->path) != n[4] / 2)
        return snprintf(why, whysz, "bad capability signature"), -1;
    cap_mac(key, out->op, exp, out->reader, out->path, want);
    int same = CRYPTO_memcmp(mac, want, 32) == 0;
    OPENSSL_cleanse(want, sizeof want);
    if (!same)
        return snprintf(why, whysz,
                        "bad capability signature (not minted for this server's key, or altered)"),
               -1;
    const char *pwhy;
    if (!reader_ok(out->reader) || dp_cap_path_ok(out->path, &pwhy))
        return snprintf(why, whysz, "capability has an invalid field"), -1;
    if (exp <= now_ms) {
        int64_t ago = (now_ms - exp) / 1000;
        return snprintf(why, whysz,
                        "capability expired %" PRId64 " s ago (by this server's clock; are the "
                        "hosts' clocks synchronized?)",
                        ago),
               -1;
    }
    return 0;
}

/* rel equals path, or lies beneath it ("path/..."); sets *rest past it. */
static int beneath(const char *rel, const char *path, const char **rest)
{
    size_t pl = strlen(path);
    if (strncmp(rel, path, pl) != 0) return 0;
    if (rel[pl] == 0) return *rest = rel + pl, 1;
    if (rel[pl] == '/') return *rest = rel + pl + 1, 1;
    return 0; /* "p1/a/k2" is not beneath "p1/a/k" */
}

int dp_cap_allows(const dp_cap *c, int op, const char *root, const char *rel, const char **rest,
                  char *why, size_t whysz)
{
    if (op != c->op)
        return snprintf(why, whysz, "capability does not allow %s (it grants %s of %s)",
                        op == SL_DP_CAP_PUSH ? "push" : "read",
                        c->op == SL_DP_CAP_PUSH ? "push" : "read", c->path),
               -1;
    const char *r = NULL;
    if (op == SL_DP_CAP_PUSH) {
        if (strcmp(root, "mem") != 0 || !beneath(rel, c->path, &r) || *r == 0)
            return snprintf(why, whysz,
                            "capability allows push only beneath mem/%.400s/, not %s/%.400s",
                            c->path, root, rel),
                   -1;
    } else if (!beneath(rel, c->path, &r)) {
        return snprintf(why, whysz, "capability names object %.400s, not %.400s", c->path, rel), -1;
    }
    if (rest) *rest = r;
    return 0;
}
