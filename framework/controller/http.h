/* http.h - the controller's small HTTP side door (libmicrohttpd): a
 * self-refreshing status page for people, /metrics in the Prometheus text
 * format for monitoring, /api/status as JSON. Read-only; the API that
 * changes anything is gRPC. */
#ifndef SL_HTTP_H
#define SL_HTTP_H

#include "sched/sched.h"
#include "util/err.h"

typedef struct sl_http sl_http;

/* Serves on addr ("127.0.0.1:7471"); *port gets the bound port. */
sl_http *sl_http_start(const char *addr, sl_sched *sched, int *port, sl_err *err);
void sl_http_stop(sl_http *h);

#endif
