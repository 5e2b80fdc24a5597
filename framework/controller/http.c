/* http.c - status page, /api/status, login and the two dashboard actions
 * (see http.h); /metrics and /api/history are routed to metrics.c. Every
 * page read takes the scheduler's counters (one lock, no SQL besides
 * incomplete-gather counts and the small hosts table), so scraping every
 * few seconds costs nothing the controller would notice. Who may do what is
 * decided by http_auth.c from facts gathered here; this file only routes,
 * caps what a client can make it hold, and renders. */
#include "controller/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/http_auth.h"
#include "controller/metrics.h"
#include "util/buf.h"
#include "util/clock.h"

struct sl_http {
    struct MHD_Daemon *d;
    sl_sched *sched;
    char *user_token; /* NULL: none configured (read-only pages, loopback only) */
    double forget_s;  /* finished pipelines leave /metrics after this */
};

/* One request's upload, owned by MHD's per-request pointer, freed in
 * request_done. The body is kept only up to SL_HTTP_MAX_BODY. */
typedef struct {
    sl_buf body;
    int too_big;
} req_state;

static const char *const STATES[] = {"queued", "running", "done", "failed", "cancelled"};

typedef struct {
    sl_buf *b;
    int kind; /* 1 json, 2 html (/metrics: metrics.c) */
    int n;
    const char *csrf; /* html: the session's CSRF token, to show action forms */
} render_ctx;

static void html_esc(sl_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            sl_buf_puts(b, "&lt;");
            break;
        case '>':
            sl_buf_puts(b, "&gt;");
            break;
        case '&':
            sl_buf_puts(b, "&amp;");
            break;
        case '"':
            sl_buf_puts(b, "&quot;");
            break;
        default:
            sl_buf_putc(b, *s);
        }
    }
}

static int render(void *ctx, const sl_pipe_stat *ps)
{
    render_ctx *c = ctx;
    sl_buf *b = c->b;
    if (c->kind == 1) {
        sl_buf_printf(b, "%s{\"id\":%lld,\"name\":", c->n++ ? "," : "", (long long)ps->id);
        sl_buf_json_str(b, ps->name);
        sl_buf_puts(b, ",\"state\":");
        sl_buf_json_str(b, ps->state);
        sl_buf_puts(b, ",\"stages\":[");
        for (size_t k = 0; k < ps->nstages; k++) {
            const sl_stage_stat *s = &ps->stages[k];
            sl_buf_printf(b, "%s{\"name\":", k ? "," : "");
            sl_buf_json_str(b, s->name);
            for (int st = 0; st < 5; st++)
                sl_buf_printf(b, ",\"%s\":%lld", STATES[st], (long long)s->count[st]);
            sl_buf_printf(b, ",\"waiting\":%lld,\"rate\":%.3f}", (long long)s->waiting, s->rate);
        }
        sl_buf_puts(b, "]}");
    } else {
        sl_buf_puts(b, "<h2>");
        html_esc(b, ps->name);
        sl_buf_printf(b, " <small>#%lld, %s</small></h2>", (long long)ps->id, ps->state);
        for (size_t w = 0; w < ps->nwarnings; w++) {
            sl_buf_puts(b, "<p class=w>warning: ");
            html_esc(b, ps->warnings[w]);
            sl_buf_puts(b, "</p>");
        }
        sl_buf_puts(b, "<table><tr><th>stage<th>done<th>running<th>queued<th>waiting<th>failed"
                       "<th>rate/s<th>progress</tr>");
        for (size_t k = 0; k < ps->nstages; k++) {
            const sl_stage_stat *s = &ps->stages[k];
            int64_t total = 0;
            for (int st = 0; st < 5; st++)
                total += s->count[st];
            int pct = total ? (int)(100 * s->count[2] / total) : 0;
            sl_buf_puts(b, "<tr><td>");
            html_esc(b, s->name);
            sl_buf_printf(b,
                          "<td>%lld<td>%lld<td>%lld<td>%lld<td%s>%lld<td>%.1f<td><div class=bar>"
                          "<div style='width:%d%%'></div></div></tr>",
                          (long long)s->count[2], (long long)s->count[1], (long long)s->count[0],
                          (long long)s->waiting, s->count[3] ? " class=f" : "",
                          (long long)s->count[3], s->rate, pct);
        }
        sl_buf_puts(b, "</table>");
        if (c->csrf) {
            for (int a = 0; a < 2; a++) {
                sl_buf_printf(b, "<form method=post action=/api/%s style='display:inline'>",
                              a ? "cancel" : "retry");
                sl_buf_printf(b, "<input type=hidden name=csrf value='%s'>", c->csrf);
                sl_buf_printf(b, "<input type=hidden name=pipeline value='%lld'>",
                              (long long)ps->id);
                sl_buf_printf(b, "<button>%s</button></form> ",
                              a ? "cancel pipeline" : "retry failed tasks");
            }
        }
    }
    return 0;
}

