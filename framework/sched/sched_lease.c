/* sched_lease.c - agents: registration, leased batches with a long-poll,
 * heartbeats that extend leases, and the reaper that expires leases of
 * agents that went silent (at-least-once delivery).
 *
 * Leasing walks running pipelines oldest first and, within one, stages from
 * the last to the first: finishing work downstream before starting more
 * upstream keeps intermediate data on the hosts small. */
#include "sched/sched_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dataplane/dataplane.h"
#include "util/clock.h"

/* Expired leases are retried even when the stage allows no retries (losing
 * an agent is not the task's fault), up to this many extra attempts. */
#define SL_LOST_LEASE_EXTRA 3

void sl_lease_result_free(sl_lease_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->tasks[i].key);
        free(r->tasks[i].headers);
        free(r->tasks[i].tier);
        for (size_t k = 0; k < r->tasks[i].ninputs; k++)
            sl_obj_ref_clear(&r->tasks[i].inputs[k]);
        free(r->tasks[i].inputs);
    }
    for (size_t i = 0; i < r->ndeletions; i++)
        free(r->deletions[i]);
    free(r->deletions);
    free(r->tasks);
    memset(r, 0, sizeof *r);
}

static sl_agent_rt *agent_by_host(sl_sched *s, const char *host)
{
    for (size_t i = 0; i < s->nagents; i++)
        if (strcmp(s->agents[i]->host, host) == 0) return s->agents[i];
    return NULL;
}

void sl_sched_host_seen(sl_sched *s, const char *host, double now)
{
    sl_agent_rt *a = agent_by_host(s, host);
    if (a && now - a->seen_written < 1.0) return;
    if (sl_store_host_seen(s->store, host, now, NULL) > 0 && a) a->seen_written = now;
}

static void split_groups(sl_agent_rt *a, const char *csv)
{
    const char *p = csv;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n) {
            a->groups = sl_xrealloc(a->groups, (a->ngroups + 1) * sizeof *a->groups);
            a->groups[a->ngroups++] = sl_xstrndup(p, n);
        }
        p = e ? e + 1 : NULL;
    }
}

static sl_agent_rt *agent_add(sl_sched *s, const char *host, const char *agent_id)
{
    s->agents = sl_xrealloc(s->agents, (s->nagents + 1) * sizeof *s->agents);
    sl_agent_rt *a = sl_xcalloc(1, sizeof *a);
    s->agents[s->nagents++] = a;
    a->host = sl_xstrdup(host);
    a->agent_id = sl_xstrdup(agent_id ? agent_id : "");
    a->fresh = 1; /* leases on this host held by any other agent process end */
    return a;
}

static int host_groups_cb(void *ctx, const sl_host_row *h)
{
    void **c = ctx;
    if (strcmp(h->name, (const char *)c[0]) == 0) {
        sl_agent_rt *a = c[1];
        split_groups(a, h->groups);
        if (!a->agent_id[0] && h->agent_id) {
            free(a->agent_id);
            a->agent_id = sl_xstrdup(h->agent_id);
        }
        return 1;
    }
    return 0;
}

/* The agent record for host, rebuilt from the store after a restart. */
static sl_agent_rt *agent_get(sl_sched *s, const char *host, const char *agent_id)
{
    sl_agent_rt *a = agent_by_host(s, host);
    if (a) return a;
    a = agent_add(s, host, agent_id);
    void *c[2] = {(void *)host, a};
    sl_store_hosts_each(s->store, host_groups_cb, c, NULL);
    return a;
}

sl_agent_rt *sl_sched_agent_of(sl_sched *s, const char *host)
{
    sl_agent_rt *a = agent_by_host(s, host);
    if (a) return a;
    char cred[65];
    double seen = 0;
    if (sl_store_host_cred(s->store, host, cred, &seen, NULL) != 1 || !cred[0]) return NULL;
    a = agent_get(s, host, "");
    snprintf(a->cred, sizeof a->cred, "%s", cred);
    return a;
}

/* SL_EEXIST unless the name may be taken: by its own agent, or when no
 * live agent holds it (caller holds mu). */
