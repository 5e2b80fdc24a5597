/* psrfits.c - PSRFITS search-mode writer and reader on cfitsio.
 *
 * One file = a primary HDU with the observation keywords of the public
 * PSRFITS definition and a SUBINT binary table, one row per NSBLK samples.
 * Rows are written and read with one cfitsio call per column (DATA is a single
 * nsblk*nchan byte transfer), so the cost per row is a few large copies. The
 * per-row pointing columns (LST_SUB, GLON/GLAT, TEL_AZ/ZEN, PAR_ANG) are
 * computed here from the start time and the J2000 position with low-precision
 * formulas: they are informative in search mode, the science uses DATA.
 * Data values are DATA * DAT_SCL + DAT_OFFS (ZERO_OFF is written as 0; a
 * foreign file's non-zero ZERO_OFF is folded into the offsets by the reader). */
#include "psrfits.h"
#include "fits_check.h"

#include <fitsio.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PSRFITS_HDRVER "3.4"
#define DEG2RAD (M_PI / 180.0)
#define RAD2DEG (180.0 / M_PI)
/* MWA site (MWA.md) and its ITRF position (tempo observatories.dat). */
#define MWA_LON_DEG 116.67081
#define MWA_LAT_DEG -26.703319
#define MWA_X -2559454.08
#define MWA_Y 5095372.14
#define MWA_Z -2849057.18

enum {
    C_TSUBINT,
    C_OFFS_SUB,
    C_LST_SUB,
    C_RA_SUB,
    C_DEC_SUB,
    C_GLON_SUB,
    C_GLAT_SUB,
    C_FD_ANG,
    C_POS_ANG,
    C_PAR_ANG,
    C_TEL_AZ,
    C_TEL_ZEN,
    C_DAT_FREQ,
    C_DAT_WTS,
    C_DAT_OFFS,
    C_DAT_SCL,
    C_DATA,
    C_NCOLS
};

static const char *col_names[C_NCOLS] = {"TSUBINT",  "OFFS_SUB", "LST_SUB",  "RA_SUB",  "DEC_SUB",
                                         "GLON_SUB", "GLAT_SUB", "FD_ANG",   "POS_ANG", "PAR_ANG",
                                         "TEL_AZ",   "TEL_ZEN",  "DAT_FREQ", "DAT_WTS", "DAT_OFFS",
                                         "DAT_SCL",  "DATA"};
static const char *col_units[C_NCOLS] = {"s",   "s",   "s",   "deg", "deg", "deg",
                                         "deg", "deg", "deg", "deg", "deg", "deg",
                                         "MHz", "",    "",    "",    "Jy"};

struct psrfits {
    fitsfile *fp;
    char path[1024];
    psrfits_hdr h;
    int writing;
    int64_t nrows;
    int col[C_NCOLS]; /* 1-based column numbers */
    double stt_lst;   /* s, at the start of the file */
    int is_mwa;
    uint64_t datasum; /* writer: running 1's complement sum of the SUBINT data */
    uint8_t *rowmeta; /* writer: big-endian bytes of a row before DATA */
    size_t rowmeta_len;
    float zero_off; /* reader: folded into offs */
    float *tmp;     /* reader: nchan floats for the ZERO_OFF correction */
};

static void set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, PSRFITS_ERR_LEN, fmt, ap);
    va_end(ap);
}

/* Turns a cfitsio status into "path: what: cfitsio text (detail)". */
static int fits_fail(char *err, const char *path, const char *what, int status)
{
    char txt[FLEN_STATUS] = "", detail[FLEN_ERRMSG] = "";
    fits_get_errstatus(status, txt);
    fits_read_errmsg(detail);
    fits_clear_errmsg();
    set_err(err, "%s: %s: %s%s%s%s", path, what, txt, detail[0] ? " (" : "", detail,
            detail[0] ? ")" : "");
    return -1;
}

/* ---- small astronomy: enough for the informative per-row columns ---- */

static double mjd_of(const psrfits_hdr *h, double offs)
{
    return h->stt_imjd + (h->stt_smjd + h->stt_offs + offs) / 86400.0;
}

/* Local mean sidereal time in seconds (GMST, IAU 1982 linear form). */
static double lst_seconds(double mjd, double lon_deg)
{
    double d = mjd - 51544.5;
    double gmst = 280.46061837 + 360.98564736629 * d + lon_deg;
    gmst = fmod(gmst, 360.0);
    if (gmst < 0) gmst += 360.0;
    return gmst / 15.0 * 3600.0;
}

static void j2000_to_galactic(double ra, double dec, double *l, double *b)
{
    static const double m[3][3] = {{-0.0548755604, -0.8734370902, -0.4838350155},
                                   {0.4941094279, -0.4448296300, 0.7469822445},
                                   {-0.8676661490, -0.1980763734, 0.4559837762}};
    double v[3] = {cos(dec * DEG2RAD) * cos(ra * DEG2RAD), cos(dec * DEG2RAD) * sin(ra * DEG2RAD),
                   sin(dec * DEG2RAD)};
    double g[3];
    for (int i = 0; i < 3; i++)
        g[i] = m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2];
    *l = atan2(g[1], g[0]) * RAD2DEG;
    if (*l < 0) *l += 360.0;
    *b = asin(fmax(-1.0, fmin(1.0, g[2]))) * RAD2DEG;
}

/* "hh:mm:ss.s" (hours) or "+dd:mm:ss.s" (degrees) to a number; 0 on success. */
static int sexagesimal_parse(const char *s, double *out)
{
    double a = 0, b = 0, c = 0;
    while (*s == ' ')
        s++;
    int neg = (*s == '-');
    if (*s == '-' || *s == '+') s++;
    int n = sscanf(s, "%lf:%lf:%lf", &a, &b, &c);
    if (n < 1) return -1;
    *out = (neg ? -1 : 1) * (a + b / 60.0 + c / 3600.0);
    return 0;
}

