/* crypto.h - the few secret-handling helpers the controller's credentials
 * and its HTTP sessions share, over OpenSSL's libcrypto: HMAC-SHA-256,
 * hex, and a comparison whose time does not depend on the secret. */
#ifndef SL_CRYPTO_H
#define SL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SL_SHA256_LEN 32

void sl_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                    uint8_t out[SL_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void sl_hex(const uint8_t *in, size_t n, char *out);
/* 1 when a and b (NUL-terminated) are equal; the time depends only on the
 * length of b (the secret), never on where they differ. NULL never matches. */
int sl_secret_eq(const char *a, const char *b);

#endif
