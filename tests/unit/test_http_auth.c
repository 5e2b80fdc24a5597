/* test_http_auth.c - the HTTP page's access decision (controller/http_auth.c)
 * and the HMAC-SHA-256 it rests on (controller/crypto.c): loopback reads open,
 * everything else behind the user credential, actions behind credential,
 * same origin and (for cookie sessions) the CSRF token. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "controller/http_auth.h"
#include "controller/crypto.h"

static const char *TOK = "s3cret-user-token";

/* RFC 4231 test case 2, through our wrapper */
static void test_hmac_vectors(void **state)
{
    (void)state;
    uint8_t mac[SL_SHA256_LEN];
    char hex[2 * SL_SHA256_LEN + 1];
    const char *d2 = "what do ya want for nothing?";
    sl_hmac_sha256("Jefe", 4, d2, strlen(d2), mac);
    sl_hex(mac, sizeof mac, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_secret_eq(void **state)
{
    (void)state;
    assert_true(sl_secret_eq("abc", "abc"));
    assert_false(sl_secret_eq("abd", "abc"));
    assert_false(sl_secret_eq("ab", "abc"));
    assert_false(sl_secret_eq("abcd", "abc"));
    assert_false(sl_secret_eq("", "abc"));
    assert_false(sl_secret_eq(NULL, "abc"));
    assert_false(sl_secret_eq("abc", NULL));
}

static void test_loopback(void **state)
{
    (void)state;
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    const char *yes4[] = {"127.0.0.1", "127.255.3.4"},
               *no4[] = {"10.0.0.1", "128.0.0.1", "0.0.0.0"};
    for (size_t i = 0; i < 2; i++) {
        inet_pton(AF_INET, yes4[i], &v4.sin_addr);
        assert_true(sl_http_peer_is_loopback((struct sockaddr *)&v4));
    }
    for (size_t i = 0; i < 3; i++) {
        inet_pton(AF_INET, no4[i], &v4.sin_addr);
        assert_false(sl_http_peer_is_loopback((struct sockaddr *)&v4));
    }
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);
    assert_true(sl_http_peer_is_loopback((struct sockaddr *)&v6));
    inet_pton(AF_INET6, "::ffff:127.0.0.9", &v6.sin6_addr);
    assert_true(sl_http_peer_is_loopback((struct sockaddr *)&v6));
    inet_pton(AF_INET6, "::ffff:10.0.0.9", &v6.sin6_addr);
    assert_false(sl_http_peer_is_loopback((struct sockaddr *)&v6));
    inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
    assert_false(sl_http_peer_is_loopback((struct sockaddr *)&v6));
    assert_false(sl_http_peer_is_loopback(NULL));
}

static void test_sessions(void **state)
{
    (void)state;
    char s1[SL_HTTP_SESSION_LEN + 1], s2[SL_HTTP_SESSION_LEN + 1];
    assert_int_equal(sl_http_session_new(TOK, s1), 0);
    assert_int_equal(sl_http_session_new(TOK, s2), 0);
    assert_int_equal(strlen(s1), SL_HTTP_SESSION_LEN);
    assert_string_not_equal(s1, s2);
    assert_null(strstr(s1, TOK)); /* the raw token never goes into the cookie */
    assert_true(sl_http_session_valid(TOK, s1));
    assert_false(sl_http_session_valid("another-token", s1)); /* a new token logs out */
    assert_false(sl_http_session_valid(NULL, s1));
    assert_false(sl_http_session_valid("", s1));
    s1[40] = s1[40] == 'a' ? 'b' : 'a';
    assert_false(sl_http_session_valid(TOK, s1));
    assert_false(sl_http_session_valid(TOK, "short"));
    assert_int_equal(sl_http_session_new(NULL, s1), -1);
    char c1[SL_HTTP_CSRF_LEN + 1], c2[SL_HTTP_CSRF_LEN + 1];
    sl_http_csrf_token(TOK, s2, c1);
    sl_http_csrf_token(TOK, s1, c2);
    assert_int_equal(strlen(c1), SL_HTTP_CSRF_LEN);
    assert_string_not_equal(c1, c2); /* per session */
}

static int decide(const char *token, sl_http_request rq)
{
    const char *why = NULL;
    int rc = sl_http_authorize(token, &rq, NULL, &why);
    if (rc) assert_non_null(why);
    return rc;
}

static void test_pages(void **state)
{
    (void)state;
    char sess[SL_HTTP_SESSION_LEN + 1];
    sl_http_session_new(TOK, sess);
    sl_http_request get = {.method = "GET", .kind = SL_HTTP_PAGE, .host = "h:1"};
    sl_http_request lo = get;
    lo.loopback = 1;
    assert_int_equal(decide(TOK, lo), 0);
    assert_int_equal(decide(NULL, lo), 0);   /* loopback reads need no token */
    assert_int_equal(decide(TOK, get), 401); /* remote, nothing shown */
    assert_int_equal(decide(NULL, get), 401);
    assert_int_equal(decide("", get), 401);
    sl_http_request rq = get;
    rq.authorization = "Bearer s3cret-user-token";
    assert_int_equal(decide(TOK, rq), 0);
    assert_int_equal(decide(NULL, rq), 401); /* no token configured: refuse every remote */
    rq.authorization = "bearer s3cret-user-token";
    assert_int_equal(decide(TOK, rq), 0);
    rq.authorization = "Bearer s3cret-user-tokeN";
    assert_int_equal(decide(TOK, rq), 401);
    rq.authorization = "Bearer s3cret-user-token2";
    assert_int_equal(decide(TOK, rq), 401);
    rq.authorization = "Basic czNjcmV0";
    assert_int_equal(decide(TOK, rq), 401);
    rq.authorization = "Bearer ";
    assert_int_equal(decide("", rq), 401);
    rq = get;
    rq.session = sess;
    assert_int_equal(decide(TOK, rq), 0);
    assert_int_equal(decide("rotated", rq), 401);
    rq.session = TOK; /* the raw token is no session */
    assert_int_equal(decide(TOK, rq), 401);
    rq = lo;
    rq.method = "POST";
    assert_int_equal(decide(TOK, rq), 405); /* GET never changes state, POST to a page is 405 */
    rq.method = "DELETE";
    assert_int_equal(decide(TOK, rq), 405);
    rq.method = "HEAD";
    assert_int_equal(decide(TOK, rq), 0);
}

static void test_login(void **state)
{
    (void)state;
    sl_http_request rq = {.method = "GET", .kind = SL_HTTP_LOGIN, .host = "h:1"};
    assert_int_equal(decide(TOK, rq), 0); /* remote may see the form */
    assert_int_equal(decide(NULL, rq), 401);
    rq.method = "POST";
    assert_int_equal(decide(TOK, rq), 0); /* the caller checks the body */
    rq.origin = "http://h:1";
    assert_int_equal(decide(TOK, rq), 0);
    rq.origin = "http://evil.example";
    assert_int_equal(decide(TOK, rq), 403);
    rq.method = "PUT";
    assert_int_equal(decide(TOK, rq), 405);
}

static void test_actions(void **state)
{
    (void)state;
    char sess[SL_HTTP_SESSION_LEN + 1], csrf[SL_HTTP_CSRF_LEN + 1], other[SL_HTTP_SESSION_LEN + 1],
        csrf_other[SL_HTTP_CSRF_LEN + 1];
    sl_http_session_new(TOK, sess);
    sl_http_session_new(TOK, other);
    sl_http_csrf_token(TOK, sess, csrf);
    sl_http_csrf_token(TOK, other, csrf_other);
    sl_http_request post = {
        .method = "POST", .kind = SL_HTTP_ACTION, .loopback = 1, .host = "127.0.0.1:8080"};
    assert_int_equal(decide(TOK, post), 401); /* even from loopback */
    assert_int_equal(decide(NULL, post), 401);
    sl_http_request rq = post;
    rq.method = "GET";
    rq.authorization = "Bearer s3cret-user-token";
    assert_int_equal(decide(TOK, rq), 405); /* GET never acts */
    rq = post;
    rq.authorization = "Bearer s3cret-user-token";
    assert_int_equal(decide(TOK, rq), 0); /* a header no other site can attach */
    rq.loopback = 0;
    assert_int_equal(decide(TOK, rq), 0);
    rq.origin = "http://127.0.0.1:8080";
    assert_int_equal(decide(TOK, rq), 0);
    rq.origin = "http://127.0.0.1:8081";
    assert_int_equal(decide(TOK, rq), 403);
    rq.origin = "http://127.0.0.1:8080.evil.example";
    assert_int_equal(decide(TOK, rq), 403);
    rq.origin = "null";
    assert_int_equal(decide(TOK, rq), 403);
    rq.origin = NULL;
    rq.referer = "http://127.0.0.1:8080/";
    assert_int_equal(decide(TOK, rq), 0);
    rq.referer = "https://evil.example/http://127.0.0.1:8080/";
    assert_int_equal(decide(TOK, rq), 403);
    rq.host = NULL; /* a Referer with no Host to compare with */
    rq.referer = "http://127.0.0.1:8080/";
    assert_int_equal(decide(TOK, rq), 403);

    rq = post; /* cookie sessions need the session's CSRF token */
    rq.session = sess;
    assert_int_equal(decide(TOK, rq), 403);
    rq.csrf = csrf_other;
    assert_int_equal(decide(TOK, rq), 403);
    rq.csrf = "";
    assert_int_equal(decide(TOK, rq), 403);
    rq.csrf = csrf;
    assert_int_equal(decide(TOK, rq), 0);
    rq.origin = "http://evil.example";
    assert_int_equal(decide(TOK, rq), 403);
    rq.origin = "http://127.0.0.1:8080";
    assert_int_equal(decide(TOK, rq), 0);
    rq.session = other; /* a valid session with another session's token */
    assert_int_equal(decide(TOK, rq), 403);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_vectors), cmocka_unit_test(test_secret_eq),
        cmocka_unit_test(test_loopback),     cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_pages),        cmocka_unit_test(test_login),
        cmocka_unit_test(test_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
