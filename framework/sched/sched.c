/* sched.c - scheduler lifecycle, the pipeline table, submission and the
 * creation of tasks from messages (placement and gather joins).
 *
 * Pipelines are kept in memory with their parsed model; their YAML text and
 * the variables used are in the store, so a restarted controller rebuilds the
 * exact same model. Task counters per stage are loaded from the store on open
 * and maintained incrementally afterwards. */
#include "sched/sched_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/json.h"

sl_pipe *sl_sched_pipe(sl_sched *s, int64_t id)
{
    for (size_t i = 0; i < s->npipes; i++)
        if (s->pipes[i]->id == id) return s->pipes[i];
    return NULL;
}

void sl_sched_note_corrupt(sl_sched *s, sl_pipe *p, int64_t n)
{
    (void)s;
    p->ncorrupt += n;
    char *msg = sl_xasprintf("integrity: %lld cop%s of this pipeline's objects did not match "
                             "their manifest and %s discarded (events of kind 'corrupt')",
                             (long long)p->ncorrupt, p->ncorrupt == 1 ? "y" : "ies",
                             p->ncorrupt == 1 ? "was" : "were");
    for (size_t i = 0; i < p->nwarnings; i++)
        if (!strncmp(p->warnings[i], "integrity:", 10)) {
            free(p->warnings[i]);
            p->warnings[i] = msg;
            return;
        }
    p->warnings = sl_xrealloc(p->warnings, (p->nwarnings + 1) * sizeof *p->warnings);
    p->warnings[p->nwarnings++] = msg;
}

void sl_sched_warn(sl_sched *s, sl_pipe *p, const char *msg)
{
    for (size_t i = 0; i < p->nwarnings; i++)
        if (!strcmp(p->warnings[i], msg)) return;
    p->warnings = sl_xrealloc(p->warnings, (p->nwarnings + 1) * sizeof *p->warnings);
    p->warnings[p->nwarnings++] = sl_xstrdup(msg);
    sl_store_event(s->store, sl_wall(), p->id, 0, "warning", msg, NULL);
    fprintf(stderr, "sluice controller: pipeline %lld: %s\n", (long long)p->id, msg);
}

static void pipe_free(sl_pipe *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nwarnings; i++)
        free(p->warnings[i]);
    free(p->warnings);
    sl_pipeline_free(p->model);
    sl_sched_expand_free(p);
    free(p->state);
    free(p->rt);
    free(p);
}

sl_pipe *sl_sched_load_pipe(sl_sched *s, int64_t id, const char *file, const char *yaml,
                            const char *vars_json, const char *state, double created,
                            double finished, sl_err *err)
{
    sl_pipeline *m = sl_pipeline_parse_with_vars_json(file, yaml, vars_json, err);
    if (!m) return NULL;
    sl_pipe *p = sl_xcalloc(1, sizeof *p);
    p->id = id;
    p->model = m;
    p->state = sl_xstrdup(state);
    p->created = created;
    p->finished = finished;
    p->rt = sl_xcalloc(m->nstages ? m->nstages : 1, sizeof *p->rt);
    p->lease_ttl_ms = m->lease_ttl_ms > 0 ? m->lease_ttl_ms : s->lease_ttl_ms;
    int64_t nc = sl_store_event_count(s->store, id, "corrupt", NULL);
    if (nc > 0) sl_sched_note_corrupt(s, p, nc);
    s->pipes = sl_xrealloc(s->pipes, (s->npipes + 1) * sizeof *s->pipes);
    s->pipes[s->npipes++] = p;
    return p;
}

typedef struct {
    sl_sched *s;
    sl_err *err;
    int failed;
} load_ctx;

static int load_row(void *ctx, const sl_pipeline_row *r)
{
    load_ctx *c = ctx;
    sl_err e = {0};
    if (!sl_sched_load_pipe(c->s, r->id, r->file, r->yaml, r->vars_json, r->state, r->created,
                            r->finished, &e)) {
        /* A pipeline that no longer parses (sluice changed) must not stop
         * the controller from serving the others. */
        sl_store_event(c->s->store, sl_wall(), r->id, 0, "load-error", e.msg, NULL);
        fprintf(stderr, "sluice controller: pipeline %lld cannot be loaded: %s\n", (long long)r->id,
                e.msg);
    }
    return 0;
}

