/* fits_check.h - a structural check of a FITS file's headers before cfitsio
 * parses them.
 *
 * cfitsio (4.2) trusts header text: a card with non-ASCII bytes or an
 * unterminated string value makes its parser overflow fixed buffers (found by
 * fuzz_metafits and fuzz_psrfits). The FITS standard (4.0, sec. 4.1) allows
 * only printable ASCII in headers, so refusing anything else loses no valid
 * file. metafits_read and psrfits_open call this first.
 *
 * cfitsio's number conversion has the same weakness: a value it cannot
 * convert that is longer than about 26 characters overflows the buffer of
 * its error message. So the check also refuses non-string values longer than
 * FITS_MAX_NUMBER_LEN and quoted values for the structural keywords cfitsio
 * reads as numbers (NAXISn, TFIELDS, ...), and the readers get their own
 * numeric keywords through fits_key_double / fits_key_llong, which parse the
 * raw value text themselves. */
#ifndef FITS_CHECK_H
#define FITS_CHECK_H

#include <stddef.h>

#include <fitsio.h>

/* Longest non-string value accepted: cfitsio writes at most 23 characters,
 * fixed-format FITS values are 20. */
#define FITS_MAX_NUMBER_LEN 24

/* 0, or -1 with a sentence in err (errlen bytes) naming the HDU, the card
 * and the problem. */
int fits_header_check(const char *path, char *err, size_t errlen);

/* The numeric value of key in the current HDU: 0, KEY_NO_EXIST when absent,
 * BAD_DOUBLEKEY / BAD_INTKEY when the value is not a number (an integer for
 * fits_key_llong; "8." counts). *v is untouched on failure. Never sets a
 * cfitsio status or error message. */
int fits_key_double(fitsfile *fp, const char *key, double *v);
int fits_key_llong(fitsfile *fp, const char *key, long long *v);

#endif
