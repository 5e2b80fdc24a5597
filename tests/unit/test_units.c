/* test_units.c - durations and sizes as pipeline YAML writes them: every
 * accepted form, the rejected ones (negative, garbage, unknown unit,
 * overflow), and that the formatters print what the parsers read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/units.h"

static int64_t dur(const char *s)
{
    int64_t v = -1;
    sl_err e = {0};
    assert_int_equal(sl_parse_duration_ms(s, &v, &e), 0);
    return v;
}

static int64_t size(const char *s)
{
    int64_t v = -1;
    sl_err e = {0};
    assert_int_equal(sl_parse_size(s, &v, &e), 0);
    return v;
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(dur("250ms"), 250);
    assert_int_equal(dur("10s"), 10000);
    assert_int_equal(dur("5m"), 300000);
    assert_int_equal(dur("1h30m"), 5400000);
    assert_int_equal(dur("2d"), 172800000);
    assert_int_equal(dur("7"), 7000);
    assert_int_equal(dur("0"), 0);
    assert_int_equal(dur("1.5s"), 1500);
    assert_int_equal(dur("0.25h"), 900000);
    assert_int_equal(dur(".5s"), 500);
    assert_int_equal(dur("1.5"), 1500);
    assert_int_equal(dur("1m30s500ms"), 90500);
    assert_int_equal(dur("1.0005s"), 1001); /* rounds to the nearest ms */
}

static void test_bad_durations(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "-5s",
                         "10 minutes",
                         "10x",
                         "s",
                         "1h30",
                         "1.s",
                         "abc",
                         "+3s",
                         "1e3s",
                         "5m ",
                         " 5m",
                         "1..2s",
                         "9999999999999999999s",
                         "106751991168d",
                         "106751991167d1d",
                         "100000000000000000d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        sl_err e = {0};
        int rc = sl_parse_duration_ms(bad[i], &v, &e);
        if (rc != SL_EINVAL) fail_msg("duration '%s' was accepted as %lld", bad[i], (long long)v);
        assert_int_equal(v, 42);
        assert_non_null(strstr(e.msg, "bad duration"));
    }
    sl_err e = {0};
    int64_t v;
    sl_parse_duration_ms("10 minutes", &v, &e);
    assert_non_null(strstr(e.msg, "10 minutes"));
    assert_non_null(strstr(e.msg, "spaces are not allowed"));
    sl_parse_duration_ms("10min", &v, &e);
    assert_non_null(strstr(e.msg, "unknown unit 'min'"));
    sl_parse_duration_ms("-1s", &v, &e);
    assert_non_null(strstr(e.msg, "negative"));
}

static void test_sizes(void **state)
{
    (void)state;
    assert_int_equal(size("512"), 512);
    assert_int_equal(size("512B"), 512);
    assert_int_equal(size("10k"), 10240);
    assert_int_equal(size("10K"), 10240);
    assert_int_equal(size("64m"), 64LL << 20);
    assert_int_equal(size("64M"), 64LL << 20);
    assert_int_equal(size("300MiB"), 300LL << 20);
    assert_int_equal(size("2g"), 2LL << 30);
    assert_int_equal(size("1t"), 1LL << 40);
    assert_int_equal(size("1TiB"), 1LL << 40);
    assert_int_equal(size("1.5GB"), 1500000000LL);
    assert_int_equal(size("1.5GiB"), 3LL << 29);
    assert_int_equal(size("10KB"), 10000);
    assert_int_equal(size("3MB"), 3000000);
    assert_int_equal(size("2TB"), 2000000000000LL);
    assert_int_equal(size("0"), 0);
    assert_int_equal(size("313MiB"), 328204288LL);
    assert_int_equal(size("7PiB"), 7LL << 50);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "-1",
                         "1.5.5G",
                         "12 MiB",
                         "MiB",
                         "10x",
                         "1e9",
                         "0x10",
                         "10Mibs",
                         "8EiB",
                         "9000PiB",
                         "99999999999999999999",
                         "9223372036854775807k"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        sl_err e = {0};
        if (sl_parse_size(bad[i], &v, &e) != SL_EINVAL)
            fail_msg("size '%s' was accepted as %lld", bad[i], (long long)v);
        assert_int_equal(v, 42);
        assert_non_null(strstr(e.msg, "bad size"));
    }
}

static void test_format_round_trip(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(sl_format_size(512, buf, sizeof buf), "512B");
    assert_string_equal(sl_format_size(300LL << 20, buf, sizeof buf), "300MiB");
    assert_string_equal(sl_format_size(3LL << 29, buf, sizeof buf), "1.5GiB");
    assert_string_equal(sl_format_size(1LL << 40, buf, sizeof buf), "1TiB");
    assert_string_equal(sl_format_size(1024, buf, sizeof buf), "1KiB");
    assert_string_equal(sl_format_duration(0, buf, sizeof buf), "0s");
    assert_string_equal(sl_format_duration(5400000, buf, sizeof buf), "1h30m");
    assert_string_equal(sl_format_duration(250, buf, sizeof buf), "250ms");
    assert_string_equal(sl_format_duration(172800000, buf, sizeof buf), "2d");
    assert_string_equal(sl_format_duration(90500, buf, sizeof buf), "1m30s500ms");
    /* Durations format exactly, so every value reads back unchanged. */
    int64_t samples[] = {1, 999, 1000, 61001, 3600000, 86400001, 123456789012LL};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        int64_t v;
        sl_format_duration(samples[i], buf, sizeof buf);
        assert_int_equal(sl_parse_duration_ms(buf, &v, NULL), 0);
        assert_int_equal(v, samples[i]);
    }
    /* Sizes that are whole units read back exactly too. */
    int64_t sz[] = {0, 1, 1023, 4096, 300LL << 20, 5LL << 40};
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
        int64_t v;
        sl_format_size(sz[i], buf, sizeof buf);
        assert_int_equal(sl_parse_size(buf, &v, NULL), 0);
        assert_int_equal(v, sz[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_bad_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bad_sizes),
        cmocka_unit_test(test_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
