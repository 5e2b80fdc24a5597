/* sched_auth.c - agents' credentials: issued at registration, bound to a
 * host name, checked on every call an agent makes. The scheduler keeps
 * only each credential's SHA-256 (in memory and in hosts.cred, so a
 * restarted controller still knows its agents); the credential itself
 * lives with the agent. A leaf: calls the store, nothing else here. */
#include "sched/sched_int.h"

#include "dataplane/dataplane.h"
#include "util/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define CRED_PREFIX "agent."

static void sha256_hex(const char *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int sl_sched_cred_issue(const char *host, char *out, size_t n, char hash[65], sl_err *err)
{
    unsigned char rnd[32];
    size_t got = 0;
    while (got < sizeof rnd) {
        ssize_t r = getrandom(rnd + got, sizeof rnd - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return sl_errf(err, SL_EIO, "getrandom: %s", strerror(errno));
        got += (size_t)r;
    }
    char h[65];
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(h + 2 * i, 3, "%02x", rnd[i]);
    OPENSSL_cleanse(rnd, sizeof rnd);
    if ((size_t)snprintf(out, n, CRED_PREFIX "%s.%s", h, host) >= n)
        return sl_errf(err, SL_EINVAL, "host name '%.64s...' too long", host);
    OPENSSL_cleanse(h, sizeof h);
    sha256_hex(out, hash);
    return 0;
}

/* The host named in a credential, or NULL if it is not shaped like one. */
static const char *cred_host(const char *cred)
{
    size_t pl = sizeof CRED_PREFIX - 1;
    if (strncmp(cred, CRED_PREFIX, pl) != 0 || strlen(cred) < pl + 66) return NULL;
    for (size_t i = 0; i < 64; i++) {
        char c = cred[pl + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return NULL;
    }
    return cred[pl + 64] == '.' ? cred + pl + 65 : NULL;
}

int sl_sched_agent_auth(sl_sched *s, const char *cred, char *host, size_t hostsz)
{
    const char *h = cred_host(cred);
    if (!h || !*h || strlen(h) >= hostsz) return SL_EAUTH;
    char hash[65];
    sha256_hex(cred, hash);
    int ok = 0;
    pthread_mutex_lock(&s->mu);
    sl_agent_rt *a = sl_sched_agent_of(s, h);
    if (a && a->cred[0]) ok = CRYPTO_memcmp(a->cred, hash, 64) == 0;
    pthread_mutex_unlock(&s->mu);
    if (!ok) return SL_EAUTH;
    snprintf(host, hostsz, "%s", h);
    return 0;
}

int sl_sched_cap(sl_sched *s, int op, const char *host, const char *path, const char *reader,
                 char *out, size_t n)
{
    char key[SL_DP_KEY_HEX + 1];
    sl_dp_server_key(s->master, host, key);
    int64_t expires = (int64_t)(sl_wall() * 1000) + SL_CAP_TTL_MS;
    sl_err e;
    int rc = sl_dp_cap_make(key, op, path, reader, expires, out, n, &e);
    OPENSSL_cleanse(key, sizeof key);
    if (rc < 0) out[0] = 0;
    return rc < 0 ? rc : 0;
}
