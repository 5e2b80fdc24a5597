/* test_template.c - task key validation and key template expansion:
 * {key}, {N}, {-N}, ranges with padding, steps and formats, cartesian products,
 * literal braces, the expansion bound, and every way a template or a
 * produced key can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/template.h"
#include "util/buf.h"

typedef struct collect {
    sl_buf all; /* keys joined with ' ' */
    size_t n;
    size_t stop_after; /* 0 = never */
} collect;

static int on_key(void *ctx, const char *key)
{
    collect *c = ctx;
    if (c->n) sl_buf_putc(&c->all, ' ');
    sl_buf_puts(&c->all, key);
    c->n++;
    return c->stop_after && c->n == c->stop_after ? 7 : 0;
}

/* Expands and returns the keys joined by spaces (caller frees). */
static char *expand(const char *tmpl, const char *in)
{
    collect c = {SL_BUF_INIT, 0, 0};
    sl_err e = {0};
    int rc = sl_template_expand(tmpl, in, on_key, &c, &e);
    if (rc != 0) fail_msg("template '%s' on '%s' failed: %s", tmpl, in ? in : "(null)", e.msg);
    return sl_buf_steal(&c.all);
}

static void expect(const char *tmpl, const char *in, const char *want)
{
    char *got = expand(tmpl, in);
    assert_string_equal(got, want);
    free(got);
}

static void expect_fail(const char *tmpl, const char *in, const char *msg_part)
{
    collect c = {SL_BUF_INIT, 0, 0};
    sl_err e = {0};
    int rc = sl_template_expand(tmpl, in, on_key, &c, &e);
    sl_buf_free(&c.all);
    if (rc != SL_EINVAL) fail_msg("template '%s' on '%s' should fail", tmpl, in ? in : "(null)");
    if (!strstr(e.msg, msg_part))
        fail_msg("template '%s': message '%s' lacks '%s'", tmpl, e.msg, msg_part);
}