static void sexagesimal_format(char *buf, size_t n, double v, int sign, int decimals)
{
    int neg = v < 0;
    double a = fabs(v);
    double scale = pow(10.0, decimals);
    double total = round(a * 3600.0 * scale) / scale; /* in arc/time seconds */
    int d = (int)(total / 3600.0);
    int m = (int)((total - d * 3600.0) / 60.0);
    double s = total - d * 3600.0 - m * 60.0;
    if (s < 0) s = 0;
    snprintf(buf, n, "%s%02d:%02d:%0*.*f", neg ? "-" : (sign ? "+" : ""), d, m, decimals + 3,
             decimals, s);
}

/* ---- FITS data checksum, accumulated while writing ----
 * DATASUM is the 32-bit 1's complement sum of the data unit's big-endian
 * words. Summing each row as it is written saves reading the whole file back
 * at close (what fits_write_chksum would do): for a 900 MB merged file that
 * read-back was about half the run time. */

static uint64_t csum_fold(uint64_t s)
{
    while (s >> 32)
        s = (s & 0xFFFFFFFFu) + (s >> 32);
    return s;
}

/* Adds n bytes that sit at byte offset off of the data unit. */
static uint64_t csum_add(uint64_t acc, const uint8_t *p, size_t n, uint64_t off)
{
    uint64_t s = 0;
    size_t i = 0;
    for (; i < n && ((off + i) & 3); i++)
        s += (uint64_t)p[i] << (8 * (3 - ((off + i) & 3)));
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        s += __builtin_bswap32(w);
    }
    for (; i < n; i++)
        s += (uint64_t)p[i] << (8 * (3 - ((off + i) & 3)));
    return csum_fold(csum_fold(acc) + csum_fold(s));
}

static uint8_t *put_be64(uint8_t *q, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    u = __builtin_bswap64(u);
    memcpy(q, &u, 8);
    return q + 8;
}

static uint8_t *put_be32(uint8_t *q, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    u = __builtin_bswap32(u);
    memcpy(q, &u, 4);
    return q + 4;
}

/* ---- writer ---- */

static void fill_defaults(psrfits_hdr *h)
{
    if (!h->telescope[0]) snprintf(h->telescope, sizeof h->telescope, "MWA");
    if (!h->backend[0]) snprintf(h->backend, sizeof h->backend, "sluice");
    if (!h->project[0]) snprintf(h->project, sizeof h->project, "unset");
    if (!h->observer[0]) snprintf(h->observer, sizeof h->observer, "unset");
    if (!h->src_name[0]) snprintf(h->src_name, sizeof h->src_name, "unset");
    double v;
    if (!h->ra_str[0])
        sexagesimal_format(h->ra_str, sizeof h->ra_str, h->ra_deg / 15.0, 0, 4);
    else if (h->ra_deg == 0 && sexagesimal_parse(h->ra_str, &v) == 0)
        h->ra_deg = v * 15.0;
    if (!h->dec_str[0])
        sexagesimal_format(h->dec_str, sizeof h->dec_str, h->dec_deg, 1, 3);
    else if (h->dec_deg == 0 && sexagesimal_parse(h->dec_str, &v) == 0)
        h->dec_deg = v;
    if (h->nbits == 0) h->nbits = 8;
    if (h->npol == 0) h->npol = 1;
    if (h->obsnchan == 0) h->obsnchan = h->nchan;
}

static void date_obs(const psrfits_hdr *h, char *buf, size_t n)
{
    time_t t = (time_t)(h->stt_imjd - 40587) * 86400 + h->stt_smjd;
    struct tm tm;
    gmtime_r(&t, &tm);
    long us = (long)floor(h->stt_offs * 1e6);
    if (us < 0) us = 0;
    if (us > 999999) us = 999999;
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
}

