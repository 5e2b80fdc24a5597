/* fits_check.c - FITS header text checked before cfitsio sees it (see
 * fits_check.h).
 *
 * Walks HDU by HDU: header blocks up to the END card, every card printable
 * ASCII with a legal keyword name and, for a value card, a string value
 * closed within the card; the data size from BITPIX, NAXISn, PCOUNT and
 * GCOUNT skips to the next HDU. A file that ends early is not an error here:
 * the readers' own size checks say what is missing. */
#include "fits_check.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FITS_BLOCK 2880
#define FITS_CARD 80
/* More HDUs than any file sluice reads: stop walking, cfitsio copes. */
#define FITS_MAX_HDUS 64

/* Integer value of a card like "NAXIS1  =  123", or -1 when not an integer. */
static long long card_int(const char *card)
{
    char v[FITS_CARD - 9];
    memcpy(v, card + 10, sizeof v - 1);
    v[sizeof v - 1] = 0;
    char *slash = strchr(v, '/');
    if (slash) *slash = 0;
    char *p = v, *end;
    while (*p == ' ')
        p++;
    long long x = strtoll(p, &end, 10);
    if (end == p) return -1;
    while (*end == ' ')
        end++;
    return *end ? -1 : x;
}

/* Whether the card's keyword is one cfitsio itself reads as a number
 * (structure, scaling, and the same for tile-compressed images). */
static int numeric_keyword(const char *card)
{
    static const char *const exact[] = {"SIMPLE  ", "BITPIX  ", "NAXIS   ", "PCOUNT  ", "GCOUNT  ",
                                        "TFIELDS ", "THEAP   ", "EXTEND  ", "GROUPS  ", "BSCALE  ",
                                        "BZERO   ", "BLANK   ", "ZSIMPLE ", "ZBITPIX ", "ZPCOUNT ",
                                        "ZGCOUNT ", "ZBLANK  ", "ZEXTEND "};
    static const char *const prefix[] = {"NAXIS", "TBCOL", "TSCAL", "TZERO", "TNULL", "ZNAXIS"};
    for (size_t k = 0; k < sizeof exact / sizeof exact[0]; k++)
        if (!memcmp(card, exact[k], 8)) return 1;
    for (size_t k = 0; k < sizeof prefix / sizeof prefix[0]; k++)
        if (!memcmp(card, prefix[k], strlen(prefix[k]))) return 1;
    return 0;
}

/* Whether v[0..n) is what cfitsio can read for the card's keyword without
 * guessing: T or F for the logical ones, otherwise a real number. (A value
 * like "(  0" left cfitsio's PCOUNT unset and it sized a table heap from
 * stack garbage: found by fuzz_metafits.) */
static int plain_value(const char *card, const char *v, int n)
{
    if (!memcmp(card, "SIMPLE  ", 8) || !memcmp(card, "EXTEND  ", 8) ||
        !memcmp(card, "GROUPS  ", 8) || !memcmp(card, "ZSIMPLE ", 8) ||
        !memcmp(card, "ZEXTEND ", 8))
        return n == 1 && (v[0] == 'T' || v[0] == 'F');
    char t[FITS_MAX_NUMBER_LEN + 1], *end;
    for (int k = 0; k < n; k++)
        t[k] = (v[k] == 'D' || v[k] == 'd') ? 'E' : v[k];
    t[n] = 0;
    double x = strtod(t, &end);
    return n > 0 && end == t + n && isfinite(x);
}

