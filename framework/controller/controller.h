/* controller.h - the controller daemon: scheduler + gRPC API + reaper.
 * `sluice controller` and `sluice run` call sl_controller_serve(). */
#ifndef SL_CONTROLLER_H
#define SL_CONTROLLER_H

#include <signal.h>
#include <stdint.h>

#include "rpc/rpc.h"
#include "util/err.h"

typedef struct sl_controller_config {
    const char *state_dir; /* holds sluice.db */
    const char *listen;    /* "127.0.0.1:7470"; port 0 picks one */
    const char *addr_file; /* if set, "host:port" is written here once listening */
    const char *http;      /* status page and /metrics address, NULL for none */
    int64_t lease_ttl_ms;
    int rpc_threads;
    int durable_fsync;
    sl_rpc_tls tls;          /* cert + key: the API over TLS */
    double metrics_forget_s; /* /metrics: finished pipelines leave after this (0: 600 s) */
    double history_every_s;  /* metrics history sample interval (0: 10 s) */
    int history_days;        /* metrics history kept this long (0: 7) */
} sl_controller_config;

/* Runs until SIGTERM or SIGINT (blocked in the caller's threads by this
 * function). Returns 0 after a clean shutdown. */
int sl_controller_serve(const sl_controller_config *cfg, sl_err *err);

#endif