static void write_primary_keys(fitsfile *fp, const psrfits *f, int *st)
{
    const psrfits_hdr *h = &f->h;
    char buf[80];
    int zero = 0, one = 1, two = 2;
    double dz = 0.0, equinox = 2000.0;
    fits_write_key_str(fp, "HDRVER", PSRFITS_HDRVER, "Header version", st);
    fits_write_key_str(fp, "FITSTYPE", "PSRFITS", "FITS definition for pulsar data files", st);
    fits_write_date(fp, st);
    fits_write_key_str(fp, "OBSERVER", h->observer, "Observer name(s)", st);
    fits_write_key_str(fp, "PROJID", h->project, "Project name", st);
    fits_write_key_str(fp, "TELESCOP", h->telescope, "Telescope name", st);
    double ax = f->is_mwa ? MWA_X : 0, ay = f->is_mwa ? MWA_Y : 0, az = f->is_mwa ? MWA_Z : 0;
    fits_write_key_fixdbl(fp, "ANT_X", ax, 2, "[m] Antenna ITRF X-coordinate", st);
    fits_write_key_fixdbl(fp, "ANT_Y", ay, 2, "[m] Antenna ITRF Y-coordinate", st);
    fits_write_key_fixdbl(fp, "ANT_Z", az, 2, "[m] Antenna ITRF Z-coordinate", st);
    fits_write_key_str(fp, "FRONTEND", f->is_mwa ? "MWA-RX" : "unknown", "Receiver ID", st);
    fits_write_key(fp, TINT, "NRCVR", &two, "Number of receiver polarisation channels", st);
    fits_write_key_str(fp, "FD_POLN", "LIN", "LIN or CIRC", st);
    fits_write_key(fp, TINT, "FD_HAND", &one, "+/- 1. +1 is LIN:A=X,B=Y, CIRC:A=L,B=R", st);
    fits_write_key_fixdbl(fp, "FD_SANG", 45.0, 1, "[deg] FA of E vect for equal sig in A&B", st);
    fits_write_key_fixdbl(fp, "FD_XYPH", 0.0, 1, "[deg] Phase of A^* B for injected cal", st);
    fits_write_key_str(fp, "BACKEND", h->backend, "Backend ID", st);
    fits_write_key_str(fp, "BECONFIG", "N/A", "Backend configuration file name", st);
    fits_write_key(fp, TINT, "BE_PHASE", &zero, "0/+1/-1 BE cross-phase", st);
    fits_write_key(fp, TINT, "BE_DCC", &zero, "0/1 BE downconversion conjugation corrected", st);
    fits_write_key_fixdbl(fp, "BE_DELAY", 0.0, 1, "[s] Backend propn delay from digitiser input",
                          st);
    fits_write_key_fixdbl(fp, "TCYCLE", 0.0, 1, "[s] On-line cycle time", st);
    fits_write_key_str(fp, "OBS_MODE", "SEARCH", "(PSR, CAL, SEARCH)", st);
    date_obs(h, buf, sizeof buf);
    fits_write_key_str(fp, "DATE-OBS", buf, "Date of observation (YYYY-MM-DDThh:mm:ss, UTC)", st);
    fits_write_key_dbl(fp, "OBSFREQ", h->obsfreq, -17, "[MHz] Centre frequency for observation",
                       st);
    fits_write_key_dbl(fp, "OBSBW", h->obsbw, -17, "[MHz] Bandwidth for observation", st);
    fits_write_key(fp, TINT, "OBSNCHAN", (void *)&h->obsnchan, "Number of frequency channels", st);
    fits_write_key_fixdbl(fp, "CHAN_DM", 0.0, 1, "[cm-3 pc] DM used for on-line dedispersion", st);
    fits_write_key_str(fp, "PNT_ID", "N/A", "Name or ID for pointing ctr (multibeam feeds)", st);
    fits_write_key_str(fp, "SRC_NAME", h->src_name, "Source or scan ID", st);
    fits_write_key_str(fp, "COORD_MD", "J2000", "Coordinate mode (J2000, GALACTIC, ECLIPTIC)", st);
    fits_write_key(fp, TDOUBLE, "EQUINOX", &equinox, "Equinox of coords (e.g. 2000.0)", st);
    fits_write_key_str(fp, "RA", h->ra_str, "Right ascension (hh:mm:ss.ssss)", st);
    fits_write_key_str(fp, "DEC", h->dec_str, "Declination (-dd:mm:ss.sss)", st);
    fits_write_key(fp, TDOUBLE, "BMAJ", &dz, "[deg] Beam major axis length", st);
    fits_write_key(fp, TDOUBLE, "BMIN", &dz, "[deg] Beam minor axis length", st);
    fits_write_key(fp, TDOUBLE, "BPA", &dz, "[deg] Beam position angle", st);
    fits_write_key_str(fp, "STT_CRD1", h->ra_str, "Start coord 1 (hh:mm:ss.sss or ddd.ddd)", st);
    fits_write_key_str(fp, "STT_CRD2", h->dec_str, "Start coord 2 (-dd:mm:ss.sss or -dd.ddd)", st);
    fits_write_key_str(fp, "TRK_MODE", "TRACK", "Track mode (TRACK, SCANGC, SCANLAT)", st);
    fits_write_key_str(fp, "STP_CRD1", h->ra_str, "Stop coord 1 (hh:mm:ss.sss or ddd.ddd)", st);
    fits_write_key_str(fp, "STP_CRD2", h->dec_str, "Stop coord 2 (-dd:mm:ss.sss or -dd.ddd)", st);
    fits_write_key_fixdbl(fp, "SCANLEN", 0.0, 6, "[s] Requested scan length", st);
    fits_write_key_str(fp, "FD_MODE", "FA", "Feed track mode - FA, CPA, SPA, TPA", st);
    fits_write_key(fp, TDOUBLE, "FA_REQ", &dz, "[deg] Feed/Posn angle requested", st);
    fits_write_key_str(fp, "CAL_MODE", "OFF", "Cal mode (OFF, SYNC, EXT1, EXT2)", st);
    fits_write_key(fp, TDOUBLE, "CAL_FREQ", &dz, "[Hz] Cal modulation frequency", st);
    fits_write_key(fp, TDOUBLE, "CAL_DCYC", &dz, "Cal duty cycle", st);
    fits_write_key(fp, TDOUBLE, "CAL_PHS", &dz, "Cal phase (wrt start time)", st);
    fits_write_key(fp, TINT, "STT_IMJD", (void *)&h->stt_imjd, "Start MJD (UTC days) (J - long)",
                   st);
    fits_write_key(fp, TINT, "STT_SMJD", (void *)&h->stt_smjd, "[s] Start time (sec past UTC 00h)",
                   st);
    fits_write_key_dbl(fp, "STT_OFFS", h->stt_offs, -17, "[s] Start time offset", st);
    fits_write_key_fixdbl(fp, "STT_LST", f->stt_lst, 6, "[s] Start LST", st);
}

static void write_subint_keys(fitsfile *fp, const psrfits *f, int *st)
{
    const psrfits_hdr *h = &f->h;
    int zero = 0, one = 1;
    double dz = 0.0;
    fits_write_key_str(fp, "INT_TYPE", "TIME", "Time axis (TIME, BINPHSPERI, BINLNGASC, etc)", st);
    fits_write_key_str(fp, "INT_UNIT", "SEC", "Unit of time axis (SEC, PHS (0-1), DEG)", st);
    fits_write_key_str(fp, "SCALE", "FluxDen", "Intensity units (FluxDen/RefFlux/Jansky)", st);
    fits_write_key_str(fp, "POL_TYPE", "AA+BB", "Polarisation identifier (e.g., AABBCRCI, AA+BB)",
                       st);
    fits_write_key(fp, TINT, "NPOL", (void *)&h->npol, "Nr of polarisations", st);
    fits_write_key_dbl(fp, "TBIN", h->tbin, -17, "[s] Time per bin or sample", st);
    fits_write_key(fp, TINT, "NBIN", &one, "Nr of bins (PSR/CAL mode; else 1)", st);
    fits_write_key(fp, TINT, "NBIN_PRD", &zero, "Nr of bins/pulse period (for gated data)", st);
    fits_write_key(fp, TDOUBLE, "PHS_OFFS", &dz, "Phase offset of bin 0 for gated data", st);
    fits_write_key(fp, TINT, "NBITS", (void *)&h->nbits, "Nr of bits/datum (SEARCH mode data)", st);
    fits_write_key(fp, TDOUBLE, "ZERO_OFF", &dz, "Zero offset for SEARCH-mode data", st);
    fits_write_key(fp, TINT, "SIGNINT", &zero, "1 for signed ints in SEARCH-mode data, else 0", st);
    fits_write_key(fp, TINT, "NSUBOFFS", &zero, "Subint offset (Contiguous SEARCH-mode files)", st);
    fits_write_key(fp, TINT, "NCHAN", (void *)&h->nchan, "Number of channels/sub-bands in file",
                   st);
    fits_write_key_dbl(fp, "CHAN_BW", h->chan_bw, -17, "[MHz] Channel/sub-band width", st);
    fits_write_key(fp, TDOUBLE, "DM", &dz, "[cm-3 pc] DM for post-detection dedisperion", st);
    fits_write_key(fp, TDOUBLE, "RM", &dz, "[rad m-2] RM for post-detection deFaraday", st);
    fits_write_key(fp, TINT, "NCHNOFFS", &zero, "Channel/sub-band offset for split files", st);
    fits_write_key(fp, TINT, "NSBLK", (void *)&h->nsblk, "Samples/row (SEARCH mode, else 1)", st);
    long long nstot = 0;
    fits_write_key(fp, TLONGLONG, "NSTOT", &nstot, "Total number of samples (SEARCH mode)", st);
}

