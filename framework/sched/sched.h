/* sched.h - the scheduler: what the controller decides.
 *
 * Turns submitted pipelines and emitted messages into tasks, places them
 * (any / host-bound / group-bound, slots per host per stage), hands them to
 * agents in leased batches with a long-poll, records completions, applies
 * retry rules, joins gathers, expires leases of silent agents, and keeps the
 * per-stage counters that status views read. All state is in the store; the
 * in-memory part (parsed models, counters, known agents) is rebuilt from it
 * when the controller restarts.
 *
 * Thread safety: every function takes the scheduler's mutex; they may be
 * called from any RPC worker thread. sl_sched_lease may block up to wait_ms. */
#ifndef SL_SCHED_H
#define SL_SCHED_H

#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

typedef struct sl_sched sl_sched;

typedef struct sl_sched_config {
    /* 32 bytes: each data server's capability key is derived from it */
    const uint8_t *master_key;
    const char *db_path;
    int64_t lease_ttl_ms; /* default lease length; a pipeline may set its own */
    int durable_fsync;    /* synchronous=FULL */
} sl_sched_config;

int sl_sched_open(const sl_sched_config *cfg, sl_sched **out, sl_err *err);
/* Wakes every long-poll (they return empty) and stops accepting leases. */
void sl_sched_shutdown(sl_sched *s);
void sl_sched_close(sl_sched *s);

typedef struct sl_kvpair {
    const char *name, *value;
} sl_kvpair;

/* Validates and records a pipeline, creates its initial tasks. */
int sl_sched_submit(sl_sched *s, const char *file, const char *yaml, const sl_kvpair *vars,
                    size_t nvars, int64_t *pipeline_id, int64_t *ntasks, sl_err *err);

/* The YAML text and variables of a pipeline (agents rebuild the model). */
int sl_sched_get_pipeline(sl_sched *s, int64_t id, sl_buf *file, sl_buf *yaml, sl_buf *vars_json,
                          sl_buf *state, sl_err *err);

/* ---- agents ---- */
typedef struct sl_agent_info {
    const char *name, *agent_id, *mem_root, *ssd_root, *addr;
    const char *const *groups;
    size_t ngroups;
    int64_t mem_budget, ssd_budget; /* bytes, 0 = no limit */
} sl_agent_info;
/* An agent credential: "agent.<64 hex>.<host>". */
#define SL_AGENT_CRED_MAX (6 + 64 + 1 + 256)
typedef struct sl_register_out {
    int64_t lease_ttl_ms;
    int wipe_cache;                     /* 0, 1 if the catalog places nothing on the host,
                                           2 if the host was lost */
    char credential[SL_AGENT_CRED_MAX]; /* the agent's own, new at each registration */
    char dp_key[65];                    /* its data server's capability key (hex) */
} sl_register_out;
/* Registers an agent. caller_host is the host whose agent credential the
 * caller presented (an agent registering again), NULL for the join
 * credential. A name held by a live agent - seen within a lease period -
 * is refused with SL_EEXIST unless the caller holds that host's
 * credential; each registration issues a new credential and voids the
 * one before. */
int sl_sched_register(sl_sched *s, const sl_agent_info *a, const char *caller_host,
                      sl_register_out *out, sl_err *err);
/* How long a data-plane capability is good for: pulls start right after
 * the lease that carries them, but a long input list is fetched in turn. */
#define SL_CAP_TTL_MS (15 * 60 * 1000)
/* A capability (dataplane.h) for reader to read (op 'r') or push ('p')
 * the object at path on host's data server, valid SL_CAP_TTL_MS; out gets
 * "" and the call returns <0 if it cannot be made. Thread-safe. */
int sl_sched_cap(sl_sched *s, int op, const char *host, const char *path, const char *reader,
                 char *out, size_t n);
/* 0 and the host copied into host if cred is the current credential of a
 * registered agent, SL_EAUTH if not. Thread-safe. */
int sl_sched_agent_auth(sl_sched *s, const char *cred, char *host, size_t hostsz);

/* ---- the cache: objects are task output directories ---- */
typedef struct sl_obj_replica {
    char *host, *addr, *tier;
} sl_obj_replica;
/* An object as agents see it. files: "name\tsize\n" lines. */
typedef struct sl_obj_ref {
    char *path; /* p<pipeline>/<stage>/<key> under a tier root */
    char *stage, *key, *files, *tier;
    int64_t size;
    sl_obj_replica *replicas;
    size_t nreplicas;
} sl_obj_ref;
void sl_obj_ref_clear(sl_obj_ref *o);
/* A copy to make now: object at path in tier goes to dest (stream edges). */
typedef struct sl_push {
    char *path, *tier, *files, *dest_host, *dest_addr;
} sl_push;
typedef struct sl_push_list {
    sl_push *v;
    size_t n;
} sl_push_list;
void sl_push_list_free(sl_push_list *l);

