/* sched_int.h - scheduler internals shared by sched_*.c (not for callers). */
#ifndef SL_SCHED_INT_H
#define SL_SCHED_INT_H

#include <pthread.h>

#include "pipeline/pipeline.h"
#include "sched/sched.h"
#include "store/store.h"

#define SL_RATE_WINDOW 60 /* seconds of per-stage completion history */

typedef struct sl_stage_rt {
    int64_t count[SL_TASK_NSTATES];
    int64_t buckets[SL_RATE_WINDOW]; /* done per wall second, ring indexed by sec % window */
    int64_t bucket_sec[SL_RATE_WINDOW];
    double first_done;
    int64_t finished[SL_OUTCOME_N]; /* metrics: attempts by outcome */
    sl_hist duration;               /* metrics: their run time */
} sl_stage_rt;

/* A pipeline the controller knows, with its parsed model. */
typedef struct sl_pipe {
    int64_t id;
    sl_pipeline *model;
    char *state; /* running | done | failed | cancelled */
    double created, finished;
    sl_stage_rt *rt; /* model->nstages entries */
    int64_t lease_ttl_ms;
    struct sl_expansion *exp; /* messages expanded lazily (sched_expand.c) */
    size_t nexp;
    char **warnings; /* things an operator must fix, shown by status (deduplicated) */
    size_t nwarnings;
    int64_t ncorrupt; /* copies of its objects found not to match their manifest */
} sl_pipe;

typedef struct sl_agent_rt {
    double seen_written;     /* last time hosts.last_seen was written for it */
    int64_t stream_assigned; /* consumers of stream edges sent its way */
    char *agent_id, *host;
    int fresh;     /* registered as a new agent process: leases of the one before to end */
    char cred[65]; /* SHA-256 (hex) of its credential, "" if it has none */
    char **groups;
    size_t ngroups;
} sl_agent_rt;

struct sl_sched {
    pthread_mutex_t mu;     /* guards everything below, including the store */
    uint8_t master[32];     /* data servers' capability keys derive from it */
    pthread_cond_t work_cv; /* broadcast when tasks become queued or on shutdown */
    sl_store *store;
    int64_t lease_ttl_ms;
    sl_pipe **pipes; /* every pipeline, by ascending id */
    size_t npipes;
    sl_agent_rt **agents; /* each allocated once: long-polls keep pointers across waits */
    size_t nagents;
    int stopping;
    double last_host_check;
    sl_sched_metrics metrics; /* in memory only: Prometheus handles counter resets */
};

sl_pipe *sl_sched_pipe(sl_sched *s, int64_t id);
/* Loads a pipeline row into memory (parsing its YAML with its recorded vars). */
sl_pipe *sl_sched_load_pipe(sl_sched *s, int64_t id, const char *file, const char *yaml,
                            const char *vars_json, const char *state, double created,
                            double finished, sl_err *err);
/* One message turned into a task of stage `to`. */
typedef struct sl_make {
    const char *key;    /* task key; for a gather stage the group key */
    const char *member; /* gather: the message's own identity (emitted key) */
    const char *headers;
    const char *from_host;  /* producer's host, NULL for initial/injected messages */
    const char *force_host; /* placement decided already (stream edges) */
    int src_stage;          /* the producer's object to read, -1 for none */
    const char *src_key;
} sl_make;
/* Creates the task (a gather task once its group is complete), links it to
 * the object it reads. Returns tasks created (0/1) or negative. */
int sl_sched_make_task(sl_sched *s, sl_pipe *p, int to, const sl_make *m, double now, sl_err *err);

/* sched_cache.c */
char *sl_sched_obj_path(const sl_pipe *p, int stage, const char *key);
int sl_sched_cache_outputs(sl_sched *s, sl_pipe *p, int64_t task_id, int stage, const char *key,
                           const sl_completion *c, const char *host, double now, sl_err *err);
