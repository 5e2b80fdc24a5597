/* test_metafits.c - metafits write/read round trip (TILEDATA pairs, EL_
 * cable lengths, flags, sluice's VCS shape keywords) and refusal of a file
 * without TILEDATA. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metafits.h"

static void test_round_trip(void **state)
{
    (void)state;
    metafits m = {0};
    m.obsid = 1257010784;
    m.ra_deg = 66.875;
    m.dec_deg = -26.25;
    m.az_deg = 0;
    m.alt_deg = 90;
    snprintf(m.project, sizeof(m.project), "G0057");
    m.ncoarse = 3;
    m.coarse[0] = 109, m.coarse[1] = 110, m.coarse[2] = 111;
    m.fine_khz = 10;
    m.shape = (vcs_shape){4, 16, 1000, VCS_LAYOUT_REDUCED};
    metafits_tile tiles[4];
    memset(tiles, 0, sizeof(tiles));
    for (int a = 0; a < 4; a++) {
        tiles[a].antenna = a;
        tiles[a].tile_id = 11 + a;
        snprintf(tiles[a].name, sizeof(tiles[a].name), "Tile%03d", 11 + a);
        tiles[a].north = 10.5 * a;
        tiles[a].east = -3.25 * a;
        tiles[a].height = 377 + a;
        tiles[a].length = 100.25 + a;
    }
    tiles[2].flag = 1;
    m.tiles = tiles;
    char path[] = "/tmp/test_metafits_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char err[METAFITS_ERR_LEN];
    assert_int_equal(metafits_write(path, &m, err), 0);
    metafits r;
    assert_int_equal(metafits_read(path, &r, err), 0);
    assert_int_equal(r.obsid, 1257010784);
    assert_true(fabs(r.ra_deg - 66.875) < 1e-9 && fabs(r.dec_deg + 26.25) < 1e-9);
    assert_string_equal(r.project, "G0057");
    assert_int_equal(r.ncoarse, 3);
    assert_int_equal(r.coarse[2], 111);
    assert_int_equal(metafits_coarse_index(&r, 110), 1);
    assert_int_equal(metafits_coarse_index(&r, 120), -1);
    assert_int_equal(r.shape.ntile, 4);
    assert_int_equal(r.shape.nfine, 16);
    assert_int_equal(r.shape.nsamp, 1000);
    assert_int_equal(r.shape.layout, VCS_LAYOUT_REDUCED);
    for (int a = 0; a < 4; a++) {
        assert_int_equal(r.tiles[a].antenna, a);
        assert_string_equal(r.tiles[a].name, tiles[a].name);
        assert_true(fabs(r.tiles[a].north - tiles[a].north) < 1e-4);
        assert_true(fabs(r.tiles[a].east - tiles[a].east) < 1e-4);
        assert_true(fabs(r.tiles[a].length - tiles[a].length) < 1e-9);
        assert_int_equal(r.tiles[a].flag, a == 2);
    }
    /* f_k = N * 1.28 MHz - 640 kHz + k * 10 kHz */
    assert_true(fabs(metafits_fine_freq_hz(&r, 109, 0) - 138.88e6) < 1e-3);
    assert_true(fabs(metafits_fine_freq_hz(&r, 109, 127) - 140.15e6) < 1e-3);
    metafits_free(&r);
    unlink(path);
    /* Not a metafits. */
    FILE *f = fopen(path, "w");
    fputs("hello", f);
    fclose(f);
    assert_int_equal(metafits_read(path, &r, err), -1);
    assert_non_null(strstr(err, path));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