static void test_key_validate(void **state)
{
    (void)state;
    const char *good[] = {"a",           "1257010784/p00001_00024/t1257010986_1257011185/ch109",
                          "x.y/..z/a..", "host:port,n=1@x%20~#3",
                          ".hidden/x",   "a-b_c+d=e"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(sl_key_validate(good[i], NULL), 0);
    struct {
        const char *key, *msg;
    } bad[] = {{"", "empty"},
               {"with space", "contains ' '"},
               {"{braces}", "contains '{'"},
               {"q\"uote", "contains '\"'"},
               {"/abs", "starts with '/'"},
               {"a//b", "empty path"},
               {"a/", "empty path"},
               {"a/../b", "'..'"},
               {"..", "'..'"},
               {"./a", "'.'"},
               {"a/.", "'.'"},
               {"a\\b", "contains '\\'"},
               {"a\nb", "control"},
               {"tab\there", "control"},
               {"caf\xc3\xa9", "non-ASCII"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sl_err e = {0};
        assert_int_equal(sl_key_validate(bad[i].key, &e), SL_EINVAL);
        if (!strstr(e.msg, bad[i].msg)) fail_msg("key #%zu: '%s' lacks '%s'", i, e.msg, bad[i].msg);
    }
    char big[SL_KEY_MAX + 2];
    memset(big, 'k', sizeof big);
    big[SL_KEY_MAX] = 0;
    assert_int_equal(sl_key_validate(big, NULL), 0);
    big[SL_KEY_MAX] = 'k';
    big[SL_KEY_MAX + 1] = 0;
    assert_int_equal(sl_key_validate(big, NULL), SL_EINVAL);
}

static void test_key_and_segments(void **state)
{
    (void)state;
    const char *in = "1257010784/p00001_00024/t1257010986/ch109";
    expect("{key}", in, in);
    expect("{key}/out", in, "1257010784/p00001_00024/t1257010986/ch109/out");
    expect("{1}", in, "1257010784");
    expect("{2}/{3}", in, "p00001_00024/t1257010986");
    expect("{-1}", in, "ch109");
    expect("{-4}", in, "1257010784");
    expect("{1}/{-2}", in, "1257010784/t1257010986");
    expect("plain/literal", NULL, "plain/literal");
    expect("{1}", "single", "single");
}

static void test_ranges(void **state)
{
    (void)state;
    expect("ch{109..112}", NULL, "ch109 ch110 ch111 ch112");
    expect("p{001..003}", NULL, "p001 p002 p003");
    expect("p{1..3}", NULL, "p1 p2 p3");
    expect("p{8..11}", NULL, "p8 p9 p10 p11");
    expect("p{08..11}", NULL, "p08 p09 p10 p11");
    expect("t{0..10..5}", NULL, "t0 t5 t10");
    expect("t{0..9..4}", NULL, "t0 t4 t8");
    expect("d{3..1}", NULL, "d3 d2 d1");
    expect("{5..5}", NULL, "5");
    expect("a{1..2}/b{1..3}", NULL, "a1/b1 a1/b2 a1/b3 a2/b1 a2/b2 a2/b3");
    expect("{-1}/ch{1..2}", "obs/x/y", "y/ch1 y/ch2");
    expect("{key}/p{00..01}", "k", "k/p00 k/p01");
}

static void test_range_formats(void **state)
{
    (void)state;
    /* the MWA pointing groups and time ranges */
    expect("{1..72..24:p%05d_%05e}", NULL, "p00001_00024 p00025_00048 p00049_00072");
    expect("1257010784/{1..48..24:p%05d_%05e}/{1257010986..1257011385..200:t%d_%e}/ch{109..110}",
           NULL,
           "1257010784/p00001_00024/t1257010986_1257011185/ch109 "
           "1257010784/p00001_00024/t1257010986_1257011185/ch110 "
           "1257010784/p00001_00024/t1257011186_1257011385/ch109 "
           "1257010784/p00001_00024/t1257011186_1257011385/ch110 "
           "1257010784/p00025_00048/t1257010986_1257011185/ch109 "
           "1257010784/p00025_00048/t1257010986_1257011185/ch110 "
           "1257010784/p00025_00048/t1257011186_1257011385/ch109 "
           "1257010784/p00025_00048/t1257011186_1257011385/ch110");
    /* the last step is clamped to B */
    expect("{1..10..4:%d-%e}", NULL, "1-4 5-8 9-10");
    expect("{1..9..4:%d-%e}", NULL, "1-4 5-8 9-9");
    /* counting down: %e goes down too, and stops at B */
    expect("{10..1..4:%d-%e}", NULL, "10-7 6-3 2-1");
    /* without a step %e is the value itself; %d alone; a width wider than needed */
    expect("{1..3:p%03d}", NULL, "p001 p002 p003");
    expect("{1..2:x%e}", NULL, "x1 x2");
    expect("{99..101:%02d}", NULL, "99 100 101");
    expect("{1..1:%d.%d/%e}", NULL, "1.1/1");
    /* the format replaces the zero padding of A; %% is a literal percent */
    expect("{001..002:%d%%}", NULL, "1% 2%");
    expect("{8..11:%02d}", NULL, "08 09 10 11");
    /* with segments and several ranges */
    expect("{1}/{0..20..10:t%d_%e}/{-1}", "obs/x/ch109",
           "obs/t0_9/ch109 obs/t10_19/ch109 obs/t20_20/ch109");
    expect("{1..2:a%d}{3..4:b%d}", NULL, "a1b3 a1b4 a2b3 a2b4");
}

static void test_braces(void **state)
{
    (void)state;
    /* {{ and }} parse as literal braces, but no key may hold a brace,
     * so a template that produces one fails when it is expanded. */
    assert_int_equal(sl_template_check("{{literal}} {key}", NULL), 0);
    expect_fail("{{x}}", NULL, "contains '{'");
    expect_fail("a{{{1}}}b", "seg", "contains '{'");
}

static void test_bad_templates(void **state)
{
    (void)state;
    expect_fail("{foo}", "k", "unknown placeholder {foo}");
    expect_fail("{ key }", "k", "unknown placeholder");
    expect_fail("{0}", "k", "bad segment reference {0}");
    expect_fail("{-0}", "k", "bad segment reference");
    expect_fail("{1", "k", "unclosed '{'");
    expect_fail("a}b", "k", "unmatched '}'");
    expect_fail("{a{1}}", "k", "unclosed '{'");
    expect_fail("{1..}", NULL, "bad range");
    expect_fail("{..3}", NULL, "bad range");
    expect_fail("{1..3..0}", NULL, "bad range");
    expect_fail("{1..3..}", NULL, "bad range");
    expect_fail("{a..c}", NULL, "bad range");
    expect_fail("{-3..3}", NULL, "bad");
    expect_fail("{}", NULL, "unknown placeholder {}");
    /* range formats */
    expect_fail("{1..3:p}", NULL, "has no %d or %e");
    expect_fail("{1..3:}", NULL, "has no %d or %e");
    expect_fail("{1..3:%s}", NULL, "bad format in {1..3:%s} at '%s'");
    expect_fail("{1..3:%d%}", NULL, "bad format");
    expect_fail("{1..3:%-5d}", NULL, "bad format");
    expect_fail("{1..3:%5d}", NULL, "zero-padded width");
    expect_fail("{1..3:%0123d}", NULL, "bad format");
    expect_fail("{1..3:%0d%x}", NULL, "bad format");
    expect_fail("{key:%d}", "k", "only a range");
    expect_fail("{x:%d}", "k", "only a range");
    expect_fail("{1..:%d}", NULL, "bad range");
    expect_fail("{1..3..0:%d}", NULL, "bad range");
    expect_fail("{1..2:a %d}", NULL, "contains ' '");
    assert_int_equal(sl_template_check("{1..12960..24:p%05d_%05e}", NULL), 0);
    /* input-dependent templates */
    expect_fail("{key}", NULL, "no input key");
    expect_fail("{3}", "a/b", "has no segment {3}");
    expect_fail("{-3}", "a/b", "has no segment {-3}");
    /* produced keys are validated */
    expect_fail("/{key}", "a", "starts with '/'");
    expect_fail("{key}/../x", "a", "'..'");
    expect_fail("a//{1..2}", NULL, "empty path");
    /* the bound */
    expect_fail("{1..1000000000}", NULL, "more than 1000000 keys");
    expect_fail("{1..1001}/{1..1000}", NULL, "more than 1000000 keys");
    assert_int_equal(sl_template_check("{1..1000}/{1..1000}", NULL), 0);
    sl_err e = {0};
    assert_int_equal(sl_template_check("{nope}", &e), SL_EINVAL);
    assert_non_null(strstr(e.msg, "template '{nope}'"));
}

static void test_callback_stops(void **state)
{
    (void)state;
    collect c = {SL_BUF_INIT, 0, 2};
    assert_int_equal(sl_template_expand("x{1..10}", NULL, on_key, &c, NULL), 7);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.all.data, "x1 x2");
    sl_buf_free(&c.all);
}

static int count(void *ctx, const char *key)
{
    (void)key;
    (*(size_t *)ctx)++;
    return 0;
}

static void test_max_expansion(void **state)
{
    (void)state;
    size_t n = 0;
    assert_int_equal(sl_template_expand("{0..999}/{0..999}", NULL, count, &n, NULL), 0);
    assert_int_equal(n, SL_TEMPLATE_MAX_KEYS);
}

/* Resumable expansion: every chunking of the ordinal range gives exactly
 * the full expansion, in the same order; a start past the end gives
 * nothing; the count needs no input key. */
static char *expand_chunks(const char *tmpl, const char *in, int64_t chunk)
{
    collect c = {SL_BUF_INIT, 0, 0};
    sl_err e = {0};
    int64_t total = sl_template_count(tmpl, &e);
    assert_true(total >= 0);
    for (int64_t at = 0; at < total; at += chunk) {
        size_t before = c.n;
        assert_int_equal(sl_template_expand_at(tmpl, in, at, chunk, on_key, &c, &e), 0);
        size_t want = (size_t)(total - at < chunk ? total - at : chunk);
        assert_int_equal(c.n - before, want);
    }
    return c.all.data ? sl_buf_steal(&c.all) : strdup("");
}

static void test_expand_at(void **state)
{
    (void)state;
    const char *tmpls[] = {"ch{109..132}", "a{1..2}/b{1..3}",
                           "{1}/{1..72..24:p%05d_%05e}/{0..90..30:t%d_%e}/ch{109..111}",
                           "d{9..1..2}/x{01..04}", "plain"};
    for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++) {
        char *full = expand(tmpls[i], "obs");
        for (int64_t chunk = 1; chunk <= 40; chunk += 3) {
            char *parts = expand_chunks(tmpls[i], "obs", chunk);
            if (strcmp(full, parts) != 0)
                fail_msg("template '%s' in chunks of %lld: '%s' != '%s'", tmpls[i],
                         (long long)chunk, parts, full);
            free(parts);
        }
        free(full);
    }
    assert_int_equal(sl_template_count("a{1..2}/b{1..3}", NULL), 6);
    assert_int_equal(sl_template_count("{1..12960..24:p%05d_%05e}/ch{109..132}", NULL), 540 * 24);
    assert_int_equal(sl_template_count("{key}/x", NULL), 1);
    assert_true(sl_template_count("{1..", NULL) < 0);
    /* a single ordinal from the middle, and starts at or past the end */
    collect c = {SL_BUF_INIT, 0, 0};
    assert_int_equal(sl_template_expand_at("a{1..2}/b{1..3}", NULL, 4, 1, on_key, &c, NULL), 0);
    assert_string_equal(c.all.data, "a2/b2");
    assert_int_equal(sl_template_expand_at("a{1..2}/b{1..3}", NULL, 6, 10, on_key, &c, NULL), 0);
    assert_int_equal(sl_template_expand_at("a{1..2}/b{1..3}", NULL, 99, -1, on_key, &c, NULL), 0);
    assert_int_equal(c.n, 1);
    /* limit < 0 runs to the end */
    assert_int_equal(sl_template_expand_at("a{1..2}/b{1..3}", NULL, 3, -1, on_key, &c, NULL), 0);
    assert_string_equal(c.all.data, "a2/b2 a2/b1 a2/b2 a2/b3");
    sl_buf_free(&c.all);
    /* a large space resumes in the middle without producing the prefix */
    c = (collect){SL_BUF_INIT, 0, 0};
    assert_int_equal(
        sl_template_expand_at("{1..12960..24:p%05d_%05e}/{0..4770..30:t%04d}/ch{109..112}", NULL,
                              345599, 5, on_key, &c, NULL),
        0);
    assert_string_equal(c.all.data, "p12937_12960/t4770/ch112");
    sl_buf_free(&c.all);
}

