/* test_dp_proto.c - the data plane's frame parsing, name checks and geometry.
 *
 * Everything a peer can send is fed through the parsers here, well-formed
 * and hostile: truncated payloads, oversized lengths, unknown types, names
 * that try to climb out of a root. Also the O_NOFOLLOW walk against a real
 * directory with a planted symlink. */
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
    uint8_t buf[512];
    char tok[SL_DP_MAX_TOKEN + 1];
    uint16_t ver;
    size_t tl;
    size_t n = dp_enc_hello(buf, sizeof buf, "s3cret");
    assert_true(n > 0);
    assert_int_equal(dp_dec_hello(buf, n, &ver, tok, &tl), 0);
    assert_int_equal(ver, SL_DP_PROTO_VERSION);
    assert_string_equal(tok, "s3cret");
    assert_int_equal(tl, 6);
    assert_int_equal(dp_dec_hello(buf, n - 1, &ver, tok, &tl), -1); /* truncated */
    assert_int_equal(dp_dec_hello(buf, 3, &ver, tok, &tl), -1);
    buf[0] ^= 1;
    assert_int_equal(dp_dec_hello(buf, n, &ver, tok, &tl), -1); /* bad magic */
    char longtok[SL_DP_MAX_TOKEN + 2];
    memset(longtok, 'a', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = 0;
    assert_int_equal(dp_enc_hello(buf, sizeof buf, longtok), 0);
    /* a peer claiming a long token is refused even if the bytes are there */
    uint8_t big[1024] = {0};
    dp_wr w = {big, 0, sizeof big, 0};
    dp_put32(&w, DP_MAGIC);
    dp_put16(&w, 1);
    dp_put16(&w, 600);
    assert_int_equal(dp_dec_hello(big, 8 + 600, &ver, tok, &tl), -1);
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

static void test_token(void **st)
{
    (void)st;
    assert_true(dp_token_eq("abc", 3, "abc", 3));
    assert_false(dp_token_eq("abd", 3, "abc", 3));
    assert_false(dp_token_eq("ab", 2, "abc", 3));
    assert_false(dp_token_eq("abcd", 4, "abc", 3));
    assert_false(dp_token_eq("", 0, "abc", 3));
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
        cmocka_unit_test(test_header),       cmocka_unit_test(test_hello),
        cmocka_unit_test(test_names),        cmocka_unit_test(test_token),
        cmocka_unit_test(test_geom),         cmocka_unit_test(test_get),
        cmocka_unit_test(test_msg),          cmocka_unit_test(test_block_size),
        cmocka_unit_test(test_open_beneath),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