static int count_row(void *ctx, int64_t pid, int stage, int state, int64_t n)
{
    sl_sched *s = ctx;
    sl_pipe *p = sl_sched_pipe(s, pid);
    if (p && stage >= 0 && (size_t)stage < p->model->nstages && state >= 0 &&
        state < SL_TASK_NSTATES)
        p->rt[stage].count[state] = n;
    return 0;
}

int sl_sched_reload_counts(sl_sched *s, sl_err *err)
{
    for (size_t i = 0; i < s->npipes; i++)
        for (size_t k = 0; k < s->pipes[i]->model->nstages; k++)
            memset(s->pipes[i]->rt[k].count, 0, sizeof s->pipes[i]->rt[k].count);
    return sl_store_task_counts(s->store, count_row, s, err);
}

int sl_sched_open(const sl_sched_config *cfg, sl_sched **out, sl_err *err)
{
    sl_sched *s = sl_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->work_cv, &ca);
    pthread_condattr_destroy(&ca);
    s->lease_ttl_ms = cfg->lease_ttl_ms > 0 ? cfg->lease_ttl_ms : 30000;
    if (cfg->master_key) memcpy(s->master, cfg->master_key, sizeof s->master);
    if (sl_store_open(cfg->db_path, cfg->durable_fsync, &s->store, err) < 0) goto fail;
    load_ctx lc = {s, err, 0};
    if (sl_store_pipelines_each(s->store, 0, load_row, &lc, err) < 0 ||
        sl_sched_reload_counts(s, err) < 0 || sl_sched_expand_load(s, err) < 0)
        goto fail;
    /* Agents keep running their tasks while the controller is away: give
     * them one lease period to reconnect and report before expiring them. */
    if (sl_store_begin(s->store, err) < 0) goto fail;
    /* ... and their hosts are not lost for the controller's own silence */
    double grace = 2 * s->lease_ttl_ms / 1000.0; /* reconnecting takes a moment */
    if (sl_store_leases_extend_all(s->store, sl_wall() + grace, err) < 0 ||
        sl_store_hosts_seen_all(s->store, sl_wall() + grace / 2, err) < 0 ||
        sl_store_event(s->store, sl_wall(), 0, 0, "controller-start", "controller started", err) <
            0 ||
        sl_store_commit(s->store, err) < 0) {
        sl_store_rollback(s->store);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    sl_sched_close(s);
    return err && err->code ? err->code : SL_ESTORE;
}

void sl_sched_shutdown(sl_sched *s)
{
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
}

