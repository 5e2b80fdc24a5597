/* astrometry.c - RA/Dec strings, GPS/UTC conversion and az/el at the MWA.
 *
 * Everything goes through ERFA so that the simulator and the beamformer agree
 * to the last bit on where a source is; the tests compare against an
 * independent sidereal-time formula. */
#include "astrometry.h"

#include <erfa.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEG2RAD (M_PI / 180.0)
/* GPS epoch 1980-01-06T00:00:00 UTC, when TAI - UTC was 19 s = TAI - GPS. */
#define GPS_EPOCH_JD 2444244.5
#define TAI_MINUS_GPS 19.0

static int parse_sexagesimal(const char *s, double *out, int *negative)
{
    while (*s == ' ' || *s == '\t')
        s++;
    *negative = 0;
    if (*s == '-' || *s == '+') {
        *negative = *s == '-';
        s++;
    }
    double part[3] = {0, 0, 0};
    int n = 0;
    while (n < 3) {
        char *end;
        if (!(*s >= '0' && *s <= '9') && *s != '.') return -1;
        part[n++] = strtod(s, &end);
        if (end == s) return -1;
        s = end;
        if (*s != ':') break;
        s++;
    }
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (*s) return -1;
    if (n < 2 || part[1] >= 60 || part[2] >= 60 || part[1] < 0 || part[2] < 0) return -1;
    *out = part[0] + part[1] / 60.0 + part[2] / 3600.0;
    return 0;
}

int astro_parse_ra(const char *s, double *deg)
{
    double h;
    int neg;
    if (parse_sexagesimal(s, &h, &neg) || neg || h >= 24) return -1;
    *deg = h * 15.0;
    return 0;
}

int astro_parse_dec(const char *s, double *deg)
{
    double d;
    int neg;
    if (parse_sexagesimal(s, &d, &neg) || d > 90) return -1;
    *deg = neg ? -d : d;
    return 0;
}

void astro_format_ra(double deg, char *out, size_t len)
{
    char sign;
    int ihmsf[4];
    eraA2tf(2, fmod(fmod(deg, 360) + 360, 360) * DEG2RAD, &sign, ihmsf);
    if (ihmsf[0] == 24) ihmsf[0] = 0;
    snprintf(out, len, "%02d:%02d:%02d.%02d", ihmsf[0], ihmsf[1], ihmsf[2], ihmsf[3]);
}

void astro_format_dec(double deg, char *out, size_t len)
{
    char sign;
    int idmsf[4];
    eraA2af(1, deg * DEG2RAD, &sign, idmsf);
    snprintf(out, len, "%c%02d:%02d:%02d.%01d", sign, idmsf[0], idmsf[1], idmsf[2], idmsf[3]);
}

int astro_gps_to_utc_jd(double gps, double *jd1, double *jd2)
{
    double tai2 = (gps + TAI_MINUS_GPS) / 86400.0;
    double whole = floor(tai2);
    return eraTaiutc(GPS_EPOCH_JD + whole, tai2 - whole, jd1, jd2) < 0 ? -1 : 0;
}

int astro_gps_to_mjd_parts(double gps, int *imjd, int *smjd, double *offs)
{
    double u1, u2;
    if (astro_gps_to_utc_jd(gps, &u1, &u2)) return -1;
    int iy, im, id, ihmsf[4];
    if (eraD2dtf("UTC", 6, u1, u2, &iy, &im, &id, ihmsf)) return -1;
    double d1, d2;
    eraCal2jd(iy, im, id, &d1, &d2);
    *imjd = (int)lround(d1 + d2 - 2400000.5);
    *smjd = ihmsf[0] * 3600 + ihmsf[1] * 60 + ihmsf[2];
    *offs = ihmsf[3] * 1e-6;
    return 0;
}

double astro_lst_deg(double gps)
{
    double u1, u2, t1, t2;
    astro_gps_to_utc_jd(gps, &u1, &u2);
    eraUtctai(u1, u2, &t1, &t2);
    double tt1, tt2;
    eraTaitt(t1, t2, &tt1, &tt2);
    double gst = eraGst06a(u1, u2, tt1, tt2); /* UT1 ~ UTC (DUT1 = 0) */
    double lst = gst / DEG2RAD + MWA_LON_DEG;
    return fmod(fmod(lst, 360) + 360, 360);
}

int astro_radec_to_azel(double ra_deg, double dec_deg, double gps, double *az_deg, double *el_deg)
{
    double u1, u2;
    if (astro_gps_to_utc_jd(gps, &u1, &u2)) return -1;
    double aob, zob, hob, dob, rob, eo;
    int j = eraAtco13(ra_deg * DEG2RAD, dec_deg * DEG2RAD, 0, 0, 0, 0, u1, u2, 0.0,
                      MWA_LON_DEG * DEG2RAD, MWA_LAT_DEG * DEG2RAD, MWA_HEIGHT_M, 0, 0, 0, 0, 0, 0,
                      &aob, &zob, &hob, &dob, &rob, &eo);
    if (j < 0) return -1;
    *az_deg = aob / DEG2RAD;
    *el_deg = 90.0 - zob / DEG2RAD;
    return 0;
}

int astro_azel_to_radec(double az_deg, double el_deg, double gps, double *ra_deg, double *dec_deg)
{
    double u1, u2;
    if (astro_gps_to_utc_jd(gps, &u1, &u2)) return -1;
    double rc, dc;
    int j = eraAtoc13("A", az_deg * DEG2RAD, (90.0 - el_deg) * DEG2RAD, u1, u2, 0.0,
                      MWA_LON_DEG * DEG2RAD, MWA_LAT_DEG * DEG2RAD, MWA_HEIGHT_M, 0, 0, 0, 0, 0, 0,
                      &rc, &dc);
    if (j < 0) return -1;
    *ra_deg = fmod(rc / DEG2RAD + 360, 360);
    *dec_deg = dc / DEG2RAD;
    return 0;
}

void astro_enu(double az_deg, double el_deg, double u[3])
{
    double az = az_deg * DEG2RAD, el = el_deg * DEG2RAD;
    u[0] = cos(el) * sin(az);
    u[1] = cos(el) * cos(az);
    u[2] = sin(el);
}
