/* sched_complete.c - completions: attempts, retries by exit code, emission
 * of downstream messages through `emits:` templates and gather joins, and
 * the pipeline's final state.
 *
 * A module that wrote no message emits its own key (so plain programs chain
 * without knowing sluice). A stale completion (the lease expired and the task
 * was re-leased, or it is already finished) is ignored: the first success
 * wins, which is what makes at-least-once delivery safe. */
#include "sched/sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"
#include "util/clock.h"
#include "util/json.h"

typedef struct {
    int found;
    sl_task_row row;
    char *key, *headers, *lease_agent, *host;
} task_copy;

static int copy_cb(void *ctx, const sl_task_row *r)
{
    task_copy *c = ctx;
    c->found = 1;
    c->row = *r;
    c->key = sl_xstrdup(r->key);
    c->headers = r->headers ? sl_xstrdup(r->headers) : NULL;
    c->lease_agent = r->lease_agent ? sl_xstrdup(r->lease_agent) : NULL;
    c->row.key = c->key;
    c->row.headers = c->headers;
    c->row.lease_agent = c->lease_agent;
    c->host = r->host ? sl_xstrdup(r->host) : NULL;
    c->row.host = c->host;
    c->row.want_host = NULL;
    return 1;
}

static void copy_free(task_copy *c)
{
    free(c->key);
    free(c->headers);
    free(c->lease_agent);
    free(c->host);
}

typedef struct {
    sl_sched *s;
    sl_pipe *p;
    int to;
    sl_make mk;
    double now;
    sl_err *err;
} emit_ctx;

static int emit_key(void *ctx, const char *key)
{
    emit_ctx *c = ctx;
    sl_make mk = c->mk;
    mk.key = key;
    int rc = sl_sched_make_task(c->s, c->p, c->to, &mk, c->now, c->err);
    return rc < 0 ? rc : 0;
}

/* The producing task of a completion, as routing needs it. */
typedef struct {
    int stage;
    const char *key, *host;
    int has_object;     /* it wrote an output directory */
    sl_push_list *push; /* where stream-edge copies are requested */
} producer;

/* stream: true - the consumer's host is chosen now and the producer's agent
 * is asked to push the object there at once. */
static void stream_edge(sl_sched *s, sl_pipe *p, const producer *pr, int to, emit_ctx *c,
                        char **dest_keep)
{
    char *dest = NULL, *addr = NULL;
    sl_sched_cache_stream_dest(s, p, to, pr->host, &dest, &addr);
    if (!dest) return;
    c->mk.force_host = dest;
    *dest_keep = dest;
    if (!pr->has_object || !pr->push || strcmp(dest, pr->host) == 0 || !addr) {
        free(addr);
        return;
    }
    sl_object_row row;
    if (sl_store_object_get(s->store, p->id, pr->stage, pr->key, &row, NULL) != 1) {
        free(addr);
        return;
    }
    sl_push_list *l = pr->push;
    for (size_t i = 0; i < l->n; i++) /* one copy per object and host */
        if (!strcmp(l->v[i].dest_host, dest) && strstr(l->v[i].path, pr->key)) {
            free(addr);
            return;
        }
    l->v = sl_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    sl_push *x = &l->v[l->n++];
    x->path = sl_sched_obj_path(p, pr->stage, pr->key);
    x->tier = sl_xstrdup("mem");
    x->files = sl_xstrdup(row.files ? row.files : "");
    x->dest_host = sl_xstrdup(dest);
    x->dest_addr = addr;
    /* the consumer there waits for the copy instead of pulling it */
    sl_store_replica_add(s->store, p->id, pr->stage, pr->key, dest, "push", row.size, sl_wall(),
                         NULL);
}

/* Routes one message of a finished task. */
static int route(sl_sched *s, sl_pipe *p, const producer *pr, const sl_msg *m, double now,
                 sl_err *err)
{
    const sl_stage *st = &p->model->stages[pr->stage];
    if (sl_key_validate(m->key, err) < 0)
        return sl_err_prefix(err, "emitted key '%s' is invalid", m->key);
    if (sl_headers_validate(m->headers, err) < 0)
        return sl_err_prefix(err, "headers of emitted key '%s'", m->key);
    emit_ctx c = {s,
                  p,
                  0,
                  {NULL, m->key, m->headers, pr->host, NULL, pr->has_object ? pr->stage : -1,
                   pr->has_object ? pr->key : NULL},
                  now,
                  err};
    int rc = 0;
    for (size_t e = 0; e < st->nemits && rc >= 0; e++) {
        int to = st->emits[e].to_index;
        if (m->stage && *m->stage && strcmp(p->model->stages[to].name, m->stage) != 0) continue;
        c.to = to;
        c.mk.force_host = NULL;
        char *dest = NULL;
        if (st->emits[e].stream) stream_edge(s, p, pr, to, &c, &dest);
        rc = sl_template_expand(st->emits[e].key, m->key, emit_key, &c, err);
        free(dest);
        if (m->stage && *m->stage) return rc;
    }
    if (m->stage && *m->stage && rc >= 0) {
        /* Explicit target without an emits: entry: verbatim, Scalebox-style. */
        int to = sl_pipeline_stage_index(p->model, m->stage);
        if (to < 0) return sl_errf(err, SL_EINVAL, "emitted to unknown stage '%s'", m->stage);
        c.to = to;
        return emit_key(&c, m->key);
    }
    return rc;
}