int psrfits_create(psrfits **out, const char *path, const psrfits_hdr *hin, char *err)
{
    *out = NULL;
    psrfits_hdr h = *hin;
    fill_defaults(&h);
    if (h.nchan <= 0 || h.nsblk <= 0 || !(h.tbin > 0)) {
        set_err(err, "%s: invalid header: nchan=%d nsblk=%d tbin=%g (all must be > 0)", path,
                h.nchan, h.nsblk, h.tbin);
        return -1;
    }
    if (h.nbits != 8 || h.npol != 1) {
        set_err(err, "%s: only 8-bit, one-polarisation data is supported (nbits=%d npol=%d)", path,
                h.nbits, h.npol);
        return -1;
    }
    psrfits *f = calloc(1, sizeof *f);
    if (!f) {
        set_err(err, "%s: out of memory", path);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->h = h;
    f->h.nrows = 0;
    f->writing = 1;
    f->is_mwa = strcasecmp(h.telescope, "MWA") == 0;
    f->stt_lst = f->is_mwa ? lst_seconds(mjd_of(&h, 0), MWA_LON_DEG) : 0.0;

    int st = 0;
    unlink(path); /* "replacing"; create_diskfile refuses an existing file */
    fits_create_diskfile(&f->fp, path, &st);
    if (st) {
        fits_fail(err, path, "cannot create", st);
        free(f);
        return -1;
    }
    fits_create_img(f->fp, BYTE_IMG, 0, NULL, &st);
    write_primary_keys(f->fp, f, &st);

    char *ttype[C_NCOLS], *tform[C_NCOLS], *tunit[C_NCOLS];
    char forms[C_NCOLS][32];
    for (int i = 0; i < C_NCOLS; i++) {
        ttype[i] = (char *)col_names[i];
        tunit[i] = (char *)col_units[i];
        const char *t = i <= C_GLAT_SUB ? "1D" : "1E";
        snprintf(forms[i], sizeof forms[i], "%s", t);
        tform[i] = forms[i];
    }
    snprintf(forms[C_DAT_FREQ], 32, "%dE", h.nchan); /* E as in HDRVER 3.4 (and MWA files) */
    snprintf(forms[C_DAT_WTS], 32, "%dE", h.nchan);
    snprintf(forms[C_DAT_OFFS], 32, "%dE", h.nchan * h.npol);
    snprintf(forms[C_DAT_SCL], 32, "%dE", h.nchan * h.npol);
    snprintf(forms[C_DATA], 32, "%lldB", (long long)h.nsblk * h.nchan * h.npol * h.nbits / 8);
    fits_create_tbl(f->fp, BINARY_TBL, 0, C_NCOLS, ttype, tform, tunit, "SUBINT", &st);
    long naxes[3] = {h.nchan, h.npol, h.nsblk};
    fits_write_tdim(f->fp, C_DATA + 1, 3, naxes, &st);
    write_subint_keys(f->fp, f, &st);
    for (int i = 0; i < C_NCOLS; i++)
        f->col[i] = i + 1;
    f->rowmeta_len = 7 * 8 + 5 * 4 + 4 * 4 * (size_t)h.nchan;
    f->rowmeta = malloc(f->rowmeta_len);
    if (!f->rowmeta && !st) st = MEMORY_ALLOCATION;
    if (st) {
        fits_fail(err, path, "cannot write the PSRFITS headers", st);
        int st2 = 0;
        fits_close_file(f->fp, &st2);
        unlink(path);
        free(f->rowmeta);
        free(f);
        return -1;
    }
    *out = f;
    return 0;
}

int psrfits_write_row(psrfits *f, const double *freq, const float *wts, const float *offs,
                      const float *scl, const uint8_t *data, double offs_sub, char *err)
{
    if (!f->writing) {
        set_err(err, "%s: not open for writing", f->path);
        return -1;
    }
    const psrfits_hdr *h = &f->h;
    fitsfile *fp = f->fp;
    long long row = f->nrows + 1;
    int st = 0;
    double tsub = h->nsblk * h->tbin;
    double lst = 0, l, b;
    float tel_az = 0, tel_zen = 0, par_ang = 0, fd_ang = 0, pos_ang;
    j2000_to_galactic(h->ra_deg, h->dec_deg, &l, &b);
    if (f->is_mwa) {
        lst = fmod(f->stt_lst + offs_sub * 1.00273790935, 86400.0);
        double ha = (lst / 240.0 - h->ra_deg) * DEG2RAD;
        double dec = h->dec_deg * DEG2RAD, lat = MWA_LAT_DEG * DEG2RAD;
        double salt = sin(dec) * sin(lat) + cos(dec) * cos(lat) * cos(ha);
        double az = atan2(-cos(dec) * sin(ha), sin(dec) * cos(lat) - cos(dec) * sin(lat) * cos(ha));
        if (az < 0) az += 2 * M_PI;
        tel_az = (float)(az * RAD2DEG);
        tel_zen = (float)(90.0 - asin(fmax(-1.0, fmin(1.0, salt))) * RAD2DEG);
        par_ang = (float)(atan2(sin(ha), tan(lat) * cos(dec) - sin(dec) * cos(ha)) * RAD2DEG);
    }
    pos_ang = fd_ang + par_ang;
    long long n = h->nchan;
    fits_write_col(fp, TDOUBLE, f->col[C_TSUBINT], row, 1, 1, &tsub, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_OFFS_SUB], row, 1, 1, &offs_sub, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_LST_SUB], row, 1, 1, &lst, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_RA_SUB], row, 1, 1, (void *)&h->ra_deg, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_DEC_SUB], row, 1, 1, (void *)&h->dec_deg, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_GLON_SUB], row, 1, 1, &l, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_GLAT_SUB], row, 1, 1, &b, &st);
    fits_write_col(fp, TFLOAT, f->col[C_FD_ANG], row, 1, 1, &fd_ang, &st);
    fits_write_col(fp, TFLOAT, f->col[C_POS_ANG], row, 1, 1, &pos_ang, &st);
    fits_write_col(fp, TFLOAT, f->col[C_PAR_ANG], row, 1, 1, &par_ang, &st);
    fits_write_col(fp, TFLOAT, f->col[C_TEL_AZ], row, 1, 1, &tel_az, &st);
    fits_write_col(fp, TFLOAT, f->col[C_TEL_ZEN], row, 1, 1, &tel_zen, &st);
    fits_write_col(fp, TDOUBLE, f->col[C_DAT_FREQ], row, 1, n, (void *)freq, &st);
    fits_write_col(fp, TFLOAT, f->col[C_DAT_WTS], row, 1, n, (void *)wts, &st);
    fits_write_col(fp, TFLOAT, f->col[C_DAT_OFFS], row, 1, n * h->npol, (void *)offs, &st);
    fits_write_col(fp, TFLOAT, f->col[C_DAT_SCL], row, 1, n * h->npol, (void *)scl, &st);
    fits_write_col(fp, TBYTE, f->col[C_DATA], row, 1, (long long)h->nsblk * n * h->npol,
                   (void *)data, &st);
    if (st) return fits_fail(err, f->path, "cannot write a SUBINT row", st);
    /* The row as it sits on disk, for DATASUM. */
    uint8_t *q = f->rowmeta;
    q = put_be64(q, tsub);
    q = put_be64(q, offs_sub);
    q = put_be64(q, lst);
    q = put_be64(q, h->ra_deg);
    q = put_be64(q, h->dec_deg);
    q = put_be64(q, l);
    q = put_be64(q, b);
    q = put_be32(q, fd_ang);
    q = put_be32(q, pos_ang);
    q = put_be32(q, par_ang);
    q = put_be32(q, tel_az);
    q = put_be32(q, tel_zen);
    for (long long c = 0; c < n; c++)
        q = put_be32(q, (float)freq[c]);
    for (long long c = 0; c < n; c++)
        q = put_be32(q, wts[c]);
    for (long long c = 0; c < n; c++)
        q = put_be32(q, offs[c]);
    for (long long c = 0; c < n; c++)
        q = put_be32(q, scl[c]);
    size_t ndata = (size_t)h->nsblk * n * h->npol;
    uint64_t row0 = (uint64_t)f->nrows * (f->rowmeta_len + ndata);
    f->datasum = csum_add(f->datasum, f->rowmeta, f->rowmeta_len, row0);
    f->datasum = csum_add(f->datasum, data, ndata, row0 + f->rowmeta_len);
    f->nrows++;
    f->h.nrows = f->nrows;
    return 0;
}

