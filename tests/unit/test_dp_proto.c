/* test_dp_proto.c - the data plane's frame parsing, name checks and geometry.
 *
 * Everything a peer can send is fed through the parsers here, well-formed
 * and hostile: truncated payloads, oversized lengths, unknown types, names
 * that try to climb out of a root; capabilities minted, verified and
 * refused (tampered, wrong key, expired, prefix confusion, hidden areas).
 * Also the O_NOFOLLOW walk against a real directory with a planted symlink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "dataplane/dp_internal.h"

static void test_header(void **st)
{
    (void)st;
    uint8_t h[DP_HDR], type;
    uint32_t len;
    dp_hdr_encode(h, DP_GET, 1234);
    assert_int_equal(dp_hdr_decode(h, &type, &len), 0);
    assert_int_equal(type, DP_GET);
    assert_int_equal(len, 1234);
    dp_hdr_encode(h, DP_STAT, DP_MAX_PAYLOAD + 1);
    assert_int_equal(dp_hdr_decode(h, &type, &len), -1); /* too long */
    dp_hdr_encode(h, 0x77, 1);
    assert_int_equal(dp_hdr_decode(h, &type, &len), -1); /* unknown type */
    dp_hdr_encode(h, DP_STAT, 1);
    h[2] = 1;
    assert_int_equal(dp_hdr_decode(h, &type, &len), -1); /* pad must be zero */
}

static void test_hello(void **st)
{
    (void)st;
    uint8_t buf[SL_DP_MAX_CAP + 64];
    char cap[SL_DP_MAX_CAP + 1];
    uint16_t ver;
    size_t cl;
    size_t n = dp_enc_hello(buf, sizeof buf, "v1.r.1.00.00.00");
    assert_true(n > 0);
    assert_int_equal(dp_dec_hello(buf, n, &ver, cap, &cl), 0);
    assert_int_equal(ver, SL_DP_PROTO_VERSION);
    assert_int_equal(ver, 2);
    assert_string_equal(cap, "v1.r.1.00.00.00");
    assert_int_equal(cl, 15);
    assert_int_equal(dp_dec_hello(buf, n - 1, &ver, cap, &cl), -1); /* truncated */
    assert_int_equal(dp_dec_hello(buf, 3, &ver, cap, &cl), -1);
    buf[0] ^= 1;
    assert_int_equal(dp_dec_hello(buf, n, &ver, cap, &cl), -1); /* bad magic */
    /* the longest capability fits; one byte more does not */
    static char longcap[SL_DP_MAX_CAP + 2];
    memset(longcap, 'a', SL_DP_MAX_CAP);
    longcap[SL_DP_MAX_CAP] = 0;
    assert_true(dp_enc_hello(buf, sizeof buf, longcap) > 0);
    longcap[SL_DP_MAX_CAP] = 'a';
    longcap[SL_DP_MAX_CAP + 1] = 0;
    assert_int_equal(dp_enc_hello(buf, sizeof buf, longcap), 0);
    /* a peer claiming a longer capability is refused even if the bytes are there */
    static uint8_t big[SL_DP_MAX_CAP + 64];
    memset(big, 'a', sizeof big);
    dp_wr w = {big, 0, sizeof big, 0};
    dp_put32(&w, DP_MAGIC);
    dp_put16(&w, 2);
    dp_put16(&w, SL_DP_MAX_CAP + 1);
    assert_int_equal(dp_dec_hello(big, 8 + SL_DP_MAX_CAP + 1, &ver, cap, &cl), -1);
    /* an embedded NUL would cut the capability short: refused */
    n = dp_enc_hello(buf, sizeof buf, "v1.r.1");
    buf[10] = 0;
    assert_int_equal(dp_dec_hello(buf, n, &ver, cap, &cl), -1);
}

