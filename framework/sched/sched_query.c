/* sched_query.c - what operators see and do: status with rates and ETAs,
 * pipeline lookup, retry of failed tasks, cancellation, and messages
 * injected from outside (`sluice emit` without a task). */
#include "sched/sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"
#include "util/clock.h"

static sl_pipe *find_locked(sl_sched *s, const char *which)
{
    if (!which || !*which) return NULL;
    char *end;
    long long id = strtoll(which, &end, 10);
    if (*end == 0) return sl_sched_pipe(s, id);
    for (size_t i = s->npipes; i-- > 0;) /* latest with that name */
        if (strcmp(s->pipes[i]->model->name, which) == 0) return s->pipes[i];
    return NULL;
}

int sl_sched_find_pipeline(sl_sched *s, const char *which, int64_t *id, sl_err *err)
{
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = find_locked(s, which);
    if (p) *id = p->id;
    pthread_mutex_unlock(&s->mu);
    if (!p)
        return sl_errf(err, SL_ENOTFOUND, "no pipeline named or numbered '%s' (see sluice status)",
                       which ? which : "");
    return 0;
}

int sl_sched_stage_index(sl_sched *s, int64_t pipeline_id, const char *stage, sl_err *err)
{
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = sl_sched_pipe(s, pipeline_id);
    int k = p ? sl_pipeline_stage_index(p->model, stage) : -1;
    pthread_mutex_unlock(&s->mu);
    if (k < 0)
        return sl_errf(err, SL_ENOTFOUND, "pipeline %lld has no stage '%s'", (long long)pipeline_id,
                       stage);
    return k;
}

const char *sl_sched_stage_name_locked(sl_sched *s, int64_t pipeline_id, int stage)
{
    sl_pipe *p = sl_sched_pipe(s, pipeline_id);
    return p && stage >= 0 && (size_t)stage < p->model->nstages ? p->model->stages[stage].name
                                                                : "?";
}

