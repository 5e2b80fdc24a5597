/* sched_cache.c - the scheduler's side of the node-local caches.
 *
 * An object is the output directory of one task (TIER/p<pipeline>/<stage>/
 * <key> on the host that ran it). The scheduler records objects and their
 * replicas, links every task to the objects it reads (reference counts, so
 * an object is deleted when its last consumer has finished, unless its stage
 * keeps its outputs), admits a task to a host only when its declared output
 * fits that host's memory or else SSD budget (backpressure, or controlled
 * dropping with on_full: drop-oldest), tells agents what to pull before a
 * task starts and what to push right away (stream: true), and re-runs the
 * producers of objects lost with a host (lineage). */
#include "sched/sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/manifest.h"
#include "pipeline/limits.h"
#include "util/clock.h"
#include "util/units.h"

void sl_obj_ref_clear(sl_obj_ref *o)
{
    free(o->path);
    free(o->stage);
    free(o->key);
    free(o->files);
    free(o->tier);
    for (size_t i = 0; i < o->nreplicas; i++) {
        free(o->replicas[i].host);
        free(o->replicas[i].addr);
        free(o->replicas[i].tier);
    }
    free(o->replicas);
    memset(o, 0, sizeof *o);
}

void sl_push_list_free(sl_push_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].path);
        free(l->v[i].tier);
        free(l->v[i].files);
        free(l->v[i].dest_host);
        free(l->v[i].dest_addr);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

char *sl_sched_obj_path(const sl_pipe *p, int stage, const char *key)
{
    return sl_xasprintf("p%lld/%s/%s", (long long)p->id, p->model->stages[stage].name, key);
}

/* ---- completion: outputs, copies, releases ---------------------------------- */

/* "p<pipeline>/<stage>/<key>" back to (pipeline, stage index, key). */
static int parse_obj_path(sl_sched *s, const char *path, int64_t *pid, int *stage, char *key,
                          size_t keylen)
{
    char stage_name[256];
    long long id;
    int n = 0;
    if (sscanf(path, "p%lld/%255[^/]/%n", &id, stage_name, &n) != 2 || n <= 0) return -1;
    if (strlen(path + n) > SL_KEY_MAX || strlen(path + n) >= keylen) return -1; /* not a key */
    snprintf(key, keylen, "%s", path + n);
    sl_pipe *p = sl_sched_pipe(s, id);
    int st = p ? sl_pipeline_stage_index(p->model, stage_name) : -1;
    if (st < 0 || !*key) return -1;
    *pid = id;
    *stage = st;
    return 0;
}

int sl_sched_cache_outputs(sl_sched *s, sl_pipe *p, int64_t task_id, int stage, const char *key,
                           const sl_completion *c, const char *host, double now, sl_err *err)
{
    int rc;
    for (size_t i = 0; i < c->ncopies; i++) {
        /* an input pulled here is a replica too: later readers on this host
         * use it, and it is deleted with the object */
        const sl_obj_out *o = &c->copies[i];
        char okey[SL_KEY_MAX + 1];
        int64_t pid;
        int ost;
        sl_object_row row;
        if (parse_obj_path(s, o->path, &pid, &ost, okey, sizeof okey) < 0 ||
            sl_store_object_get(s->store, pid, ost, okey, &row, NULL) != 1 ||
            strcmp(row.state, "live") != 0)
            continue;
        if ((rc = sl_store_replica_add(s->store, pid, ost, okey, o->host ? o->host : host, o->tier,
                                       o->size, now, err)) < 0)
            return rc;
    }
    if (c->noutputs == 0) return 0;
    const sl_obj_out *o = &c->outputs[0];
    const sl_stage *st = &p->model->stages[stage];
    if ((rc = sl_store_object_put(s->store, p->id, stage, key, task_id, o->size,
                                  o->files ? o->files : "", sl_stage_keeps(st), host,
                                  o->tier && *o->tier ? o->tier : "mem", now, err)) < 0)
        return rc;
    /* a re-run (lineage) moved the object: consumers bound to the old host follow it */
    return sl_store_consumers_rehost(s->store, p->id, stage, key, host, err);
}

typedef struct {
    sl_sched *s;
    sl_err *err;
    int64_t pids[64];
    int stages[64];
    char *keys[64];
    int n;
} objkeys;

