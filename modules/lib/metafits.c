/* metafits.c - metafits read/write on cfitsio.
 *
 * Columns are found by name, not position, so real MWA metafits (which carry
 * many more columns) read the same way as the simulator's. Rows must come in
 * X/Y pairs per tile: the VCS byte order indexes tiles as TILEDATA row / 2. */
#include "metafits.h"

#include "fits_check.h"

#include <fitsio.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Widest TILEDATA string column read (Pol, TileName, Length). */
#define METAFITS_MAX_STRCOL 31

static int fits_fail(char *err, const char *path, const char *what, int status)
{
    char txt[FLEN_STATUS];
    fits_get_errstatus(status, txt);
    snprintf(err, METAFITS_ERR_LEN, "metafits %.200s: %.200s: %.200s", path, what, txt);
    return -1;
}

static int parse_channels(const char *s, metafits *m)
{
    m->ncoarse = 0;
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s) return -1;
        if (m->ncoarse >= METAFITS_MAX_COARSE) return -1;
        m->coarse[m->ncoarse++] = (int)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return m->ncoarse > 0 ? 0 : -1;
}

int metafits_read(const char *path, metafits *m, char *err)
{
    memset(m, 0, sizeof(*m));
    fitsfile *f = NULL;
    int status = 0;
    char cerr[METAFITS_ERR_LEN - 32];
    if (fits_header_check(path, cerr, sizeof cerr)) {
        snprintf(err, METAFITS_ERR_LEN, "metafits %s", cerr);
        return -1;
    }
    if (fits_open_file(&f, path, READONLY, &status))
        return fits_fail(err, path, "cannot open", status);
    double gps = 0;
    if ((status = fits_key_double(f, "GPSTIME", &gps))) {
        fits_close_file(f, &(int){0});
        return fits_fail(err, path, "no GPSTIME keyword", status);
    }
    m->obsid = (long)gps;
    const char *dkeys[] = {"RA", "DEC", "AZIMUTH", "ALTITUDE"};
    double *dvals[] = {&m->ra_deg, &m->dec_deg, &m->az_deg, &m->alt_deg};
    for (int i = 0; i < 4; i++) {
        if ((status = fits_key_double(f, dkeys[i], dvals[i]))) {
            char what[64];
            snprintf(what, sizeof(what), "no %s keyword", dkeys[i]);
            fits_close_file(f, &(int){0});
            return fits_fail(err, path, what, status);
        }
    }
    char sval[FLEN_VALUE] = "";
    int st = 0;
    if (fits_read_key(f, TSTRING, "PROJECT", sval, NULL, &st) == 0)
        snprintf(m->project, sizeof(m->project), "%.31s", sval);
    char *longstr = NULL;
    st = 0;
    if (fits_read_key_longstr(f, "CHANNELS", &longstr, NULL, &st) || parse_channels(longstr, m)) {
        if (longstr) fits_free_memory(longstr, &st);
        fits_close_file(f, &(int){0});
        snprintf(err, METAFITS_ERR_LEN, "metafits %.200s: missing or bad CHANNELS keyword", path);
        return -1;
    }
    fits_free_memory(longstr, &st);
    st = 0;
    m->fine_khz = 10.0;
    fits_key_double(f, "FINECHAN", &m->fine_khz);
    long long nfine = VCS_FULL_NFINE, nsamp = VCS_FULL_NSAMP;
    fits_key_llong(f, "VCSNFINE", &nfine);
    fits_key_llong(f, "VCSNSAMP", &nsamp);
    /* out of int range: 0 makes vcs_shape_check refuse the shape */
    if (nfine < 0 || nfine > INT_MAX) nfine = 0;
    if (nsamp < 0 || nsamp > INT_MAX) nsamp = 0;
    st = 0;
    sval[0] = 0;
    vcs_layout layout = VCS_LAYOUT_FULL;
    if (fits_read_key(f, TSTRING, "VCSORDER", sval, NULL, &st) == 0) {
        if (strcmp(sval, "REDUCED") == 0)
            layout = VCS_LAYOUT_REDUCED;
        else if (strcmp(sval, "FULL") != 0) {
            fits_close_file(f, &(int){0});
            snprintf(err, METAFITS_ERR_LEN,
                     "metafits %.200s: VCSORDER is '%.200s', expected 'FULL' or 'REDUCED'", path,
                     sval);
            return -1;
        }
    }

    if (fits_movnam_hdu(f, BINARY_TBL, "TILEDATA", 0, &status)) {
        fits_close_file(f, &(int){0});
        return fits_fail(err, path, "no TILEDATA table", status);
    }
    long nrows = 0;
    fits_get_num_rows(f, &nrows, &status);
    if (status || nrows <= 0 || nrows % 2) {
        fits_close_file(f, &(int){0});
        snprintf(err, METAFITS_ERR_LEN,
                 "metafits %.200s: TILEDATA has %ld rows, need an even number", path, nrows);
        return -1;
    }
    const char *cols[] = {"Antenna", "Pol",    "TileName", "North", "East",
                          "Height",  "Length", "Flag",     "Tile"};
    int ci[9];
    for (int i = 0; i < 9; i++) {
        if (fits_get_colnum(f, CASEINSEN, (char *)cols[i], &ci[i], &status)) {
            if (i == 8) { /* Tile is optional */
                status = 0;
                ci[i] = 0;
                continue;
            }
            char what[64];
            snprintf(what, sizeof(what), "TILEDATA has no column %s", cols[i]);
            fits_close_file(f, &(int){0});
            return fits_fail(err, path, what, status);
        }
    }
    /* fits_read_col(TSTRING) copies the whole field: the string columns
     * must fit the buffers below (real metafits: Pol 1A, TileName 8A,
     * Length 14A). */
    static const int strcols[] = {1, 2, 6}; /* Pol, TileName, Length */
    for (int k = 0; k < 3; k++) {
        int i = strcols[k], type = 0;
        long repeat = 0, width = 0;
        if (fits_get_coltype(f, ci[i], &type, &repeat, &width, &status) || type != TSTRING ||
            repeat < 1 || repeat > METAFITS_MAX_STRCOL) {
            fits_close_file(f, &(int){0});
            snprintf(err, METAFITS_ERR_LEN,
                     "metafits %.200s: TILEDATA column %s is %ld characters wide; need a string "
                     "column of 1..%d characters",
                     path, cols[i], status ? 0 : repeat, METAFITS_MAX_STRCOL);
            return -1;
        }
    }
    int ntile = (int)(nrows / 2);
    m->tiles = calloc((size_t)ntile, sizeof(*m->tiles));
    for (long r = 0; r < nrows && !status; r++) {
        int ant = 0, flag = 0, tid = 0;
        double north = 0, east = 0, height = 0;
        char pol[METAFITS_MAX_STRCOL + 1] = "", name[METAFITS_MAX_STRCOL + 1] = "",
                                       len[METAFITS_MAX_STRCOL + 1] = "";
        char *pp = pol, *np = name, *lp = len;
        fits_read_col(f, TINT, ci[0], r + 1, 1, 1, NULL, &ant, NULL, &status);
        fits_read_col(f, TSTRING, ci[1], r + 1, 1, 1, NULL, &pp, NULL, &status);
        fits_read_col(f, TSTRING, ci[2], r + 1, 1, 1, NULL, &np, NULL, &status);
        fits_read_col(f, TDOUBLE, ci[3], r + 1, 1, 1, NULL, &north, NULL, &status);
        fits_read_col(f, TDOUBLE, ci[4], r + 1, 1, 1, NULL, &east, NULL, &status);
        fits_read_col(f, TDOUBLE, ci[5], r + 1, 1, 1, NULL, &height, NULL, &status);
        fits_read_col(f, TSTRING, ci[6], r + 1, 1, 1, NULL, &lp, NULL, &status);
        fits_read_col(f, TINT, ci[7], r + 1, 1, 1, NULL, &flag, NULL, &status);
        if (ci[8]) fits_read_col(f, TINT, ci[8], r + 1, 1, 1, NULL, &tid, NULL, &status);
        if (status) break;
        metafits_tile *t = &m->tiles[r / 2];
        char want = (r % 2) ? 'Y' : 'X';
        if (pol[0] != want || (r % 2 && t->antenna != ant)) {
            snprintf(
                err, METAFITS_ERR_LEN,
                "metafits %.200s: TILEDATA row %ld is Antenna %d Pol %.200s; rows must come in "
                "X/Y pairs per tile",
                path, r + 1, ant, pol);
            fits_close_file(f, &(int){0});
            metafits_free(m);
            return -1;
        }
        if (strncmp(len, "EL_", 3) != 0) {
            snprintf(
                err, METAFITS_ERR_LEN,
                "metafits %.200s: TILEDATA row %ld Length '%.200s' is not of the form EL_<metres>",
                path, r + 1, len);
            fits_close_file(f, &(int){0});
            metafits_free(m);
            return -1;
        }
        t->antenna = ant;
        t->tile_id = tid;
        snprintf(t->name, sizeof(t->name), "%.15s", name);
        t->north = north;
        t->east = east;
        t->height = height;
        t->length = atof(len + 3);
        t->flag |= flag != 0;
    }
    if (status) {
        metafits_free(m);
        fits_close_file(f, &(int){0});
        return fits_fail(err, path, "reading TILEDATA", status);
    }
    fits_close_file(f, &status);
    m->shape.ntile = ntile;
    m->shape.nfine = (int)nfine;
    m->shape.nsamp = (int)nsamp;
    m->shape.layout = layout;
    char verr[VCS_ERR_LEN];
    if (vcs_shape_check(&m->shape, verr)) {
        snprintf(err, METAFITS_ERR_LEN, "metafits %.200s: %.200s", path, verr);
        metafits_free(m);
        return -1;
    }
    return 0;
}

