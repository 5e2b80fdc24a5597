/* test_fits_check.c - the FITS header check that runs before cfitsio
 * (modules/lib/fits_check.c): a plain valid header passes; the header text
 * that made cfitsio 4.2 overflow its buffers (found by fuzz_metafits and
 * fuzz_psrfits: non-ASCII bytes, a bad keyword name, an unterminated string,
 * values too long for cfitsio's number conversion, a quoted NAXISn, a PCOUNT
 * that is not a number) and
 * non-FITS input are refused with a reason, also through metafits_read and
 * psrfits_open; numeric keywords are parsed without cfitsio's conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fits_check.h"
#include "metafits.h"
#include "psrfits.h"

/* Writes a primary header of the given cards (then END) and a 2-row, 1-byte
 * binary table; card `bad` (0-based, in the table header) is replaced. */
static void write_fits2(const char *path, const char *bad_card, int bad_at, const char *bad2,
                        int bad2_at)
{
    const char *primary[] = {"SIMPLE  =                    T", "BITPIX  =                    8",
                             "NAXIS   =                    0", "EXTEND  =                    T",
                             "END"};
    const char *table[] = {"XTENSION= 'BINTABLE'",           "BITPIX  =                    8",
                           "NAXIS   =                    2", "NAXIS1  =                    1",
                           "NAXIS2  =                    2", "PCOUNT  =                    0",
                           "GCOUNT  =                    1", "TFIELDS =                    1",
                           "TTYPE1  = 'X       '",           "TFORM1  = '1B      '",
                           "EXTNAME = 'T       '",           "END"};
    char block[2880];
    FILE *f = fopen(path, "wb");
    memset(block, ' ', sizeof block);
    for (size_t i = 0; i < sizeof primary / sizeof primary[0]; i++)
        memcpy(block + 80 * i, primary[i], strlen(primary[i]));
    fwrite(block, 1, sizeof block, f);
    memset(block, ' ', sizeof block);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *c = (int)i == bad_at ? bad_card : (int)i == bad2_at ? bad2 : table[i];
        memcpy(block + 80 * i, c, strlen(c));
    }
    fwrite(block, 1, sizeof block, f);
    memset(block, 0, sizeof block);
    block[0] = 1;
    fwrite(block, 1, sizeof block, f);
    fclose(f);
}

static void write_fits(const char *path, const char *bad_card, int bad_at)
{
    write_fits2(path, bad_card, bad_at, NULL, -1);
}

static void test_valid_passes(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fits_check_XXXXXX";
    close(mkstemp(path));
    write_fits(path, NULL, -1);
    char err[256] = "";
    assert_int_equal(fits_header_check(path, err, sizeof err), 0);
    unlink(path);
}

static void expect_refused(const char *card, int at, const char *why)
{
    char path[] = "/tmp/test_fits_check_XXXXXX";
    close(mkstemp(path));
    write_fits(path, card, at);
    char err[PSRFITS_ERR_LEN] = "";
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    assert_non_null(strstr(err, why));
    assert_non_null(strstr(err, "HDU 2"));
    /* the readers refuse it before cfitsio parses it */
    metafits m;
    char merr[METAFITS_ERR_LEN] = "";
    assert_int_equal(metafits_read(path, &m, merr), -1);
    assert_non_null(strstr(merr, why));
    psrfits *pf = NULL;
    assert_int_equal(psrfits_open(&pf, path, NULL, err), -1);
    assert_non_null(strstr(err, why));
    unlink(path);
}

static void test_bad_headers_refused(void **state)
{
    (void)state;
    expect_refused("TTYPE1  = \xff\xff\xff\xff'", 8, "not printable ASCII");
    expect_refused("TYP\xe8"
                   "E1  = 'X       '",
                   8, "not printable ASCII");
    expect_refused("ttype1  = 'X       '", 8, "keyword name");
    expect_refused("TTYPE1  = 'X   ", 8, "closing quote");
    /* an escaped quote is not the closing one */
    expect_refused("TTYPE1  = 'it''s", 8, "closing quote");
    /* cfitsio 4.2 aborts (fortify) converting these: refused before */
    expect_refused("NAXIS2  = 10000000000000000000000000000000000002", 4, "too long");
    expect_refused("NAXIS2  = '2       '", 4, "must be a number");
    expect_refused("TFIELDS = (                                     1)", 7, "too long");
    /* cfitsio 4.2 left PCOUNT unset and callocs a heap of stack garbage */
    expect_refused("PCOUNT  = (                  0", 5, "not a plain number");
    expect_refused("PCOUNT  =", 5, "no value");
    /* cfitsio reads this as NAXIS2 and sized the table from garbage
     * (fuzz_psrfits) */
    expect_refused("NAXIS2  =E                   4", 4, "not followed by a space");
}

