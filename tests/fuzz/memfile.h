/* memfile.h - hands a fuzz input to a reader that only takes a path.
 *
 * The science readers (cfitsio, fopen, open + fstat) want a file name. One
 * memfd per process is rewritten for every input and named through
 * /proc/self/fd/N: no disk I/O, no temp file to clean up, and stat() sees a
 * regular file of exactly the input's size (readers compare sizes). */
#ifndef FUZZ_MEMFILE_H
#define FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

/* Path of a file holding exactly data[0..size); valid until the next call.
 * Aborts if the memfd cannot be made (the harness is useless without it). */
const char *memfile_put(const uint8_t *data, size_t size);
/* Prints a reader's refusal to stderr when SLUICE_FUZZ_VERBOSE is set, to
 * check by hand that the seeds are accepted (fuzzer -runs=0 SEEDS). */
void fuzz_note(const char *what, const char *err);

#endif