/* Keys the writer owns (from psrfits_hdr or the file structure): never copied. */
static int key_is_managed(const char *name, int primary)
{
    static const char *common[] = {"SIMPLE",  "BITPIX",   "EXTEND", "END",    "CHECKSUM",
                                   "DATASUM", "XTENSION", "PCOUNT", "GCOUNT", "TFIELDS",
                                   "EXTNAME", "COMMENT",  NULL};
    static const char *prim[] = {
        "DATE",     "HDRVER",   "FITSTYPE", "OBS_MODE", "OBSFREQ",  "OBSBW",    "OBSNCHAN",
        "SRC_NAME", "RA",       "DEC",      "TELESCOP", "BACKEND",  "PROJID",   "OBSERVER",
        "STT_IMJD", "STT_SMJD", "STT_OFFS", "STT_LST",  "DATE-OBS", "STT_CRD1", "STT_CRD2",
        "STP_CRD1", "STP_CRD2", "SCANLEN",  "ANT_X",    "ANT_Y",    "ANT_Z",    NULL};
    static const char *sub[] = {"NBITS", "NCHAN",    "NPOL",     "NSBLK",    "TBIN",     "CHAN_BW",
                                "NSTOT", "ZERO_OFF", "NSUBOFFS", "NCHNOFFS", "POL_TYPE", NULL};
    static const char *prefixes[] = {"NAXIS", "TTYPE", "TFORM", "TUNIT", "TDIM",  "TNULL", "TSCAL",
                                     "TZERO", "TDISP", "TDMIN", "TDMAX", "TLMIN", "TLMAX", NULL};
    if (!name[0]) return 1;
    for (int i = 0; common[i]; i++)
        if (!strcmp(name, common[i])) return 1;
    for (int i = 0; prefixes[i]; i++)
        if (!strncmp(name, prefixes[i], strlen(prefixes[i]))) return 1;
    const char **list = primary ? prim : sub;
    for (int i = 0; list[i]; i++)
        if (!strcmp(name, list[i])) return 1;
    return 0;
}

static int copy_hdu_keys(fitsfile *dst, fitsfile *src, int primary, int *st)
{
    int nkeys = 0;
    fits_get_hdrspace(src, &nkeys, NULL, st);
    for (int k = 1; k <= nkeys && !*st; k++) {
        char card[FLEN_CARD], name[FLEN_KEYWORD];
        int len = 0;
        fits_read_record(src, k, card, st);
        fits_get_keyname(card, name, &len, st);
        if (*st) break;
        if (key_is_managed(name, primary)) continue;
        if (!strcmp(name, "HISTORY"))
            fits_write_record(dst, card, st);
        else
            fits_update_card(dst, name, card, st);
    }
    return *st;
}