static int name_free(sl_sched *s, const sl_agent_info *ai, const char *caller_host, double now,
                     sl_err *err)
{
    if (caller_host) {
        if (strcmp(caller_host, ai->name) == 0) return 0;
        return sl_errf(err, SL_EPERM,
                       "the credential of host %s cannot register host %s; an agent registers "
                       "only under its own name",
                       caller_host, ai->name);
    }
    char cred[65];
    double seen = 0;
    if (sl_store_host_cred(s->store, ai->name, cred, &seen, NULL) != 1 || !cred[0]) return 0;
    double quiet = now - seen, ttl = s->lease_ttl_ms / 1000.0;
    if (quiet >= ttl) return 0;
    return sl_errf(err, SL_EEXIST,
                   "host name %s is held by a live agent (last heard from %.1f s ago); a second "
                   "agent cannot take it. If that agent is gone, its name is free %.0f s after "
                   "its last contact; or give this agent another --name",
                   ai->name, quiet > 0 ? quiet : 0, ttl);
}

int sl_sched_register(sl_sched *s, const sl_agent_info *ai, const char *caller_host,
                      sl_register_out *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!ai->name || !*ai->name || strlen(ai->name) > 255 || strchr(ai->name, '/') ||
        strchr(ai->name, ','))
        return sl_errf(err, SL_EINVAL, "host name '%.64s' is empty, too long or has '/' or ','",
                       ai->name ? ai->name : "");
    sl_buf groups = SL_BUF_INIT;
    for (size_t i = 0; i < ai->ngroups; i++) {
        if (strchr(ai->groups[i], ',')) {
            sl_buf_free(&groups);
            return sl_errf(err, SL_EINVAL, "group name '%s' contains a comma", ai->groups[i]);
        }
        if (i) sl_buf_putc(&groups, ',');
        sl_buf_puts(&groups, ai->groups[i]);
    }
    double now = sl_wall();
    sl_host_row h = {.name = ai->name,
                     .agent_id = ai->agent_id,
                     .groups = groups.data ? groups.data : "",
                     .mem_root = ai->mem_root,
                     .ssd_root = ai->ssd_root,
                     .addr = ai->addr,
                     .state = "up",
                     .last_seen = now};
    char hash[65];
    pthread_mutex_lock(&s->mu);
    int rc = name_free(s, ai, caller_host, now, err);
    if (rc == 0)
        rc = sl_sched_cred_issue(ai->name, out->credential, sizeof out->credential, hash, err);
    char before[16] = "";
    /* what an agent finds in its tiers at start is an orphan unless the
     * catalog still places objects there: a host back from being lost (its
     * objects were re-made elsewhere), or one whose only copies were
     * dropped as unreadable, or a new cluster on old tiers */
    if (rc == 0) {
        if (sl_store_host_get_state(s->store, ai->name, before, sizeof before, NULL) == 1 &&
            strcmp(before, "lost") == 0)
            out->wipe_cache = 2;
        else
            out->wipe_cache = sl_store_host_replica_count(s->store, ai->name, NULL) == 0;
        rc = sl_store_begin(s->store, err);
    }
    if (rc == 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "agent %s registered (groups: %s)", ai->name,
                 groups.data ? groups.data : "");
        if ((rc = sl_store_host_upsert(s->store, &h, err)) < 0 ||
            (rc = sl_store_host_set_cred(s->store, ai->name, hash, err)) < 0 ||
            (rc = sl_store_host_set_budget(s->store, ai->name, ai->mem_budget, ai->ssd_budget,
                                           err)) < 0 ||
            (rc = sl_store_event(s->store, now, 0, 0, "host-up", msg, err)) < 0 ||
            (rc = sl_store_commit(s->store, err)) < 0)
            sl_store_rollback(s->store);
    }
    if (rc == 0) {
        sl_agent_rt *a = agent_by_host(s, ai->name);
        if (!a) a = agent_add(s, ai->name, ai->agent_id);
        if (strcmp(a->agent_id, ai->agent_id) != 0) a->fresh = 1;
        free(a->agent_id);
        a->agent_id = sl_xstrdup(ai->agent_id);
        snprintf(a->cred, sizeof a->cred, "%s", hash);
        for (size_t g = 0; g < a->ngroups; g++)
            free(a->groups[g]);
        a->ngroups = 0;
        split_groups(a, groups.data);
        out->lease_ttl_ms = s->lease_ttl_ms;
        sl_dp_server_key(s->master, ai->name, out->dp_key);
    } else {
        memset(out->credential, 0, sizeof out->credential);
    }
    pthread_mutex_unlock(&s->mu);
    sl_buf_free(&groups);
    return rc;
}

