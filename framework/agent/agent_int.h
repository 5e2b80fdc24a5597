/* agent_int.h - agent internals shared by agent*.c (not for callers). */
#ifndef SL_AGENT_INT_H
#define SL_AGENT_INT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/agent.h"
#include "pipeline/pipeline.h"
#include "rpc/rpc.h"
#include "util/buf.h"

typedef struct sl_emitted {
    char *stage, *key, *headers;
} sl_emitted;

typedef struct sl_atask {
    int64_t id, pipeline_id;
    int stage, attempt;
    char *key, *headers;
    double ready_at;
    /* while running (owned by the executor thread) */
    pid_t pid;
    double started, finished;
    int64_t deadline_ms; /* monotonic; 0 = none */
    int timed_out, cancelled;
    char *workdir;
    /* result */
    int exit_code;
    char *error, *out_tail, *err_tail;
    sl_emitted *emitted;
    size_t nemitted;
    struct sl_atask *next;
} sl_atask;

typedef struct sl_amodel {
    int64_t pipeline_id;
    sl_pipeline *model;
} sl_amodel;

typedef struct sl_agent {
    const sl_agent_config *cfg;
    char *name, *agent_id, *mem_root, *ssd_root, *work_root;
    sl_rpc_client *rpc;
    int64_t lease_ttl_ms;
    int evfd; /* wakes the executor: new tasks or cancellations */

    pthread_mutex_t mu;        /* guards the fields below */
    pthread_cond_t report_cv;  /* completions queued or stopping */
    pthread_cond_t capacity_cv; /* a slot freed or stopping */
    sl_atask *pending_head, *pending_tail; /* leased, not yet started */
    sl_atask **running;        /* started, not yet finished */
    size_t nrunning;
    sl_atask *done_head;       /* finished, not yet reported */
    size_t ndone;
    int64_t *cancel;           /* ids the controller asked to stop */
    size_t ncancel;
    int inflight;              /* pending + running + leased in the current pass */
    uint64_t slot_freed;       /* bumped whenever a task finishes (no lost wakeups) */
    int lease_waiting;         /* lease thread waits for a slot: it will report */
    int stopping;
    int draining;   /* SIGTERM with drain_ms: lease no more, finish what runs */
    int lease_done; /* the lease thread has left (draining or stopping) */

    /* executor thread only */
    sl_amodel *models;
    size_t nmodels;
} sl_agent;

/* Pipeline model for a task (fetched from the controller on first use). */
const sl_pipeline *sl_agent_model(sl_agent *a, int64_t pipeline_id, sl_err *err);
/* Prepares the work dir and starts t; on failure fills t's result fields
 * and returns negative (the task is then complete). */
int sl_agent_task_start(sl_agent *a, sl_atask *t);
/* After the process ended: exit code, tails, emitted messages, cleanup. */
void sl_agent_task_finish(sl_agent *a, sl_atask *t, int wait_status);
void sl_agent_task_free(sl_atask *t);

#endif