static int finish_one(sl_sched *s, const char *agent_id, const char *host, const sl_completion *c,
                      double now, sl_push_list *push, sl_err *err)
{
    task_copy t = {0};
    int rc = sl_store_task_get(s->store, c->task_id, copy_cb, &t, err);
    if (rc < 0) return rc;
    /* A success whose lease expired before it was reported (an agent that
     * was restarted and sends its journal, a controller that was away) still
     * counts if nobody has taken the task since: finished work is not run
     * twice. */
    int from = t.found ? t.row.state : -1;
    int late = from == SL_TASK_QUEUED && c->exit_code == 0;
    if (!t.found || (from != SL_TASK_RUNNING && !late) || t.row.attempts != c->attempt) {
        copy_free(&t);
        return 0; /* stale: already finished, cancelled or re-leased */
    }
    /* an agent reports only what was leased to its own host */
    if (!t.row.host || strcmp(t.row.host, host) != 0) {
        copy_free(&t);
        return 0;
    }
    (void)agent_id;
    sl_pipe *p = sl_sched_pipe(s, t.row.pipeline_id);
    if (!p || (size_t)t.row.stage >= p->model->nstages) {
        copy_free(&t);
        return 0;
    }
    const sl_stage *st = &p->model->stages[t.row.stage];
    sl_attempt_row a = {c->attempt,     c->exit_code,   host,       c->error,
                        c->stdout_tail, c->stderr_tail, c->started, c->finished};
    if ((rc = sl_store_attempt_insert(s->store, c->task_id, &a, err)) < 0) goto out;
    int code = c->exit_code;
    /* copies it found corrupt are dropped whatever became of the task */
    if (c->ncorrupt && (rc = sl_sched_cache_corrupt(s, c, host, now, err)) < 0) goto out;
    if (code == 0) {
        /* Emission errors fail the task: a module that emits a bad key is
         * broken and retrying it would emit the same. */
        sl_err e2 = {0};
        int erc =
            sl_sched_cache_outputs(s, p, c->task_id, t.row.stage, t.row.key, c, host, now, &e2);
        producer pr = {t.row.stage, t.row.key, host, c->noutputs > 0, push};
        if (erc >= 0 && c->nemitted == 0) {
            sl_msg self = {NULL, t.row.key, NULL};
            erc = route(s, p, &pr, &self, now, &e2);
        }
        for (size_t i = 0; i < c->nemitted && erc >= 0; i++)
            erc = route(s, p, &pr, &c->emitted[i], now, &e2);
        if (erc >= 0) /* its inputs are no longer needed by it */
            erc = sl_sched_cache_release(s, c->task_id, &e2);
        if (erc < 0) {
            if (e2.code == SL_ESTORE) { /* the database, not the module */
                *err = e2;
                rc = SL_ESTORE;
                goto out;
            }
            sl_store_event(s->store, now, p->id, c->task_id, "emit-error", e2.msg, NULL);
            sl_attempt_row a2 = a;
            a2.exit_code = -2;
            a2.error = e2.msg;
            sl_store_attempt_insert(s->store, c->task_id, &a2, NULL);
            rc = sl_store_task_finish(s->store, c->task_id, SL_TASK_FAILED, host, -2, c->started,
                                      c->finished, err);
            sl_sched_count(p, t.row.stage, from, SL_TASK_FAILED);
            sl_sched_metrics_finish(s, p, t.row.stage, c, SL_OUTCOME_FAILED);
            goto out;
        }
        rc = sl_store_task_finish(s->store, c->task_id, SL_TASK_DONE, host, 0, c->started,
                                  c->finished, err);
        sl_sched_count(p, t.row.stage, from, SL_TASK_DONE);
        sl_sched_note_done(p, t.row.stage, now);
        sl_sched_metrics_finish(s, p, t.row.stage, c, SL_OUTCOME_DONE);
        goto out;
    }
    /* inputs it pulled are replicas here whatever became of the task: so
     * they are deleted with their object, not left behind */
    if (c->ncopies) {
        sl_completion copies = {0};
        copies.copies = c->copies;
        copies.ncopies = c->ncopies;
        if ((rc = sl_sched_cache_outputs(s, p, c->task_id, t.row.stage, t.row.key, &copies, host,
                                         now, err)) < 0)
            goto out;
    }
    if (code == SL_EXIT_INPUT_UNAVAILABLE) {
        /* not the module's fault: drop what could not be read (lineage
         * re-makes lost objects) and queue the task again */
        if ((rc = sl_sched_cache_unreachable(s, c, now, err)) < 0) goto out;
        if (t.row.attempts <= st->retry_default + 3) {
            rc = sl_store_task_requeue(s->store, c->task_id, now, 0, err);
            sl_sched_count(p, t.row.stage, SL_TASK_RUNNING, SL_TASK_QUEUED);
            sl_sched_metrics_finish(s, p, t.row.stage, c, SL_OUTCOME_RETRIED);
            pthread_cond_broadcast(&s->work_cv);
            goto out;
        }
    }
    int retries = sl_stage_retries_for(st, code);
    if (t.row.attempts <= retries) {
        rc = sl_store_task_requeue(s->store, c->task_id, now, 0, err);
        sl_sched_count(p, t.row.stage, SL_TASK_RUNNING, SL_TASK_QUEUED);
        sl_sched_metrics_finish(s, p, t.row.stage, c, SL_OUTCOME_RETRIED);
        pthread_cond_broadcast(&s->work_cv);
    } else {
        rc = sl_store_task_finish(s->store, c->task_id, SL_TASK_FAILED, host, code, c->started,
                                  c->finished, err);
        sl_sched_count(p, t.row.stage, SL_TASK_RUNNING, SL_TASK_FAILED);
        sl_sched_metrics_finish(s, p, t.row.stage, c, SL_OUTCOME_FAILED);
        char msg[300];
        snprintf(msg, sizeof msg, "task %s/%s failed with exit code %d after %d attempt(s)",
                 st->name, t.row.key, code, t.row.attempts);
        sl_store_event(s->store, now, p->id, c->task_id, "task-failed", msg, NULL);
    }
out:
    copy_free(&t);
    return rc < 0 ? rc : 1;
}

