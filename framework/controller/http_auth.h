/* http_auth.h - who may do what on the controller's HTTP page, as pure
 * functions of the request's facts, so the decision is unit-tested apart
 * from libmicrohttpd (http.c gathers the facts and obeys the answer).
 *
 * The rules: read-only pages are open to loopback peers (127.0.0.0/8, ::1);
 * any other peer must show the user credential, as `Authorization: Bearer
 * TOKEN` or as the session cookie that POST /login hands out. Actions (POST
 * endpoints that change state) need the credential from every peer, a
 * matching Origin/Referer when the browser sends one, and, when the
 * credential is a cookie, the session's CSRF token (a Bearer header cannot
 * be attached by another site, a cookie can). No user token configured:
 * only loopback reads are served. */
#ifndef SL_HTTP_AUTH_H
#define SL_HTTP_AUTH_H

#include <stddef.h>
#include <sys/socket.h>

#include "controller/crypto.h"

/* A session cookie: 32 hex nonce, '.', 64 hex HMAC(token, nonce). */
#define SL_HTTP_SESSION_LEN (32 + 1 + 2 * SL_SHA256_LEN)
#define SL_HTTP_CSRF_LEN (2 * SL_SHA256_LEN)
#define SL_HTTP_COOKIE "sluice_session"

typedef enum sl_http_kind {
    SL_HTTP_PAGE,   /* read-only: GET or HEAD */
    SL_HTTP_LOGIN,  /* /login: GET shows the form, POST carries the token in its body */
    SL_HTTP_ACTION, /* changes state: POST only */
} sl_http_kind;

typedef struct sl_http_request {
    int loopback;                        /* peer in 127.0.0.0/8 or ::1 (sl_http_peer_is_loopback) */
    const char *method;                  /* "GET", "POST", ... */
    sl_http_kind kind;                   /* what the URL is */
    const char *authorization;           /* Authorization header, NULL if absent */
    const char *session;                 /* value of the sluice_session cookie, NULL if absent */
    const char *csrf;                    /* X-CSRF-Token header, else the csrf form field */
    const char *origin, *referer, *host; /* headers, NULL if absent */
} sl_http_request;

/* Decides one request. user_token NULL or "" = no credential exists. Returns
 * 0 to serve it, else the HTTP status to refuse with (401 no or wrong
 * credential, 403 cross-origin or missing/wrong CSRF token, 405 method not
 * allowed for this URL) with *why (static text) saying what to do. For
 * SL_HTTP_LOGIN POSTs, 0 means "check the token in the body" (the caller
 * compares it with sl_secret_eq). *authed (may be NULL) is set to 1 when
 * the request carries a valid credential. */
int sl_http_authorize(const char *user_token, const sl_http_request *rq, int *authed,
                      const char **why);

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int sl_http_peer_is_loopback(const struct sockaddr *sa);

/* A fresh session cookie value for user_token (nonce from getrandom). out:
 * SL_HTTP_SESSION_LEN + 1 bytes. Returns 0, or -1 if no randomness. */
int sl_http_session_new(const char *user_token, char *out);
/* 1 when value is a session issued under user_token (constant-time). */
int sl_http_session_valid(const char *user_token, const char *value);
/* The session's CSRF token: hex HMAC(user_token, "csrf:" session). out:
 * SL_HTTP_CSRF_LEN + 1 bytes. */
void sl_http_csrf_token(const char *user_token, const char *session, char *out);

#endif
