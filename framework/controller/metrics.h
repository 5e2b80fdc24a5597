/* metrics.h - what the controller tells monitoring: /metrics in the
 * Prometheus text format (every family with HELP and TYPE, its samples
 * together), and a metrics history in the state database (a sample of key
 * series every few seconds, rolled up and bounded) served as JSON at
 * /api/history for dashboards and `sluice top`. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include "sched/sched.h"
#include "util/buf.h"
#include "util/err.h"

#define SL_METRICS_FORGET_S 600.0      /* a finished pipeline leaves /metrics after this */
#define SL_HISTORY_EVERY_S 10.0        /* one history sample per this */
#define SL_HISTORY_RAW_S (24 * 3600.0) /* raw samples kept this long, then 5-min averages */
#define SL_HISTORY_BUCKET_S 300
#define SL_HISTORY_DAYS 7          /* history kept this many days */
#define SL_HISTORY_MAX_ROWS 100000 /* one /api/history answer holds at most this */

/* Appends the whole exposition to out. Pipelines finished more than
 * forget_s ago are left out (their series end). */
int sl_metrics_render(sl_sched *s, double forget_s, sl_buf *out, sl_err *err);

/* One history sample at now (tasks per state and rate per stage of running
 * pipelines, cache use per host), then the rollup and the retention of
 * keep_days. Called from the controller's reaper thread. */
int sl_metrics_sample(sl_sched *s, double now, int keep_days, sl_err *err);

/* /api/history?series=PREFIX&since=T as JSON: {"now":T,"series":{"name":
 * [[t,value],...],...}}. since: epoch seconds, or negative for seconds
 * before now; NULL = the last hour. */
int sl_metrics_history_json(sl_sched *s, const char *series, const char *since, sl_buf *out,
                            sl_err *err);

#endif