int sl_sched_complete(sl_sched *s, const char *agent_id, const char *host, const sl_completion *c,
                      size_t n, sl_push_list *push, sl_err *err)
{
    double now = sl_wall();
    int accepted = 0, rc;
    pthread_mutex_lock(&s->mu);
    if ((rc = sl_store_begin(s->store, err)) < 0) goto out;
    for (size_t i = 0; i < n; i++) {
        rc = finish_one(s, agent_id, host, &c[i], now, push, err);
        if (rc < 0) goto fail;
        accepted += rc;
    }
    for (size_t i = 0; i < s->npipes; i++)
        if (strcmp(s->pipes[i]->state, "running") == 0 &&
            (rc = sl_sched_check_done(s, s->pipes[i], now, err)) < 0)
            goto fail;
    sl_sched_host_seen(s, host, now);
    if ((rc = sl_store_commit(s->store, err)) < 0) goto fail;
    sl_sched_expand_tick(s); /* lazy messages: the next chunk or batch */
    pthread_cond_broadcast(&s->work_cv);
    goto out;
fail:
    sl_store_rollback(s->store);
    sl_sched_reload_counts(s, NULL);
out:
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : accepted;
}

int sl_sched_check_done(sl_sched *s, sl_pipe *p, double now, sl_err *err)
{
    if (strcmp(p->state, "running") != 0 || sl_sched_expand_pending(p, -1) > 0) return 0;
    int64_t failed = 0;
    for (size_t k = 0; k < p->model->nstages; k++) {
        const int64_t *n = p->rt[k].count;
        if (n[SL_TASK_QUEUED] > 0 || n[SL_TASK_RUNNING] > 0) return 0;
        failed += n[SL_TASK_FAILED];
    }
    const char *state = failed ? "failed" : "done";
    char msg[512];
    snprintf(msg, sizeof msg, "pipeline %s", state);
    for (size_t k = 0; k < p->model->nstages && !failed; k++) {
        const sl_stage *st = &p->model->stages[k];
        if (st->gather <= 0) continue;
        int64_t pending = sl_store_gather_pending(s->store, p->id, (int)k, st->gather, err);
        if (pending < 0) return (int)pending;
        if (pending > 0) {
            state = "failed";
            snprintf(msg, sizeof msg,
                     "pipeline failed: %lld group(s) of gather stage '%s' never received all %d "
                     "members",
                     (long long)pending, st->name, st->gather);
        }
    }
    int rc = sl_store_pipeline_set_state(s->store, p->id, state, now, err);
    if (rc < 0) return rc;
    free(p->state);
    p->state = sl_xstrdup(state);
    p->finished = now;
    return sl_store_event(s->store, now, p->id, 0, "pipeline-end", msg, err);
}