static int in_group(const sl_pipe *p, const sl_agent_rt *a, const char *group)
{
    for (size_t i = 0; i < a->ngroups; i++)
        if (strcmp(a->groups[i], group) == 0) return 1;
    for (size_t g = 0; g < p->model->ngroups; g++) {
        const sl_group *gr = &p->model->groups[g];
        if (strcmp(gr->name, group) != 0) continue;
        for (size_t h = 0; h < gr->nhosts; h++)
            if (strcmp(gr->hosts[h], a->host) == 0) return 1;
    }
    return 0;
}

typedef struct {
    sl_lease_result *out;
    sl_pipe *p;
} lease_ctx;

static int leased_cb(void *ctx, const sl_task_row *r)
{
    lease_ctx *c = ctx;
    sl_lease_result *o = c->out;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->tasks = sl_xrealloc(o->tasks, o->cap * sizeof *o->tasks);
    }
    sl_leased *t = &o->tasks[o->n++];
    memset(t, 0, sizeof *t);
    t->id = r->id;
    t->pipeline_id = r->pipeline_id;
    t->stage = r->stage;
    t->attempt = r->attempts;
    t->key = sl_xstrdup(r->key);
    t->headers = sl_xstrdup(r->headers ? r->headers : "");
    t->ready_at = r->ready;
    sl_sched_count(c->p, r->stage, SL_TASK_QUEUED, SL_TASK_RUNNING);
    return 0;
}

static int load_of(const sl_stage_load *load, size_t nload, int64_t pid, int stage)
{
    for (size_t i = 0; i < nload; i++)
        if (load[i].pipeline_id == pid && load[i].stage == stage) return load[i].running;
    return 0;
}

static int end_host_leases(sl_sched *s, const char *host, const char *except_agent, double now,
                           sl_err *err);

/* The first lease call of a new agent process on a host: the one before it
 * is gone and its running tasks died with it (their leases would otherwise
 * last until their deadline, which every controller restart pushes out).
 * Reports of the tasks it finished came first, from its journal. */
static void end_old_incarnation(sl_sched *s, sl_agent_rt *a, const char *agent_id)
{
    if (!a->fresh || strcmp(a->agent_id, agent_id) != 0) return;
    a->fresh = 0;
    sl_err e = {0};
    if (sl_store_begin(s->store, &e) < 0) return;
    if (end_host_leases(s, a->host, agent_id, sl_wall(), &e) < 0 ||
        sl_store_commit(s->store, &e) < 0)
        sl_store_rollback(s->store);
}

