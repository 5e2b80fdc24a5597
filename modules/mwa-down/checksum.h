/* checksum.h - the file checksums mwa-down verifies: xxh64 and xxh3 (64-bit),
 * both from libxxhash. A manifest names one as "ALGO:HEX" ("xxh64:0123..."), a
 * bare 16-digit hex value means xxh64, and "-" means size check only.
 * SHA-256 is not offered: it would need a crypto library we do not link, and
 * the checksum here guards against transfer damage, not against an attacker. */
#ifndef MWA_DOWN_CHECKSUM_H
#define MWA_DOWN_CHECKSUM_H

#include <stdint.h>

typedef enum { CHECK_NONE = 0, CHECK_XXH64, CHECK_XXH3 } check_algo;

typedef struct checksum {
    check_algo algo;
    uint64_t value;
} checksum;

/* Parses "xxh64:HEX", "xxh3:HEX", bare HEX (xxh64) or "-". 0 or -1. */
int checksum_parse(const char *s, checksum *out);
/* Formats as "algo:hex" (or "-") into buf (>= 32 bytes). */
const char *checksum_format(const checksum *c, char *buf, unsigned len);
/* Hashes the first size bytes of fd with c->algo into *got.
 * Returns 0, or -1 with errno set (a short file gives EIO). */
int checksum_fd(int fd, int64_t size, check_algo algo, uint64_t *got);

#endif