static int collect_objkey(void *ctx, int64_t pid, int stage, const char *key)
{
    objkeys *k = ctx;
    if (k->n >= 64) return 1;
    k->pids[k->n] = pid;
    k->stages[k->n] = stage;
    k->keys[k->n] = sl_xstrdup(key);
    k->n++;
    return 0;
}

static void objkeys_free(objkeys *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->keys[i]);
    k->n = 0;
}

/* Drops one reference; deletes the object when nobody needs it any more. */
static int unref(sl_sched *s, int64_t pid, int stage, const char *key, sl_err *err)
{
    int refs = sl_store_object_ref(s->store, pid, stage, key, -1, err);
    if (refs == SL_ENOTFOUND) return 0;
    if (refs != 0) return refs < 0 ? refs : 0;
    sl_object_row row;
    int rc = sl_store_object_get(s->store, pid, stage, key, &row, err);
    if (rc <= 0 || row.keep || strcmp(row.state, "live") != 0) return rc < 0 ? rc : 0;
    sl_pipe *p = sl_sched_pipe(s, pid);
    if (!p) return 0;
    char *path = sl_sched_obj_path(p, stage, key);
    rc = sl_store_object_delete(s->store, pid, stage, key, path, "deleted", err);
    free(path);
    return rc;
}

int sl_sched_cache_release(sl_sched *s, int64_t task_id, sl_err *err)
{
    objkeys k = {.s = s};
    int rc = sl_store_task_inputs_each(s->store, task_id, collect_objkey, &k, err);
    for (int i = 0; i < k.n && rc >= 0; i++)
        rc = unref(s, k.pids[i], k.stages[i], k.keys[i], err);
    objkeys_free(&k);
    return rc < 0 ? rc : 0;
}

int sl_sched_cache_link(sl_sched *s, int64_t pid, int64_t task_id, int src_stage,
                        const char *src_key, sl_err *err)
{
    if (src_stage < 0 || !src_key) return 0;
    sl_object_row row;
    int rc = sl_store_object_get(s->store, pid, src_stage, src_key, &row, err);
    if (rc <= 0) return rc; /* the producer wrote nothing: no data to carry */
    if (task_id > 0 &&
        (rc = sl_store_task_inputs_add(s->store, task_id, src_stage, src_key, err)) <= 0)
        return rc; /* already linked (duplicate message): no extra reference */
    rc = sl_store_object_ref(s->store, pid, src_stage, src_key, +1, err);
    return rc < 0 ? rc : 0;
}

typedef struct {
    sl_sched *s;
    int64_t task_id;
    sl_err *err;
    int rc;
} link_ctx;

static int link_src(void *ctx, int64_t pid, int stage, const char *key)
{
    link_ctx *l = ctx;
    (void)pid;
    /* the member's reference was taken when it joined the group */
    l->rc = sl_store_task_inputs_add(l->s->store, l->task_id, stage, key, l->err);
    return l->rc < 0;
}

int sl_sched_cache_link_gather(sl_sched *s, int64_t pid, int stage, const char *gkey,
                               int64_t task_id, sl_err *err)
{
    link_ctx l = {s, task_id, err, 0};
    int rc = sl_store_gather_srcs(s->store, pid, stage, gkey, link_src, &l, err);
    return rc < 0 ? rc : l.rc < 0 ? l.rc : 0;
}

/* ---- leasing: admission and inputs -------------------------------------------- */

typedef struct {
    sl_sched *s;
    char *path;
    int done;
} drop_ctx;

static int drop_oldest_cb(void *ctx, int64_t pid, int stage, const char *key)
{
    drop_ctx *d = ctx;
    sl_pipe *p = sl_sched_pipe(d->s, pid);
    if (!p) return 1;
    d->path = sl_sched_obj_path(p, stage, key);
    sl_store_object_delete(d->s->store, pid, stage, key, d->path, "dropped", NULL);
    char msg[1200];
    snprintf(msg, sizeof msg,
             "cache full: dropped the oldest unconsumed output %s of stage '%s' "
             "(on_full: drop-oldest); its consumers will not run",
             d->path, p->model->stages[stage].name);
    sl_store_event(d->s->store, sl_wall(), pid, 0, "dropped", msg, NULL);
    d->done = 1;
    return 1;
}

