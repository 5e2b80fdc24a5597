/* sched_expand.c - lazy expansion of large messages, and `batch:`.
 *
 * A message whose key template makes more than SL_EXPAND_LAZY keys (or that
 * has `batch: N`) is not turned into tasks up front: the store keeps an
 * expansion cursor (template, headers, number of keys, ordinal of the next
 * key) and the scheduler makes SL_EXPAND_CHUNK tasks at a time whenever the
 * target stage's queue falls below SL_EXPAND_LOW. Keys come in the template's
 * deterministic order (sl_template_expand_at), and the cursor advances in the
 * same transaction as the tasks, so a restarted controller resumes exactly
 * where it stopped. With `batch: N` the keys come N at a time and the next
 * batch starts only when the pipeline has nothing queued or running: every
 * task of the previous batch and everything downstream of it is finished. */
#include "sched/sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"
#include "util/clock.h"

#define SL_EXPAND_LAZY 10000 /* more keys than this: expand lazily */
#define SL_EXPAND_CHUNK 5000 /* keys made into tasks at a time */
#define SL_EXPAND_LOW 2500   /* expand more when the stage has fewer queued */

typedef struct {
    sl_sched *s;
    sl_pipe *p;
    int to;
    const char *headers;
    double now;
    int64_t created;
    sl_err *err;
} make_ctx;

static int make_key(void *ctx, const char *key)
{
    make_ctx *c = ctx;
    sl_make mk = {key, key, c->headers, NULL, NULL, -1, NULL};
    int rc = sl_sched_make_task(c->s, c->p, c->to, &mk, c->now, c->err);
    if (rc < 0) return rc;
    c->created += rc;
    return 0;
}

static sl_expansion *exp_add(sl_pipe *p, int64_t id, int stage, const char *tmpl,
                             const char *headers, int64_t total, int64_t next, int64_t batch)
{
    p->exp = sl_xrealloc(p->exp, (p->nexp + 1) * sizeof *p->exp);
    sl_expansion *e = &p->exp[p->nexp++];
    e->id = id;
    e->stage = stage;
    e->tmpl = sl_xstrdup(tmpl);
    e->headers = headers && *headers ? sl_xstrdup(headers) : NULL;
    e->total = total;
    e->next = next;
    e->batch = batch;
    return e;
}

void sl_sched_expand_free(sl_pipe *p)
{
    for (size_t i = 0; i < p->nexp; i++) {
        free(p->exp[i].tmpl);
        free(p->exp[i].headers);
    }
    free(p->exp);
    p->exp = NULL;
    p->nexp = 0;
}

/* How many keys the next chunk of e may make (0: not now). */
static int64_t chunk_of(const sl_expansion *e)
{
    int64_t n = e->total - e->next;
    if (n > SL_EXPAND_CHUNK) n = SL_EXPAND_CHUNK;
    if (e->batch > 0 && n > e->batch - e->next % e->batch) n = e->batch - e->next % e->batch;
    return n < 0 ? 0 : n;
}

/* Makes the next chunk of e into tasks and advances its cursor (inside the
 * caller's transaction; e->next is restored by the caller on failure). */
static int expand_chunk(sl_sched *s, sl_pipe *p, sl_expansion *e, double now, int64_t *created,
                        sl_err *err)
{
    int64_t n = chunk_of(e);
    if (n <= 0) return 0;
    make_ctx c = {s, p, e->stage, e->headers, now, 0, err};
    int rc = sl_template_expand_at(e->tmpl, NULL, e->next, n, make_key, &c, err);
    if (rc < 0) return rc;
    int64_t first = e->next;
    e->next += n;
    if ((rc = sl_store_expansion_advance(s->store, e->id, e->next, err)) < 0) return rc;
    if (e->batch > 0 && first % e->batch == 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "stage '%s': batch %lld of %lld started (%lld keys per batch)",
                 p->model->stages[e->stage].name, (long long)(first / e->batch + 1),
                 (long long)((e->total + e->batch - 1) / e->batch), (long long)e->batch);
        if ((rc = sl_store_event(s->store, now, p->id, 0, "batch", msg, err)) < 0) return rc;
    }
    *created += c.created;
    return 0;
}

