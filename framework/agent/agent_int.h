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

/* Exit code of a task whose output directory could not be read back to
 * make its manifest (an I/O error): it goes through the retry rules. */
#define SL_EXIT_OUTPUT_UNREADABLE (-4)

typedef struct sl_emitted {
    char *stage, *key, *headers;
} sl_emitted;

/* An object this task reads, as the lease described it. */
typedef struct sl_ainput {
    char *path;  /* p<pipeline>/<stage>/<key> under a tier root */
    char *files; /* "name\tsize\n" lines */
    int64_t size;
    size_t nrep;
    char **hosts, **addrs, **tiers; /* its replicas */
    char **caps;                    /* capability to read each replica (from the lease) */
} sl_ainput;

/* An object this task wrote or copied here (reported with its completion). */
typedef struct sl_aobj {
    char *tier, *path, *files;
    int64_t size;
    char *host; /* for pushes: where it went */
} sl_aobj;

typedef struct sl_atask {
    int64_t id, pipeline_id;
    int stage, attempt;
    char *key, *headers;
    double ready_at;
    /* the cache (agent_cache.c) */
    char *tier;     /* output tier from admission; NULL = mem */
    char *out_dir;  /* absolute: TIER_ROOT/p<pipeline>/<stage>/<key> */
    char *out_path; /* relative to the tier root */
    sl_ainput *inputs;
    size_t ninputs;
    char *in_dirs;  /* local directories of the inputs, space-separated */
    int staged;     /* inputs are on this host */
    sl_aobj output; /* valid when output.path is set */
    sl_aobj *copies;
    size_t ncopies;
    sl_aobj *unreach; /* replicas that could not be read (reported with exit -3) */
    size_t nunreach;
    sl_aobj *corrupt; /* copies that did not match their manifest (always reported) */
    size_t ncorrupt;
    int verify_local; /* the stage asks for `verify: local` */
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

typedef struct sl_apush {
    sl_aobj obj; /* tier, path, files; host = destination */
    char *dest_addr;
    char *cap; /* capability to push to the destination's staging area */
    struct sl_apush *next;
} sl_apush;

typedef struct sl_amodel {
    int64_t pipeline_id;
    sl_pipeline *model;
} sl_amodel;

typedef struct sl_agent {
    const sl_agent_config *cfg;
    char *name, *agent_id, *mem_root, *ssd_root, *work_root;
    sl_rpc_client *rpc;
    int64_t lease_ttl_ms; /* shortest lease of the tasks leased last */
    int64_t host_ttl_ms;  /* silence after which the controller declares this host lost */
    int evfd;             /* wakes the executor: new tasks or cancellations */

    pthread_mutex_t mu;                    /* guards the fields below */
    pthread_cond_t report_cv;              /* completions queued or stopping */
    pthread_cond_t capacity_cv;            /* a slot freed or stopping */
    sl_atask *pending_head, *pending_tail; /* leased, not yet started */
    sl_atask **running;                    /* started, not yet finished */
    size_t nrunning;
    sl_atask *done_head; /* finished, not yet reported */
    size_t ndone;
    int64_t *cancel; /* ids the controller asked to stop */
    size_t ncancel;
    int inflight;        /* pending + running + leased in the current pass */
    uint64_t slot_freed; /* bumped whenever a task finishes (no lost wakeups) */
    int lease_waiting;   /* lease thread waits for a slot: it will report */
    int stopping;
    int draining;   /* SIGTERM with drain_ms: lease no more, finish what runs */
    int lease_done; /* the lease thread has left (draining or stopping) */

    /* the cache and the data plane (agent_cache.c) */
    char dp_key[65];        /* our data server's capability key (from the controller) */
    char *join_cred;        /* the join credential, to register when we have no own one */
    char *cred_path;        /* our own credential, kept for a restart (journal dir, 0600) */
    pthread_mutex_t reg_mu; /* one registration at a time */
    char data_addr[128];    /* host:port of our data server, as peers reach it */
    struct sl_dp_server *dp;
    int64_t mem_budget, ssd_budget;
    sl_atask *staged_head; /* inputs pulled, ready to start (guarded by mu) */
    sl_apush *push_head;   /* copies to make (guarded by mu) */
    sl_aobj *pushed;       /* copies made, for the next heartbeat (guarded by mu) */
    size_t npushed;
    pthread_cond_t push_cv;
    pthread_t push_threads[4]; /* pushes run in parallel: one object per thread */
    int npush_threads;

    char *journal_dir; /* finished reports not yet acknowledged (agent_journal.c) */

    char **base_env; /* environment shared by every module (read-only) */
    size_t nbase;

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
/* Builds a->base_env once (agent start). */
void sl_agent_base_env(sl_agent *a);

/* agent_journal.c */
int sl_agent_journal_open(sl_agent *a, sl_err *err);
/* Before t joins the report queue (any thread). */
void sl_agent_journal_write(sl_agent *a, sl_atask *t);
/* After the controller acknowledged the reports of the list `batch`. */
void sl_agent_journal_forget(sl_agent *a, const sl_atask *batch);
/* At start, before the threads: journaled reports join the report queue.
 * Returns how many were loaded. */
size_t sl_agent_journal_load(sl_agent *a);
/* The host was declared lost: reports naming outputs or copies here are void
 * (those objects were re-made elsewhere) and are dropped. */
void sl_agent_journal_drop_outputs(sl_agent *a);

/* agent_cache.c */
void sl_aobj_clear(sl_aobj *o);
const char *sl_agent_tier_root(const sl_agent *a, const char *tier);
/* Starts the data server (the token must be known) and works out the
 * address peers use to reach it. */
int sl_agent_cache_start(sl_agent *a, sl_err *err);
void sl_agent_cache_stop(sl_agent *a);
/* 1 if every input is on this host (t->in_dirs set), 0 if a pull is needed. */
int sl_agent_inputs_local(sl_agent *a, sl_atask *t);
/* Starts a thread that pulls t's inputs, then hands t back to the executor
 * through the staged queue (t->error set on failure). */
void sl_agent_stage_async(sl_agent *a, sl_atask *t);
/* Creates the output directory of t (SLUICE_OUT). */
int sl_agent_out_prepare(sl_agent *a, sl_atask *t, const char *stage_name, sl_err *err);
/* After the module exited: registers the output (success) or removes it. */
void sl_agent_out_collect(sl_agent *a, sl_atask *t);
void sl_agent_cache_delete(sl_agent *a, const char *tier_path);
/* Removes every object directory (p<pipeline>/...) from both tiers. */
void sl_agent_cache_wipe(sl_agent *a);
/* Queues a copy of a local object to another host (stream edges). */
void sl_agent_push_enqueue(sl_agent *a, const char *tier, const char *path, const char *files,
                           const char *dest_host, const char *dest_addr, const char *cap);

#endif