int sl_sched_cache_admit(sl_sched *s, sl_pipe *p, int stage, const char *host, int want, int *n_mem,
                         int *n_ssd, sl_err *err)
{
    const sl_stage *st = &p->model->stages[stage];
    *n_mem = want;
    *n_ssd = 0;
    if (st->output_size <= 0 || want <= 0) return 0;
    int64_t mem_b, ssd_b;
    if (sl_store_host_budget(s->store, host, &mem_b, &ssd_b, err) < 0) return SL_ESTORE;
    if (mem_b > 0 && ssd_b > 0 && st->output_size > mem_b && st->output_size > ssd_b) {
        /* it would wait forever: say so where the operator looks */
        char msg[512], o[32], m[32], d[32];
        snprintf(msg, sizeof msg,
                 "stage '%s': output_size %s is larger than host %s's memory budget %s and "
                 "SSD budget %s, so its tasks cannot run there (lower output_size or raise "
                 "the agent's --mem-budget/--ssd-budget)",
                 st->name, sl_format_size(st->output_size, o, sizeof o), host,
                 sl_format_size(mem_b, m, sizeof m), sl_format_size(ssd_b, d, sizeof d));
        sl_sched_warn(s, p, msg);
        *n_mem = *n_ssd = 0;
        return 0;
    }
    for (int round = 0; round < 2; round++) {
        *n_mem = *n_ssd = 0;
        if (mem_b <= 0) {
            *n_mem = want;
            return 0;
        }
        int64_t used = sl_store_host_usage(s->store, host, "mem", err);
        if (used < 0) return (int)used;
        int64_t fit = (mem_b - used) / st->output_size;
        *n_mem = fit <= 0 ? 0 : fit < want ? (int)fit : want;
        int rest = want - *n_mem;
        if (rest > 0) {
            if (ssd_b <= 0) { /* no limit declared */
                *n_ssd = rest;
            } else {
                int64_t su = sl_store_host_usage(s->store, host, "ssd", err);
                if (su < 0) return (int)su;
                int64_t sf = (ssd_b - su) / st->output_size;
                *n_ssd = sf <= 0 ? 0 : sf < rest ? (int)sf : rest;
            }
        }
        if (*n_mem + *n_ssd > 0 || strcmp(st->on_full, "drop-oldest") != 0 || round == 1) return 0;
        /* full: a live stream drops its oldest unconsumed output and goes on */
        drop_ctx d = {s, NULL, 0};
        sl_store_oldest_object(s->store, p->id, stage, host, drop_oldest_cb, &d, NULL);
        free(d.path);
        if (!d.done) return 0;
    }
    return 0;
}

typedef struct {
    sl_obj_ref *o;
} repl_ctx;

static int replica_cb(void *ctx, const sl_replica_row *r)
{
    repl_ctx *c = ctx;
    if (r->host_state && strcmp(r->host_state, "up") != 0)
        return 0; /* a lost host's replica is of no use */
    sl_obj_ref *o = c->o;
    o->replicas = sl_xrealloc(o->replicas, (o->nreplicas + 1) * sizeof *o->replicas);
    sl_obj_replica *x = &o->replicas[o->nreplicas++];
    x->host = sl_xstrdup(r->host);
    x->addr = sl_xstrdup(r->addr ? r->addr : "");
    x->tier = sl_xstrdup(r->tier);
    return 0;
}

typedef struct {
    sl_sched *s;
    sl_leased *t;
    sl_err *err;
    int rc;
} inputs_ctx;

static int input_cb(void *ctx, int64_t pid, int stage, const char *key)
{
    inputs_ctx *c = ctx;
    sl_pipe *p = sl_sched_pipe(c->s, pid);
    sl_object_row row;
    if (!p || sl_store_object_get(c->s->store, pid, stage, key, &row, c->err) != 1) return 0;
    sl_leased *t = c->t;
    t->inputs = sl_xrealloc(t->inputs, (t->ninputs + 1) * sizeof *t->inputs);
    sl_obj_ref *o = &t->inputs[t->ninputs++];
    memset(o, 0, sizeof *o);
    o->path = sl_sched_obj_path(p, stage, key);
    o->stage = sl_xstrdup(p->model->stages[stage].name);
    o->key = sl_xstrdup(key);
    o->files = sl_xstrdup(row.files ? row.files : "");
    o->size = row.size;
    repl_ctx rc = {o};
    if (sl_store_replicas_each(c->s->store, pid, stage, key, replica_cb, &rc, c->err) < 0)
        c->rc = SL_ESTORE;
    return c->rc < 0;
}