const char *sl_sched_pipeline_name(sl_sched *s, int64_t pipeline_id)
{
    /* models are never freed while the scheduler lives */
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = sl_sched_pipe(s, pipeline_id);
    const char *n = p ? p->model->name : NULL;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const char *sl_sched_stage_name(sl_sched *s, int64_t pipeline_id, int stage)
{
    /* Models are never freed while the scheduler lives, so the name
     * stays valid after the lock is released. */
    pthread_mutex_lock(&s->mu);
    const char *n = sl_sched_stage_name_locked(s, pipeline_id, stage);
    pthread_mutex_unlock(&s->mu);
    return n;
}

static double stage_rate(const sl_stage_rt *rt, double now)
{
    int64_t sec = (int64_t)now, n = 0;
    for (int i = 0; i < SL_RATE_WINDOW; i++)
        if (rt->bucket_sec[i] > sec - SL_RATE_WINDOW) n += rt->buckets[i];
    if (!n) return 0;
    double span = now - rt->first_done;
    if (span > SL_RATE_WINDOW) span = SL_RATE_WINDOW;
    if (span < 1) span = 1;
    return n / span;
}

int sl_sched_status(sl_sched *s, const char *which, sl_pipe_stat_fn fn, void *ctx, sl_err *err)
{
    int rc = 0;
    double now = sl_wall();
    pthread_mutex_lock(&s->mu);
    sl_pipe *only = NULL;
    if (which && *which && !(only = find_locked(s, which))) {
        pthread_mutex_unlock(&s->mu);
        return sl_errf(err, SL_ENOTFOUND, "no pipeline named or numbered '%s'", which);
    }
    for (size_t i = 0; i < s->npipes && rc == 0; i++) {
        sl_pipe *p = s->pipes[i];
        if (only && p != only) continue;
        sl_pipe_stat ps = {p->id, p->model->name,    p->state,    p->created,   p->finished,
                           NULL,  p->model->nstages, p->warnings, p->nwarnings, p->ncorrupt};
        ps.stages = sl_xcalloc(p->model->nstages ? p->model->nstages : 1, sizeof *ps.stages);
        for (size_t k = 0; k < p->model->nstages; k++) {
            sl_stage_stat *ss = &ps.stages[k];
            const sl_stage *st = &p->model->stages[k];
            ss->name = st->name;
            memcpy(ss->count, p->rt[k].count, sizeof ss->count);
            memcpy(ss->finished, p->rt[k].finished, sizeof ss->finished);
            ss->duration = p->rt[k].duration;
            if (st->gather > 0 && strcmp(p->state, "running") == 0)
                ss->waiting = sl_store_gather_pending(s->store, p->id, (int)k, st->gather, NULL);
            ss->rate = strcmp(p->state, "running") == 0 ? stage_rate(&p->rt[k], now) : 0;
            ss->pending = sl_sched_expand_pending(p, (int)k);
            int64_t left = ss->count[SL_TASK_QUEUED] + ss->count[SL_TASK_RUNNING] + ss->pending;
            ss->eta_s = left == 0 ? 0 : ss->rate > 0 ? left / ss->rate : -1;
        }
        rc = fn(ctx, &ps);
        free(ps.stages);
    }
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

typedef struct {
    int64_t *ids;
    size_t n, cap;
} id_list;

static int collect_cb(void *ctx, const sl_task_row *r)
{
    id_list *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->ids = sl_xrealloc(l->ids, l->cap * sizeof *l->ids);
    }
    l->ids[l->n++] = r->id;
    return 0;
}

int sl_sched_retry(sl_sched *s, int64_t pipeline_id, int stage, const int64_t *ids, size_t n,
                   int64_t *requeued, sl_err *err)
{
    double now = sl_wall();
    *requeued = 0;
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = sl_sched_pipe(s, pipeline_id);
    int rc = 0;
    if (!p) {
        rc = sl_errf(err, SL_ENOTFOUND, "no pipeline %lld", (long long)pipeline_id);
        goto out;
    }
    if ((rc = sl_store_begin(s->store, err)) < 0) goto out;
    id_list l = {0};
    if (n == 0) {
        int64_t after = 0;
        for (;;) {
            size_t before = l.n;
            rc = sl_store_tasks_list(s->store, pipeline_id, stage, SL_TASK_FAILED, after, 10000,
                                     collect_cb, &l, err);
            if (rc < 0 || l.n == before) break;
            after = l.ids[l.n - 1];
        }
        ids = l.ids;
        n = l.n;
    }
    for (size_t i = 0; i < n && rc >= 0; i++) {

        rc = sl_store_task_requeue(s->store, ids[i], now, 1, err);
        if (rc > 0) (*requeued)++;
    }
    if (rc >= 0 && *requeued) {
        free(p->state);
        p->state = sl_xstrdup("running");
        p->finished = 0;
        rc = sl_store_pipeline_set_state(s->store, p->id, "running", 0, err);
    }
    if (rc >= 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "%lld task(s) re-queued by an operator", (long long)*requeued);
        rc = sl_store_event(s->store, now, p->id, 0, "retry", msg, err);
    }
    free(l.ids);
    if (rc >= 0) rc = sl_store_commit(s->store, err);
    if (rc < 0) sl_store_rollback(s->store);
    sl_sched_reload_counts(s, NULL);
    pthread_cond_broadcast(&s->work_cv);
out:
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

int sl_sched_cancel(sl_sched *s, int64_t pipeline_id, int64_t *cancelled, sl_err *err)
{
    double now = sl_wall();
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = sl_sched_pipe(s, pipeline_id);
    int rc = 0;
    if (!p) {
        rc = sl_errf(err, SL_ENOTFOUND, "no pipeline %lld", (long long)pipeline_id);
        goto out;
    }
    /* cancelling what already ended would rewrite its outcome */
    if (!strcmp(p->state, "done") || !strcmp(p->state, "failed") ||
        !strcmp(p->state, "cancelled")) {
        rc = sl_errf(err, SL_EINVAL, "pipeline '%s' (#%lld) already finished (%s)", p->model->name,
                     (long long)pipeline_id, p->state);
        goto out;
    }
    if ((rc = sl_store_begin(s->store, err)) < 0) goto out;
    rc = sl_store_pipeline_cancel_tasks(s->store, pipeline_id, now, err);
    if (rc >= 0) {
        *cancelled = rc;
        rc = sl_store_pipeline_set_state(s->store, pipeline_id, "cancelled", now, err);
    }
    if (rc >= 0)
        rc = sl_store_event(s->store, now, pipeline_id, 0, "cancel", "pipeline cancelled", err);
    if (rc >= 0) rc = sl_store_commit(s->store, err);
    if (rc < 0) {
        sl_store_rollback(s->store);
    } else {
        free(p->state);
        p->state = sl_xstrdup("cancelled");
        p->finished = now;
    }
    sl_sched_reload_counts(s, NULL);
out:
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

int sl_sched_emit(sl_sched *s, int64_t pipeline_id, const sl_msg *m, size_t n, int64_t *created,
                  sl_err *err)
{
    double now = sl_wall();
    pthread_mutex_lock(&s->mu);
    sl_pipe *p = sl_sched_pipe(s, pipeline_id);
    int rc = 0;
    struct {
        int64_t created;
    } c = {0};
    if (!p) {
        rc = sl_errf(err, SL_ENOTFOUND, "no pipeline %lld", (long long)pipeline_id);
        goto out;
    }
    if (strcmp(p->state, "cancelled") == 0) {
        rc = sl_errf(err, SL_EINVAL, "pipeline %lld is cancelled", (long long)pipeline_id);
        goto out;
    }
    if ((rc = sl_store_begin(s->store, err)) < 0) goto out;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        int to = m[i].stage && *m[i].stage ? sl_pipeline_stage_index(p->model, m[i].stage) : 0;
        if (to < 0) {
            rc = sl_errf(err, SL_EINVAL, "pipeline '%s' has no stage '%s'", p->model->name,
                         m[i].stage);
            break;
        }
        rc = sl_sched_expand_message(s, p, to, m[i].key, m[i].headers, 0, now, &c.created, err);
    }
    if (rc >= 0 && c.created && strcmp(p->state, "running") != 0) {
        free(p->state);
        p->state = sl_xstrdup("running");
        p->finished = 0;
        rc = sl_store_pipeline_set_state(s->store, p->id, "running", 0, err);
    }
    if (rc >= 0) rc = sl_store_commit(s->store, err);
    if (rc < 0) {
        sl_store_rollback(s->store);
        sl_sched_reload_counts(s, NULL);
        sl_sched_expand_load(s, NULL); /* forget cursors the rollback removed */
    } else {
        *created = c.created;
        pthread_cond_broadcast(&s->work_cv);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

int sl_sched_with_store(sl_sched *s, sl_store_fn fn, void *ctx, sl_err *err)
{
    pthread_mutex_lock(&s->mu);
    int rc = fn(ctx, s->store, err);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