static void test_key_parsing(void **state)
{
    (void)state;
    fitsfile *f;
    int st = 0;
    fits_create_file(&f, "mem://", &st);
    fits_create_img(f, BYTE_IMG, 0, NULL, &st);
    const char *cards[] = {"A       =                    8",
                           "B       =                   8.",
                           "C       =                1.5D3",
                           "D       = 'x       '",
                           "E       = (            3600 / the fuzzer's card",
                           "F       =          12345678901234567890123"};
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++)
        fits_write_record(f, cards[i], &st);
    assert_int_equal(st, 0);
    long long ll = -1;
    double d = -1;
    assert_int_equal(fits_key_llong(f, "A", &ll), 0);
    assert_int_equal(ll, 8);
    assert_int_equal(fits_key_llong(f, "B", &ll), 0);
    assert_int_equal(ll, 8);
    assert_int_equal(fits_key_double(f, "C", &d), 0);
    assert_true(d == 1500.0);
    assert_int_equal(fits_key_llong(f, "C", &ll), 0);
    assert_int_equal(ll, 1500);
    assert_int_equal(fits_key_double(f, "D", &d), BAD_DOUBLEKEY);
    assert_int_equal(fits_key_llong(f, "E", &ll), BAD_INTKEY);
    assert_int_equal(fits_key_llong(f, "F", &ll), BAD_INTKEY);
    assert_int_equal(fits_key_double(f, "MISSING", &d), KEY_NO_EXIST);
    assert_true(d == 1500.0); /* untouched on failure */
    fits_close_file(f, &st);
}

/* A malformed NAXISn leaves the data size unknown: the walk stops after
 * this header, but this header's later cards are still checked (found by
 * fuzz_metafits: an unquoted 70-character TTYPE after 'NAXIS2    =' crashed
 * cfitsio). So is a header cut short by the end of the file. */
/* cfitsio tolerates the mandatory cards as reals, repeated or missing and
 * then sized tables from memory it never set (fuzz_metafits, fuzz_psrfits) */
static void test_mandatory_cards(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fits_check_XXXXXX";
    close(mkstemp(path));
    char err[256] = "";
    write_fits(path, "NAXIS2  =          1257010784.", 4);
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "non-negative integer"));
    write_fits(path, "NAXIS   =          -2559454.08", 10); /* a second NAXIS */
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "second time"));
    write_fits(path, "EXTNAME = 'NO_PCOUNT'", 5); /* PCOUNT missing */
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "out of order"));
    write_fits(path, "EXTNAME = 'T       '", 10); /* control: the table as written */
    assert_int_equal(fits_header_check(path, err, sizeof err), 0);
    unlink(path);
}

static void test_bad_card_after_bad_naxis(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fits_check_XXXXXX";
    close(mkstemp(path));
    write_fits2(path, "NAXIS2    =                  2", 4,
                "TTYPE1  = pppppppppppppppppppppppppppppppppppppppp", 8);
    char err[256] = "";
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    /* the misplaced NAXIS2 itself is refused now (mandatory order) */
    assert_non_null(strstr(err, "out of order"));
    write_fits(path, "TTYPE1  = \x01", 8);
    assert_int_equal(truncate(path, 2880 + 8 * 80 + 20), 0); /* cut inside that card */
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "printable"));
    unlink(path);
}

/* Bytes after the last HDU that are no extension header are left to the
 * readers (psrfits_open names them: rows NAXIS2 does not count). */
static void test_trailing_rows_not_a_header(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fits_check_XXXXXX";
    close(mkstemp(path));
    write_fits(path, NULL, -1);
    FILE *f = fopen(path, "ab");
    char block[2880];
    memset(block, 0xa5, sizeof block);
    fwrite(block, 1, sizeof block, f);
    fclose(f);
    char err[256] = "";
    assert_int_equal(fits_header_check(path, err, sizeof err), 0);
    unlink(path);
}

static void test_not_fits(void **state)
{
    (void)state;
    char path[] = "/tmp/test_fits_check_XXXXXX";
    int fd = mkstemp(path);
    assert_int_equal(write(fd,
                           "\x1f\x8b\x08\x00"
                           "gzip",
                           8),
                     8);
    close(fd);
    char err[256] = "";
    assert_int_equal(fits_header_check(path, err, sizeof err), -1);
    assert_non_null(strstr(err, "SIMPLE"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_valid_passes),
                                       cmocka_unit_test(test_bad_headers_refused),
                                       cmocka_unit_test(test_not_fits),
                                       cmocka_unit_test(test_key_parsing),
                                       cmocka_unit_test(test_mandatory_cards),
                                       cmocka_unit_test(test_bad_card_after_bad_naxis),
                                       cmocka_unit_test(test_trailing_rows_not_a_header)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