int sl_sched_cache_inputs(sl_sched *s, sl_leased *t, sl_err *err)
{
    inputs_ctx c = {s, t, err, 0};
    int rc = sl_store_task_inputs_each(s->store, t->id, input_cb, &c, err);
    return rc < 0 ? rc : c.rc;
}

/* ---- heartbeats: deletions and finished pushes ---------------------------------- */

typedef struct {
    char **v;
    size_t n;
} str_list;

static int path_cb(void *ctx, const char *path)
{
    str_list *l = ctx;
    l->v = sl_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = sl_xstrdup(path);
    return 0;
}

int sl_sched_cache_deletions(sl_sched *s, const char *host, char ***out, size_t *n, sl_err *err)
{
    str_list l = {0};
    int rc = sl_store_deletions_take(s->store, host, path_cb, &l, err);
    *out = l.v;
    *n = l.n;
    return rc < 0 ? rc : 0;
}

/* ---- stream: true ------------------------------------------------------------------ */

typedef struct {
    const char *exclude;
    char *best, *best_addr;
    int64_t best_load;
    sl_sched *s;
    const sl_pipe *p;
    const sl_stage *st;
} pick_ctx;

static int eligible(const sl_sched *s, const sl_pipe *p, const sl_stage *st, const char *host)
{
    (void)s;
    if (st->placement != SL_PLACE_GROUP_BOUND || !st->group) return 1;
    for (size_t g = 0; g < p->model->ngroups; g++) {
        const sl_group *gr = &p->model->groups[g];
        if (strcmp(gr->name, st->group) != 0) continue;
        for (size_t h = 0; h < gr->nhosts; h++)
            if (strcmp(gr->hosts[h], host) == 0) return 1;
    }
    for (size_t i = 0; i < s->nagents; i++)
        if (strcmp(s->agents[i]->host, host) == 0)
            for (size_t g = 0; g < s->agents[i]->ngroups; g++)
                if (strcmp(s->agents[i]->groups[g], st->group) == 0) return 1;
    return 0;
}

static int pick_cb(void *ctx, const sl_host_row *h)
{
    pick_ctx *c = ctx;
    if (strcmp(h->state, "up") != 0 || !h->addr || !*h->addr ||
        !eligible(c->s, c->p, c->st, h->name))
        return 0;
    int64_t load = 0;
    for (size_t i = 0; i < c->s->nagents; i++)
        if (strcmp(c->s->agents[i]->host, h->name) == 0) load = c->s->agents[i]->stream_assigned;
    if (!c->best || load < c->best_load) {
        free(c->best);
        free(c->best_addr);
        c->best = sl_xstrdup(h->name);
        c->best_addr = sl_xstrdup(h->addr);
        c->best_load = load;
    }
    return 0;
}

int sl_sched_cache_stream_dest(sl_sched *s, const sl_pipe *p, int to, const char *from_host,
                               char **dest, char **dest_addr)
{
    const sl_stage *st = &p->model->stages[to];
    *dest = *dest_addr = NULL;
    if (from_host && eligible(s, p, st, from_host)) {
        *dest = sl_xstrdup(from_host); /* the data is already where it is needed */
        return 0;
    }
    pick_ctx c = {from_host, NULL, NULL, 0, s, p, st};
    sl_store_hosts_each(s->store, pick_cb, &c, NULL);
    if (!c.best) return 0;
    for (size_t i = 0; i < s->nagents; i++)
        if (strcmp(s->agents[i]->host, c.best) == 0) s->agents[i]->stream_assigned++;
    *dest = c.best;
    *dest_addr = c.best_addr;
    return 0;
}

/* ---- lineage ----------------------------------------------------------------------- */

static int rerun_producer(sl_sched *s, int64_t pid, int stage, const char *key, double now,
                          int depth, sl_err *err);

typedef struct {
    int64_t id;
    int state, stage;
    int64_t pid;
} prod_row;

static int prod_cb(void *ctx, const sl_task_row *r)
{
    prod_row *p = ctx;
    p->id = r->id;
    p->state = r->state;
    p->stage = r->stage;
    p->pid = r->pipeline_id;
    return 1;
}

/* The producer of (pid, stage, key) runs again; its own inputs that were
 * deleted in the meantime are re-made first (recursively). */
