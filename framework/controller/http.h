/* http.h - the controller's small HTTP side door (libmicrohttpd): a
 * self-refreshing status page for people, /metrics in the Prometheus text
 * format for monitoring, /api/status as JSON, and two dashboard actions
 * (POST /api/retry, POST /api/cancel). Safe by default: only loopback peers
 * read without a credential, every action needs the user credential and a
 * CSRF token (rules in http_auth.h), and what one client can make the
 * controller hold is capped by the SL_HTTP_MAX_* limits below. */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include "sched/sched.h"
#include "util/err.h"

/* What one client can make the page hold. */
#define SL_HTTP_MAX_BODY (64 * 1024) /* request body (login, action forms) */
#define SL_HTTP_MAX_BODY_STR "65536"
#define SL_HTTP_MAX_HEADERS (32 * 1024) /* per-connection memory: request line + headers */
#define SL_HTTP_MAX_CONNECTIONS 64      /* open connections in all */
#define SL_HTTP_MAX_PER_IP 16           /* open connections from one address */

typedef struct sl_http sl_http;

typedef struct sl_http_config {
    const char *addr;        /* "127.0.0.1:7471"; port 0 picks one */
    const char *user_token;  /* the controller's user credential (copied); NULL/"" = none:
                                loopback reads only, every other request refused */
    double metrics_forget_s; /* finished pipelines leave /metrics after this; 0 = default */
} sl_http_config;

/* Serves on cfg->addr; *port gets the bound port. */
sl_http *sl_http_start(const sl_http_config *cfg, sl_sched *sched, int *port, sl_err *err);
void sl_http_stop(sl_http *h);

#endif