typedef struct sl_stage_load {
    int64_t pipeline_id;
    int stage;
    int running;
} sl_stage_load;

typedef struct sl_leased {
    int64_t id, pipeline_id;
    int stage, attempt;
    char *key, *headers;
    double ready_at;
    char *tier;         /* output tier chosen by admission, NULL = mem */
    sl_obj_ref *inputs; /* objects the task reads */
    size_t ninputs;
} sl_leased;

typedef struct sl_lease_result {
    sl_leased *tasks;
    size_t n, cap;
    int saturated; /* nothing leased because every stage with work is at its slot limit */
    int64_t lease_ttl_ms;
    char **deletions; /* objects this host should delete now */
    size_t ndeletions;
} sl_lease_result;
void sl_lease_result_free(sl_lease_result *r);

int sl_sched_lease(sl_sched *s, const char *agent_id, const char *host, const sl_stage_load *load,
                   size_t nload, int max_tasks, int wait_ms, sl_lease_result *out, sl_err *err);

typedef struct sl_msg {
    const char *stage; /* NULL/empty: every emits: target of the producing stage */
    const char *key;
    const char *headers;
} sl_msg;

/* An object written or copied by an agent (path relative to the tier). */
typedef struct sl_obj_out {
    const char *tier, *path, *files;
    int64_t size;
    const char *host; /* where it now is; NULL = the reporting agent's host */
} sl_obj_out;

typedef struct sl_completion {
    int64_t task_id;
    int attempt, exit_code;
    double started, finished;
    const char *stdout_tail, *stderr_tail, *error;
    const sl_msg *emitted;
    size_t nemitted;
    const sl_obj_out *outputs; /* at most one: the task's output directory */
    size_t noutputs;
    const sl_obj_out *copies; /* inputs pulled to this host */
    size_t ncopies;
    const sl_obj_out *unreachable; /* exit -3: replicas that could not be read (host set) */
    size_t nunreachable;
    /* copies that did not match their manifest (host set; files: the file
     * that differed, with the size and hash found), whatever the exit code */
    const sl_obj_out *corrupt;
    size_t ncorrupt;
} sl_completion;

/* Exit code an agent reports when a task's inputs could not be fetched: the
 * task goes back to the queue and the unreadable replicas are dropped. */
#define SL_EXIT_INPUT_UNAVAILABLE (-3)

/* Records a batch of completions in one transaction. Stale reports (the task
 * was re-leased or already finished) are ignored. Returns accepted count.
 * `push` (may be NULL) gets the copies the reporting agent should make now. */
int sl_sched_complete(sl_sched *s, const char *agent_id, const char *host, const sl_completion *c,
                      size_t n, sl_push_list *push, sl_err *err);

/* Extends the leases of running tasks; fills `cancel` with the ids the agent
 * should stop (no longer its lease: cancelled, expired, or re-leased). */
int sl_sched_heartbeat(sl_sched *s, const char *agent_id, const char *host, const int64_t *running,
                       size_t n, const sl_obj_out *pushed, size_t npushed, int64_t **cancel,
                       size_t *ncancel, char ***deletions, size_t *ndeletions, sl_err *err);

/* Expires leases and marks silent hosts lost; called periodically. */
int sl_sched_reap(sl_sched *s, sl_err *err);

/* ---- metrics: counters and histograms kept in memory (sched_metrics.c),
 * updated where tasks are leased and finished, read by /metrics ---- */
#define SL_HIST_NB 14
/* Upper bounds (seconds) of the histogram buckets, ascending; +Inf implied. */
extern const double sl_hist_le[SL_HIST_NB];
typedef struct sl_hist {
    int64_t bucket[SL_HIST_NB]; /* observations <= sl_hist_le[i] and > the bound before */
    int64_t count;              /* all observations, +Inf included */
    double sum;
} sl_hist;
void sl_hist_observe(sl_hist *h, double v);
/* Task outcomes counted per stage (sl_stage_stat.finished). */
enum { SL_OUTCOME_DONE, SL_OUTCOME_FAILED, SL_OUTCOME_RETRIED, SL_OUTCOME_N };
typedef struct sl_sched_metrics {
    int64_t attempts;      /* completions accepted (each attempt reported once) */
    int64_t retries;       /* attempts that sent their task back to the queue */
    int64_t corrupt;       /* copies reported not to match their manifest */
    int64_t bytes_pulled;  /* inputs agents copied to their host, as they reported */
    int64_t bytes_written; /* task output directories, as reported */
    int64_t leased;        /* tasks handed to agents */
    sl_hist queue_wait;    /* ready -> leased, seconds */
    sl_hist dispatch;      /* one leasing pass that handed out tasks, seconds */
} sl_sched_metrics;
/* A copy of the controller-wide counters (since the controller started). */
void sl_sched_metrics_get(sl_sched *s, sl_sched_metrics *out);

