/* astrometry.h - sky directions at the MWA site, on ERFA.
 *
 * J2000 (ICRS) RA/Dec -> observed azimuth/elevation at a GPS time: ERFA
 * eraAtco13 does apparent place, Earth rotation and the hour angle; refraction
 * is off (radio, and the beamformer wants geometric delays). GPS time is
 * TAI - 19 s; UTC follows from ERFA's leap-second table. DUT1 and polar
 * motion are taken as zero (a few arcseconds at most).
 * Site: longitude 116.67081 E, latitude -26.703319, height 377.827 m.
 *
 * Errors: parsers return 0, or -1 for an unparsable string. */
#ifndef ASTROMETRY_H
#define ASTROMETRY_H

#include <stddef.h>

#define MWA_LON_DEG 116.67081
#define MWA_LAT_DEG (-26.703319)
#define MWA_HEIGHT_M 377.827

/* "hh:mm:ss.s" -> degrees. */
int astro_parse_ra(const char *s, double *deg);
/* "[+-]dd:mm:ss.s" -> degrees. */
int astro_parse_dec(const char *s, double *deg);
void astro_format_ra(double deg, char *out, size_t len);  /* "hh:mm:ss.ss" */
void astro_format_dec(double deg, char *out, size_t len); /* "+dd:mm:ss.s" */

/* GPS seconds -> UTC as a two-part Julian date (leap seconds applied). */
int astro_gps_to_utc_jd(double gps, double *jd1, double *jd2);
/* GPS seconds -> UTC MJD split as PSRFITS wants: integer day, integer
 * seconds of the day, fractional second. */
int astro_gps_to_mjd_parts(double gps, int *imjd, int *smjd, double *offs);
/* Local apparent sidereal time at the MWA (degrees) at a GPS time. */
double astro_lst_deg(double gps);

/* J2000 RA/Dec (degrees) -> azimuth (from North through East) and elevation
 * (degrees) at the MWA at a GPS time. */
int astro_radec_to_azel(double ra_deg, double dec_deg, double gps, double *az_deg, double *el_deg);
/* Inverse: az/el at the MWA at a GPS time -> J2000 RA/Dec (degrees). */
int astro_azel_to_radec(double az_deg, double el_deg, double gps, double *ra_deg, double *dec_deg);
/* Unit vector (East, North, Up) of an az/el direction. */
void astro_enu(double az_deg, double el_deg, double u[3]);

#endif
