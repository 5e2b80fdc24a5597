/* sha256.h - SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104), self-contained
 * so that the ground floor stays free of a crypto library. Used to derive
 * session cookies and CSRF tokens from a secret (controller/http_auth.c);
 * not meant for bulk hashing (cache manifests use xxhash). */
#ifndef SL_SHA256_H
#define SL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SL_SHA256_LEN 32

void sl_sha256(const void *data, size_t len, uint8_t out[SL_SHA256_LEN]);
void sl_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                    uint8_t out[SL_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void sl_hex(const uint8_t *in, size_t n, char *out);
/* 1 when a and b (NUL-terminated) are equal; the time depends only on the
 * length of b, never on where they differ. NULL never matches. */
int sl_secret_eq(const char *a, const char *b);

#endif
