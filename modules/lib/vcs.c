/* vcs.c - legacy VCS voltage decode, byte order and whole-second reads.
 *
 * The decode table turns one byte into a complex float so the hot loops in
 * the beamformer never touch nibbles. Reads are one read() loop into a
 * caller-owned, reused buffer: the file is read exactly once per second. */
#include "vcs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

size_t vcs_index(const vcs_shape *sh, int s, int k, int ant, int pol)
{
    if (sh->layout == VCS_LAYOUT_FULL) return vcs_full_index(s, k, ant, pol);
    return (((size_t)s * sh->nfine + k) * sh->ntile + ant) * 2 + pol;
}

int vcs_input_offset(const vcs_shape *sh, int ant, int pol)
{
    return (int)vcs_index(sh, 0, 0, ant, pol);
}

size_t vcs_second_bytes(const vcs_shape *sh)
{
    return (size_t)sh->nsamp * sh->nfine * sh->ntile * 2;
}

int vcs_shape_check(const vcs_shape *sh, char *err)
{
    if (sh->ntile <= 0 || sh->nfine <= 0 || sh->nsamp <= 0) {
        snprintf(err, VCS_ERR_LEN, "invalid VCS shape: %d tiles, %d fine channels, %d samples",
                 sh->ntile, sh->nfine, sh->nsamp);
        return -1;
    }
    /* Bounded dimensions first, so the product below cannot overflow. */
    if (sh->ntile > VCS_MAX_DIM || sh->nfine > VCS_MAX_DIM || sh->nsamp > VCS_MAX_NSAMP ||
        vcs_second_bytes(sh) > VCS_MAX_SECOND_BYTES) {
        snprintf(err, VCS_ERR_LEN,
                 "implausible VCS shape: %d tiles, %d fine channels, %d samples (at most %d, %d, "
                 "%d and %zu bytes per second); corrupt metafits?",
                 sh->ntile, sh->nfine, sh->nsamp, VCS_MAX_DIM, VCS_MAX_DIM, VCS_MAX_NSAMP,
                 VCS_MAX_SECOND_BYTES);
        return -1;
    }
    if (sh->layout == VCS_LAYOUT_FULL &&
        (sh->ntile != VCS_FULL_NTILE || sh->nfine != VCS_FULL_NFINE)) {
        snprintf(err, VCS_ERR_LEN,
                 "the full-size VCS order needs 128 tiles and 128 fine channels (got %d, %d); "
                 "use the reduced order for small observations",
                 sh->ntile, sh->nfine);
        return -1;
    }
    return 0;
}

void vcs_decode_table(float complex table[256])
{
    for (int b = 0; b < 256; b++) {
        int re = b & 15, im = (b >> 4) & 15;
        if (re >= 8) re -= 16;
        if (im >= 8) im -= 16;
        table[b] = (float)re + I * (float)im;
    }
}

void vcs_file_name(char *out, size_t len, const char *dir, long obsid, long gps, int coarse)
{
    snprintf(out, len, "%s/%ld_%ld_ch%03d.dat", dir, obsid, gps, coarse);
}

int vcs_read_second(const char *path, const vcs_shape *sh, uint8_t *buf, char *err)
{
    size_t want = vcs_second_bytes(sh);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, VCS_ERR_LEN, "cannot open voltage file %.200s: %.200s", path,
                 strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size != want) {
        snprintf(
            err, VCS_ERR_LEN,
            "voltage file %.200s has %lld bytes, expected %zu (%d samples x %d fine channels x "
            "%d tiles x 2 pols); truncated file or metafits that does not match the data",
            path, (long long)st.st_size, want, sh->nsamp, sh->nfine, sh->ntile);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(err, VCS_ERR_LEN, "reading %.200s: %.200s after %zu of %zu bytes", path,
                     n < 0 ? strerror(errno) : "unexpected end of file", got, want);
            close(fd);
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    return 0;
}