static int rerun_producer(sl_sched *s, int64_t pid, int stage, const char *key, double now,
                          int depth, sl_err *err)
{
    if (depth > 32) return sl_errf(err, SL_EINVAL, "lineage deeper than 32 stages");
    sl_object_row row;
    int rc = sl_store_object_get(s->store, pid, stage, key, &row, err);
    if (rc <= 0) return rc;
    int64_t task_id = row.task_id;
    prod_row pr = {0, -1, 0, 0};
    if ((rc = sl_store_task_get(s->store, task_id, prod_cb, &pr, err)) < 0) return rc;
    if (pr.state != SL_TASK_DONE) return 0; /* queued or running already: it will make the object */
    sl_pipe *p = sl_sched_pipe(s, pid);
    if (!p) return 0;
    if ((rc = sl_store_task_rerun(s->store, task_id, now, err)) < 0) return rc;
    sl_sched_count(p, pr.stage, SL_TASK_DONE, SL_TASK_QUEUED);
    if (strcmp(p->state, "running") != 0) {
        free(p->state);
        p->state = sl_xstrdup("running");
        p->finished = 0;
        sl_store_pipeline_set_state(s->store, pid, "running", 0, NULL);
    }
    char msg[1200];
    snprintf(msg, sizeof msg, "lineage: re-running %s/%s to re-create its lost output",
             p->model->stages[pr.stage].name, key);
    sl_store_event(s->store, now, pid, task_id, "lineage", msg, NULL);
    /* it will read its inputs again: take references back, re-make lost ones */
    objkeys k = {.s = s};
    rc = sl_store_task_inputs_each(s->store, task_id, collect_objkey, &k, err);
    for (int i = 0; i < k.n && rc >= 0; i++) {
        rc = sl_store_object_ref(s->store, k.pids[i], k.stages[i], k.keys[i], +1, err);
        sl_object_row in;
        if (rc >= 0 &&
            sl_store_object_get(s->store, k.pids[i], k.stages[i], k.keys[i], &in, err) == 1 &&
            strcmp(in.state, "live") != 0)
            rc = rerun_producer(s, k.pids[i], k.stages[i], k.keys[i], now, depth + 1, err);
    }
    objkeys_free(&k);
    return rc < 0 ? rc : 1;
}

typedef struct {
    int64_t *pids;
    int *stages;
    char **keys;
    size_t n;
} lost_list;

static int lost_cb(void *ctx, int64_t pid, int stage, const char *key)
{
    lost_list *l = ctx;
    l->pids = sl_xrealloc(l->pids, (l->n + 1) * sizeof *l->pids);
    l->stages = sl_xrealloc(l->stages, (l->n + 1) * sizeof *l->stages);
    l->keys = sl_xrealloc(l->keys, (l->n + 1) * sizeof *l->keys);
    l->pids[l->n] = pid;
    l->stages[l->n] = stage;
    l->keys[l->n] = sl_xstrdup(key);
    l->n++;
    return 0;
}

static int count_cb(void *ctx, const sl_replica_row *r)
{
    (void)r;
    (*(int *)ctx)++;
    return 0;
}

int sl_sched_cache_host_lost(sl_sched *s, const char *host, double now, sl_err *err)
{
    lost_list l = {0};
    int rc = sl_store_host_objects(s->store, host, lost_cb, &l, err);
    if (rc >= 0) rc = sl_store_host_drop_replicas(s->store, host, err);
    int rerun = 0;
    for (size_t i = 0; i < l.n && rc >= 0; i++) {
        int left = 0;
        sl_store_replicas_each(s->store, l.pids[i], l.stages[i], l.keys[i], count_cb, &left, NULL);
        sl_object_row row;
        if (left > 0 ||
            sl_store_object_get(s->store, l.pids[i], l.stages[i], l.keys[i], &row, err) != 1)
            continue;
        int needed = row.refs > 0 || row.keep;
        sl_pipe *p = sl_sched_pipe(s, l.pids[i]);
        char *path = p ? sl_sched_obj_path(p, l.stages[i], l.keys[i]) : sl_xstrdup("?");
        rc = sl_store_object_delete(s->store, l.pids[i], l.stages[i], l.keys[i], path, "lost", err);
        free(path);
        if (rc >= 0 && needed && p && strcmp(p->state, "cancelled") != 0) {
            rc = rerun_producer(s, l.pids[i], l.stages[i], l.keys[i], now, 0, err);
            rerun += rc > 0;
        }
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.keys[i]);
    free(l.pids);
    free(l.stages);
    free(l.keys);
    if (rerun) pthread_cond_broadcast(&s->work_cv);
    return rc < 0 ? rc : rerun;
}