int psrfits_copy_keys(psrfits *dst, psrfits *src, char *err)
{
    if (!dst->writing || dst->nrows != 0) {
        set_err(err, "%s: keywords can only be copied before the first row", dst->path);
        return -1;
    }
    int st = 0;
    fits_movabs_hdu(src->fp, 1, NULL, &st);
    fits_movabs_hdu(dst->fp, 1, NULL, &st);
    copy_hdu_keys(dst->fp, src->fp, 1, &st);
    fits_movnam_hdu(src->fp, BINARY_TBL, "SUBINT", 0, &st);
    fits_movnam_hdu(dst->fp, BINARY_TBL, "SUBINT", 0, &st);
    copy_hdu_keys(dst->fp, src->fp, 0, &st);
    if (st) return fits_fail(err, dst->path, "cannot copy header keywords", st);
    return 0;
}

int psrfits_add_history(psrfits *f, const char *text, char *err)
{
    int st = 0;
    fits_movabs_hdu(f->fp, 1, NULL, &st);
    fits_write_history(f->fp, text, &st);
    fits_movnam_hdu(f->fp, BINARY_TBL, "SUBINT", 0, &st);
    if (st) return fits_fail(err, f->path, "cannot write HISTORY", st);
    return 0;
}

/* ---- reader ---- */

static void read_str(fitsfile *fp, const char *key, char *dst, size_t n, const char *def)
{
    char v[FLEN_VALUE] = "";
    int st = 0;
    fits_read_key(fp, TSTRING, key, v, NULL, &st);
    if (st) {
        fits_clear_errmsg();
        snprintf(dst, n, "%s", def);
    } else {
        snprintf(dst, n, "%s", v);
    }
}

static int read_num(fitsfile *fp, int type, const char *key, void *v, int required,
                    const char *path, char *err)
{
    /* parsed here, not by cfitsio: see fits_check.h */
    long long ll = 0;
    double d = 0;
    int st = type == TDOUBLE ? fits_key_double(fp, key, &d) : fits_key_llong(fp, key, &ll);
    if (!st && type == TINT && (ll < INT_MIN || ll > INT_MAX)) st = NUM_OVERFLOW;
    if (!st) {
        if (type == TDOUBLE)
            *(double *)v = d;
        else if (type == TINT)
            *(int *)v = (int)ll;
        else
            *(long long *)v = ll;
    }
    if (st && required) {
        fits_clear_errmsg();
        set_err(err, "%s: not a usable PSRFITS file: keyword %s missing or unreadable", path, key);
        return -1;
    }
    if (st) fits_clear_errmsg();
    return 0;
}

