/* fits_check.h - a structural check of a FITS file's headers before cfitsio
 * parses them.
 *
 * cfitsio (4.2) trusts header text: a card with non-ASCII bytes or an
 * unterminated string value makes its parser overflow fixed buffers (found by
 * fuzz_metafits and fuzz_psrfits). The FITS standard (4.0, sec. 4.1) allows
 * only printable ASCII in headers, so refusing anything else loses no valid
 * file. metafits_read and psrfits_open call this first.
 *
 * Returns 0, or -1 with a sentence in err (errlen bytes) naming the HDU, the
 * card and the problem. */
#ifndef FITS_CHECK_H
#define FITS_CHECK_H

#include <stddef.h>

int fits_header_check(const char *path, char *err, size_t errlen);

#endif
