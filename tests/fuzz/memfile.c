/* memfile.c - one reusable memfd per fuzzer process (see memfile.h). */
#include "memfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

const char *memfile_put(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("sluice-fuzz", MFD_CLOEXEC);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0) abort();
    for (size_t o = 0; o < size;) {
        ssize_t w = pwrite(fd, data + o, size - o, (off_t)o);
        if (w <= 0) abort();
        o += (size_t)w;
    }
    return path;
}

void fuzz_note(const char *what, const char *err)
{
    static int verbose = -1;
    if (verbose < 0) verbose = getenv("SLUICE_FUZZ_VERBOSE") != NULL;
    if (verbose) fprintf(stderr, "%s: %s\n", what, err);
}