int psrfits_open(psrfits **out, const char *path, psrfits_hdr *h, char *err)
{
    *out = NULL;
    psrfits *f = calloc(1, sizeof *f);
    if (!f) {
        set_err(err, "%s: out of memory", path);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    /* FITS files are whole 2880-byte blocks; anything else was cut short. */
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size % 2880 != 0) {
        set_err(err,
                "%s: truncated or not a FITS file (%lld bytes is not a whole number of 2880-byte "
                "FITS blocks); re-create or re-copy it",
                path, (long long)sb.st_size);
        free(f);
        return -1;
    }
    if (fits_header_check(path, err, PSRFITS_ERR_LEN)) {
        free(f);
        return -1;
    }
    int st = 0;
    fits_open_diskfile(&f->fp, path, READONLY, &st);
    if (st) {
        fits_fail(err, path, "cannot open as FITS", st);
        free(f);
        return -1;
    }
    psrfits_hdr *H = &f->h;
    char v[FLEN_VALUE];
    read_str(f->fp, "FITSTYPE", v, sizeof v, "");
    if (strcmp(v, "PSRFITS") != 0) {
        set_err(err, "%s: not a PSRFITS file (FITSTYPE is '%s')", path, v);
        goto fail;
    }
    read_str(f->fp, "OBS_MODE", v, sizeof v, "");
    if (strcmp(v, "SEARCH") != 0) {
        set_err(err, "%s: not a search-mode PSRFITS file (OBS_MODE is '%s')", path, v);
        goto fail;
    }
    read_str(f->fp, "SRC_NAME", H->src_name, sizeof H->src_name, "");
    read_str(f->fp, "RA", H->ra_str, sizeof H->ra_str, "");
    read_str(f->fp, "DEC", H->dec_str, sizeof H->dec_str, "");
    read_str(f->fp, "TELESCOP", H->telescope, sizeof H->telescope, "");
    read_str(f->fp, "BACKEND", H->backend, sizeof H->backend, "");
    read_str(f->fp, "PROJID", H->project, sizeof H->project, "");
    read_str(f->fp, "OBSERVER", H->observer, sizeof H->observer, "");
    if (read_num(f->fp, TINT, "STT_IMJD", &H->stt_imjd, 1, path, err) ||
        read_num(f->fp, TINT, "STT_SMJD", &H->stt_smjd, 1, path, err) ||
        read_num(f->fp, TDOUBLE, "STT_OFFS", &H->stt_offs, 0, path, err) ||
        read_num(f->fp, TDOUBLE, "OBSFREQ", &H->obsfreq, 1, path, err) ||
        read_num(f->fp, TDOUBLE, "OBSBW", &H->obsbw, 1, path, err) ||
        read_num(f->fp, TINT, "OBSNCHAN", &H->obsnchan, 0, path, err))
        goto fail;
    f->is_mwa = strcasecmp(H->telescope, "MWA") == 0;
    double x;
    if (sexagesimal_parse(H->ra_str, &x) == 0) H->ra_deg = x * 15.0;
    if (sexagesimal_parse(H->dec_str, &x) == 0) H->dec_deg = x;

    fits_movnam_hdu(f->fp, BINARY_TBL, "SUBINT", 0, &st);
    if (st) {
        fits_fail(err, path, "no SUBINT table (truncated file?)", st);
        goto fail;
    }
    if (read_num(f->fp, TINT, "NBITS", &H->nbits, 1, path, err) ||
        read_num(f->fp, TINT, "NCHAN", &H->nchan, 1, path, err) ||
        read_num(f->fp, TINT, "NPOL", &H->npol, 1, path, err) ||
        read_num(f->fp, TINT, "NSBLK", &H->nsblk, 1, path, err) ||
        read_num(f->fp, TDOUBLE, "TBIN", &H->tbin, 1, path, err) ||
        read_num(f->fp, TDOUBLE, "CHAN_BW", &H->chan_bw, 1, path, err))
        goto fail;
    double zoff = 0;
    read_num(f->fp, TDOUBLE, "ZERO_OFF", &zoff, 0, path, err);
    f->zero_off = (float)zoff;
    if (H->obsnchan == 0) H->obsnchan = H->nchan;
    if (H->nbits != 8 || H->npol != 1 || H->nchan <= 0 || H->nsblk <= 0) {
        set_err(err,
                "%s: unsupported SUBINT layout (NBITS=%d NPOL=%d NCHAN=%d NSBLK=%d; need 8-bit, "
                "one polarisation)",
                path, H->nbits, H->npol, H->nchan, H->nsblk);
        goto fail;
    }
    /* Readers size row buffers from these: a header cannot ask for more. */
    if ((long long)H->nsblk * H->nchan > PSRFITS_MAX_ROW_BYTES) {
        set_err(err,
                "%s: NSBLK=%d x NCHAN=%d is %lld bytes a row, more than %lld (corrupt header?)",
                path, H->nsblk, H->nchan, (long long)H->nsblk * H->nchan,
                (long long)PSRFITS_MAX_ROW_BYTES);
        goto fail;
    }
    long long nrows = 0;
    fits_get_num_rowsll(f->fp, &nrows, &st);
    for (int i = 0; i < C_NCOLS && !st; i++) {
        fits_get_colnum(f->fp, CASEINSEN, (char *)col_names[i], &f->col[i], &st);
        if (st) {
            fits_clear_errmsg();
            if (i > C_DEC_SUB && i < C_DAT_FREQ) { /* informative columns may be absent */
                st = 0;
                f->col[i] = 0;
                continue;
            }
            set_err(err, "%s: SUBINT table has no %s column", path, col_names[i]);
            goto fail;
        }
    }
    if (st) {
        fits_fail(err, path, "cannot read the SUBINT table", st);
        goto fail;
    }
    long long want[C_NCOLS] = {0};
    want[C_DAT_FREQ] = want[C_DAT_WTS] = want[C_DAT_OFFS] = want[C_DAT_SCL] = H->nchan;
    want[C_DATA] = (long long)H->nsblk * H->nchan;
    for (int i = C_DAT_FREQ; i <= C_DATA; i++) {
        int typecode;
        long long repeat, width;
        fits_get_eqcoltypell(f->fp, f->col[i], &typecode, &repeat, &width, &st);
        if (!st && repeat != want[i]) {
            set_err(err, "%s: column %s has %lld elements per row, expected %lld", path,
                    col_names[i], repeat, want[i]);
            goto fail;
        }
    }
    /* A truncated file still opens (cfitsio reads headers only): compare the
     * size the headers promise with the size on disk. */
    long long hstart, dstart, dend;
    fits_get_hduaddrll(f->fp, &hstart, &dstart, &dend, &st);
    if (st) {
        fits_fail(err, path, "cannot read the SUBINT table", st);
        goto fail;
    }
    long long naxis1 = 0;
    st = fits_key_llong(f->fp, "NAXIS1", &naxis1);
    /* NAXIS1 x NAXIS2 can be any pair of header values: no overflow */
    long long need =
        naxis1 > 0 && nrows > (LLONG_MAX - dstart) / naxis1 ? LLONG_MAX : dstart + naxis1 * nrows;
    if (stat(path, &sb) == 0 && (long long)sb.st_size < need) {
        set_err(err,
                "%s: truncated: the SUBINT table needs %lld bytes (%lld rows) but the file has "
                "%lld; re-create or re-copy it",
                path, need, nrows, (long long)sb.st_size);
        goto fail;
    }
    /* Bytes beyond the table's padding must be another HDU: otherwise they
     * are rows NAXIS2 does not count (a writer that died before updating it)
     * or garbage, and reading only NAXIS2 rows would silently drop data. */
    if (stat(path, &sb) == 0 && (long long)sb.st_size > dend) {
        int here = 0, st2 = 0;
        fits_get_hdu_num(f->fp, &here);
        fits_movrel_hdu(f->fp, 1, NULL, &st2);
        if (st2) {
            fits_clear_errmsg();
            set_err(err,
                    "%s: %lld bytes follow the SUBINT table's %lld rows and are not a FITS HDU "
                    "(NAXIS2 smaller than the rows written? an unfinished file?)",
                    path, (long long)sb.st_size - dend, nrows);
            goto fail;
        }
        fits_movabs_hdu(f->fp, here, NULL, &st);
    }
    H->nrows = nrows;
    f->nrows = nrows;
    if (nrows > 0 && f->col[C_RA_SUB] && f->col[C_DEC_SUB]) {
        /* RA_SUB/DEC_SUB carry full precision; the strings are rounded. */
        double ra = 0, dec = 0;
        int anynul;
        fits_read_col(f->fp, TDOUBLE, f->col[C_RA_SUB], 1, 1, 1, NULL, &ra, &anynul, &st);
        fits_read_col(f->fp, TDOUBLE, f->col[C_DEC_SUB], 1, 1, 1, NULL, &dec, &anynul, &st);
        if (st) {
            fits_fail(err, path, "cannot read row 1", st);
            goto fail;
        }
        H->ra_deg = ra;
        H->dec_deg = dec;
    }
    if (f->zero_off != 0) {
        f->tmp = malloc(sizeof(float) * H->nchan);
        if (!f->tmp) {
            set_err(err, "%s: out of memory", path);
            goto fail;
        }
    }
    if (h) *h = *H;
    *out = f;
    return 0;
fail:
    st = 0;
    fits_close_file(f->fp, &st);
    free(f);
    return -1;
}

