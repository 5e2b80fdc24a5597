/* store.h - durable state of the controller in SQLite (WAL).
 *
 * The store owns every SQL statement of sluice: pipelines, tasks, attempts,
 * gather joins, hosts and events, a schema version and migrations. It knows
 * nothing of YAML or placement policy; framework/sched decides, the store
 * records. One connection, used by one thread at a time (the scheduler's
 * lock guards it). Writes happen inside explicit transactions so that an
 * RPC's effects are committed together before it is answered: a controller
 * killed at any moment restarts from a consistent state.
 *
 * synchronous=NORMAL in WAL mode survives a process crash (SIGKILL) without
 * fsync per commit; `durable_fsync` selects synchronous=FULL for power loss. */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define SL_STORE_SCHEMA_VERSION 5

typedef enum sl_task_state {
    SL_TASK_QUEUED = 0,
    SL_TASK_RUNNING = 1,
    SL_TASK_DONE = 2,
    SL_TASK_FAILED = 3,
    SL_TASK_CANCELLED = 4,
} sl_task_state;
#define SL_TASK_NSTATES 5

const char *sl_task_state_name(int state);
int sl_task_state_parse(const char *name); /* -1 if unknown */

typedef struct sl_store sl_store;

int sl_store_open(const char *path, int durable_fsync, sl_store **out, sl_err *err);
void sl_store_close(sl_store *s);
int sl_store_begin(sl_store *s, sl_err *err);
int sl_store_commit(sl_store *s, sl_err *err);
void sl_store_rollback(sl_store *s);
int sl_store_schema_version(sl_store *s);

/* ---- pipelines ---- */
typedef struct sl_pipeline_row {
    int64_t id;
    char *name, *file, *yaml, *vars_json, *state;
    double created, finished;
} sl_pipeline_row;

int64_t sl_store_pipeline_insert(sl_store *s, const char *name, const char *file, const char *yaml,
                                 const char *vars_json, double now, sl_err *err);
int sl_store_pipeline_set_state(sl_store *s, int64_t id, const char *state, double finished,
                                sl_err *err);
/* Calls fn for every pipeline (all, or only running ones). */
typedef int (*sl_pipeline_row_fn)(void *ctx, const sl_pipeline_row *row);
int sl_store_pipelines_each(sl_store *s, int only_running, sl_pipeline_row_fn fn, void *ctx,
                            sl_err *err);

/* ---- tasks ---- */
typedef struct sl_task_row {
    int64_t id, pipeline_id;
    int stage;
    const char *key, *headers, *want_host, *host, *lease_agent;
    int state, attempts, exit_code;
    double created, ready, started, finished, lease_deadline;
} sl_task_row;

/* Inserts a queued task. Returns 1 if created, 0 if (pipeline, stage, key)
 * already existed (a duplicate is ignored), negative on error. */
int sl_store_task_insert(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                         const char *headers, const char *want_host, double now, int64_t *id,
                         sl_err *err);
/* Leases up to n queued tasks of (pipeline, stage) for host: those bound to
 * this host first, then unbound ones, oldest first. Marks them running with
 * the agent, deadline and attempt+1; calls fn for each leased task. Returns
 * the number leased. */
typedef int (*sl_task_row_fn)(void *ctx, const sl_task_row *row);
int sl_store_lease(sl_store *s, int64_t pipeline_id, int stage, const char *host, const char *agent,
                   int n, double deadline, sl_task_row_fn fn, void *ctx, sl_err *err);
int sl_store_task_get(sl_store *s, int64_t id, sl_task_row_fn fn, void *ctx, sl_err *err);
int sl_store_task_find(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                       sl_task_row_fn fn, void *ctx, sl_err *err);
int sl_store_task_finish(sl_store *s, int64_t id, int state, const char *host, int exit_code,
                         double started, double finished, sl_err *err);
/* Back to the queue (retry, lease expiry, manual retry). */
int sl_store_task_requeue(sl_store *s, int64_t id, double now, int reset_attempts, sl_err *err);
/* Extends the lease of a running task held by agent; 1 if extended, 0 if the
 * task is no longer running under that agent. */
int sl_store_task_extend(sl_store *s, int64_t id, const char *agent, double deadline, sl_err *err);
/* Running tasks whose lease deadline is before `now`. */
int sl_store_tasks_expired(sl_store *s, double now, sl_task_row_fn fn, void *ctx, sl_err *err);
/* Gives every running lease at least `deadline` (grace after a restart). */
int sl_store_leases_extend_all(sl_store *s, double deadline, sl_err *err);
/* Counts per (pipeline, stage, state): fn(ctx, pipeline, stage, state, n). */
typedef int (*sl_count_fn)(void *ctx, int64_t pipeline_id, int stage, int state, int64_t n);
int sl_store_task_counts(sl_store *s, sl_count_fn fn, void *ctx, sl_err *err);
/* Lists tasks with filters (-1 / NULL for any), ordered by id after after_id. */
int sl_store_tasks_list(sl_store *s, int64_t pipeline_id, int stage, int state, int64_t after_id,
                        int limit, sl_task_row_fn fn, void *ctx, sl_err *err);