int sl_sched_cache_release(sl_sched *s, int64_t task_id, sl_err *err);
int sl_sched_cache_link(sl_sched *s, int64_t pid, int64_t task_id, int src_stage,
                        const char *src_key, sl_err *err);
int sl_sched_cache_link_gather(sl_sched *s, int64_t pid, int stage, const char *gkey,
                               int64_t task_id, sl_err *err);
int sl_sched_cache_admit(sl_sched *s, sl_pipe *p, int stage, const char *host, int want, int *n_mem,
                         int *n_ssd, sl_err *err);
int sl_sched_cache_inputs(sl_sched *s, sl_leased *t, sl_err *err);
int sl_sched_cache_deletions(sl_sched *s, const char *host, char ***out, size_t *n, sl_err *err);
int sl_sched_cache_stream_dest(sl_sched *s, const sl_pipe *p, int to, const char *from_host,
                               char **dest, char **dest_addr);
int sl_sched_cache_host_lost(sl_sched *s, const char *host, double now, sl_err *err);
int sl_sched_cache_unreachable(sl_sched *s, const sl_completion *c, double now, sl_err *err);
/* Counts a corrupt copy of p's objects and says so in p's warnings. */
void sl_sched_note_corrupt(sl_sched *s, sl_pipe *p, int64_t n);
/* Copies found corrupt by the reporting agent: an event each, the replica
 * dropped, the object re-made (lineage) when no copy is left. */
int sl_sched_cache_corrupt(sl_sched *s, const sl_completion *c, const char *host, double now,
                           sl_err *err);
/* Re-derives the pipeline state after changes; records a state change. */
int sl_sched_check_done(sl_sched *s, sl_pipe *p, double now, sl_err *err);
void sl_sched_count(sl_pipe *p, int stage, int from_state, int to_state);
/* Adds a warning once (and logs it as an event and on stderr). */
void sl_sched_warn(sl_sched *s, sl_pipe *p, const char *msg);
void sl_sched_note_done(sl_pipe *p, int stage, double now);
/* sched_metrics.c: counts one accepted completion of stage in p; outcome
 * is one of SL_OUTCOME_*. */
void sl_sched_metrics_finish(sl_sched *s, sl_pipe *p, int stage, const sl_completion *c,
                             int outcome);
/* sched_auth.c: a new credential for host's agent in out, its SHA-256
 * (hex) in hash. */
int sl_sched_cred_issue(const char *host, char *out, size_t n, char hash[65], sl_err *err);
/* The agent record of host (caller holds mu): from memory, else rebuilt
 * from the store (a restarted controller), NULL if the host is unknown. */
sl_agent_rt *sl_sched_agent_of(sl_sched *s, const char *host);

/* Records contact with host; writes the store at most once a second. */
void sl_sched_host_seen(sl_sched *s, const char *host, double now);
int sl_sched_reload_counts(sl_sched *s, sl_err *err);

/* sched_expand.c: lazy expansion of large messages and `batch:` */
typedef struct sl_expansion {
    int64_t id;
    int stage;
    char *tmpl, *headers;
    int64_t total, next, batch;
} sl_expansion;
/* Turns a message (initial or injected) into tasks of stage `to`: at once
 * when its template makes few keys, else records an expansion cursor and
 * makes only the first chunk. Runs inside the caller's transaction. */
int sl_sched_expand_message(sl_sched *s, sl_pipe *p, int to, const char *tmpl, const char *headers,
                            int64_t batch, double now, int64_t *created, sl_err *err);
/* (Re)loads every pipeline's expansion cursors from the store. */
int sl_sched_expand_load(sl_sched *s, sl_err *err);
/* Expands the next chunks where a target stage runs low (or a batch is
 * finished), each in its own transaction. Lock held, no transaction open. */
void sl_sched_expand_tick(sl_sched *s);
/* Keys not yet made into tasks for stage (-1: any stage). */
int64_t sl_sched_expand_pending(const sl_pipe *p, int stage);
void sl_sched_expand_free(sl_pipe *p);

#endif