int sl_sched_expand_message(sl_sched *s, sl_pipe *p, int to, const char *tmpl, const char *headers,
                            int64_t batch, double now, int64_t *created, sl_err *err)
{
    int64_t total = sl_template_count(tmpl, err);
    if (total < 0) return (int)total;
    if (total <= SL_EXPAND_LAZY && batch <= 0) {
        make_ctx c = {s, p, to, headers, now, 0, err};
        int rc = sl_template_expand(tmpl, NULL, make_key, &c, err);
        *created += c.created;
        return rc < 0 ? rc : 0;
    }
    /* Every key is checked now (without making them: the controller holds
     * its lock), so a bad key fails the message here, not at some later
     * chunk. */
    int rc = sl_template_check_keys(tmpl, NULL, err);
    if (rc < 0) return rc;
    int64_t id =
        sl_store_expansion_insert(s->store, p->id, to, tmpl, headers, total, batch, now, err);
    if (id < 0) return (int)id;
    sl_expansion *e = exp_add(p, id, to, tmpl, headers, total, 0, batch);
    return expand_chunk(s, p, e, now, created, err);
}

typedef struct {
    sl_sched *s;
} load_ctx;

static int load_row(void *ctx, const sl_expansion_row *r)
{
    load_ctx *c = ctx;
    sl_pipe *p = sl_sched_pipe(c->s, r->pipeline_id);
    if (p && r->stage >= 0 && (size_t)r->stage < p->model->nstages)
        exp_add(p, r->id, r->stage, r->tmpl, r->headers, r->total, r->next, r->batch);
    return 0;
}

int sl_sched_expand_load(sl_sched *s, sl_err *err)
{
    for (size_t i = 0; i < s->npipes; i++)
        sl_sched_expand_free(s->pipes[i]);
    load_ctx c = {s};
    return sl_store_expansions_each(s->store, load_row, &c, err);
}

int64_t sl_sched_expand_pending(const sl_pipe *p, int stage)
{
    int64_t n = 0;
    for (size_t i = 0; i < p->nexp; i++)
        if (stage < 0 || p->exp[i].stage == stage) n += p->exp[i].total - p->exp[i].next;
    return n;
}

/* Nothing queued or running anywhere in the pipeline. */
static int quiescent(const sl_pipe *p)
{
    for (size_t k = 0; k < p->model->nstages; k++)
        if (p->rt[k].count[SL_TASK_QUEUED] > 0 || p->rt[k].count[SL_TASK_RUNNING] > 0) return 0;
    return 1;
}

static int ready(const sl_pipe *p, const sl_expansion *e)
{
    if (e->next >= e->total) return 0;
    if (e->batch > 0 && e->next > 0 && e->next % e->batch == 0)
        return quiescent(p); /* a new batch waits for the previous one */
    return p->rt[e->stage].count[SL_TASK_QUEUED] < SL_EXPAND_LOW;
}

void sl_sched_expand_tick(sl_sched *s)
{
    int64_t created = 0;
    for (size_t i = 0; i < s->npipes; i++) {
        sl_pipe *p = s->pipes[i];
        if (!p->nexp || strcmp(p->state, "running") != 0) continue;
        for (size_t k = 0; k < p->nexp; k++) {
            sl_expansion *e = &p->exp[k];
            if (!ready(p, e)) continue;
            sl_err err = {0};
            int64_t before = e->next;
            double now = sl_wall();
            int rc = sl_store_begin(s->store, &err);
            if (rc == 0 && (rc = expand_chunk(s, p, e, now, &created, &err)) == 0)
                rc = sl_store_commit(s->store, &err);
            if (rc < 0) {
                sl_store_rollback(s->store);
                e->next = before;
                e->total = before; /* stop here rather than fail at every tick */
                sl_sched_reload_counts(s, NULL);
                sl_store_event(s->store, now, p->id, 0, "expand-error", err.msg, NULL);
                fprintf(stderr, "sluice controller: expanding a message of pipeline %lld: %s\n",
                        (long long)p->id, err.msg);
            }
        }
    }
    if (created) pthread_cond_broadcast(&s->work_cv);
}
