/* test_json.c - the small JSON scanner used for task headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/json.h"

static void test_check(void **state)
{
    (void)state;
    const char *good[] = {"{}", " {\"a\":1} ", "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\\"y\"}",
                          "{\"u\":\"\\u00e9\",\"t\":true,\"f\":false,\"n\":-1.5e3}",
                          "{\"a\":{\"a\":1},\"b\":{\"a\":2}}"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(sl_json_check_object(good[i], NULL), 0);
    const char *bad[] = {"", "[]", "{", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "{\"a\":1} x",
                         "{\"a\":\"\n\"}", "{\"a\":tru}",
                         /* a name twice (found by fuzz_headers_json): which one counts? */
                         "{\"to_host\":1,\"x\":{\"to_host\":2},\"to_host\":\"h1\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sl_json_check_object(bad[i], NULL), SL_EINVAL);
}

static void test_get_set(void **state)
{
    (void)state;
    sl_buf b = SL_BUF_INIT, o = SL_BUF_INIT;
    assert_int_equal(
        sl_json_get_str("{\"x\":{\"to_host\":\"no\"},\"to_host\":\"n\\\"7\"}", "to_host", &b), 1);
    assert_string_equal(b.data, "n\"7");
    assert_int_equal(sl_json_get_str("{\"to_host\":3}", "to_host", &b), 0);
    sl_json_set_str(&o, NULL, "from_host", "h1");
    assert_string_equal(o.data, "{\"from_host\":\"h1\"}");
    sl_json_set_str(&o, "{\"a\":1}", "from_host", "h1");
    assert_string_equal(o.data, "{\"from_host\":\"h1\",\"a\":1}");
    sl_json_set_str(&o, "{\"a\":1,\"from_host\":\"old\"}", "from_host", "h2");
    assert_int_equal(sl_json_check_object(o.data, NULL), 0);
    assert_int_equal(sl_json_get_str(o.data, "from_host", &b), 1);
    assert_string_equal(b.data, "h2");
    assert_null(strstr(o.data, "old"));
    /* replacing the last member after a \r left a trailing comma (found by
     * fuzz_headers_json) */
    sl_json_set_str(&o, "{\"a\":1 ,\r\"from_host\":\"old\"}", "from_host", "h4");
    assert_int_equal(sl_json_check_object(o.data, NULL), 0);
    /* not an object: read past the end (found by fuzz_headers_json) */
    sl_json_set_str(&o, " ", "from_host", "h3");
    assert_string_equal(o.data, "{\"from_host\":\"h3\"}");
    sl_json_set_str(&o, "[1]", "from_host", "h3");
    assert_string_equal(o.data, "{\"from_host\":\"h3\"}");
    sl_buf_free(&b);
    sl_buf_free(&o);
}

static int count_cb(void *ctx, const char *name, const char *value)
{
    (void)name;
    (void)value;
    (*(int *)ctx)++;
    return 0;
}

static void test_each(void **state)
{
    (void)state;
    int n = 0;
    assert_int_equal(sl_json_each_str("{\"A\":\"1\",\"B\":2,\"C\":\"3\"}", count_cb, &n), 2);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_check), cmocka_unit_test(test_get_set),
                                       cmocka_unit_test(test_each)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