/* Field `name` of an application/x-www-form-urlencoded body, decoded into
 * out. Returns 1 if present. */
static int form_get(const char *body, const char *name, sl_buf *out)
{
    size_t nl = strlen(name);
    for (const char *p = body; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            sl_buf_reset(out);
            for (size_t i = nl + 1; i < len; i++) {
                char ch = p[i];
                if (ch == '+')
                    ch = ' ';
                else if (ch == '%' && i + 2 < len && isxdigit((unsigned char)p[i + 1]) &&
                         isxdigit((unsigned char)p[i + 2])) {
                    char hx[3] = {p[i + 1], p[i + 2], 0};
                    ch = (char)strtol(hx, NULL, 16);
                    i += 2;
                }
                sl_buf_putc(out, ch);
            }
            sl_buf_putc(out, 0);
            out->len--;
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *type,
                             const sl_buf *b, const char *hdr, const char *val)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(b->len, b->data ? b->data : (char *)"",
                                                             MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY"); /* no clickjacking of the forms */
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (hdr) MHD_add_response_header(r, hdr, val);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"sluice\"");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, int status, const char *text)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_printf(&b, "%d: %s\n", status, text);
    enum MHD_Result rc = reply(conn, status, "text/plain; charset=utf-8", &b, NULL, NULL);
    sl_buf_free(&b);
    return rc;
}

static const char LOGIN_FORM[] =
    "<!doctype html><meta charset=utf-8><title>sluice: log in</title>"
    "<style>body{font:14px sans-serif;margin:2em}</style><h1>sluice</h1>"
    "<p>%s</p><form method=post action=/login><label>user token "
    "<input type=password name=token autofocus></label> <button>log in</button></form>"
    "<p>Scripts may send <code>Authorization: Bearer &lt;user token&gt;</code> instead.</p>";

/* POST /login: the token in the body, checked in constant time; the answer
 * carries a session cookie derived from it, never the token itself. */
static enum MHD_Result do_login(sl_http *h, struct MHD_Connection *conn, const char *body)
{
    sl_buf tok = SL_BUF_INIT, b = SL_BUF_INIT;
    enum MHD_Result rc;
    char session[SL_HTTP_SESSION_LEN + 1];
    if (form_get(body, "token", &tok) && sl_secret_eq(tok.data, h->user_token) &&
        sl_http_session_new(h->user_token, session) == 0) {
        char *cookie =
            sl_xasprintf("%s=%s; HttpOnly; SameSite=Strict; Path=/", SL_HTTP_COOKIE, session);
        sl_buf_puts(&b, "logged in; go to /\n");
        struct MHD_Response *r =
            MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
        MHD_add_response_header(r, "Set-Cookie", cookie);
        MHD_add_response_header(r, "Location", "/");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        rc = MHD_queue_response(conn, MHD_HTTP_SEE_OTHER, r);
        MHD_destroy_response(r);
        free(cookie);
    } else {
        sl_buf_printf(&b, LOGIN_FORM, "401: wrong token, try again.");
        rc = reply(conn, MHD_HTTP_UNAUTHORIZED, "text/html; charset=utf-8", &b, NULL, NULL);
    }
    if (tok.data) memset(tok.data, 0, tok.len);
    sl_buf_free(&tok);
    sl_buf_free(&b);
    return rc;
}

/* POST /api/retry (pipeline, stage optional) and /api/cancel (pipeline):
 * the same scheduler calls as the gRPC Retry and Cancel. */