/* One leasing pass in one transaction. */
static int try_lease(sl_sched *s, sl_agent_rt *a, const char *agent_id, const sl_stage_load *load,
                     size_t nload, int max_tasks, sl_lease_result *out, sl_err *err)
{
    int full = 0, rc;
    double now = sl_wall();
    if ((rc = sl_store_begin(s->store, err)) < 0) return rc;
    for (size_t i = 0; i < s->npipes && (int)out->n < max_tasks; i++) {
        sl_pipe *p = s->pipes[i];
        if (strcmp(p->state, "running") != 0) continue;
        for (size_t k = p->model->nstages; k-- > 0 && (int)out->n < max_tasks;) {
            const sl_stage *st = &p->model->stages[k];
            if (p->rt[k].count[SL_TASK_QUEUED] <= 0) continue;
            if (st->placement == SL_PLACE_GROUP_BOUND && st->group && !in_group(p, a, st->group))
                continue;
            int running = load_of(load, nload, p->id, (int)k);
            /* tasks leased to this agent in this very pass count as well */
            for (size_t t = 0; t < out->n; t++)
                if (out->tasks[t].pipeline_id == p->id && out->tasks[t].stage == (int)k) running++;
            /* With a deep queue an agent may hold one spare task per slot,
             * started the moment a slot frees: short tasks then never wait
             * for a round trip to the controller. The agent itself keeps
             * to `slots` running at once. */
            int spare = p->rt[k].count[SL_TASK_QUEUED] > 4 * (int64_t)st->slots ? st->slots : 0;
            int free_slots = st->slots + spare - running;
            if (free_slots <= 0) {
                full = 1;
                continue;
            }
            int want = free_slots < max_tasks - (int)out->n ? free_slots : max_tasks - (int)out->n;
            /* admission: a declared output must fit this host's memory,
             * else SSD budget; if neither, the stage waits here */
            int n_tier[2];
            if ((rc = sl_sched_cache_admit(s, p, (int)k, a->host, want, &n_tier[0], &n_tier[1],
                                           err)) < 0) {
                sl_store_rollback(s->store);
                sl_sched_reload_counts(s, NULL);
                return rc;
            }
            static const char *const tiers[2] = {"mem", "ssd"};
            for (int ti = 0; ti < 2; ti++) {
                if (n_tier[ti] <= 0) continue;
                size_t first = out->n;
                lease_ctx lc = {out, p};
                rc = sl_store_lease(s->store, p->id, (int)k, a->host, agent_id, n_tier[ti],
                                    now + p->lease_ttl_ms / 1000.0, leased_cb, &lc, err);
                for (size_t t = first; rc >= 0 && t < out->n; t++) {
                    if (st->output_size > 0) {
                        out->tasks[t].tier = sl_xstrdup(tiers[ti]);
                        rc = sl_store_task_set_output(s->store, out->tasks[t].id, tiers[ti],
                                                      st->output_size, err);
                    }
                    if (rc >= 0) rc = sl_sched_cache_inputs(s, &out->tasks[t], err);
                }
                if (rc < 0) {
                    sl_store_rollback(s->store);
                    sl_sched_reload_counts(s, NULL);
                    return rc;
                }
            }
            if (out->lease_ttl_ms == 0 || p->lease_ttl_ms < out->lease_ttl_ms)
                out->lease_ttl_ms = p->lease_ttl_ms;
        }
    }
    /* every call is a sign of life, also one that leases nothing: an agent
     * busy pulling inputs or running long tasks must not be declared lost */
    sl_sched_host_seen(s, a->host, now);
    if (!out->deletions) /* deletions ride on the lease: caches free up promptly */
        sl_sched_cache_deletions(s, a->host, &out->deletions, &out->ndeletions, NULL);
    if ((rc = sl_store_commit(s->store, err)) < 0) {
        sl_store_rollback(s->store);
        sl_sched_reload_counts(s, NULL);
        return rc;
    }
    out->saturated = out->n == 0 && full;
    s->metrics.leased += (int64_t)out->n;
    for (size_t t = 0; t < out->n; t++) /* ready -> leased, once committed */
        sl_hist_observe(&s->metrics.queue_wait, now - out->tasks[t].ready_at);
    return (int)out->n;
}