/* Drops the replica of `path` on `host`; when it was the last copy the
 * object is lost as surely as with its host: re-made by lineage. */
static int drop_replica(sl_sched *s, const char *path, const char *host, double now, sl_err *err)
{
    char key[SL_KEY_MAX + 1];
    int64_t pid;
    int stage;
    if (!host || parse_obj_path(s, path, &pid, &stage, key, sizeof key) < 0) return 0;
    int rc = sl_store_replica_drop(s->store, pid, stage, key, host, err);
    if (rc <= 0) return rc;
    int left = 0;
    sl_store_replicas_each(s->store, pid, stage, key, count_cb, &left, NULL);
    if (left > 0) return 0;
    sl_pipe *p = sl_sched_pipe(s, pid);
    char *opath = sl_sched_obj_path(p, stage, key);
    rc = sl_store_object_delete(s->store, pid, stage, key, opath, "lost", err);
    free(opath);
    if (rc >= 0) rc = rerun_producer(s, pid, stage, key, now, 0, err);
    return rc < 0 ? rc : 0;
}

int sl_sched_cache_unreachable(sl_sched *s, const sl_completion *c, double now, sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < c->nunreachable && rc >= 0; i++)
        rc = drop_replica(s, c->unreachable[i].path, c->unreachable[i].host, now, err);
    return rc < 0 ? rc : 0;
}

typedef struct {
    const char *name; /* NULL: take the first file */
    size_t namelen;
    sl_mfile *f; /* malloc'd copy of the file found (its name borrowed) */
} first_file;

static int named_cb(void *ctx, const sl_mfile *f)
{
    first_file *c = ctx;
    if (c->name && (f->namelen != c->namelen || memcmp(f->name, c->name, f->namelen) != 0))
        return 0;
    c->f = sl_xmalloc(sizeof *c->f);
    *c->f = *f;
    return 1;
}

int sl_sched_cache_corrupt(sl_sched *s, const sl_completion *c, const char *host, double now,
                           sl_err *err)
{
    int rc = 0;
    for (size_t i = 0; i < c->ncorrupt && rc >= 0; i++) {
        const sl_obj_out *o = &c->corrupt[i];
        char key[SL_KEY_MAX + 1];
        int64_t pid;
        int stage;
        if (!o->host || parse_obj_path(s, o->path, &pid, &stage, key, sizeof key) < 0) continue;
        /* the file that differed, as found and as its manifest says */
        first_file found = {NULL, 0, NULL}, want = {NULL, 0, NULL};
        sl_manifest_each(o->files, named_cb, &found);
        sl_object_row row;
        if (found.f && sl_store_object_get(s->store, pid, stage, key, &row, NULL) == 1) {
            want.name = found.f->name;
            want.namelen = found.f->namelen;
            sl_manifest_each(row.files, named_cb, &want);
        }
        char msg[1600];
        if (found.f)
            snprintf(msg, sizeof msg,
                     "corrupt copy of %s on host %s, found by %s: file %.*s has %lld bytes, "
                     "XXH3-128 %s; its manifest says %lld bytes, XXH3-128 %s; the copy is "
                     "discarded",
                     o->path, o->host, host ? host : "?", (int)found.f->namelen, found.f->name,
                     (long long)found.f->size, found.f->hash[0] ? found.f->hash : "?",
                     want.f ? (long long)want.f->size : -1LL,
                     want.f && want.f->hash[0] ? want.f->hash : "?");
        else
            snprintf(msg, sizeof msg, "corrupt copy of %s on host %s, found by %s; discarded",
                     o->path, o->host, host ? host : "?");
        free(found.f);
        free(want.f);
        sl_store_event(s->store, now, pid, c->task_id, "corrupt", msg, NULL);
        sl_pipe *p = sl_sched_pipe(s, pid);
        if (p) sl_sched_note_corrupt(s, p, 1);
        rc = drop_replica(s, o->path, o->host, now, err);
    }
    return rc < 0 ? rc : 0;
}
