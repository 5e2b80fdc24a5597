/* crypto.c - see crypto.h; thin wrappers over libcrypto. */
#include "controller/crypto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

void sl_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                    uint8_t out[SL_SHA256_LEN])
{
    unsigned int n = SL_SHA256_LEN;
    if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n)) memset(out, 0, SL_SHA256_LEN);
}

void sl_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

int sl_secret_eq(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t al = strlen(a), bl = strlen(b);
    return al == bl && CRYPTO_memcmp(a, b, bl) == 0;
}