int psrfits_read_row(psrfits *f, int64_t row, double *freq, float *wts, float *offs, float *scl,
                     uint8_t *data, double *offs_sub, char *err)
{
    if (row < 0 || row >= f->nrows) {
        set_err(err, "%s: row %lld out of range (file has %lld rows)", f->path, (long long)row,
                (long long)f->nrows);
        return -1;
    }
    const psrfits_hdr *h = &f->h;
    fitsfile *fp = f->fp;
    long long r = row + 1, n = h->nchan;
    int st = 0, anynul = 0;
    if (offs_sub)
        fits_read_col(fp, TDOUBLE, f->col[C_OFFS_SUB], r, 1, 1, NULL, offs_sub, &anynul, &st);
    if (freq) fits_read_col(fp, TDOUBLE, f->col[C_DAT_FREQ], r, 1, n, NULL, freq, &anynul, &st);
    if (wts) fits_read_col(fp, TFLOAT, f->col[C_DAT_WTS], r, 1, n, NULL, wts, &anynul, &st);
    if (offs) fits_read_col(fp, TFLOAT, f->col[C_DAT_OFFS], r, 1, n, NULL, offs, &anynul, &st);
    if (f->zero_off != 0 && (offs || scl)) {
        float *s = scl ? scl : f->tmp;
        fits_read_col(fp, TFLOAT, f->col[C_DAT_SCL], r, 1, n, NULL, s, &anynul, &st);
        if (offs && !st)
            for (long long c = 0; c < n; c++)
                offs[c] -= f->zero_off * s[c];
    } else if (scl) {
        fits_read_col(fp, TFLOAT, f->col[C_DAT_SCL], r, 1, n, NULL, scl, &anynul, &st);
    }
    if (data)
        fits_read_col(fp, TBYTE, f->col[C_DATA], r, 1, (long long)h->nsblk * n, NULL, data, &anynul,
                      &st);
    if (st) {
        char what[64];
        snprintf(what, sizeof what, "cannot read SUBINT row %lld", (long long)row);
        return fits_fail(err, f->path, what, st);
    }
    return 0;
}

int psrfits_close(psrfits *f, char *err)
{
    if (!f) return 0;
    int st = 0, rc = 0;
    if (f->writing) {
        long long nstot = f->nrows * (long long)f->h.nsblk;
        double scanlen = f->nrows * f->h.nsblk * f->h.tbin;
        char dsum[32];
        snprintf(dsum, sizeof dsum, "%llu", (unsigned long long)f->datasum);
        fits_update_key(f->fp, TLONGLONG, "NSTOT", &nstot, NULL, &st);
        /* CHECKSUM must exist before the END card is rewritten, or
         * fits_update_chksum sums a stale header. */
        fits_update_key_str(f->fp, "CHECKSUM", "0000000000000000", "HDU checksum", &st);
        fits_update_key_str(f->fp, "DATASUM", dsum, "data unit checksum", &st);
        fits_set_hdustruc(f->fp, &st);
        fits_update_chksum(f->fp, &st); /* header sum only; trusts DATASUM */
        fits_movabs_hdu(f->fp, 1, NULL, &st);
        fits_update_key_fixdbl(f->fp, "SCANLEN", scanlen, 6, NULL, &st);
        fits_write_chksum(f->fp, &st);
        if (st) rc = fits_fail(err, f->path, "cannot finish the file", st);
    }
    int st2 = 0;
    fits_close_file(f->fp, &st2);
    if (st2 && !rc) rc = fits_fail(err, f->path, "cannot close", st2);
    free(f->tmp);
    free(f->rowmeta);
    free(f);
    return rc;
}

/* ---- quantisation ---- */

static void quantise_channel_params(double mean, double var, float *offs, float *scl)
{
    double sd = var > 0 ? sqrt(var) : 0;
    double s = sd > 0 ? 6.0 * sd / 127.0 : 1.0;
    if (!(s > 0) || !isfinite(s)) s = 1.0;
    *scl = (float)s;
    *offs = (float)(mean - 128.0 * (double)*scl);
}

void psrfits_quantise(const float *in, int nsamp, int nchan, uint8_t *out, float *offs, float *scl)
{
    double *acc = malloc(sizeof(double) * 2 * (size_t)nchan);
    if (acc) {
        /* Row-order passes keep the access sequential for any nchan. */
        double *sum = acc, *ss = acc + nchan;
        for (int c = 0; c < nchan; c++)
            sum[c] = ss[c] = 0;
        for (int s = 0; s < nsamp; s++) {
            const float *p = in + (size_t)s * nchan;
            for (int c = 0; c < nchan; c++)
                sum[c] += p[c];
        }
        for (int c = 0; c < nchan; c++)
            sum[c] /= nsamp > 0 ? nsamp : 1;
        for (int s = 0; s < nsamp; s++) {
            const float *p = in + (size_t)s * nchan;
            for (int c = 0; c < nchan; c++) {
                double d = p[c] - sum[c];
                ss[c] += d * d;
            }
        }
        for (int c = 0; c < nchan; c++)
            quantise_channel_params(sum[c], nsamp > 0 ? ss[c] / nsamp : 0, &offs[c], &scl[c]);
        free(acc);
    } else {
        for (int c = 0; c < nchan; c++) {
            double sum = 0, ss = 0;
            for (int s = 0; s < nsamp; s++)
                sum += in[(size_t)s * nchan + c];
            double mean = nsamp > 0 ? sum / nsamp : 0;
            for (int s = 0; s < nsamp; s++) {
                double d = in[(size_t)s * nchan + c] - mean;
                ss += d * d;
            }
            quantise_channel_params(mean, nsamp > 0 ? ss / nsamp : 0, &offs[c], &scl[c]);
        }
    }
    for (int s = 0; s < nsamp; s++) {
        const float *p = in + (size_t)s * nchan;
        uint8_t *q = out + (size_t)s * nchan;
        for (int c = 0; c < nchan; c++) {
            float v = (p[c] - offs[c]) / scl[c];
            v = v > 0.0f ? (v < 255.0f ? v : 255.0f) : 0.0f; /* NaN -> 0 */
            q[c] = (uint8_t)lrintf(v);
        }
    }
}
