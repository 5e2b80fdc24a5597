/* test_vcs.c - legacy VCS byte order and 4+4-bit decode, against hand-built
 * bytes and formulas written out independently of vcs.h.
 *
 * The full-size order is index = s*32768 + k*256 + pfb*64 + rec*4 + inc with
 * pfb = ant>>5, rec = (2*ant+pol)&15, inc = (ant>>3)&3 (MWA.md); a few
 * positions are also checked as literal numbers worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vcs.h"

static void test_index_formulas(void **state)
{
    (void)state;
    for (int ant = 0; ant < 128; ant++)
        for (int pol = 0; pol < 2; pol++) {
            int pfb = ant / 32, rec = (2 * ant + pol) % 16, inc = (ant / 8) % 4;
            assert_int_equal(vcs_pfb(ant), pfb);
            assert_int_equal(vcs_rec(ant, pol), rec);
            assert_int_equal(vcs_inc(ant), inc);
            for (int s = 0; s < 10000; s += 3333)
                for (int k = 0; k < 128; k += 17)
                    assert_int_equal(vcs_full_index(s, k, ant, pol),
                                     (size_t)s * 32768 + k * 256 + pfb * 64 + rec * 4 + inc);
        }
    /* Worked by hand. */
    assert_int_equal(vcs_full_index(0, 0, 0, 0), 0);
    assert_int_equal(vcs_full_index(0, 0, 0, 1), 4);     /* rec 1 */
    assert_int_equal(vcs_full_index(0, 0, 1, 0), 8);     /* rec 2 */
    assert_int_equal(vcs_full_index(0, 0, 8, 0), 1);     /* rec 0, inc 1 */
    assert_int_equal(vcs_full_index(0, 0, 33, 1), 76);   /* pfb 1, rec 3, inc 0 */
    assert_int_equal(vcs_full_index(0, 0, 127, 1), 255); /* pfb 3, rec 15, inc 3 */
    assert_int_equal(vcs_full_index(9999, 127, 127, 1), 327680000 - 1);
    /* A bijection: every byte of a (s, k) block belongs to one input. */
    int seen[256] = {0};
    vcs_shape sh = {128, 128, 10000, VCS_LAYOUT_FULL};
    for (int ant = 0; ant < 128; ant++)
        for (int pol = 0; pol < 2; pol++)
            seen[vcs_input_offset(&sh, ant, pol)]++;
    for (int i = 0; i < 256; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(vcs_second_bytes(&sh), 327680000);
    assert_int_equal(vcs_index(&sh, 2, 3, 33, 1), vcs_full_index(2, 3, 33, 1));
    vcs_shape red = {32, 16, 1000, VCS_LAYOUT_REDUCED};
    assert_int_equal(vcs_index(&red, 2, 3, 5, 1), ((2 * 16 + 3) * 32 + 5) * 2 + 1);
    assert_int_equal(vcs_second_bytes(&red), 32 * 16 * 1000 * 2);
}

static void test_nibble_decode(void **state)
{
    (void)state;
    float complex t[256];
    vcs_decode_table(t);
    /* Low nibble real, high nibble imaginary, two's complement. */
    assert_true(t[0x00] == 0);
    assert_true(t[0x01] == 1);
    assert_true(t[0x07] == 7);
    assert_true(t[0x08] == -8);
    assert_true(t[0x0F] == -1);
    assert_true(t[0x10] == 1 * I);
    assert_true(t[0x80] == -8 * I);
    assert_true(t[0xF0] == -1 * I);
    assert_true(t[0x7D] == -3 + 7 * I);
    assert_true(t[0x9C] == -4 - 7 * I);
    for (int re = -8; re <= 7; re++)
        for (int im = -8; im <= 7; im++)
            assert_true(t[vcs_encode(re, im)] == (float)re + I * (float)im);
    assert_true(t[vcs_encode(12, -30)] == 7 - 8 * I); /* clamped */
}

static void test_hand_built_second(void **state)
{
    (void)state;
    /* Two samples of a full-size second with chosen bytes at chosen places. */
    vcs_shape sh = {128, 128, 2, VCS_LAYOUT_FULL};
    size_t n = vcs_second_bytes(&sh);
    uint8_t *buf = calloc(1, n);
    buf[1 * 32768 + 5 * 256 + 1 * 64 + 3 * 4 + 0] = 0x7D;    /* s1 k5 ant33 pol1: -3+7i */
    buf[0 * 32768 + 127 * 256 + 3 * 64 + 14 * 4 + 3] = 0x9C; /* s0 k127 ant127 pol0 */
    char path[] = "/tmp/test_vcs_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, n), (ssize_t)n);
    close(fd);
    uint8_t *got = malloc(n);
    char err[VCS_ERR_LEN];
    assert_int_equal(vcs_read_second(path, &sh, got, err), 0);
    float complex t[256];
    vcs_decode_table(t);
    assert_true(t[got[vcs_index(&sh, 1, 5, 33, 1)]] == -3 + 7 * I);
    assert_true(t[got[vcs_index(&sh, 0, 127, 127, 0)]] == -4 - 7 * I);
    assert_true(t[got[vcs_index(&sh, 1, 5, 33, 0)]] == 0);
    /* A short file is refused with both sizes in the message. */
    assert_int_equal(truncate(path, 1000), 0);
    assert_int_equal(vcs_read_second(path, &sh, got, err), -1);
    assert_non_null(strstr(err, "1000 bytes"));
    assert_non_null(strstr(err, "expected 65536"));
    unlink(path);
    assert_int_equal(vcs_read_second(path, &sh, got, err), -1);
    assert_non_null(strstr(err, "cannot open"));
    vcs_shape bad = {32, 128, 10, VCS_LAYOUT_FULL};
    assert_int_equal(vcs_shape_check(&bad, err), -1);
    char name[256];
    vcs_file_name(name, sizeof(name), "/d", 1257010784, 1257010790, 109);
    assert_string_equal(name, "/d/1257010784_1257010790_ch109.dat");
    free(buf);
    free(got);
}

/* A metafits can claim any shape: one whose byte count overflows size_t
 * (found by fuzz_vcs: 917506 x 589492480 x 755772684) or exceeds the
 * per-second bound is refused, the largest plausible ones are not. */
static void test_shape_bounds(void **state)
{
    (void)state;
    char err[VCS_ERR_LEN];
    vcs_shape huge = {917506, 589492480, 755772684, VCS_LAYOUT_REDUCED};
    assert_int_equal(vcs_shape_check(&huge, err), -1);
    assert_non_null(strstr(err, "implausible"));
    vcs_shape big = {128, 128, 200000, VCS_LAYOUT_FULL}; /* 6.5 GB a second */
    assert_int_equal(vcs_shape_check(&big, err), -1);
    vcs_shape full = {128, 128, 10000, VCS_LAYOUT_FULL};
    assert_int_equal(vcs_shape_check(&full, err), 0);
    vcs_shape wide = {4096, 8, 10000, VCS_LAYOUT_REDUCED};
    assert_int_equal(vcs_shape_check(&wide, err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_formulas),
        cmocka_unit_test(test_nibble_decode),
        cmocka_unit_test(test_hand_built_second),
        cmocka_unit_test(test_shape_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