int sl_sched_lease(sl_sched *s, const char *agent_id, const char *host, const sl_stage_load *load,
                   size_t nload, int max_tasks, int wait_ms, sl_lease_result *out, sl_err *err)
{
    memset(out, 0, sizeof *out);
    if (max_tasks <= 0) max_tasks = 1;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    sl_agent_rt *a = agent_get(s, host, agent_id);
    end_old_incarnation(s, a, agent_id);
    while (!s->stopping) {
        sl_sched_expand_tick(s); /* lazy messages: the next chunk or batch */
        int64_t t0 = sl_mono_us();
        rc = try_lease(s, a, agent_id, load, nload, max_tasks, out, err);
        if (rc > 0) sl_hist_observe(&s->metrics.dispatch, (sl_mono_us() - t0) / 1e6);
        if (rc != 0 || out->saturated || wait_ms <= 0) break;
        if (pthread_cond_timedwait(&s->work_cv, &s->mu, &until) == ETIMEDOUT) break;
    }
    if (out->lease_ttl_ms == 0) out->lease_ttl_ms = s->lease_ttl_ms;
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

int sl_sched_heartbeat(sl_sched *s, const char *agent_id, const char *host, const int64_t *running,
                       size_t n, const sl_obj_out *pushed, size_t npushed, int64_t **cancel,
                       size_t *ncancel, char ***deletions, size_t *ndeletions, sl_err *err)
{
    *cancel = NULL;
    *ncancel = 0;
    *deletions = NULL;
    *ndeletions = 0;
    double now = sl_wall();
    pthread_mutex_lock(&s->mu);
    int rc = sl_store_begin(s->store, err);
    if (rc == 0) {
        for (size_t i = 0; i < n && rc >= 0; i++) {
            /* the longest lease of any pipeline bounds the extension */
            double ttl = s->lease_ttl_ms / 1000.0;
            for (size_t k = 0; k < s->npipes; k++)
                if (s->pipes[k]->lease_ttl_ms / 1000.0 > ttl)
                    ttl = s->pipes[k]->lease_ttl_ms / 1000.0;
            rc = sl_store_task_extend(s->store, running[i], agent_id, now + ttl, err);
            if (rc == 0) {
                *cancel = sl_xrealloc(*cancel, (*ncancel + 1) * sizeof **cancel);
                (*cancel)[(*ncancel)++] = running[i];
            }
        }
        if (rc >= 0 && npushed) { /* copies made for stream edges are replicas now */
            sl_completion pc = {0};
            pc.copies = pushed;
            pc.ncopies = npushed;
            rc = sl_sched_cache_outputs(s, NULL, 0, -1, NULL, &pc, NULL, now, err);
        }
        if (rc >= 0) rc = sl_sched_cache_deletions(s, host, deletions, ndeletions, err);
        if (rc >= 0 && sl_store_host_seen(s->store, host, now, err) == 0) {
            /* unknown host (state lost with the database?): keep a record */
            sl_host_row h = {
                .name = host, .agent_id = agent_id, .groups = "", .state = "up", .last_seen = now};
            rc = sl_store_host_upsert(s->store, &h, err);
        }
        if (rc >= 0) rc = sl_store_commit(s->store, err);
        if (rc < 0) sl_store_rollback(s->store);
    }
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : 0;
}

typedef struct {
    sl_sched *s;
    double now;
    int requeued;
    sl_err *err;
} reap_ctx;

static int expired_cb(void *ctx, const sl_task_row *r)
{
    reap_ctx *c = ctx;
    sl_sched *s = c->s;
    sl_pipe *p = sl_sched_pipe(s, r->pipeline_id);
    char msg[512];
    snprintf(msg, sizeof msg, "lease expired: agent %s on host %s stopped reporting",
             r->lease_agent ? r->lease_agent : "?", r->host ? r->host : "?");
    sl_attempt_row a = {r->attempts, -1, r->host, msg, NULL, NULL, r->ready, c->now};
    if (sl_store_attempt_insert(s->store, r->id, &a, c->err) < 0) return -1;
    const sl_stage *st =
        p && (size_t)r->stage < p->model->nstages ? &p->model->stages[r->stage] : NULL;
    int allowed = (st ? st->retry_default : 0) + SL_LOST_LEASE_EXTRA;
    if (r->attempts <= allowed) {
        if (sl_store_task_requeue(s->store, r->id, c->now, 0, c->err) < 0) return -1;
        if (p) sl_sched_count(p, r->stage, SL_TASK_RUNNING, SL_TASK_QUEUED);
        c->requeued++;
    } else {
        if (sl_store_task_finish(s->store, r->id, SL_TASK_FAILED, NULL, -1, r->ready, c->now,
                                 c->err) < 0)
            return -1;
        if (p) {
            sl_sched_count(p, r->stage, SL_TASK_RUNNING, SL_TASK_FAILED);
            sl_sched_check_done(s, p, c->now, NULL);
        }
    }
    return sl_store_event(s->store, c->now, r->pipeline_id, r->id, "lease-expired", msg, c->err) < 0
               ? -1
               : 0;
}

typedef struct {
    sl_sched *s;
    double now;
    sl_err *err;
    char **lost;
    size_t nlost;
} hosts_ctx;

static int host_check_cb(void *ctx, const sl_host_row *h)
{
    hosts_ctx *c = ctx;
    if (strcmp(h->state, "up") == 0 && h->last_seen < c->now - c->s->lease_ttl_ms / 1000.0) {
        char msg[256];
        snprintf(msg, sizeof msg, "host %s lost: no contact for %.1f s", h->name,
                 c->now - h->last_seen);
        /* updating hosts while iterating them: SQLite allows it for rows
         * already visited, which this one is */
        sl_store_event(c->s->store, c->now, 0, 0, "host-lost", msg, NULL);
        sl_store_host_set_state(c->s->store, h->name, "lost", NULL);
        /* its cache is gone with it: re-make what is still needed */
        char *name = sl_xstrdup(h->name);
        c->lost = sl_xrealloc(c->lost, (c->nlost + 1) * sizeof *c->lost);
        c->lost[c->nlost++] = name;
    }
    return 0;
}

/* The running tasks a lost host held: their leases end now, not at their
 * deadline (a pipeline's lease_ttl may be minutes; the node is gone). */
typedef struct {
    const char *host;
    const char *except_agent; /* NULL: every lease on the host */
    int64_t *ids;
    char **agents;
    size_t n;
} host_leases;

static int host_lease_cb(void *ctx, const sl_task_row *r)
{
    host_leases *h = ctx;
    if (r->host && r->lease_agent && strcmp(r->host, h->host) == 0 &&
        (!h->except_agent || strcmp(r->lease_agent, h->except_agent) != 0)) {
        h->ids = sl_xrealloc(h->ids, (h->n + 1) * sizeof *h->ids);
        h->agents = sl_xrealloc(h->agents, (h->n + 1) * sizeof *h->agents);
        h->ids[h->n] = r->id;
        h->agents[h->n++] = sl_xstrdup(r->lease_agent);
    }
    return 0;
}

static int end_host_leases(sl_sched *s, const char *host, const char *except_agent, double now,
                           sl_err *err)
{
    host_leases h = {host, except_agent, NULL, NULL, 0};
    int rc =
        sl_store_tasks_list(s->store, -1, -1, SL_TASK_RUNNING, 0, 1000000, host_lease_cb, &h, err);
    for (size_t i = 0; i < h.n; i++) {
        if (rc >= 0) rc = sl_store_task_extend(s->store, h.ids[i], h.agents[i], now - 0.001, err);
        free(h.agents[i]);
    }
    free(h.ids);
    free(h.agents);
    return rc;
}

int sl_sched_reap(sl_sched *s, sl_err *err)
{
    double now = sl_wall();
    pthread_mutex_lock(&s->mu);
    int rc = sl_store_begin(s->store, err);
    if (rc < 0) {
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    reap_ctx c = {s, now, 0, err};
    rc = sl_store_tasks_expired(s->store, now, expired_cb, &c, err);
    if (rc >= 0 && now - s->last_host_check > 1.0) {
        s->last_host_check = now;
        hosts_ctx hc = {s, now, err, NULL, 0};
        rc = sl_store_hosts_each(s->store, host_check_cb, &hc, err);
        for (size_t i = 0; i < hc.nlost; i++) {
            if (rc >= 0) rc = end_host_leases(s, hc.lost[i], NULL, now, err);
            if (rc >= 0) rc = sl_sched_cache_host_lost(s, hc.lost[i], now, err);
            free(hc.lost[i]);
        }
        free(hc.lost);
        if (rc >= 0 && hc.nlost) /* re-queue what the lost hosts held, now */
            rc = sl_store_tasks_expired(s->store, now, expired_cb, &c, err);
    }
    if (rc >= 0) rc = sl_store_commit(s->store, err);
    if (rc < 0) {
        sl_store_rollback(s->store);
        sl_sched_reload_counts(s, NULL);
    }
    if (c.requeued) pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    return rc < 0 ? rc : c.requeued;
}