/* Sets every queued/running task of a pipeline to cancelled; returns count. */
int sl_store_pipeline_cancel_tasks(sl_store *s, int64_t pipeline_id, double now, sl_err *err);

/* ---- attempts ---- */
typedef struct sl_attempt_row {
    int n, exit_code;
    const char *host, *error, *stdout_tail, *stderr_tail;
    double started, finished;
} sl_attempt_row;
int sl_store_attempt_insert(sl_store *s, int64_t task_id, const sl_attempt_row *a, sl_err *err);
typedef int (*sl_attempt_row_fn)(void *ctx, const sl_attempt_row *row);
int sl_store_attempts_each(sl_store *s, int64_t task_id, sl_attempt_row_fn fn, void *ctx,
                           sl_err *err);

/* ---- gather joins ---- */
/* Records member of group gkey; returns the number of members the group has
 * now if the member is new, 0 if it was already there. */
int sl_store_gather_add(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                        const char *member, const char *host, sl_err *err);
/* Members of a group in arrival order: fn(ctx, member, host). Returns count. */
typedef int (*sl_member_fn)(void *ctx, const char *member, const char *host);
int sl_store_gather_members(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                            sl_member_fn fn, void *ctx, sl_err *err);
/* Number of groups of a stage with fewer than `need` members. */
int64_t sl_store_gather_pending(sl_store *s, int64_t pipeline_id, int stage, int need, sl_err *err);

/* ---- hosts ---- */
typedef struct sl_host_row {
    const char *name, *agent_id, *groups, *mem_root, *ssd_root, *addr, *state;
    double last_seen;
    int64_t mem_budget, ssd_budget, mem_used, ssd_used; /* filled by sl_store_hosts_each */
} sl_host_row;
int sl_store_host_upsert(sl_store *s, const sl_host_row *h, sl_err *err);
int sl_store_host_seen(sl_store *s, const char *name, double now, sl_err *err);
/* Marks every up host as seen at `now` (a restarted controller's grace). */
int sl_store_hosts_seen_all(sl_store *s, double now, sl_err *err);
/* Number of replicas the catalog places on host. */
int64_t sl_store_host_replica_count(sl_store *s, const char *host, sl_err *err);
/* 1 and the state copied into out if the host is known, 0 if not. */
int sl_store_host_get_state(sl_store *s, const char *name, char *out, size_t n, sl_err *err);
/* The SHA-256 (64 hex digits) of host's agent credential ("" if none) and
 * when it was last seen: 1 if the host is known, 0 if not. */
int sl_store_host_cred(sl_store *s, const char *name, char cred[65], double *last_seen,
                       sl_err *err);
int sl_store_host_set_cred(sl_store *s, const char *name, const char *cred, sl_err *err);
int sl_store_host_set_state(sl_store *s, const char *name, const char *state, sl_err *err);
typedef int (*sl_host_row_fn)(void *ctx, const sl_host_row *row);
int sl_store_hosts_each(sl_store *s, sl_host_row_fn fn, void *ctx, sl_err *err);

/* ---- the cache catalog (store_objects.c) ---- */
typedef struct sl_object_row {
    int64_t pipeline_id, task_id, size;
    int stage, refs, keep;
    const char *key, *files, *state; /* files: "name\tsize\n" lines */
} sl_object_row;
typedef struct sl_replica_row {
    const char *host, *tier, *addr, *host_state;
    int64_t size;
} sl_replica_row;

/* Records the output of a task on host/tier (replacing lost replicas of a
 * re-run); the reference count is kept across re-runs. */
int sl_store_object_put(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                        int64_t task_id, int64_t size, const char *files, int keep,
                        const char *host, const char *tier, double now, sl_err *err);
/* 1 with *row filled (strings valid until the next store call), 0 if none. */
int sl_store_object_get(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                        sl_object_row *row, sl_err *err);
/* Adds delta to the reference count; returns the new count (or negative). */
int sl_store_object_ref(sl_store *s, int64_t pipeline_id, int stage, const char *key, int delta,
                        sl_err *err);
/* Queues "TIER/relpath" for deletion on every host holding a replica,
 * drops the replicas and sets the object's state ("deleted", "dropped"). */
int sl_store_object_delete(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                           const char *relpath, const char *state, sl_err *err);
int sl_store_replica_drop(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                          const char *host, sl_err *err);
int sl_store_replica_add(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                         const char *host, const char *tier, int64_t size, double now, sl_err *err);
typedef int (*sl_replica_fn)(void *ctx, const sl_replica_row *r);
int sl_store_replicas_each(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                           sl_replica_fn fn, void *ctx, sl_err *err);
/* Bytes held on host in tier: replicas plus reservations of running tasks. */
int64_t sl_store_host_usage(sl_store *s, const char *host, const char *tier, sl_err *err);
/* Objects with a replica on host (for lineage): fn(ctx, pipeline, stage, key). */
typedef int (*sl_objkey_fn)(void *ctx, int64_t pipeline_id, int stage, const char *key);
int sl_store_host_objects(sl_store *s, const char *host, sl_objkey_fn fn, void *ctx, sl_err *err);
/* Removes host's replicas (the host is gone); returns how many. */
int sl_store_host_drop_replicas(sl_store *s, const char *host, sl_err *err);
/* Oldest live object of (pipeline, stage) whose only replica is on host. */
int sl_store_oldest_object(sl_store *s, int64_t pipeline_id, int stage, const char *host,
                           sl_objkey_fn fn, void *ctx, sl_err *err);
