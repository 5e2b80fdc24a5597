/* agent.h - the agent daemon that runs on every host.
 *
 * It registers with the controller, leases batches of tasks with a
 * long-poll, runs each in a slot through a runtime (framework/runtime),
 * enforces timeouts, collects exit codes, log tails and emitted messages,
 * and reports completions in batches; heartbeats extend its leases. */
#ifndef SL_AGENT_H
#define SL_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct sl_agent_config {
    const char *controller; /* "127.0.0.1:7470" */
    const char *name;       /* host name; default gethostname() */
    const char *const *groups;
    size_t ngroups;
    const char *dir;                /* agent directory: work dirs, default SSD tier */
    const char *mem_root;           /* default /dev/shm/sluice/<name> */
    const char *ssd_root;           /* default <dir>/ssd */
    int max_inflight;               /* leased + running tasks at most (default 1024) */
    int wait_ms;                    /* long-poll length (default 5000) */
    int keep_workdirs;              /* keep work dirs of successful attempts too */
    int64_t drain_ms;               /* SIGTERM: stop leasing, let running tasks finish up to
                                       this long, then stop (0: stop at once; SIGINT always does) */
    int64_t mem_budget;             /* bytes of the memory tier for objects (0: half of it) */
    int64_t ssd_budget;             /* bytes of the SSD tier (0: 80 % of its free space) */
    const char *data_listen;        /* data server address (default: the advertised address,
                                       any port) */
    const char *join_token_file;    /* the join credential (default $SLUICE_JOIN_TOKEN_FILE,
                                       else $SLUICE_JOIN_TOKEN) */
    const char *tls_ca;             /* TLS to the controller and peers: the cluster CA */
    const char *tls_cert, *tls_key; /* this host's certificate: its data server serves
                                       TLS with it */
    const char *advertise;          /* address peers reach the data server at (default: the
                                       local address used to reach the controller) */
} sl_agent_config;

/* Runs until SIGTERM/SIGINT. Returns 0 on a clean shutdown. */
int sl_agent_serve(const sl_agent_config *cfg, sl_err *err);

#endif