static void test_names(void **st)
{
    (void)st;
    char root[DP_MAX_ROOTNAME + 1];
    const char *rel, *why;
    assert_int_equal(dp_name_split("mem/a/b.dat", root, &rel, &why), 0);
    assert_string_equal(root, "mem");
    assert_string_equal(rel, "a/b.dat");
    assert_int_equal(dp_name_split("ssd_2/x..y/.hidden", root, &rel, &why), 0);
    static const char *bad[] = {
        "",          "mem",     "mem/",   "/etc/passwd", "mem//a", "mem/../a",
        "mem/a/..",  "mem/./a", "mem/a/", "../mem/a",    "me m/a", "mem/a\nb",
        "mem/a\x7f", "/mem/a",  "m.m/a",  "mem/..",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why = NULL;
        if (dp_name_split(bad[i], root, &rel, &why) != -1)
            fail_msg("name '%s' was accepted", bad[i]);
        assert_non_null(why);
    }
    char longname[SL_DP_MAX_NAME + 8];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    longname[3] = '/';
    assert_int_equal(dp_name_split(longname, root, &rel, &why), -1);
    char longcomp[400] = "mem/";
    memset(longcomp + 4, 'b', 300);
    assert_int_equal(dp_name_split(longcomp, root, &rel, &why), -1);
}

/* Known answers computed independently (Python hmac/hashlib) from the
 * format documented in dataplane.h, so C and the documentation agree. */
static const char KAT_KEY[] = "b201f99af4bdf485c8ea8a8893f2cf5fd22c5d1de4f1f7bf2ebbb2e2c96dc903";
static const char KAT_CAP[] = "v1.r.1700000000000.6832.70312f612f6b."
                              "d0f2c8533b552f1181b7ae2f1c9e93fc6b7a5b2c22abc5c70a2e9f4a7a8355ff";
#define NOW 1690000000000LL /* before KAT_CAP expires */

static int verify(const char *key_hex, const char *cap, int64_t now, dp_cap *out, char *why)
{
    uint8_t key[32];
    assert_int_equal(dp_key_parse(key_hex, key), 0);
    return dp_cap_verify(key, cap, strlen(cap), now, out, why, 600);
}

static void test_server_key(void **st)
{
    (void)st;
    uint8_t master[32];
    for (int i = 0; i < 32; i++)
        master[i] = (uint8_t)i;
    char k[SL_DP_KEY_HEX + 1], k2[SL_DP_KEY_HEX + 1];
    sl_dp_server_key(master, "h1", k);
    assert_string_equal(k, KAT_KEY);
    sl_dp_server_key(master, "h2", k2);
    assert_string_not_equal(k, k2); /* one key per host */
}

static void test_cap_make_verify(void **st)
{
    (void)st;
    char cap[SL_DP_MAX_CAP + 1], why[600];
    sl_err err = {0};
    int n = sl_dp_cap_make(KAT_KEY, SL_DP_CAP_READ, "p1/a/k", "h2", 1700000000000LL, cap,
                           sizeof cap, &err);
    assert_int_equal(n, (int)strlen(KAT_CAP));
    assert_string_equal(cap, KAT_CAP);
    dp_cap c;
    assert_int_equal(verify(KAT_KEY, cap, NOW, &c, why), 0);
    assert_int_equal(c.op, SL_DP_CAP_READ);
    assert_string_equal(c.path, "p1/a/k");
    assert_string_equal(c.reader, "h2");
    assert_true(c.expires_ms == 1700000000000LL);
    for (const char *q = cap; *q; q++) /* printable, no spaces */
        assert_true(*q > 0x20 && *q < 0x7f);
    /* does not fit */
    assert_int_equal(sl_dp_cap_make(KAT_KEY, 'r', "p1/a/k", "h2", 1, cap, 20, &err), -1);
}