/* ---- queries and operator actions (JSON-free; the API layer formats) ---- */
typedef struct sl_stage_stat {
    const char *name;
    int64_t count[5];               /* by sl_task_state */
    int64_t waiting;                /* incomplete gather groups */
    int64_t pending;                /* keys of lazily expanded messages not yet made into tasks */
    double rate;                    /* done per second over the last minute */
    double eta_s;                   /* -1 unknown */
    int64_t finished[SL_OUTCOME_N]; /* attempts by outcome since the controller started */
    sl_hist duration;               /* run time of those attempts, seconds */
} sl_stage_stat;
typedef struct sl_pipe_stat {
    int64_t id;
    const char *name, *state;
    double created, finished;
    sl_stage_stat *stages;
    size_t nstages;
    char *const *warnings;
    size_t nwarnings;
    int64_t corrupt; /* copies found not to match their manifest (discarded) */
} sl_pipe_stat;
/* Calls fn for each pipeline matching `which` (name, id, or NULL/"" for all). */
typedef int (*sl_pipe_stat_fn)(void *ctx, const sl_pipe_stat *st);
int sl_sched_status(sl_sched *s, const char *which, sl_pipe_stat_fn fn, void *ctx, sl_err *err);

/* A crosstab of one stage's task states by two key segments (sched_matrix.c). */
typedef struct sl_matrix {
    int64_t pipeline_id;
    char *stage;
    char **rows, **cols; /* labels in natural order */
    size_t nrows, ncols;
    char *cells;                   /* nrows * ncols characters, row-major (see sluice.proto) */
    int64_t *row_done, *row_total; /* per row */
    int row_seg, col_seg;          /* the segments used */
} sl_matrix;
void sl_matrix_free(sl_matrix *m);
/* stage NULL/"": the target of the pipeline's first lazy message, else its
 * first stage. Segments are 1-based, negative from the end; 0 picks one from
 * the shape of the stage's keys: segments 2 x 3 for keys of three or more
 * segments (obs/group/time/...), 1 x 2 for two, the only one as rows for one. */
int sl_sched_matrix(sl_sched *s, const char *pipeline, const char *stage, int row_seg, int col_seg,
                    sl_matrix *out, sl_err *err);

/* Resolves a pipeline by name (latest) or id; 0 or SL_ENOTFOUND. */
int sl_sched_find_pipeline(sl_sched *s, const char *which, int64_t *id, sl_err *err);
/* Stage index by name within a pipeline (-1 and err if unknown). */
int sl_sched_stage_index(sl_sched *s, int64_t pipeline_id, const char *stage, sl_err *err);
const char *sl_sched_stage_name(sl_sched *s, int64_t pipeline_id, int stage);
/* A pipeline's name from its model (valid while the scheduler lives), or NULL. */
const char *sl_sched_pipeline_name(sl_sched *s, int64_t pipeline_id);
/* The same for callers that already hold the lock (inside sl_sched_with_store). */
const char *sl_sched_stage_name_locked(sl_sched *s, int64_t pipeline_id, int stage);

int sl_sched_retry(sl_sched *s, int64_t pipeline_id, int stage, const int64_t *ids, size_t n,
                   int64_t *requeued, sl_err *err);
/* A finished pipeline (done, failed, cancelled) is left as it is: SL_EINVAL,
 * "pipeline 'NAME' (#ID) already finished (STATE)". */
int sl_sched_cancel(sl_sched *s, int64_t pipeline_id, int64_t *cancelled, sl_err *err);
/* Injects messages into a pipeline; returns tasks created. */
int sl_sched_emit(sl_sched *s, int64_t pipeline_id, const sl_msg *m, size_t n, int64_t *created,
                  sl_err *err);

/* Direct store access under the scheduler lock, for read-only queries
 * (task lists, logs, hosts): fn runs with the lock held. */
struct sl_store;
typedef int (*sl_store_fn)(void *ctx, struct sl_store *st, sl_err *err);
int sl_sched_with_store(sl_sched *s, sl_store_fn fn, void *ctx, sl_err *err);

#endif