int sl_store_task_inputs_add(sl_store *s, int64_t task_id, int stage, const char *key, sl_err *err);
int sl_store_task_inputs_each(sl_store *s, int64_t task_id, sl_objkey_fn fn, void *ctx,
                              sl_err *err);
/* Tasks that read object (stage, key) of a pipeline, with their state. */
typedef int (*sl_consumer_fn)(void *ctx, int64_t task_id, int state);
int sl_store_object_consumers(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                              sl_consumer_fn fn, void *ctx, sl_err *err);
int sl_store_task_set_output(sl_store *s, int64_t id, const char *tier, int64_t reserve,
                             sl_err *err);
/* Re-runs a finished task from scratch on any host (lineage). */
int sl_store_task_rerun(sl_store *s, int64_t id, double now, sl_err *err);
/* Points queued host-bound consumers of an object at its new host. */
int sl_store_consumers_rehost(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                              const char *host, sl_err *err);
/* Pending deletions for host, removed as they are handed out. */
typedef int (*sl_path_fn)(void *ctx, const char *path);
int sl_store_deletions_take(sl_store *s, const char *host, sl_path_fn fn, void *ctx, sl_err *err);
int sl_store_host_budget(sl_store *s, const char *host, int64_t *mem, int64_t *ssd, sl_err *err);
int sl_store_host_set_budget(sl_store *s, const char *host, int64_t mem, int64_t ssd, sl_err *err);
int sl_store_gather_set_src(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                            const char *member, int src_stage, const char *src_key, sl_err *err);
/* fn(ctx, src_stage, src_key) for members of a group that carry an object. */
int sl_store_gather_srcs(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                         sl_objkey_fn fn, void *ctx, sl_err *err);

/* ---- lazy expansion of large messages (store_expand.c) ---- */
typedef struct sl_expansion_row {
    int64_t id, pipeline_id;
    int stage;
    const char *tmpl, *headers;
    int64_t total, next, batch;
} sl_expansion_row;
/* Records a message to expand later; returns its id or negative. */
int64_t sl_store_expansion_insert(sl_store *s, int64_t pipeline_id, int stage, const char *tmpl,
                                  const char *headers, int64_t total, int64_t batch, double now,
                                  sl_err *err);
/* Sets the ordinal of the next key to expand. */
int sl_store_expansion_advance(sl_store *s, int64_t id, int64_t next, sl_err *err);
typedef int (*sl_expansion_fn)(void *ctx, const sl_expansion_row *row);
/* Every expansion, by id (strings valid during the call). */
int sl_store_expansions_each(sl_store *s, sl_expansion_fn fn, void *ctx, sl_err *err);
/* Keys and states of the tasks of one stage: fn(ctx, key, state). */
typedef int (*sl_key_state_fn)(void *ctx, const char *key, int state);
int sl_store_stage_keys(sl_store *s, int64_t pipeline_id, int stage, sl_key_state_fn fn, void *ctx,
                        sl_err *err);

/* ---- the metrics history and per-host load (store_history.c) ---- */
/* One sample of a series at time t (a second sample at the same t replaces it). */
int sl_store_history_add(sl_store *s, const char *series, double t, double value, sl_err *err);
/* Samples older than raw_keep_s (aligned down to a bucket) become one
 * average per bucket_s; anything older than keep_s is deleted. */
int sl_store_history_rollup(sl_store *s, double now, double raw_keep_s, int bucket_s, double keep_s,
                            sl_err *err);
/* Samples of every series starting with prefix ("" = all) from since on,
 * by series then time, at most limit rows: fn(ctx, series, t, value, step).
 * Returns the number of rows. */
typedef int (*sl_history_fn)(void *ctx, const char *series, double t, double value, int step);
int64_t sl_store_history_each(sl_store *s, const char *prefix, double since, int64_t limit,
                              sl_history_fn fn, void *ctx, sl_err *err);
/* Running tasks per host: fn(ctx, host, n). */
typedef int (*sl_host_count_fn)(void *ctx, const char *host, int64_t n);
int sl_store_running_by_host(sl_store *s, sl_host_count_fn fn, void *ctx, sl_err *err);

/* ---- events ---- */
int sl_store_event(sl_store *s, double t, int64_t pipeline_id, int64_t task_id, const char *kind,
                   const char *msg, sl_err *err);
/* Events of one kind logged for a pipeline. */
int64_t sl_store_event_count(sl_store *s, int64_t pipeline_id, const char *kind, sl_err *err);

#endif
