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

#include <fitsio.h>

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

/* TILEDATA string columns wider than the reader's buffers (a 60-character
 * Length, a 40-character TileName and Pol) must be refused, not copied past
 * the end of fixed arrays by fits_read_col. */
static void test_wide_string_columns(void **state)
{
    (void)state;
    char path[] = "/tmp/test_metafits_wide_XXXXXX";
    close(mkstemp(path));
    unlink(path);
    fitsfile *f;
    int st = 0;
    fits_create_file(&f, path, &st);
    fits_create_img(f, BYTE_IMG, 0, NULL, &st);
    double gps = 1257010784, zero = 0;
    fits_write_key(f, TDOUBLE, "GPSTIME", &gps, NULL, &st);
    fits_write_key(f, TDOUBLE, "RA", &zero, NULL, &st);
    fits_write_key(f, TDOUBLE, "DEC", &zero, NULL, &st);
    fits_write_key(f, TDOUBLE, "AZIMUTH", &zero, NULL, &st);
    fits_write_key(f, TDOUBLE, "ALTITUDE", &zero, NULL, &st);
    fits_write_key(f, TSTRING, "CHANNELS", "109", NULL, &st);
    fits_write_key(f, TSTRING, "VCSORDER", "REDUCED", NULL, &st);
    char *ttype[] = {"Antenna", "Pol", "TileName", "North", "East", "Height", "Length", "Flag"};
    char *tform[] = {"1I", "40A", "40A", "1E", "1E", "1E", "60A", "1I"};
    fits_create_tbl(f, BINARY_TBL, 0, 8, ttype, tform, NULL, "TILEDATA", &st);
    char pol[2][41], name[41], len[61];
    memset(pol, 'Q', sizeof pol);
    pol[0][0] = 'X';
    pol[1][0] = 'Y';
    pol[0][40] = pol[1][40] = 0;
    memset(name, 'N', sizeof name);
    name[40] = 0;
    memset(len, '9', sizeof len);
    memcpy(len, "EL_", 3);
    len[60] = 0;
    for (int r = 1; r <= 2; r++) {
        char *pp = pol[r - 1], *np = name, *lp = len;
        int ant = 0;
        fits_write_col(f, TSTRING, 2, r, 1, 1, &pp, &st);
        fits_write_col(f, TSTRING, 3, r, 1, 1, &np, &st);
        fits_write_col(f, TSTRING, 7, r, 1, 1, &lp, &st);
        fits_write_col(f, TINT, 1, r, 1, 1, &ant, &st);
    }
    fits_close_file(f, &st);
    assert_int_equal(st, 0);
    metafits m;
    char err[METAFITS_ERR_LEN] = "";
    assert_int_equal(metafits_read(path, &m, err), -1);
    assert_non_null(strstr(err, "wide"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_round_trip),
                                       cmocka_unit_test(test_wide_string_columns)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