void sl_sched_close(sl_sched *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->npipes; i++)
        pipe_free(s->pipes[i]);
    free(s->pipes);
    for (size_t i = 0; i < s->nagents; i++) {
        free(s->agents[i]->agent_id);
        free(s->agents[i]->host);
        for (size_t g = 0; g < s->agents[i]->ngroups; g++)
            free(s->agents[i]->groups[g]);
        free(s->agents[i]->groups);
        free(s->agents[i]);
    }
    free(s->agents);
    sl_store_close(s->store);
    pthread_cond_destroy(&s->work_cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void sl_sched_count(sl_pipe *p, int stage, int from_state, int to_state)
{
    if (stage < 0 || (size_t)stage >= p->model->nstages) return;
    if (from_state >= 0) p->rt[stage].count[from_state]--;
    if (to_state >= 0) p->rt[stage].count[to_state]++;
}

void sl_sched_note_done(sl_pipe *p, int stage, double now)
{
    sl_stage_rt *rt = &p->rt[stage];
    int64_t sec = (int64_t)now;
    int i = (int)(sec % SL_RATE_WINDOW);
    if (rt->bucket_sec[i] != sec) {
        rt->bucket_sec[i] = sec;
        rt->buckets[i] = 0;
    }
    rt->buckets[i]++;
    if (rt->first_done == 0) rt->first_done = now;
}

/* ---- task creation -------------------------------------------------------- */

typedef struct {
    sl_buf *out;
    int n;
    const char *host_best;
    int best;
    /* host tally for host-bound gathers (small: members of one group) */
    char **hosts;
    int *counts;
    size_t nhosts;
} members_ctx;

static int member_cb(void *ctx, const char *member, const char *host)
{
    members_ctx *m = ctx;
    if (m->n++) sl_buf_putc(m->out, ',');
    sl_buf_json_str(m->out, member);
    if (host) {
        size_t i;
        for (i = 0; i < m->nhosts; i++)
            if (strcmp(m->hosts[i], host) == 0) break;
        if (i == m->nhosts) {
            m->hosts = sl_xrealloc(m->hosts, (m->nhosts + 1) * sizeof *m->hosts);
            m->counts = sl_xrealloc(m->counts, (m->nhosts + 1) * sizeof *m->counts);
            m->hosts[i] = sl_xstrdup(host);
            m->counts[i] = 0;
            m->nhosts++;
        }
        m->counts[i]++;
    }
    return 0;
}

int sl_sched_make_task(sl_sched *s, sl_pipe *p, int to, const sl_make *mk, double now, sl_err *err)
{
    const sl_stage *st = &p->model->stages[to];
    const char *key = mk->key, *headers = mk->headers, *from_host = mk->from_host;
    sl_buf h = SL_BUF_INIT, tmp = SL_BUF_INIT, want = SL_BUF_INIT;
    int rc;
    int64_t id = 0;
    if (sl_headers_validate(headers, err) < 0) {
        sl_err_prefix(err, "headers of message '%s' to stage '%s'", key, st->name);
        return SL_EINVAL;
    }
    if (st->gather > 0) {
        const char *member = mk->member ? mk->member : key;
        int n = sl_store_gather_add(s->store, p->id, to, key, member, from_host, err);
        if (n > 0 && mk->src_key) { /* the member's data is held for the join */
            if ((rc = sl_store_gather_set_src(s->store, p->id, to, key, member, mk->src_stage,
                                              mk->src_key, err)) < 0 ||
                (rc = sl_sched_cache_link(s, p->id, 0, mk->src_stage, mk->src_key, err)) < 0)
                return rc;
        }
        if (n <= 0 || n < st->gather) return n < 0 ? n : 0;
        /* The group is complete: one task whose headers list the members. */
        members_ctx m = {&tmp, 0, NULL, 0, NULL, NULL, 0};
        sl_buf_puts(&tmp, "{\"members\":[");
        if ((rc = sl_store_gather_members(s->store, p->id, to, key, member_cb, &m, err)) < 0)
            goto out_m;
        sl_buf_puts(&tmp, "],\"member_hosts\":[");
        for (size_t i = 0; i < m.nhosts; i++) {
            if (i) sl_buf_putc(&tmp, ',');
            sl_buf_json_str(&tmp, m.hosts[i]);
            if (m.counts[i] > m.best) {
                m.best = m.counts[i];
                m.host_best = m.hosts[i];
            }
        }
        sl_buf_puts(&tmp, "]}");
        if (mk->force_host)
            sl_buf_puts(&want, mk->force_host);
        else if (st->placement == SL_PLACE_HOST_BOUND && m.host_best)
            sl_buf_puts(&want, m.host_best);
        rc = sl_store_task_insert(s->store, p->id, to, key, tmp.data, want.len ? want.data : NULL,
                                  now, &id, err);
        if (rc > 0 && (rc = sl_sched_cache_link_gather(s, p->id, to, key, id, err)) == 0) rc = 1;
    out_m:
        for (size_t i = 0; i < m.nhosts; i++)
            free(m.hosts[i]);
        free(m.hosts);
        free(m.counts);
        goto out;
    }
    if (from_host) {
        sl_json_set_str(&h, headers, "from_host", from_host);
    } else if (headers && *headers) {
        sl_buf_puts(&h, headers);
    }
    if (mk->force_host) {
        sl_buf_puts(&want, mk->force_host);
    } else if (st->placement == SL_PLACE_HOST_BOUND) {
        if (!sl_json_get_str(h.data, "to_host", &want) && from_host) sl_buf_puts(&want, from_host);
    }
    rc = sl_store_task_insert(s->store, p->id, to, key, h.len ? h.data : NULL,
                              want.len ? want.data : NULL, now, &id, err);
    if (rc > 0 && (rc = sl_sched_cache_link(s, p->id, id, mk->src_stage, mk->src_key, err)) == 0)
        rc = 1;
out:
    if (rc > 0) sl_sched_count(p, to, -1, SL_TASK_QUEUED);
    sl_buf_free(&h);
    sl_buf_free(&tmp);
    sl_buf_free(&want);
    return rc;
}

/* ---- submission ------------------------------------------------------------- */

int sl_sched_submit(sl_sched *s, const char *file, const char *yaml, const sl_kvpair *vars,
                    size_t nvars, int64_t *pipeline_id, int64_t *ntasks, sl_err *err)
{
    sl_buf vj = SL_BUF_INIT;
    sl_buf_putc(&vj, '{');
    for (size_t i = 0; i < nvars; i++) {
        if (i) sl_buf_putc(&vj, ',');
        sl_buf_json_str(&vj, vars[i].name);
        sl_buf_putc(&vj, ':');
        sl_buf_json_str(&vj, vars[i].value);
    }
    sl_buf_putc(&vj, '}');
    double now = sl_wall();
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    /* Parse outside the transaction first: a bad pipeline touches nothing. */
    sl_kv *kv = sl_xcalloc(nvars ? nvars : 1, sizeof *kv);
    for (size_t i = 0; i < nvars; i++) {
        kv[i].key = (char *)vars[i].name;
        kv[i].value = (char *)vars[i].value;
    }
    sl_varsrc src = {.vars = kv, .nvars = nvars, .no_env_file = 1};
    sl_pipeline *m = sl_pipeline_parse(file, yaml, strlen(yaml), &src, err);
    free(kv);
    if (!m) {
        rc = SL_EINVAL;
        goto out;
    }
    if ((rc = sl_store_begin(s->store, err)) < 0) {
        sl_pipeline_free(m);
        goto out;
    }
    int64_t id = sl_store_pipeline_insert(s->store, m->name, file, yaml, vj.data, now, err);
    sl_pipeline_free(m);
    if (id < 0) {
        rc = (int)id;
        goto rollback;
    }
    sl_pipe *p = sl_sched_load_pipe(s, id, file, yaml, vj.data, "running", now, 0, err);
    if (!p) {
        rc = SL_EINVAL;
        goto rollback;
    }
    struct {
        int64_t created;
    } ic = {0};
    for (size_t i = 0; i < p->model->nmessages; i++) {
        const sl_message *msg = &p->model->messages[i];
        /* large messages and batches are expanded lazily (sched_expand.c) */
        rc = sl_sched_expand_message(s, p, msg->to_index, msg->key, msg->headers, msg->batch, now,
                                     &ic.created, err);
        if (rc < 0) {
            sl_err_prefix(err, "%s:%d:%d: message to '%s'", file, msg->loc.line, msg->loc.col,
                          msg->to);
            goto drop;
        }
    }
    char note[256];
    snprintf(note, sizeof note, "pipeline '%s' submitted with %lld initial tasks", p->model->name,
             (long long)ic.created);
    if ((rc = sl_store_event(s->store, now, id, 0, "submit", note, err)) < 0 ||
        (rc = sl_sched_check_done(s, p, now, err)) < 0 || (rc = sl_store_commit(s->store, err)) < 0)
        goto drop;
    *pipeline_id = id;
    if (ntasks) *ntasks = ic.created;
    pthread_cond_broadcast(&s->work_cv);
    goto out;
drop:
    /* forget the in-memory pipeline added above */
    s->npipes--;
    pipe_free(s->pipes[s->npipes]);
rollback:
    sl_store_rollback(s->store);
out:
    pthread_mutex_unlock(&s->mu);
    sl_buf_free(&vj);
    return rc < 0 ? rc : 0;
}

typedef struct {
    int64_t id;
    sl_buf *file, *yaml, *vars, *state;
    int found;
} get_ctx;

static int get_row(void *ctx, const sl_pipeline_row *r)
{
    get_ctx *c = ctx;
    if (r->id != c->id) return 0;
    sl_buf_puts(c->file, r->file);
    sl_buf_puts(c->yaml, r->yaml);
    sl_buf_puts(c->vars, r->vars_json);
    sl_buf_puts(c->state, r->state);
    c->found = 1;
    return 1;
}

int sl_sched_get_pipeline(sl_sched *s, int64_t id, sl_buf *file, sl_buf *yaml, sl_buf *vars_json,
                          sl_buf *state, sl_err *err)
{
    get_ctx c = {id, file, yaml, vars_json, state, 0};
    pthread_mutex_lock(&s->mu);
    int rc = sl_store_pipelines_each(s->store, 0, get_row, &c, err);
    pthread_mutex_unlock(&s->mu);
    if (rc < 0) return rc;
    if (!c.found) return sl_errf(err, SL_ENOTFOUND, "no pipeline with id %lld", (long long)id);
    return 0;
}