static void test_cap_refusals(void **st)
{
    (void)st;
    char cap[SL_DP_MAX_CAP + 1], bad[SL_DP_MAX_CAP + 1], why[600];
    dp_cap c;
    snprintf(cap, sizeof cap, "%s", KAT_CAP);
    /* wrong key: another server's */
    char other[SL_DP_KEY_HEX + 1];
    memcpy(other, KAT_KEY, sizeof other);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    assert_int_equal(verify(other, cap, NOW, &c, why), -1);
    assert_non_null(strstr(why, "bad capability signature"));
    /* expired, by the verifier's clock */
    assert_int_equal(verify(KAT_KEY, cap, 1700000012000LL, &c, why), -1);
    assert_non_null(strstr(why, "expired 12 s ago"));
    assert_int_equal(verify(KAT_KEY, cap, 1700000000000LL, &c, why), -1); /* exactly at expiry */
    /* every tampered field: op, expiry, reader, path, MAC */
    static const char *tampered[] = {
        "v1.p.1700000000000.6832.70312f612f6b.",
        "v1.r.1700000000001.6832.70312f612f6b.",
        "v1.r.1800000000000.6832.70312f612f6b.",
        "v1.r.1700000000000.6833.70312f612f6b.",
        "v1.r.1700000000000.6832.70312f612f6c.",
        "v1.r.1700000000000.6832.70312f612f6b32.", /* p1/a/k2 */
        "v1.r.1700000000000.6832.70312f61.",       /* p1/a: a parent */
    };
    const char *mac = strrchr(KAT_CAP, '.') + 1;
    for (size_t i = 0; i < sizeof tampered / sizeof *tampered; i++) {
        snprintf(bad, sizeof bad, "%s%s", tampered[i], mac);
        assert_int_equal(verify(KAT_KEY, bad, NOW, &c, why), -1);
        assert_non_null(strstr(why, "signature"));
    }
    snprintf(bad, sizeof bad, "%s", KAT_CAP);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'f' ? 'e' : 'f'; /* one MAC digit */
    assert_int_equal(verify(KAT_KEY, bad, NOW, &c, why), -1);
    /* malformed: missing fields, extra field, upper-case hex, v2, empty */
    static const char *malformed[] = {
        "",
        "v1",
        "v1.r.1700000000000.6832.70312f612f6b",
        "v2.r.1700000000000.6832.70312f612f6b.00",
        "v1.x.1700000000000.6832.70312f612f6b.00",
        "v1.r.-1.6832.70312f612f6b.00",
        "v1.r.01700000000000.6832.70312f612f6b.00",
        "v1.r.1700000000000..70312f612f6b.00",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
        assert_int_equal(verify(KAT_KEY, malformed[i], NOW, &c, why), -1);
    snprintf(bad, sizeof bad, "%s.00", KAT_CAP);
    assert_int_equal(verify(KAT_KEY, bad, NOW, &c, why), -1);
    snprintf(bad, sizeof bad, "%s", KAT_CAP);
    for (char *q = strrchr(bad, '.'); *q; q++)
        if (*q >= 'a' && *q <= 'f') *q = (char)(*q - 'a' + 'A');
    assert_int_equal(verify(KAT_KEY, bad, NOW, &c, why), -1);
}

static void test_cap_paths(void **st)
{
    (void)st;
    char cap[SL_DP_MAX_CAP + 1];
    sl_err err = {0};
    /* ".." and friends cannot even be minted */
    static const char *bad[] = {"",      "/p1/a",      "p1/../x",     "..",      "p1/./a", "p1//a",
                                "p1/a/", ".pushed/p1", ".incoming/x", "p1/a\nb", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(
            sl_dp_cap_make(KAT_KEY, 'r', bad[i], "h2", 1700000000000LL, cap, sizeof cap, &err), -1);
    assert_int_equal(sl_dp_cap_make(KAT_KEY, 'r', "p1/a", "", 1, cap, sizeof cap, &err), -1);
    assert_int_equal(sl_dp_cap_make(KAT_KEY, 'r', "p1/a", "h 2", 1, cap, sizeof cap, &err), -1);
    assert_int_equal(sl_dp_cap_make(KAT_KEY, 'w', "p1/a", "h2", 1, cap, sizeof cap, &err), -1);
    assert_int_equal(sl_dp_cap_make("abc", 'r', "p1/a", "h2", 1, cap, sizeof cap, &err), -1);
    /* a MAC-valid capability naming a hidden area is still refused */
    assert_int_equal(dp_cap_path_ok(".pushed/p1", &(const char *){NULL}), -1);

    dp_cap c = {SL_DP_CAP_READ, 1, "h2", "p1/a/k"};
    char why[600];
    const char *rest;
    assert_int_equal(dp_cap_allows(&c, 'r', "mem", "p1/a/k", NULL, why, sizeof why), 0);
    assert_int_equal(dp_cap_allows(&c, 'r', "ssd", "p1/a/k/f.dat", NULL, why, sizeof why), 0);
    assert_int_equal(dp_cap_allows(&c, 'r', "mem", "p1/a/k2", NULL, why, sizeof why), -1);
    assert_non_null(strstr(why, "names object p1/a/k, not p1/a/k2"));
    assert_int_equal(dp_cap_allows(&c, 'r', "mem", "p1/a/k2/f", NULL, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&c, 'r', "mem", "p1/a", NULL, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&c, 'r', "mem", "p2/b/k", NULL, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&c, 'r', "mem", ".pushed/p1/a/k", NULL, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&c, 'p', "mem", "p1/a/k/f", NULL, why, sizeof why), -1);
    assert_non_null(strstr(why, "does not allow push"));
    dp_cap p = {SL_DP_CAP_PUSH, 1, "h2", "p1/a/k"};
    assert_int_equal(dp_cap_allows(&p, 'p', "mem", "p1/a/k/sub/f", &rest, why, sizeof why), 0);
    assert_string_equal(rest, "sub/f");
    assert_int_equal(dp_cap_allows(&p, 'p', "mem", "p1/a/k", &rest, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&p, 'p', "ssd", "p1/a/k/f", &rest, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&p, 'p', "mem", "p1/a/k2/f", &rest, why, sizeof why), -1);
    assert_int_equal(dp_cap_allows(&p, 'r', "mem", "p1/a/k/f", &rest, why, sizeof why), -1);
}

static void test_geom(void **st)
{
    (void)st;
    uint64_t h[3] = {1, 2, 3}, h2[SL_DP_MAX_BLOCKS];
    dp_geom g = {.size = 150000, .mtime_ns = 42, .block_size = 65536, .nblocks = 3, .hashes = h};
    g.checksum = dp_hash_list(h, 3);
    uint8_t buf[DP_MAX_PAYLOAD];
    size_t n = dp_enc_geom(buf, sizeof buf, &g, 1, NULL);
    dp_geom d = {.hashes = h2};
    assert_int_equal(dp_dec_geom(buf, n, &d, 1, NULL, 0), 0);
    assert_int_equal(d.size, 150000);
    assert_int_equal(d.mtime_ns, 42);
    assert_int_equal(d.nblocks, 3);
    assert_int_equal(d.hashes[2], 3);
    assert_int_equal(dp_dec_geom(buf, n - 1, &d, 1, NULL, 0), -1); /* truncated */
    assert_int_equal(dp_dec_geom(buf, n, &d, 0, NULL, 0), -1);     /* wrong layout */
    buf[n - 1] ^= 1; /* a hash that no longer matches the checksum */
    assert_int_equal(dp_dec_geom(buf, n, &d, 1, NULL, 0), -1);
    /* PUT_OPEN layout carries a name */
    char name[SL_DP_MAX_NAME + 1];
    n = dp_enc_geom(buf, sizeof buf, &g, 0, "mem/x");
    assert_int_equal(dp_dec_geom(buf, n, &d, 0, name, sizeof name), 0);
    assert_string_equal(name, "mem/x");
    /* geometry that does not add up */
    assert_int_equal(dp_geom_check(150000, 65536, 2), -1);
    assert_int_equal(dp_geom_check(150000, 65537, 3), -1);
    assert_int_equal(dp_geom_check(0, 65536, 0), 0);
    assert_int_equal(dp_geom_check(1, 1024, 1), -1); /* below the minimum block */
    assert_int_equal(
        dp_geom_check((uint64_t)65536 * (SL_DP_MAX_BLOCKS + 1), 65536, SL_DP_MAX_BLOCKS + 1), -1);
}

static void test_get(void **st)
{
    (void)st;
    uint8_t buf[2048];
    char name[SL_DP_MAX_NAME + 1];
    dp_range r = {100, 50, 150, 7}, d;
    size_t n = dp_enc_get(buf, sizeof buf, &r, "mem/obj");
    assert_int_equal(dp_dec_get(buf, n, &d, name, sizeof name), 0);
    assert_int_equal(d.offset, 100);
    assert_int_equal(d.length, 50);
    assert_string_equal(name, "mem/obj");
    r.length = 51; /* past the end */
    n = dp_enc_get(buf, sizeof buf, &r, "mem/obj");
    assert_int_equal(dp_dec_get(buf, n, &d, name, sizeof name), -1);
    r = (dp_range){UINT64_MAX, 2, UINT64_MAX, 0}; /* overflow bait */
    n = dp_enc_get(buf, sizeof buf, &r, "mem/obj");
    assert_int_equal(dp_dec_get(buf, n, &d, name, sizeof name), -1);
    assert_int_equal(dp_dec_get(buf, 20, &d, name, sizeof name), -1);
    /* a NUL inside the name is malformed */
    r = (dp_range){0, 1, 1, 0};
    n = dp_enc_get(buf, sizeof buf, &r, "mem/a");
    buf[n - 2] = 0;
    assert_int_equal(dp_dec_get(buf, n, &d, name, sizeof name), -1);
}

static void test_msg(void **st)
{
    (void)st;
    uint8_t buf[2048];
    char msg[64];
    uint32_t code;
    size_t n = dp_enc_msg(buf, sizeof buf, SL_DP_E_AUTH, "bad\ntoken");
    assert_int_equal(dp_dec_msg(buf, n, &code, msg, sizeof msg), 0);
    assert_int_equal(code, SL_DP_E_AUTH);
    assert_string_equal(msg, "bad?token"); /* control bytes never reach a terminal */
    assert_int_equal(dp_dec_msg(buf, 3, &code, msg, sizeof msg), -1);
}

static void test_block_size(void **st)
{
    (void)st;
    assert_int_equal(sl_dp_block_size(0, 0), SL_DP_DEFAULT_BLOCK);
    assert_int_equal(sl_dp_block_size(1ull << 30, 0), SL_DP_DEFAULT_BLOCK);
    assert_int_equal(sl_dp_block_size(100ull << 30, 0), 32u << 20); /* 100 GiB: 3200 blocks */
    assert_int_equal(sl_dp_block_size(10, 1000), 1024 * 4);         /* min, power of two */
    assert_int_equal(sl_dp_block_size(10, 65536 + 1), 131072);
    uint64_t sz = 1ull << 40;
    uint32_t bs = sl_dp_block_size(sz, 0);
    assert_int_equal(dp_geom_check(sz, bs, dp_nblocks(sz, bs)), 0);
}

static void test_open_beneath(void **st)
{
    (void)st;
    char dir[] = "/tmp/test_dp_proto.XXXXXX";
    assert_non_null(mkdtemp(dir));
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(d >= 0);
    assert_int_equal(mkdirat(d, "sub", 0755), 0);
    int f = openat(d, "sub/file", O_CREAT | O_WRONLY, 0644);
    assert_true(f >= 0);
    close(f);
    assert_int_equal(symlinkat("/etc", d, "esc"), 0);
    assert_int_equal(symlinkat("/etc/passwd", d, "sub/pw"), 0);
    int fd = dp_open_beneath(d, "sub/file", O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(dp_open_beneath(d, "esc/passwd", O_RDONLY), -1); /* symlinked dir */
    assert_int_equal(errno, ELOOP);
    assert_int_equal(dp_open_beneath(d, "sub/pw", O_RDONLY), -1); /* symlinked file */
    assert_int_equal(errno, ELOOP);
    const char *last;
    int p = dp_open_parent_beneath(d, "new/deeper/obj", 1, &last);
    assert_true(p >= 0);
    assert_string_equal(last, "obj");
    close(p);
    assert_int_equal(dp_open_parent_beneath(d, "esc/x/obj", 1, &last), -1);
    close(d);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_server_key),
        cmocka_unit_test(test_cap_make_verify),
        cmocka_unit_test(test_cap_refusals),
        cmocka_unit_test(test_cap_paths),
        cmocka_unit_test(test_geom),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_msg),
        cmocka_unit_test(test_block_size),
        cmocka_unit_test(test_open_beneath),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
