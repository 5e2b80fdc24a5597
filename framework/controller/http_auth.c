/* http_auth.c - the HTTP page's access decision (see http_auth.h). Sessions
 * are stateless: a cookie is a random nonce with its HMAC under the user
 * token, so the controller keeps no session table, a restart keeps people
 * logged in, and changing the token logs everyone out. The raw token never
 * leaves the request that carried it. */
#include "controller/http_auth.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

static void session_mac(const char *token, const char *nonce, size_t nlen, char *hex)
{
    char msg[64];
    int n = snprintf(msg, sizeof msg, "session:%.*s", (int)nlen, nonce);
    uint8_t mac[SL_SHA256_LEN];
    sl_hmac_sha256(token, strlen(token), msg, (size_t)n, mac);
    sl_hex(mac, sizeof mac, hex);
}

int sl_http_session_new(const char *user_token, char *out)
{
    uint8_t r[16];
    if (!user_token || !*user_token || getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return -1;
    sl_hex(r, sizeof r, out);
    out[32] = '.';
    session_mac(user_token, out, 32, out + 33);
    return 0;
}

int sl_http_session_valid(const char *user_token, const char *value)
{
    if (!user_token || !*user_token || !value || strlen(value) != SL_HTTP_SESSION_LEN ||
        value[32] != '.')
        return 0;
    char want[2 * SL_SHA256_LEN + 1];
    session_mac(user_token, value, 32, want);
    return sl_secret_eq(value + 33, want);
}

void sl_http_csrf_token(const char *user_token, const char *session, char *out)
{
    char msg[16 + SL_HTTP_SESSION_LEN];
    int n = snprintf(msg, sizeof msg, "csrf:%s", session ? session : "");
    uint8_t mac[SL_SHA256_LEN];
    const char *k = user_token ? user_token : "";
    sl_hmac_sha256(k, strlen(k), msg, (size_t)n, mac);
    sl_hex(mac, sizeof mac, out);
}

int sl_http_peer_is_loopback(const struct sockaddr *sa)
{
    if (!sa) return 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return 0;
}

/* "http://HOST[/...]" or "https://HOST[/...]" names the Host we answer as.
 * path_ok: a path may follow (Referer), else nothing may (Origin). */
static int same_origin(const char *url, const char *host, int path_ok)
{
    if (!host || !*host) return 0;
    const char *p = NULL;
    if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8;
    else
        return 0;
    size_t hl = strlen(host);
    if (strncasecmp(p, host, hl) != 0) return 0;
    char next = p[hl];
    return next == 0 || (path_ok && (next == '/' || next == '?' || next == '#'));
}

static int bearer_ok(const char *token, const char *authorization)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
    const char *t = authorization + 7;
    while (*t == ' ')
        t++;
    return sl_secret_eq(t, token);
}

int sl_http_authorize(const char *user_token, const sl_http_request *rq, int *authed,
                      const char **why)
{
    static const char *dummy;
    if (!why) why = &dummy;
    int is_get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
    int is_post = !strcmp(rq->method, "POST");
    int has_token = user_token && *user_token;
    int bearer = has_token && bearer_ok(user_token, rq->authorization);
    int cookie = has_token && !bearer && sl_http_session_valid(user_token, rq->session);
    if (authed) *authed = bearer || cookie;

    if (rq->kind == SL_HTTP_PAGE && !is_get) {
        *why = "this page is read-only: use GET";
        return 405;
    }
    if (rq->kind == SL_HTTP_ACTION && !is_post) {
        *why = "actions change state: use POST";
        return 405;
    }
    if (rq->kind == SL_HTTP_LOGIN && !is_get && !is_post) {
        *why = "use GET for the login form, POST to log in";
        return 405;
    }
    if (!has_token && (!rq->loopback || rq->kind != SL_HTTP_PAGE)) {
        *why = "no user credential is configured on this controller: only read-only pages "
               "are served, and only to 127.0.0.1";
        return 401;
    }
    if (is_post) { /* state changes and logins: the browser's page must be ours */
        if (rq->origin && *rq->origin) {
            if (!same_origin(rq->origin, rq->host, 0)) {
                *why = "cross-origin request refused (Origin does not match Host)";
                return 403;
            }
        } else if (rq->referer && *rq->referer && !same_origin(rq->referer, rq->host, 1)) {
            *why = "cross-origin request refused (Referer does not match Host)";
            return 403;
        }
    }
    if (rq->kind == SL_HTTP_LOGIN) return 0;
    if (rq->kind == SL_HTTP_PAGE && rq->loopback) return 0;
    if (!bearer && !cookie) {
        *why = rq->authorization || rq->session
                   ? "wrong credential: send Authorization: Bearer <user token>, or log in "
                     "again at /login"
                   : "the user credential is required: send Authorization: Bearer <the "
                     "controller's STATE/secrets/user.token>, or log in at /login";
        return 401;
    }
    if (rq->kind == SL_HTTP_ACTION && cookie) {
        char want[SL_HTTP_CSRF_LEN + 1];
        sl_http_csrf_token(user_token, rq->session, want);
        if (!sl_secret_eq(rq->csrf, want)) {
            *why = "missing or wrong CSRF token: send the session's token (GET /api/session) "
                   "in X-CSRF-Token or the csrf form field";
            return 403;
        }
    }
    return 0;
}