static int no_key(void *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return 0;
}

/* sl_template_check_keys agrees with making every key, including keys
 * that only grow past the limit at the far end of a range (a pipeline of
 * many million-key messages took minutes to parse; found by
 * fuzz_pipeline_yaml). */
static void test_check_keys(void **state)
{
    (void)state;
    char pad[600];
    memset(pad, 'x', sizeof pad);
    char t[700];
    static const char *const tails[] = {"{1..10}",        "{10..1}",          "{8..12..2:%d_%e}",
                                        "{9..1..4:%03e}", "{1..2}/{99..100}", "{100..99}/{1..2}",
                                        "{0001..9}",      "{{x}}{1..2}"};
    for (size_t lit = 500; lit <= 512; lit++)
        for (size_t i = 0; i < sizeof tails / sizeof tails[0]; i++) {
            snprintf(t, sizeof t, "%.*s%s", (int)lit, pad, tails[i]);
            sl_err e1 = {0}, e2 = {0};
            int full = sl_template_expand(t, NULL, no_key, NULL, &e1);
            int quick = sl_template_check_keys(t, NULL, &e2);
            if ((full < 0) != (quick < 0))
                fail_msg("'%s': expansion %d, check %d (%s)", tails[i], full, quick, e2.msg);
        }
    sl_err e = {0};
    assert_int_equal(sl_template_check_keys("obs/../{1..3}", NULL, &e), SL_EINVAL);
    assert_int_equal(sl_template_check_keys("{1}/{1..3}", NULL, &e), SL_EINVAL); /* no input */
    assert_int_equal(sl_template_check_keys("{1}/{1..3}", "a/b", NULL), 0);
    assert_int_equal(sl_template_check_keys("k{0..999999}/{0..0}", NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_validate),   cmocka_unit_test(test_key_and_segments),
        cmocka_unit_test(test_ranges),         cmocka_unit_test(test_range_formats),
        cmocka_unit_test(test_braces),         cmocka_unit_test(test_bad_templates),
        cmocka_unit_test(test_callback_stops), cmocka_unit_test(test_max_expansion),
        cmocka_unit_test(test_expand_at),      cmocka_unit_test(test_check_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