/* NULL, or why the card is not valid FITS header text. */
static const char *card_problem(const char *card)
{
    for (int i = 0; i < FITS_CARD; i++)
        if (card[i] < 0x20 || card[i] > 0x7e) return "a byte that is not printable ASCII";
    for (int i = 0; i < 8; i++) {
        char c = card[i];
        if (!(isupper((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '_' ||
              c == ' '))
            return "a keyword name with characters other than A-Z, 0-9, '-' and '_'";
    }
    /* cfitsio reads "KEY     =E  4" as a value too, so a '=' in column 9
     * must be followed by the space that makes it a value card (found by
     * fuzz_psrfits: "NAXIS2  =E   4" sized a table from garbage) */
    if (card[8] == '=' && card[9] != ' ') return "a value indicator '=' not followed by a space";
    if (memcmp(card + 8, "= ", 2) != 0) return NULL; /* commentary card */
    int i = 10;
    while (i < FITS_CARD && card[i] == ' ')
        i++;
    if (i == FITS_CARD) return numeric_keyword(card) ? "no value for a structural keyword" : NULL;
    if (card[i] != '\'') {
        int n = 0;
        while (i + n < FITS_CARD && card[i + n] != '/')
            n++;
        while (n > 0 && card[i + n - 1] == ' ')
            n--;
        if (n > FITS_MAX_NUMBER_LEN) return "a value too long to be a number";
        if (numeric_keyword(card) && !plain_value(card, card + i, n))
            return "a structural keyword whose value is not a plain number (or T/F)";
        return NULL;
    }
    if (numeric_keyword(card)) return "a string value for a keyword that must be a number";
    for (i++; i < FITS_CARD; i++) {
        if (card[i] != '\'') continue;
        if (i + 1 < FITS_CARD && card[i + 1] == '\'') { /* '' is an escaped quote */
            i++;
            continue;
        }
        return NULL;
    }
    return "a string value without its closing quote";
}

/* The FITS standard's mandatory cards open every header in a fixed order:
 * SIMPLE (or XTENSION), BITPIX, NAXIS, NAXIS1..n, and for an extension
 * PCOUNT, GCOUNT (and TFIELDS for a table). cfitsio tolerates them missing,
 * repeated, out of order or as reals ("NAXIS2 = 1257010784.", a second
 * "NAXIS = -2559454.08") and then sizes a table from memory it never set
 * (found by fuzz_metafits and fuzz_psrfits). NULL, or what is wrong with
 * card number idx (0-based) of an HDU. */
static const char *mandatory_problem(const char *card, long long idx, int ext, int table,
                                     long long naxis)
{
    char want[32];
    long long after = 3 + (naxis > 0 ? naxis : 0); /* index after NAXISn */
    if (idx == 0) return NULL;                     /* SIMPLE / XTENSION: checked by the caller */
    if (idx == 1)
        snprintf(want, sizeof want, "BITPIX  ");
    else if (idx == 2)
        snprintf(want, sizeof want, "NAXIS   ");
    else if (idx < after && idx - 2 < 1000)
        snprintf(want, sizeof want, "NAXIS%-3lld", idx - 2);
    else if (ext && idx == after)
        snprintf(want, sizeof want, "PCOUNT  ");
    else if (ext && idx == after + 1)
        snprintf(want, sizeof want, "GCOUNT  ");
    else if (ext && table && idx == after + 2)
        snprintf(want, sizeof want, "TFIELDS ");
    else {
        static const char *const once[] = {"SIMPLE  ", "XTENSION", "BITPIX  ", "NAXIS   ",
                                           "PCOUNT  ", "GCOUNT  ", "TFIELDS "};
        for (size_t k = 0; k < sizeof once / sizeof once[0]; k++)
            if (!memcmp(card, once[k], 8)) return "a mandatory keyword given a second time";
        if (!memcmp(card, "NAXIS", 5) && isdigit((unsigned char)card[5]) && card[8] == '=')
            return "a NAXISn keyword beyond NAXIS or out of order";
        return NULL;
    }
    if (idx < after && idx - 2 >= 1000) return "more than 999 axes";
    if (memcmp(card, want, 8) != 0 || memcmp(card + 8, "= ", 2) != 0)
        return "the mandatory keywords missing or out of order (SIMPLE/XTENSION, BITPIX, NAXIS, "
               "NAXISn, PCOUNT, GCOUNT, TFIELDS)";
    if (card_int(card) < (idx == 1 ? -64 : 0))
        return "a mandatory keyword whose value is not a non-negative integer";
    return NULL;
}

int fits_header_check(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char block[FITS_BLOCK];
    int rc = 0;
    /* A compressed file would be inflated by cfitsio unchecked: refuse it. */
    if (fread(block, 1, 10, f) != 10 || memcmp(block, "SIMPLE  = ", 10) != 0) {
        snprintf(err, errlen,
                 "%s: not a FITS file (it does not start with SIMPLE; compressed "
                 "FITS is not supported)",
                 path);
        fclose(f);
        return -1;
    }
    rewind(f);
    for (int hdu = 1; hdu <= FITS_MAX_HDUS && rc == 0; hdu++) {
        long long bitpix = 0, naxis = 0, pcount = 0, gcount = 1, npix = 1, npix2 = 1;
        int groups = 0, naxis1_zero = 0; /* random groups: NAXIS1 = 0 is not counted */
        int end = 0, lost = 0; /* lost: the data size is unknown, stop after this header */
        int table = 0;
        for (long long b = 0; !end; b++) {
            size_t got = fread(block, 1, FITS_BLOCK, f);
            if (got == 0) goto done;
            /* bytes after the last HDU that are not an extension header
             * are no header: cfitsio refuses to move there (NOT_XTENSION)
             * and the readers say what they are (psrfits_open: rows that
             * NAXIS2 does not count) */
            if (hdu > 1 && b == 0 && memcmp(block, "XTENSION", 8) != 0) goto done;
            if (got < FITS_BLOCK) { /* a cut block: its cards are still checked */
                memset(block + got, ' ', FITS_BLOCK - got);
                lost = 1;
            }
            for (int c = 0; c < FITS_BLOCK / FITS_CARD && !end; c++) {
                const char *card = block + c * FITS_CARD;
                long long idx = b * (FITS_BLOCK / FITS_CARD) + c;
                if (idx == 0 && hdu > 1)
                    table = !memcmp(card, "XTENSION= 'BINTABLE'", 20) ||
                            !memcmp(card, "XTENSION= 'TABLE   '", 20);
                const char *why = card_problem(card);
                if (!why) why = mandatory_problem(card, idx, hdu > 1, table, naxis);
                if (why) {
                    snprintf(err, errlen,
                             "%s: not a valid FITS file: HDU %d header card %lld has %s", path, hdu,
                             b * (FITS_BLOCK / FITS_CARD) + c + 1, why);
                    rc = -1;
                    goto done;
                }
                if (!memcmp(card, "END     ", 8)) {
                    end = 1;
                } else if (!memcmp(card, "BITPIX  = ", 10)) {
                    bitpix = card_int(card);
                } else if (!memcmp(card, "NAXIS   = ", 10)) {
                    naxis = card_int(card);
                } else if (!memcmp(card, "PCOUNT  = ", 10)) {
                    pcount = card_int(card);
                } else if (!memcmp(card, "GCOUNT  = ", 10)) {
                    gcount = card_int(card);
                } else if (!memcmp(card, "NAXIS", 5) && isdigit((unsigned char)card[5])) {
                    long long n = card_int(card);
                    int first = card[5] == '1' && card[6] == ' ';
                    if (n < 0 || (n > 0 && (npix > INT64_MAX / n || npix2 > INT64_MAX / n)))
                        lost = 1; /* cfitsio refuses it; the cards are still checked */
                    else if (first && n == 0) {
                        naxis1_zero = 1;
                        npix = 0;
                    } else {
                        npix *= n;
                        npix2 *= n;
                    }
                } else if (!memcmp(card, "GROUPS  = ", 10)) {
                    groups = card[29] == 'T';
                }
            }
        }
        if (lost) goto done;
        if (groups && naxis1_zero) npix = npix2;
        if (naxis == 0) npix = 0;
        long long bytes = bitpix < 0 ? -bitpix / 8 : bitpix / 8;
        if (bytes * 8 != (bitpix < 0 ? -bitpix : bitpix) || bytes > 8 || pcount < 0 || gcount < 0 ||
            npix > INT64_MAX / 8 - pcount ||
            (gcount > 0 && npix + pcount > INT64_MAX / 16 / gcount))
            goto done; /* cfitsio refuses these itself */
        long long data = bytes * gcount * (pcount + npix);
        long long blocks = (data + FITS_BLOCK - 1) / FITS_BLOCK;
        if (fseeko(f, (off_t)(blocks * FITS_BLOCK), SEEK_CUR) != 0) goto done;
    }
done:
    fclose(f);
    return rc;
}

/* The raw value text of key, trimmed, with FITS 'D' exponents as 'E':
 * 0, KEY_NO_EXIST, or bad when it is a string, empty or too long. */
static int key_text(fitsfile *fp, const char *key, char *out, int bad)
{
    char raw[FLEN_VALUE];
    int st = 0;
    fits_write_errmark();
    if (fits_read_keyword(fp, key, raw, NULL, &st)) {
        fits_clear_errmark();
        return st == KEY_NO_EXIST ? KEY_NO_EXIST : bad;
    }
    const char *p = raw;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n > 0 && p[n - 1] == ' ')
        n--;
    if (n == 0 || n > FITS_MAX_NUMBER_LEN || p[0] == '\'') return bad;
    for (size_t i = 0; i < n; i++)
        out[i] = (p[i] == 'D' || p[i] == 'd') ? 'E' : p[i];
    out[n] = 0;
    return 0;
}

int fits_key_double(fitsfile *fp, const char *key, double *v)
{
    char t[FLEN_VALUE], *end;
    int rc = key_text(fp, key, t, BAD_DOUBLEKEY);
    if (rc) return rc;
    double x = strtod(t, &end);
    if (end == t || *end) return BAD_DOUBLEKEY;
    *v = x;
    return 0;
}

int fits_key_llong(fitsfile *fp, const char *key, long long *v)
{
    char t[FLEN_VALUE], *end;
    int rc = key_text(fp, key, t, BAD_INTKEY);
    if (rc) return rc;
    errno = 0;
    long long x = strtoll(t, &end, 10);
    if (end != t && !*end && !errno) {
        *v = x;
        return 0;
    }
    double d = strtod(t, &end); /* "8." or "8.0E0" */
    if (end == t || *end || !(d >= -9.2e18 && d <= 9.2e18) || d != (double)(long long)d)
        return BAD_INTKEY;
    *v = (long long)d;
    return 0;
}
