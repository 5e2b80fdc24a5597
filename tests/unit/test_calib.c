/* test_calib.c - Offringa binary calibration solutions: the byte layout of
 * the header written by hand, read back, channel mapping, NaN = flagged,
 * 2x2 inversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calib.h"

static void test_hand_written_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_calib_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    /* 1 interval, 2 antennas, 4 channels (2 coarse x 2 solution channels). */
    FILE *f = fopen(path, "wb");
    uint32_t h[6] = {0, 0, 1, 2, 4, 4};
    double t[2] = {1.0, 2.0};
    fwrite("MWAOCAL", 1, 8, f);
    fwrite(h, 4, 6, f);
    fwrite(t, 8, 2, f);
    for (int a = 0; a < 2; a++)
        for (int c = 0; c < 4; c++)
            for (int p = 0; p < 4; p++) {
                double v[2] = {a * 100 + c * 10 + p, -(double)p};
                if (a == 1 && c == 3) v[0] = NAN;
                fwrite(v, 8, 2, f);
            }
    fclose(f);
    calib c;
    char err[CALIB_ERR_LEN];
    assert_int_equal(calib_read(path, &c, err), 0);
    assert_int_equal(c.nantennas, 2);
    assert_int_equal(c.nchannels, 4);
    double complex j[4];
    /* coarse 1 of 2, 16 fine channels: fine 8 -> solution channel 2 + 1 = 3 */
    assert_int_equal(calib_jones(&c, 0, 1, 2, 16, 8, j, err), 0);
    assert_true(j[0] == 30 && j[1] == 31 - I && j[3] == 33 - 3 * I);
    assert_int_equal(calib_jones(&c, 0, 0, 2, 16, 7, j, err), 0);
    assert_true(j[2] == 2 - 2 * I);
    assert_int_equal(calib_jones(&c, 1, 1, 2, 16, 15, j, err), -1); /* NaN */
    assert_int_equal(calib_jones(&c, 2, 0, 2, 16, 0, j, err), -1);  /* no antenna 2 */
    assert_int_equal(calib_jones(&c, 0, 0, 3, 16, 0, j, err), -1);  /* 4 % 3 */
    /* write -> read is byte-identical */
    char path2[] = "/tmp/test_calib2_XXXXXX";
    fd = mkstemp(path2);
    close(fd);
    assert_int_equal(calib_write(path2, &c, err), 0);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "cmp -s %s %s", path, path2);
    assert_int_equal(system(cmd), 0);
    calib_free(&c);
    double complex m[4] = {2, 1 * I, 0.5, 3}, inv[4];
    assert_int_equal(calib_invert(m, inv), 0);
    double complex p00 = m[0] * inv[0] + m[1] * inv[2], p01 = m[0] * inv[1] + m[1] * inv[3];
    assert_true(cabs(p00 - 1) < 1e-12 && cabs(p01) < 1e-12);
    assert_int_equal(truncate(path, 100), 0);
    assert_int_equal(calib_read(path, &c, err), -1);
    assert_non_null(strstr(err, "truncated"));
    unlink(path);
    unlink(path2);
}

/* A header whose counts promise far more than the file holds is refused
 * before anything is sized from it (found by fuzz_calib: 9.4 GB malloc for
 * a 57-byte file). */
static void test_counts_beyond_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_calib_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    FILE *f = fopen(path, "wb");
    uint32_t h[6] = {0, 0, 7, 99999, 7, 4};
    double t[2] = {1.0, 2.0}, jones[8] = {0};
    fwrite("MWAOCAL", 1, 8, f);
    fwrite(h, 4, 6, f);
    fwrite(t, 8, 2, f);
    fwrite(jones, 8, 8, f);
    fclose(f);
    calib c;
    char err[CALIB_ERR_LEN];
    assert_int_equal(calib_read(path, &c, err), -1);
    assert_non_null(strstr(err, "truncated"));
    assert_null(c.jones);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hand_written_file),
                                       cmocka_unit_test(test_counts_beyond_file)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