static enum MHD_Result do_action(sl_http *h, struct MHD_Connection *conn, const char *url,
                                 const char *body)
{
    sl_buf pipe = SL_BUF_INIT, stage = SL_BUF_INIT, b = SL_BUF_INIT;
    sl_err e = {0};
    int64_t pid = -1, n = 0;
    int retry = !strcmp(url, "/api/retry");
    int rc = 0;
    if (!form_get(body, "pipeline", &pipe) || !pipe.len)
        rc = sl_errf(&e, SL_EINVAL, "name the pipeline (form field pipeline=NAME or ID)");
    if (rc == 0) rc = sl_sched_find_pipeline(h->sched, pipe.data, &pid, &e);
    if (rc == 0 && retry) {
        int k = -1;
        if (form_get(body, "stage", &stage) && stage.len &&
            (k = sl_sched_stage_index(h->sched, pid, stage.data, &e)) < 0)
            rc = k;
        if (rc == 0) rc = sl_sched_retry(h->sched, pid, k, NULL, 0, &n, &e);
    } else if (rc == 0) {
        rc = sl_sched_cancel(h->sched, pid, &n, &e);
    }
    enum MHD_Result r;
    if (rc < 0) {
        int st = rc == SL_ENOTFOUND ? MHD_HTTP_NOT_FOUND
                 : rc == SL_EINVAL  ? MHD_HTTP_BAD_REQUEST
                                    : MHD_HTTP_INTERNAL_SERVER_ERROR;
        r = reply_text(conn, st, e.msg);
    } else {
        const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
        sl_buf_printf(&b, "{\"pipeline_id\":%lld,\"%s\":%lld}\n", (long long)pid,
                      retry ? "requeued" : "cancelled", (long long)n);
        if (accept && strstr(accept, "text/html")) /* a dashboard form: back to the page */
            r = reply(conn, MHD_HTTP_SEE_OTHER, "application/json", &b, "Location", "/");
        else
            r = reply(conn, MHD_HTTP_OK, "application/json", &b, NULL, NULL);
    }
    sl_buf_free(&pipe);
    sl_buf_free(&stage);
    sl_buf_free(&b);
    return r;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    sl_http *h = cls;
    req_state *rs = *con_cls;
    if (!rs) { /* headers only: refuse an announced oversize body before reading it */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > SL_HTTP_MAX_BODY)
            return reply_text(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                              "request body over the limit of " SL_HTTP_MAX_BODY_STR " bytes");
        *con_cls = rs = sl_xcalloc(1, sizeof *rs);
        return MHD_YES;
    }
    if (*upload_size) {
        if (rs->body.len + *upload_size > SL_HTTP_MAX_BODY) rs->too_big = 1;
        if (rs->too_big) return MHD_NO; /* chunked and too long: drop the connection */
        sl_buf_append(&rs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    sl_buf_putc(&rs->body, 0); /* NUL-terminate for form_get */
    const char *body = rs->body.data;

    sl_http_request rq = {0};
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    rq.loopback = ci && sl_http_peer_is_loopback(ci->client_addr);
    rq.method = method;
    int action = !strcmp(url, "/api/retry") || !strcmp(url, "/api/cancel");
    int login = !strcmp(url, "/login");
    rq.kind = action ? SL_HTTP_ACTION : login ? SL_HTTP_LOGIN : SL_HTTP_PAGE;
    rq.authorization = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    rq.session = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, SL_HTTP_COOKIE);
    rq.origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    rq.referer = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Referer");
    rq.host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    rq.csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
    sl_buf csrf_field = SL_BUF_INIT;
    if (!rq.csrf && form_get(body, "csrf", &csrf_field)) rq.csrf = csrf_field.data;
    const char *why = "";
    int authed = 0;
    int deny = sl_http_authorize(h->user_token, &rq, &authed, &why);
    sl_buf_free(&csrf_field);
    if (deny == MHD_HTTP_UNAUTHORIZED && !strcmp(method, "GET") && !action) {
        sl_buf b = SL_BUF_INIT;
        sl_buf_printf(&b, LOGIN_FORM, why);
        enum MHD_Result r = reply(conn, deny, "text/html; charset=utf-8", &b, NULL, NULL);
        sl_buf_free(&b);
        return r;
    }
    if (deny) return reply_text(conn, deny, why);
    if (login && !strcmp(method, "POST")) return do_login(h, conn, body);
    if (action) return do_action(h, conn, url, body);

    /* a session on a loopback page still gets its CSRF token for the forms */
    char csrf[SL_HTTP_CSRF_LEN + 1];
    int has_session = h->user_token && sl_http_session_valid(h->user_token, rq.session);
    if (has_session) sl_http_csrf_token(h->user_token, rq.session, csrf);

    sl_buf b = SL_BUF_INIT;
    const char *type = "text/plain; charset=utf-8";
    int status = MHD_HTTP_OK;
    render_ctx c = {&b, 0, 0, has_session ? csrf : NULL};
    sl_err e = {0};
    if (!strcmp(url, "/metrics")) {
        type = "text/plain; version=0.0.4";
        sl_metrics_render(h->sched, h->forget_s, &b, &e);
    } else if (!strcmp(url, "/api/history")) {
        type = "application/json";
        sl_metrics_history_json(
            h->sched, MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "series"),
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since"), &b, &e);
    } else if (!strcmp(url, "/api/status")) {
        type = "application/json";
        c.kind = 1;
        sl_buf_putc(&b, '[');
        sl_sched_status(h->sched, NULL, render, &c, &e);
        sl_buf_puts(&b, "]\n");
    } else if (!strcmp(url, "/api/session")) {
        type = "application/json";
        sl_buf_printf(&b, "{\"authenticated\":%s", authed ? "true" : "false");
        if (has_session) sl_buf_printf(&b, ",\"csrf\":\"%s\"", csrf);
        sl_buf_puts(&b, "}\n");
    } else if (login) {
        type = "text/html; charset=utf-8";
        sl_buf_printf(&b, LOGIN_FORM,
                      authed ? "You are logged in." : "Log in to act on pipelines.");
    } else if (!strcmp(url, "/")) {
        type = "text/html; charset=utf-8";
        c.kind = 2;
        sl_buf_puts(&b, "<!doctype html><meta charset=utf-8>");
        if (!has_session) sl_buf_puts(&b, "<meta http-equiv=refresh content=2>");
        sl_buf_puts(&b, "<title>sluice</title><style>body{font:14px sans-serif;margin:2em}"
                        "table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right}"
                        "td:first-child,th:first-child{text-align:left}.f{color:#b00}"
                        ".w{color:#b60}.bar{width:160px;height:10px;background:#eee}"
                        ".bar div{height:10px;background:#3a7}</style><h1>sluice</h1>");
        sl_sched_status(h->sched, NULL, render, &c, &e);
        sl_buf_puts(&b, "<p><a href=/metrics>/metrics</a> &middot; "
                        "<a href=/api/status>/api/status</a> &middot; "
                        "<a href=/api/history>/api/history</a>");
        if (!has_session) sl_buf_puts(&b, " &middot; <a href=/login>log in to act</a>");
        sl_buf_puts(&b, "</p>");
    } else {
        status = MHD_HTTP_NOT_FOUND;
        sl_buf_puts(&b, "not found: try /, /metrics, /api/status, /api/history or /login\n");
    }
    if (e.code) {
        sl_buf_reset(&b);
        sl_buf_printf(&b, "error: %s\n", e.msg);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    enum MHD_Result rc = reply(conn, status, type, &b, NULL, NULL);
    sl_buf_free(&b);
    return rc;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_state *rs = *con_cls;
    if (!rs) return;
    sl_buf_free(&rs->body);
    free(rs);
    *con_cls = NULL;
}

sl_http *sl_http_start(const sl_http_config *cfg, sl_sched *sched, int *port, sl_err *err)
{
    const char *addr = cfg->addr ? cfg->addr : "127.0.0.1:0";
    char host[128] = "127.0.0.1";
    int p = 0;
    const char *colon = strrchr(addr, ':');
    if (colon) {
        snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
        p = atoi(colon + 1);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)p);
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa.sin_addr) != 1) {
        sl_errf(err, SL_EINVAL, "--http %s: not an IPv4 address:port", addr);
        return NULL;
    }
    sl_http *h = sl_xcalloc(1, sizeof *h);
    h->sched = sched;
    h->forget_s = cfg->metrics_forget_s > 0 ? cfg->metrics_forget_s : SL_METRICS_FORGET_S;
    if (cfg->user_token && *cfg->user_token) h->user_token = sl_xstrdup(cfg->user_token);
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)SL_HTTP_MAX_HEADERS, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)SL_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)SL_HTTP_MAX_PER_IP, MHD_OPTION_NOTIFY_COMPLETED, request_done,
                            NULL, MHD_OPTION_END);
    if (!h->d) {
        free(h->user_token);
        free(h);
        sl_errf(err, SL_EIO, "cannot serve HTTP on %s", addr);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (port) *port = info ? info->port : p;
    return h;
}

void sl_http_stop(sl_http *h)
{
    if (!h) return;
    MHD_stop_daemon(h->d);
    if (h->user_token) memset(h->user_token, 0, strlen(h->user_token));
    free(h->user_token);
    free(h);
}