int metafits_write(const char *path, const metafits *m, char *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    unlink(tmp);
    fitsfile *f = NULL;
    int status = 0;
    if (fits_create_file(&f, tmp, &status)) return fits_fail(err, tmp, "cannot create", status);
    fits_create_img(f, BYTE_IMG, 0, NULL, &status);
    double gps = (double)m->obsid;
    long obsid = m->obsid;
    char chans[512] = "";
    for (int i = 0; i < m->ncoarse; i++)
        snprintf(chans + strlen(chans), sizeof(chans) - strlen(chans), "%s%d", i ? "," : "",
                 m->coarse[i]);
    fits_write_key(f, TDOUBLE, "GPSTIME", &gps, "[s] GPS start time (obsid)", &status);
    fits_write_key(f, TLONG, "OBSID", &obsid, "observation id", &status);
    fits_write_key(f, TDOUBLE, "RA", (void *)&m->ra_deg, "[deg] pointing centre RA (J2000)",
                   &status);
    fits_write_key(f, TDOUBLE, "DEC", (void *)&m->dec_deg, "[deg] pointing centre Dec (J2000)",
                   &status);
    fits_write_key(f, TDOUBLE, "AZIMUTH", (void *)&m->az_deg, "[deg] azimuth of pointing centre",
                   &status);
    fits_write_key(f, TDOUBLE, "ALTITUDE", (void *)&m->alt_deg, "[deg] altitude of pointing centre",
                   &status);
    fits_write_key(f, TSTRING, "PROJECT", (void *)m->project, "project id", &status);
    fits_write_key_longstr(f, "CHANNELS", chans, "coarse channels", &status);
    int nch = m->ncoarse * m->shape.nfine;
    fits_write_key(f, TINT, "NCHANS", &nch, "fine channels in the observation", &status);
    fits_write_key(f, TDOUBLE, "FINECHAN", (void *)&m->fine_khz, "[kHz] fine channel width",
                   &status);
    fits_write_key(f, TINT, "VCSNFINE", (void *)&m->shape.nfine,
                   "fine channels per coarse channel in .dat", &status);
    fits_write_key(f, TINT, "VCSNSAMP", (void *)&m->shape.nsamp,
                   "samples per second per fine channel", &status);
    fits_write_key(f, TSTRING, "VCSORDER", m->shape.layout == VCS_LAYOUT_FULL ? "FULL" : "REDUCED",
                   "byte order of .dat files (see vcs.h)", &status);
    int ninputs = 2 * m->shape.ntile;
    fits_write_key(f, TINT, "NINPUTS", &ninputs, "inputs (2 per tile)", &status);

    char *ttype[] = {"Input", "Antenna", "Tile",   "TileName", "Pol",  "Rx",
                     "Slot",  "Flag",    "Length", "North",    "East", "Height"};
    char *tform[] = {"1I", "1I", "1I", "8A", "1A", "1I", "1I", "1I", "14A", "1E", "1E", "1E"};
    char *tunit[] = {"", "", "", "", "", "", "", "", "m", "m", "m", "m"};
    fits_create_tbl(f, BINARY_TBL, 0, 12, ttype, tform, tunit, "TILEDATA", &status);
    for (int r = 0; r < ninputs && !status; r++) {
        const metafits_tile *t = &m->tiles[r / 2];
        int input = r, ant = t->antenna, tid = t->tile_id, rx = t->antenna / 8 + 1,
            slot = t->antenna % 8 + 1, flag = t->flag;
        char name[16], pol[2] = {r % 2 ? 'Y' : 'X', 0}, len[24];
        snprintf(name, sizeof(name), "%s", t->name);
        snprintf(len, sizeof(len), "EL_%.2f", t->length);
        char *np = name, *pp = pol, *lp = len;
        float north = (float)t->north, east = (float)t->east, height = (float)t->height;
        long row = r + 1;
        fits_write_col(f, TINT, 1, row, 1, 1, &input, &status);
        fits_write_col(f, TINT, 2, row, 1, 1, &ant, &status);
        fits_write_col(f, TINT, 3, row, 1, 1, &tid, &status);
        fits_write_col(f, TSTRING, 4, row, 1, 1, &np, &status);
        fits_write_col(f, TSTRING, 5, row, 1, 1, &pp, &status);
        fits_write_col(f, TINT, 6, row, 1, 1, &rx, &status);
        fits_write_col(f, TINT, 7, row, 1, 1, &slot, &status);
        fits_write_col(f, TINT, 8, row, 1, 1, &flag, &status);
        fits_write_col(f, TSTRING, 9, row, 1, 1, &lp, &status);
        fits_write_col(f, TFLOAT, 10, row, 1, 1, &north, &status);
        fits_write_col(f, TFLOAT, 11, row, 1, 1, &east, &status);
        fits_write_col(f, TFLOAT, 12, row, 1, 1, &height, &status);
    }
    fits_write_chksum(f, &status);
    fits_close_file(f, &status);
    if (status) {
        unlink(tmp);
        return fits_fail(err, tmp, "writing", status);
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, METAFITS_ERR_LEN, "metafits: cannot rename %.200s to %.200s", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

void metafits_free(metafits *m)
{
    free(m->tiles);
    m->tiles = NULL;
}

int metafits_coarse_index(const metafits *m, int ch)
{
    for (int i = 0; i < m->ncoarse; i++)
        if (m->coarse[i] == ch) return i;
    return -1;
}

double metafits_fine_freq_hz(const metafits *m, int ch, int k)
{
    return ch * 1.28e6 - 640e3 + k * m->fine_khz * 1e3;
}
