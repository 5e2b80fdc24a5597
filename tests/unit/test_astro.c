/* test_astro.c - ERFA astrometry at the MWA against independent sums.
 *
 * GPS -> UTC is checked against Unix time with the leap-second count written
 * out (15 s in 2011, 18 s since 2017); az/el against a textbook sidereal-time
 * formula and plain spherical trigonometry (no precession or nutation, so
 * agreement to ~0.5 deg is what it can show); the zenith round trip to 1e-6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "astrometry.h"

#define D2R (M_PI / 180)

static void test_gps_utc(void **state)
{
    (void)state;
    int imjd, smjd;
    double offs;
    /* 1257010784 = 2019-11-05 17:39:26 UTC (GPS - UTC = 18 s). */
    assert_int_equal(astro_gps_to_mjd_parts(1257010784, &imjd, &smjd, &offs), 0);
    long unix_t = 1257010784L + 315964800L - 18;
    assert_int_equal(imjd, 40587 + unix_t / 86400);
    assert_int_equal(smjd, unix_t % 86400);
    assert_int_equal(smjd, 17 * 3600 + 39 * 60 + 26);
    assert_true(offs < 1e-6);
    /* 2011-09-14: GPS - UTC = 15 s. */
    assert_int_equal(astro_gps_to_mjd_parts(1000000000, &imjd, &smjd, &offs), 0);
    unix_t = 1000000000L + 315964800L - 15;
    assert_int_equal(imjd, 40587 + unix_t / 86400);
    assert_int_equal(smjd, unix_t % 86400);
}

/* GMST (degrees), IAU 1982 polynomial (Meeus 12.4), for UT as a JD. */
static double gmst_deg(double jd)
{
    double t = (jd - 2451545.0) / 36525;
    double g = 280.46061837 + 360.98564736629 * (jd - 2451545.0) + 0.000387933 * t * t -
               t * t * t / 38710000;
    return fmod(fmod(g, 360) + 360, 360);
}

static void simple_azel(double ra, double dec, double lst, double *az, double *el)
{
    double ha = (lst - ra) * D2R, d = dec * D2R, phi = MWA_LAT_DEG * D2R;
    double sin_el = sin(d) * sin(phi) + cos(d) * cos(phi) * cos(ha);
    *el = asin(sin_el) / D2R;
    double y = -cos(d) * sin(ha), x = sin(d) * cos(phi) - cos(d) * sin(phi) * cos(ha);
    *az = fmod(atan2(y, x) / D2R + 360, 360);
}

static void test_azel(void **state)
{
    (void)state;
    double gps = 1257010784;
    double jd = 2444244.5 + (gps - 18) / 86400;
    double lst = fmod(gmst_deg(jd) + MWA_LON_DEG, 360);
    assert_true(fabs(astro_lst_deg(gps) - lst) < 0.01);
    /* The zenith (RA = LST, Dec = latitude, ignoring precession) is near el 90. */
    double az, el;
    assert_int_equal(astro_radec_to_azel(lst, MWA_LAT_DEG, gps, &az, &el), 0);
    assert_true(el > 89.5);
    /* ERFA's own zenith round trip is exact. */
    double ra, dec;
    assert_int_equal(astro_azel_to_radec(0, 90, gps, &ra, &dec), 0);
    assert_true(fabs(dec - MWA_LAT_DEG) < 0.5);
    assert_int_equal(astro_radec_to_azel(ra, dec, gps, &az, &el), 0);
    assert_true(fabs(el - 90) < 1e-6);
    /* Sources an hour or two off the meridian: spherical trig agrees. */
    double srcs[][2] = {{lst + 20, -40}, {lst - 30, 10}, {lst + 5, -60}};
    for (int i = 0; i < 3; i++) {
        double az0, el0;
        simple_azel(srcs[i][0], srcs[i][1], lst, &az0, &el0);
        assert_int_equal(astro_radec_to_azel(srcs[i][0], srcs[i][1], gps, &az, &el), 0);
        assert_true(fabs(el - el0) < 0.5);
        double daz = fabs(az - az0);
        if (daz > 180) daz = 360 - daz;
        assert_true(daz * cos(el * D2R) < 0.5);
    }
    /* One second later the sky has turned by ~15 arcsec. */
    double az1, el1;
    astro_radec_to_azel(srcs[0][0], srcs[0][1], gps, &az, &el);
    astro_radec_to_azel(srcs[0][0], srcs[0][1], gps + 1, &az1, &el1);
    double moved = hypot((az1 - az) * cos(el * D2R), el1 - el) * 3600;
    assert_true(moved > 5 && moved < 16);
    double u[3];
    astro_enu(90, 0, u);
    assert_true(fabs(u[0] - 1) < 1e-12 && fabs(u[1]) < 1e-12 && fabs(u[2]) < 1e-12);
}

static void test_parse_format(void **state)
{
    (void)state;
    double v;
    assert_int_equal(astro_parse_ra("04:27:30.00", &v), 0);
    assert_true(fabs(v - (4 + 27 / 60.0 + 30 / 3600.0) * 15) < 1e-9);
    assert_int_equal(astro_parse_dec("-26:15:00.0", &v), 0);
    assert_true(fabs(v + 26.25) < 1e-9);
    assert_int_equal(astro_parse_dec("-00:30:00", &v), 0);
    assert_true(fabs(v + 0.5) < 1e-9);
    assert_int_equal(astro_parse_dec("+22:00:52.1", &v), 0);
    assert_int_equal(astro_parse_ra("25:00:00", &v), -1);
    assert_int_equal(astro_parse_ra("-01:00:00", &v), -1);
    assert_int_equal(astro_parse_ra("ab:cd", &v), -1);
    assert_int_equal(astro_parse_dec("10:61:00", &v), -1);
    assert_int_equal(astro_parse_dec("", &v), -1);
    char s[32];
    astro_format_ra(66.875, s, sizeof(s));
    assert_string_equal(s, "04:27:30.00");
    astro_format_dec(-26.25, s, sizeof(s));
    assert_string_equal(s, "-26:15:00.0");
    astro_format_dec(-0.5, s, sizeof(s));
    assert_string_equal(s, "-00:30:00.0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gps_utc),
        cmocka_unit_test(test_azel),
        cmocka_unit_test(test_parse_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
