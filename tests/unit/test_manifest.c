/* test_manifest.c - content manifests of cache objects (cache/manifest.c):
 * the text form, hashing, making one for a directory and checking a copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/manifest.h"
#include "util/fsutil.h"

static char dir[] = "/tmp/sluice-test-manifest.XXXXXX";

static void put(const char *rel, const char *data, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = 0;
    sl_mkdir_p(p);
    *slash = '/';
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static int count_cb(void *ctx, const sl_mfile *f)
{
    (void)f;
    (*(int *)ctx)++;
    return 0;
}

static void test_make_and_verify(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    put("b.dat", "hello", 5);
    put("sub/a.dat", "world!", 6);
    put("empty", "", 0);
    char link[600];
    snprintf(link, sizeof link, "%s/link", dir);
    assert_int_equal(symlink("b.dat", link), 0);
    sl_buf m = SL_BUF_INIT;
    int64_t total = -1;
    sl_err e = {0};
    assert_int_equal(sl_manifest_make(dir, &m, &total, &e), 3);
    assert_int_equal(total, 11);
    /* sorted by name, one line per regular file, 32 hex digits each */
    assert_non_null(strstr(m.data, "b.dat\t5\t"));
    assert_true(strstr(m.data, "b.dat") < strstr(m.data, "empty"));
    assert_true(strstr(m.data, "empty") < strstr(m.data, "sub/a.dat"));
    assert_null(strstr(m.data, "link"));
    int n = 0;
    sl_manifest_each(m.data, count_cb, &n);
    assert_int_equal(n, 3);
    assert_int_equal(sl_manifest_verify(dir, m.data, NULL, &e), 0);
    assert_int_equal(sl_manifest_sizes_match(dir, m.data), 1);

    /* one byte changed, same size: only the hash sees it */
    put("sub/a.dat", "world?", 6);
    assert_int_equal(sl_manifest_sizes_match(dir, m.data), 1);
    char *bad = NULL;
    assert_int_equal(sl_manifest_verify(dir, m.data, &bad, &e), SL_EIO);
    assert_string_equal(bad, "sub/a.dat");
    assert_non_null(strstr(e.msg, "XXH3-128"));
    free(bad);

    /* a missing file and a short file */
    put("sub/a.dat", "world!", 6);
    char p[600];
    snprintf(p, sizeof p, "%s/empty", dir);
    unlink(p);
    assert_int_equal(sl_manifest_sizes_match(dir, m.data), 0);
    assert_int_equal(sl_manifest_verify(dir, m.data, NULL, &e), SL_EIO);
    assert_non_null(strstr(e.msg, "missing"));
    put("empty", "", 0);
    put("b.dat", "hell", 4);
    assert_int_equal(sl_manifest_verify(dir, m.data, NULL, &e), SL_EIO);
    assert_non_null(strstr(e.msg, "4 bytes"));
    sl_buf_free(&m);
    sl_rm_rf(dir);
}

static void test_text_form(void **state)
{
    (void)state;
    /* lines of an older sluice have no hash: parsed, checked by size only */
    const char *old = "a\t3\nb/c\t10\n";
    int n = 0;
    sl_manifest_each(old, count_cb, &n);
    assert_int_equal(n, 2);
    /* a manifest from another host never names a file outside the object
     * nor reads a field from the next line (found by fuzz_manifest) */
    static const char *const bad[] = {
        "../../etc/passwd\t1\n",
        "a/../../x\t1\n",
        "/abs\t1\n",
        "a//b\t1\n",
        "./a\t1\n",
        "a\t\n5\n",
        "a\t12x\n",
        "a\t5\tshort\n",
        "a\t5\t0123456789ABCDEF0123456789abcdef\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 0;
        assert_int_equal(sl_manifest_each(bad[i], count_cb, &n), SL_EINVAL);
        assert_int_equal(n, 0);
    }
    sl_err ve = {0};
    assert_int_equal(sl_manifest_verify("/nonexistent", "../x\t1\n", NULL, &ve), SL_EIO);
    assert_non_null(strstr(ve.msg, "malformed"));
    n = 0;
    assert_int_equal(sl_manifest_each("ok\t1\n..\t1\n", count_cb, &n), SL_EINVAL);
    assert_int_equal(n, 1);
    sl_buf b = SL_BUF_INIT;
    sl_manifest_add(&b, "x", 1, 7, "0123456789abcdef0123456789abcdef");
    sl_manifest_add(&b, "y", 1, 0, NULL);
    assert_string_equal(b.data, "x\t7\t0123456789abcdef0123456789abcdef\ny\t0\n");
    sl_buf_free(&b);
    /* the hash of known bytes is stable (catches a changed algorithm) */
    char tmp[] = "/tmp/sluice-test-hash.XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "sluice", 6), 6);
    close(fd);
    char hex[SL_MANIFEST_HASH_HEX + 1], hex2[SL_MANIFEST_HASH_HEX + 1];
    int64_t size = 0;
    assert_int_equal(sl_manifest_hash_file(tmp, hex, &size, NULL), 0);
    assert_int_equal(size, 6);
    assert_int_equal(strlen(hex), 32);
    assert_int_equal(sl_manifest_hash_file(tmp, hex2, NULL, NULL), 0);
    assert_string_equal(hex, hex2);
    unlink(tmp);
    sl_err e = {0};
    assert_int_equal(sl_manifest_hash_file(tmp, hex, NULL, &e), SL_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_and_verify),
        cmocka_unit_test(test_text_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
