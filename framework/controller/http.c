/* http.c - status page, /metrics and /api/status (see http.h).
 * Every request reads the scheduler's counters (one lock, no SQL besides
 * incomplete-gather counts), so scraping every few seconds costs nothing
 * the controller would notice. */
#include "controller/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/clock.h"

struct sl_http {
    struct MHD_Daemon *d;
    sl_sched *sched;
};

static const char *const STATES[] = {"queued", "running", "done", "failed", "cancelled"};

typedef struct {
    sl_buf *b;
    int kind; /* 0 metrics, 1 json, 2 html */
    int n;
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
    if (c->kind == 0) {
        for (size_t k = 0; k < ps->nstages; k++) {
            const sl_stage_stat *s = &ps->stages[k];
            for (int st = 0; st < 5; st++)
                sl_buf_printf(b,
                              "sluice_tasks{pipeline=\"%s\",id=\"%lld\",stage=\"%s\",state=\"%s\"} "
                              "%lld\n",
                              ps->name, (long long)ps->id, s->name, STATES[st],
                              (long long)s->count[st]);
            sl_buf_printf(b,
                          "sluice_gather_waiting{pipeline=\"%s\",id=\"%lld\",stage=\"%s\"} %lld\n",
                          ps->name, (long long)ps->id, s->name, (long long)s->waiting);
            sl_buf_printf(b, "sluice_stage_rate{pipeline=\"%s\",id=\"%lld\",stage=\"%s\"} %.3f\n",
                          ps->name, (long long)ps->id, s->name, s->rate);
        }
        sl_buf_printf(b, "sluice_pipeline_running{pipeline=\"%s\",id=\"%lld\"} %d\n", ps->name,
                      (long long)ps->id, strcmp(ps->state, "running") == 0);
        sl_buf_printf(b, "sluice_corrupt_copies{pipeline=\"%s\",id=\"%lld\"} %lld\n", ps->name,
                      (long long)ps->id, (long long)ps->corrupt);
    } else if (c->kind == 1) {
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
    }
    return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    sl_http *h = cls;
    if (strcmp(method, "GET") != 0) return MHD_NO;
    sl_buf b = SL_BUF_INIT;
    const char *type = "text/plain; charset=utf-8";
    int status = MHD_HTTP_OK;
    render_ctx c = {&b, 0, 0};
    sl_err e = {0};
    if (!strcmp(url, "/metrics")) {
        type = "text/plain; version=0.0.4";
        sl_buf_puts(&b, "# HELP sluice_tasks Tasks by pipeline, stage and state.\n"
                        "# TYPE sluice_tasks gauge\n");
        sl_sched_status(h->sched, NULL, render, &c, &e);
    } else if (!strcmp(url, "/api/status")) {
        type = "application/json";
        c.kind = 1;
        sl_buf_putc(&b, '[');
        sl_sched_status(h->sched, NULL, render, &c, &e);
        sl_buf_puts(&b, "]\n");
    } else if (!strcmp(url, "/")) {
        type = "text/html; charset=utf-8";
        c.kind = 2;
        sl_buf_puts(&b, "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=2>"
                        "<title>sluice</title><style>body{font:14px sans-serif;margin:2em}"
                        "table{border-collapse:collapse}td,th{padding:3px 10px;text-align:right}"
                        "td:first-child,th:first-child{text-align:left}.f{color:#b00}"
                        ".w{color:#b60}.bar{width:160px;height:10px;background:#eee}"
                        ".bar div{height:10px;background:#3a7}</style><h1>sluice</h1>");
        sl_sched_status(h->sched, NULL, render, &c, &e);
        sl_buf_puts(&b, "<p><a href=/metrics>/metrics</a> &middot; "
                        "<a href=/api/status>/api/status</a></p>");
    } else {
        status = MHD_HTTP_NOT_FOUND;
        sl_buf_puts(&b, "not found: try /, /metrics or /api/status\n");
    }
    if (e.code) {
        sl_buf_reset(&b);
        sl_buf_printf(&b, "error: %s\n", e.msg);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(b.len, b.data ? b.data : (char *)"", MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    sl_buf_free(&b);
    return rc;
}

sl_http *sl_http_start(const char *addr, sl_sched *sched, int *port, sl_err *err)
{
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
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
    if (!h->d) {
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
    free(h);
}
