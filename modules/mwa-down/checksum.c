/* checksum.c - xxh64/xxh3 of a file for mwa-down's verification step.
 * The file is re-read with pread in large blocks after the last range lands:
 * ranges arrive out of order, so hashing on the fly would need the whole file
 * in order anyway, and a re-read from the page cache (or /dev/shm) runs at
 * several GB/s, well above the network. */
#include "checksum.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static int parse_hex64(const char *s, uint64_t *v)
{
    if (strlen(s) != 16) return -1;
    uint64_t x = 0;
    for (const char *p = s; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return -1;
        x = (x << 4) | (uint64_t)d;
    }
    *v = x;
    return 0;
}

int checksum_parse(const char *s, checksum *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(s, "-") == 0) return 0;
    if (strncmp(s, "xxh64:", 6) == 0) {
        out->algo = CHECK_XXH64;
        return parse_hex64(s + 6, &out->value);
    }
    if (strncmp(s, "xxh3:", 5) == 0) {
        out->algo = CHECK_XXH3;
        return parse_hex64(s + 5, &out->value);
    }
    out->algo = CHECK_XXH64;
    return parse_hex64(s, &out->value);
}

const char *checksum_format(const checksum *c, char *buf, unsigned len)
{
    if (c->algo == CHECK_NONE)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%s:%016" PRIx64, c->algo == CHECK_XXH3 ? "xxh3" : "xxh64", c->value);
    return buf;
}

int checksum_fd(int fd, int64_t size, check_algo algo, uint64_t *got)
{
    const size_t blk = 4u << 20;
    char *buf = malloc(blk);
    if (!buf) return -1;
    XXH64_state_t *s64 = NULL;
    XXH3_state_t *s3 = NULL;
    if (algo == CHECK_XXH3) {
        s3 = XXH3_createState();
        XXH3_64bits_reset(s3);
    } else {
        s64 = XXH64_createState();
        XXH64_reset(s64, 0);
    }
    int rc = 0;
    for (int64_t off = 0; off < size;) {
        size_t want = (size - off) < (int64_t)blk ? (size_t)(size - off) : blk;
        ssize_t n = pread(fd, buf, want, off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0) errno = EIO;
            rc = -1;
            break;
        }
        if (s3)
            XXH3_64bits_update(s3, buf, (size_t)n);
        else
            XXH64_update(s64, buf, (size_t)n);
        off += n;
    }
    if (rc == 0) *got = s3 ? XXH3_64bits_digest(s3) : XXH64_digest(s64);
    if (s3) XXH3_freeState(s3);
    if (s64) XXH64_freeState(s64);
    free(buf);
    return rc;
}
