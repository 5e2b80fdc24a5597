/* agent.c - the agent's three threads.
 *
 *  - lease thread: long-polls the controller for batches of tasks whenever
 *    it may have a free slot; when the controller answers "saturated" it
 *    waits for a local slot to free instead of polling.
 *  - executor (the calling thread): starts tasks, reaps children through a
 *    signalfd, enforces timeouts, kills cancelled tasks. Spawning from one
 *    long-lived thread is what makes PR_SET_PDEATHSIG reliable.
 *  - reporter thread: sends finished tasks in batches (kept until the
 *    controller acknowledges them, so a controller restart loses nothing) and
 *    heartbeats the running ones. */
#include "agent/agent_int.h"
#include "agent/agent_wire.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/manifest_pb.h"
#include "runtime/runtime.h"
#include "rpc/rpc_pb.h"
#include "sluice.pb-c.h"
#include "util/clock.h"
#include "util/fsutil.h"

#define M_REGISTER "/sluice.v1.Sluice/Register"
#define M_LEASE "/sluice.v1.Sluice/Lease"
#define M_COMPLETE "/sluice.v1.Sluice/Complete"
#define M_HEARTBEAT "/sluice.v1.Sluice/Heartbeat"
#define M_GETPIPE "/sluice.v1.Sluice/GetPipeline"
#define REPORT_BATCH 4096
#define START_ROUND 64                       /* tasks started before the executor reaps again */
#define SL_EXIT_INPUT_UNAVAILABLE_AGENT (-3) /* see SL_EXIT_INPUT_UNAVAILABLE in sched.h */

static void wake_executor(sl_agent *a)
{
    uint64_t one = 1;
    if (write(a->evfd, &one, sizeof one) < 0 && errno != EAGAIN) perror("sluice agent: eventfd");
}

/* ---- calls ---------------------------------------------------------------- */

/* A call to the controller over this agent's channel (rpc/rpc_pb.h). */
#define CALL(method, ...) SL_PB_CALL(a->rpc, method, __VA_ARGS__)

const sl_pipeline *sl_agent_model(sl_agent *a, int64_t pipeline_id, sl_err *err)
{
    for (size_t i = 0; i < a->nmodels; i++)
        if (a->models[i].pipeline_id == pipeline_id) return a->models[i].model;
    Sluice__V1__GetPipelineRequest req = SLUICE__V1__GET_PIPELINE_REQUEST__INIT;
    req.pipeline_id = pipeline_id;
    Sluice__V1__GetPipelineReply *rep = NULL;
    int rc = 0;
    for (int tries = 0; tries < 50; tries++) {
        rc = CALL(M_GETPIPE, get_pipeline_request, &req, get_pipeline_reply, rep, 10000, err);
        if (rc != SL_ERPC && rc != SL_ETIMEOUT) break;
        sl_sleep_ms(200);
    }
    if (rc < 0) return NULL;
    const char *vars = rep->n_vars ? rep->vars[0]->value : "{}";
    sl_pipeline *m = sl_pipeline_parse_with_vars_json(rep->file, rep->yaml, vars, err);
    sluice__v1__get_pipeline_reply__free_unpacked(rep, NULL);
    if (!m) return NULL;
    a->models = sl_xrealloc(a->models, (a->nmodels + 1) * sizeof *a->models);
    a->models[a->nmodels].pipeline_id = pipeline_id;
    a->models[a->nmodels].model = m;
    a->nmodels++;
    return m;
}

/* Keeps our credential where a restarted agent finds it: MEM.cred, 0600,
 * beside the memory tier (only this agent's user can read it). */
static void save_credential(sl_agent *a, const char *cred)
{
    char *tmp = sl_xasprintf("%s.tmp", a->cred_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 && write(fd, cred, strlen(cred)) == (ssize_t)strlen(cred) && close(fd) == 0)
        rename(tmp, a->cred_path);
    else if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
}

/* The credential of the agent that ran here before (a restart), or NULL. */
static char *load_credential(sl_agent *a)
{
    int fd = open(a->cred_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return NULL;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return NULL;
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0;
    char *c = sl_xstrdup(buf);
    explicit_bzero(buf, sizeof buf);
    return c;
}

static int register_once(sl_agent *a, sl_err *err)
{
    Sluice__V1__RegisterRequest req = SLUICE__V1__REGISTER_REQUEST__INIT;
    Sluice__V1__HostInfo h = SLUICE__V1__HOST_INFO__INIT;
    h.name = a->name;
    h.groups = (char **)a->cfg->groups;
    h.n_groups = a->cfg->ngroups;
    h.mem_root = a->mem_root;
    h.ssd_root = a->ssd_root;
    h.addr = a->data_addr;
    h.mem_budget = a->mem_budget;
    h.ssd_budget = a->ssd_budget;
    req.host = &h;
    req.agent_id = a->agent_id;
    Sluice__V1__RegisterReply *rep = NULL;
    int rc = CALL(M_REGISTER, register_request, &req, register_reply, rep, 5000, err);
    if (rc == 0) {
        a->lease_ttl_ms = rep->lease_ttl_ms > 0 ? rep->lease_ttl_ms : 30000;
        a->host_ttl_ms = a->lease_ttl_ms;
        snprintf(a->dp_key, sizeof a->dp_key, "%s", rep->dp_key);
        if (rep->credential[0]) {
            sl_rpc_client_set_credential(a->rpc, rep->credential);
            save_credential(a, rep->credential);
        }
        if (rep->wipe_cache) {
            /* reports waiting in the journal name outputs the catalog does
             * not know yet: they stay, unless the host was declared lost
             * and they were re-made elsewhere */
            if (rep->host_was_lost) sl_agent_journal_drop_outputs(a);
            sl_agent_cache_wipe(a);
        }
        explicit_bzero(rep->credential, strlen(rep->credential));
        explicit_bzero(rep->dp_key, strlen(rep->dp_key));
        sluice__v1__register_reply__free_unpacked(rep, NULL);
    }
    return rc;
}

/* Registers with the credential we hold (our own from before, or the one
 * the last registration issued); if the controller no longer knows it
 * (rotated, or the host was given to another agent after we went silent),
 * joins again with the join credential. */
static int do_register(sl_agent *a, sl_err *err)
{
    pthread_mutex_lock(&a->reg_mu);
    int rc = register_once(a, err);
    if (rc == SL_EAUTH && a->join_cred) {
        sl_rpc_client_set_credential(a->rpc, a->join_cred);
        rc = register_once(a, err);
    }
    pthread_mutex_unlock(&a->reg_mu);
    return rc;
}

/* Takes up to max finished tasks off the report queue (caller holds mu). */
static sl_atask *take_done(sl_agent *a, size_t max, size_t *n)
{
    sl_atask *batch = a->done_head, *last = NULL;
    *n = 0;
    for (sl_atask *t = batch; t && *n < max; t = t->next, (*n)++)
        last = t;
    if (!last) return NULL;
    a->done_head = last->next;
    last->next = NULL;
    a->ndone -= *n;
    return batch;
}

/* Puts a batch back at the front, in order, after a failed send (holds mu). */
static void put_back_done(sl_agent *a, sl_atask *batch, size_t n)
{
    if (!batch) return;
    sl_atask *last = batch;
    while (last->next)
        last = last->next;
    last->next = a->done_head;
    a->done_head = batch;
    a->ndone += n;
}

/* The controller has these reports: out of the journal, out of memory. */
static void free_batch(sl_agent *a, sl_atask *batch)
{
    sl_agent_journal_forget(a, batch);
    while (batch) {
        sl_atask *nx = batch->next;
        sl_agent_task_free(batch);
        batch = nx;
    }
}

/* The objects a leased task reads, copied out of the reply. */
static void copy_inputs(sl_atask *t, const Sluice__V1__LeasedTask *lt)
{
    if (!lt->n_inputs) return;
    t->inputs = sl_xcalloc(lt->n_inputs, sizeof *t->inputs);
    t->ninputs = lt->n_inputs;
    for (size_t i = 0; i < lt->n_inputs; i++) {
        const Sluice__V1__ObjectRef *o = lt->inputs[i];
        sl_ainput *in = &t->inputs[i];
        in->path = sl_xstrdup(o->path);
        in->size = o->size;
        in->files = sl_manifest_from_pb(o->files, o->n_files);
        in->nrep = o->n_replicas;
        in->hosts = sl_xcalloc(o->n_replicas ? o->n_replicas : 1, sizeof *in->hosts);
        in->addrs = sl_xcalloc(o->n_replicas ? o->n_replicas : 1, sizeof *in->addrs);
        in->tiers = sl_xcalloc(o->n_replicas ? o->n_replicas : 1, sizeof *in->tiers);
        in->caps = sl_xcalloc(o->n_replicas ? o->n_replicas : 1, sizeof *in->caps);
        for (size_t r = 0; r < o->n_replicas; r++) {
            in->caps[r] = sl_xstrdup(o->replicas[r]->cap);
            in->hosts[r] = sl_xstrdup(o->replicas[r]->host);
            in->addrs[r] = sl_xstrdup(o->replicas[r]->addr);
            in->tiers[r] = sl_xstrdup(o->replicas[r]->tier);
        }
    }
}

static void queue_pushes(sl_agent *a, Sluice__V1__Push **push, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *files = sl_manifest_from_pb(push[i]->files, push[i]->n_files);
        sl_agent_push_enqueue(a, push[i]->tier, push[i]->path, files, push[i]->dest_host,
                              push[i]->dest_addr, push[i]->cap);
        free(files);
    }
}

/* ---- lease thread ----------------------------------------------------------- */

typedef struct {
    int64_t pid;
    int stage, n;
} load_acc;

static void count_load(load_acc **acc, size_t *n, int64_t pid, int stage)
{
    for (size_t i = 0; i < *n; i++)
        if ((*acc)[i].pid == pid && (*acc)[i].stage == stage) {
            (*acc)[i].n++;
            return;
        }
    *acc = sl_xrealloc(*acc, (*n + 1) * sizeof **acc);
    (*acc)[*n] = (load_acc){pid, stage, 1};
    (*n)++;
}

static void *lease_thread(void *arg)
{
    sl_agent *a = arg;
    int backoff = 50;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        while (!a->stopping && !a->draining && a->inflight >= a->cfg->max_inflight)
            pthread_cond_wait(&a->capacity_cv, &a->mu);
        if (a->stopping || a->draining) {
            a->lease_done = 1;
            pthread_mutex_unlock(&a->mu);
            wake_executor(a);
            break;
        }
        load_acc *acc = NULL;
        size_t nacc = 0;
        for (sl_atask *t = a->pending_head; t; t = t->next)
            count_load(&acc, &nacc, t->pipeline_id, t->stage);
        for (size_t i = 0; i < a->nrunning; i++)
            count_load(&acc, &nacc, a->running[i]->pipeline_id, a->running[i]->stage);
        int room = a->cfg->max_inflight - a->inflight;
        uint64_t freed_before = a->slot_freed;
        size_t ndone = 0;
        sl_atask *done = take_done(a, REPORT_BATCH, &ndone);
        pthread_mutex_unlock(&a->mu);
        sl_pb_completions pk;
        sl_pb_completions_pack(&pk, done, ndone, a->name);

        Sluice__V1__LeaseRequest req = SLUICE__V1__LEASE_REQUEST__INIT;
        Sluice__V1__StageLoad *ls = sl_xcalloc(nacc ? nacc : 1, sizeof *ls);
        Sluice__V1__StageLoad **lp = sl_xcalloc(nacc ? nacc : 1, sizeof *lp);
        for (size_t i = 0; i < nacc; i++) {
            sluice__v1__stage_load__init(&ls[i]);
            ls[i].pipeline_id = acc[i].pid;
            ls[i].stage = acc[i].stage;
            ls[i].running = acc[i].n;
            lp[i] = &ls[i];
        }
        req.agent_id = a->agent_id;
        req.host = a->name;
        req.max_tasks = room;
        req.load = lp;
        req.n_load = nacc;
        req.wait_ms = a->cfg->wait_ms;
        req.done = pk.cp;
        req.n_done = ndone;
        Sluice__V1__LeaseReply *rep = NULL;
        sl_err err = {0};
        int rc =
            CALL(M_LEASE, lease_request, &req, lease_reply, rep, a->cfg->wait_ms + 10000, &err);
        free(ls);
        free(lp);
        free(acc);
        sl_pb_completions_free(&pk);
        if (rc < 0) {
            pthread_mutex_lock(&a->mu); /* keep them for the next call */
            put_back_done(a, done, ndone);
            pthread_cond_signal(&a->report_cv);
            pthread_mutex_unlock(&a->mu);
            if (rc == SL_ERPC || rc == SL_ETIMEOUT) { /* controller away: keep trying */
                sl_sleep_ms(backoff);
                backoff = backoff < 1000 ? backoff * 2 : 1000;
            } else if (rc == SL_EAUTH) { /* our credential was voided: join again */
                fprintf(stderr, "sluice agent %s: %s; registering again\n", a->name, err.msg);
                sl_err re = {0};
                if (do_register(a, &re) < 0) {
                    fprintf(stderr, "sluice agent %s: register: %s\n", a->name, re.msg);
                    sl_sleep_ms(1000);
                }
            } else {
                fprintf(stderr, "sluice agent %s: lease: %s\n", a->name, err.msg);
                sl_sleep_ms(1000);
            }
            continue;
        }
        backoff = 50;
        free_batch(a, done);
        pthread_mutex_lock(&a->mu);
        for (size_t i = 0; i < rep->n_tasks; i++) {
            const Sluice__V1__LeasedTask *lt = rep->tasks[i];
            sl_atask *t = sl_xcalloc(1, sizeof *t);
            t->id = lt->id;
            t->pipeline_id = lt->pipeline_id;
            t->stage = lt->stage;
            t->attempt = lt->attempt;
            t->key = sl_xstrdup(lt->key);
            t->headers = sl_xstrdup(lt->headers);
            t->ready_at = lt->ready_at;
            t->tier = lt->tier[0] ? sl_xstrdup(lt->tier) : NULL;
            copy_inputs(t, lt);
            if (a->pending_tail)
                a->pending_tail->next = t;
            else
                a->pending_head = t;
            a->pending_tail = t;
            a->inflight++;
        }
        if (rep->lease_ttl_ms > 0) a->lease_ttl_ms = rep->lease_ttl_ms;
        int got = (int)rep->n_tasks, saturated = rep->saturated;
        pthread_mutex_unlock(&a->mu);
        queue_pushes(a, rep->push, rep->n_push);
        for (size_t i = 0; i < rep->n_delete_; i++)
            sl_agent_cache_delete(a, rep->delete_[i]);
        pthread_mutex_lock(&a->mu);
        sluice__v1__lease_reply__free_unpacked(rep, NULL);
        if (got == 0 && saturated && !a->stopping && !a->draining &&
            a->slot_freed == freed_before) {
            /* every stage with work is at our slot limit: wait for a slot
             * (unless one freed while the lease call was in flight) */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            a->lease_waiting = 1; /* the next finished task rides on our lease */
            pthread_cond_timedwait(&a->capacity_cv, &a->mu, &ts);
            a->lease_waiting = 0;
        }
        pthread_mutex_unlock(&a->mu);
        if (got) wake_executor(a);
    }
    return NULL;
}

/* ---- reporter thread ------------------------------------------------------- */

static int send_completions(sl_agent *a, sl_atask *batch, size_t n)
{
    Sluice__V1__CompleteRequest req = SLUICE__V1__COMPLETE_REQUEST__INIT;
    sl_pb_completions pk;
    sl_pb_completions_pack(&pk, batch, n, a->name);
    req.agent_id = a->agent_id;
    req.host = a->name;
    req.done = pk.cp;
    req.n_done = n;
    Sluice__V1__CompleteReply *rep = NULL;
    sl_err err = {0};
    int rc = CALL(M_COMPLETE, complete_request, &req, complete_reply, rep, 30000, &err);
    if (rc == 0) {
        queue_pushes(a, rep->push, rep->n_push);
        sluice__v1__complete_reply__free_unpacked(rep, NULL);
    } else if (rc != SL_ERPC && rc != SL_ETIMEOUT)
        fprintf(stderr, "sluice agent %s: complete: %s\n", a->name, err.msg);
    sl_pb_completions_free(&pk);
    return rc;
}

static void heartbeat(sl_agent *a)
{
    pthread_mutex_lock(&a->mu);
    size_t n = a->nrunning;
    int64_t *ids = sl_xcalloc(n ? n : 1, sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = a->running[i]->id;
    /* leased but not yet started tasks hold leases too, and so do finished
     * ones whose report has not gone through yet (the controller may be
     * restarting): their leases must not expire and make them run again */
    for (sl_atask *t = a->pending_head; t; t = t->next) {
        ids = sl_xrealloc(ids, (n + 1) * sizeof *ids);
        ids[n++] = t->id;
    }
    for (sl_atask *t = a->done_head; t; t = t->next) {
        ids = sl_xrealloc(ids, (n + 1) * sizeof *ids);
        ids[n++] = t->id;
    }
    /* copies pushed since the last heartbeat become replicas */
    sl_aobj *pushed = a->pushed;
    size_t npushed = a->npushed;
    a->pushed = NULL;
    a->npushed = 0;
    pthread_mutex_unlock(&a->mu);
    sl_pb_completions pk = {0};
    Sluice__V1__ObjectRef **prefs = sl_xcalloc(npushed ? npushed : 1, sizeof *prefs);
    for (size_t i = 0; i < npushed; i++)
        prefs[i] = sl_pb_object(&pk, &pushed[i], pushed[i].host);
    Sluice__V1__HeartbeatRequest req = SLUICE__V1__HEARTBEAT_REQUEST__INIT;
    req.agent_id = a->agent_id;
    req.host = a->name;
    req.running = ids;
    req.n_running = n;
    req.pushed = prefs;
    req.n_pushed = npushed;
    Sluice__V1__HeartbeatReply *rep = NULL;
    sl_err err = {0};
    if (CALL(M_HEARTBEAT, heartbeat_request, &req, heartbeat_reply, rep, 10000, &err) == 0) {
        if (rep->n_cancel) {
            pthread_mutex_lock(&a->mu);
            a->cancel = sl_xrealloc(a->cancel, (a->ncancel + rep->n_cancel) * sizeof *a->cancel);
            for (size_t i = 0; i < rep->n_cancel; i++)
                a->cancel[a->ncancel++] = rep->cancel[i];
            pthread_mutex_unlock(&a->mu);
            wake_executor(a);
        }
        for (size_t i = 0; i < rep->n_delete_; i++)
            sl_agent_cache_delete(a, rep->delete_[i]);
        sluice__v1__heartbeat_reply__free_unpacked(rep, NULL);
        for (size_t i = 0; i < npushed; i++)
            sl_aobj_clear(&pushed[i]);
        free(pushed);
    } else if (npushed) { /* report them next time */
        pthread_mutex_lock(&a->mu);
        a->pushed = sl_xrealloc(a->pushed, (a->npushed + npushed) * sizeof *a->pushed);
        memcpy(a->pushed + a->npushed, pushed, npushed * sizeof *pushed);
        a->npushed += npushed;
        pthread_mutex_unlock(&a->mu);
        free(pushed);
    }
    for (size_t i = 0; i < pk.nallocs; i++)
        free(pk.allocs[i]);
    free(pk.allocs);
    free(prefs);
    free(ids);
}

static void *report_thread(void *arg)
{
    sl_agent *a = arg;
    int64_t next_hb = sl_mono_ms();
    int backoff = 50;
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int64_t now = sl_mono_ms();
        while ((!a->done_head || a->lease_waiting) && !a->stopping && now < next_hb) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t wait = next_hb - now;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&a->report_cv, &a->mu, &ts);
            now = sl_mono_ms();
        }
        if (a->stopping && !a->done_head) {
            pthread_mutex_unlock(&a->mu);
            break;
        }
        /* take up to REPORT_BATCH finished tasks, unless the lease thread
         * is about to carry them on its next call */
        size_t n = 0;
        sl_atask *batch = a->lease_waiting ? NULL : take_done(a, REPORT_BATCH, &n);
        int stopping = a->stopping;
        pthread_mutex_unlock(&a->mu);
        if (n) {
            if (send_completions(a, batch, n) < 0) {
                /* keep them (in order) and retry: the controller may be restarting */
                pthread_mutex_lock(&a->mu);
                put_back_done(a, batch, n);
                pthread_mutex_unlock(&a->mu);
                if (stopping) break; /* their leases will expire and be retried elsewhere */
                sl_sleep_ms(backoff);
                backoff = backoff < 1000 ? backoff * 2 : 1000;
                continue;
            }
            backoff = 50;
            free_batch(a, batch);
        }
        if (sl_mono_ms() >= next_hb) {
            heartbeat(a);
            /* often enough for the shorter of the leases we hold and the
             * controller's host timeout: a pipeline's lease_ttl may be
             * minutes, but a host silent for the controller's lease period
             * is declared lost (its leases end, its objects are re-made) */
            pthread_mutex_lock(&a->mu);
            int64_t ttl = a->lease_ttl_ms < a->host_ttl_ms ? a->lease_ttl_ms : a->host_ttl_ms;
            pthread_mutex_unlock(&a->mu);
            next_hb = sl_mono_ms() + (ttl / 3 > 100 ? ttl / 3 : 100);
        }
    }
    return NULL;
}

/* ---- executor ---------------------------------------------------------------- */

/* Moves a finished task to the report queue and frees its slot. */
static void task_done(sl_agent *a, sl_atask *t)
{
    t->next = NULL;
    sl_agent_journal_write(a, t); /* first on disk, then in the queue */
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->nrunning; i++)
        if (a->running[i] == t) {
            a->running[i] = a->running[--a->nrunning];
            break;
        }
    t->next = NULL;
    /* append to keep report order */
    sl_atask **pp = &a->done_head;
    if (a->done_head) {
        /* a tail pointer is not worth it: batches are drained quickly */
        sl_atask *x = a->done_head;
        while (x->next)
            x = x->next;
        pp = &x->next;
    }
    *pp = t;
    a->ndone++;
    a->inflight--;
    a->slot_freed++;
    pthread_cond_signal(&a->report_cv);
    pthread_cond_signal(&a->capacity_cv);
    pthread_mutex_unlock(&a->mu);
}

/* Tasks of (pipeline, stage) running here now (caller holds mu). */
static int running_in_stage(const sl_agent *a, int64_t pid, int stage)
{
    int n = 0;
    for (size_t i = 0; i < a->nrunning; i++)
        n += a->running[i]->pipeline_id == pid && a->running[i]->stage == stage;
    return n;
}

/* A stage of a model already fetched, NULL if not known yet. */
static const sl_stage *cached_stage(const sl_agent *a, int64_t pid, int stage)
{
    for (size_t i = 0; i < a->nmodels; i++)
        if (a->models[i].pipeline_id == pid)
            return stage >= 0 && (size_t)stage < a->models[i].model->nstages
                       ? &a->models[i].model->stages[stage]
                       : NULL;
    return NULL;
}

/* The stage's slots from a model already fetched, 0 if not known yet. */
static int cached_slots(const sl_agent *a, int64_t pid, int stage)
{
    const sl_stage *st = cached_stage(a, pid, stage);
    return st ? st->slots : 0;
}

/* Starts pending tasks whose stage has a free slot, at most START_ROUND of
 * them; returns 1 if it stopped at that bound with more perhaps startable.
 * The bound matters: tasks that finish at once (noop, model with no time)
 * free their slot as they start and the lease thread keeps refilling the
 * queue, so an unbounded loop never returns to reap children, police
 * timeouts or see signals while a flood of them lasts. */
static int start_pending(sl_agent *a)
{
    /* models first (an RPC on first use, so not under the lock): they say
     * how many tasks of a stage may run at once; the controller may have
     * leased a spare batch beyond that */
    for (;;) {
        pthread_mutex_lock(&a->mu);
        int64_t need = 0;
        for (sl_atask *t = a->pending_head; t && !need; t = t->next)
            if (!cached_slots(a, t->pipeline_id, t->stage)) need = t->pipeline_id;
        pthread_mutex_unlock(&a->mu);
        if (!need) break;
        sl_err e = {0};
        if (!sl_agent_model(a, need, &e)) break; /* the task start reports the error */
    }
    for (int started = 0;; started++) {
        if (started == START_ROUND) return 1;
        pthread_mutex_lock(&a->mu);
        int from_staging = 0;
        sl_atask *t = a->staged_head; /* inputs pulled: start these first */
        if (t) {
            a->staged_head = t->next;
            t->next = NULL;
            from_staging = 1;
        } else {
            sl_atask **pp = &a->pending_head, *prev = NULL;
            for (t = a->pending_head; t; prev = t, pp = &t->next, t = t->next) {
                int slots = cached_slots(a, t->pipeline_id, t->stage);
                if (!slots || running_in_stage(a, t->pipeline_id, t->stage) < slots) break;
            }
            if (t) {
                *pp = t->next;
                if (a->pending_tail == t) a->pending_tail = prev;
                t->next = NULL;
                a->running = sl_xrealloc(a->running, (a->nrunning + 1) * sizeof *a->running);
                a->running[a->nrunning++] = t;
            }
        }
        pthread_mutex_unlock(&a->mu);
        if (!t) return 0;
        const sl_stage *st = cached_stage(a, t->pipeline_id, t->stage);
        t->verify_local = st && st->verify_local;
        if (!from_staging && !sl_agent_inputs_local(a, t)) {
            /* inputs are on other hosts: pull them without holding up others */
            sl_agent_stage_async(a, t);
            continue;
        }
        if (t->error) { /* a pull failed: the controller re-queues the task */
            t->exit_code = SL_EXIT_INPUT_UNAVAILABLE_AGENT;
            t->started = t->finished = sl_wall();
            task_done(a, t);
            continue;
        }
        int rc = sl_agent_task_start(a, t);
        if (rc != 0) /* finished at once (noop) or could not start */
            task_done(a, t);
    }
}

static sl_atask *running_by_pid(sl_agent *a, pid_t pid)
{
    sl_atask *found = NULL;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->nrunning; i++)
        if (a->running[i]->pid == pid) found = a->running[i];
    pthread_mutex_unlock(&a->mu);
    return found;
}

static void reap(sl_agent *a)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        sl_atask *t = running_by_pid(a, pid);
        if (!t) continue;
        kill(-pid, SIGKILL); /* leftovers of the group die with the task */
        /* container runtimes free or discard the task's slot, and may
         * explain the end (e.g. out of memory inside the container) */
        char note[512];
        sl_runtime_task_ended(pid, status, t->timed_out || t->cancelled, note, sizeof note);
        sl_agent_task_finish(a, t, status);
        if (note[0] && !t->error) t->error = sl_xstrdup(note);
        task_done(a, t);
    }
}

/* Kills timed-out and cancelled tasks; returns ms until the next deadline. */
static int police(sl_agent *a)
{
    int64_t now = sl_mono_ms(), next = now + 1000;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->nrunning; i++) {
        sl_atask *t = a->running[i];
        for (size_t c = 0; c < a->ncancel; c++)
            if (a->cancel[c] == t->id && t->pid > 0 && !t->cancelled) {
                t->cancelled = 1;
                kill(-t->pid, SIGKILL);
            }
        if (t->deadline_ms && t->pid > 0 && !t->timed_out) {
            if (now >= t->deadline_ms) {
                t->timed_out = 1;
                kill(-t->pid, SIGKILL);
            } else if (t->deadline_ms < next) {
                next = t->deadline_ms;
            }
        }
    }
    a->ncancel = 0;
    pthread_mutex_unlock(&a->mu);
    return (int)(next - now);
}

/* The join credential: from --join-token-file, $SLUICE_JOIN_TOKEN_FILE or
 * $SLUICE_JOIN_TOKEN. The variable's value is then overwritten in place, so
 * /proc/PID/environ no longer shows it. NULL if none was given. */
static char *join_credential(const char *file, sl_err *err)
{
    if (!file || !*file) file = getenv("SLUICE_JOIN_TOKEN_FILE");
    if (file && *file) {
        FILE *f = fopen(file, "r");
        char buf[512] = "";
        if (!f || !fgets(buf, sizeof buf, f)) {
            sl_errf(err, SL_EIO, "cannot read the join credential from %s: %s", file,
                    f ? "empty file" : strerror(errno));
            if (f) fclose(f);
            return NULL;
        }
        fclose(f);
        buf[strcspn(buf, "\r\n")] = 0;
        char *c = sl_xstrdup(buf);
        explicit_bzero(buf, sizeof buf);
        return c;
    }
    char *v = getenv("SLUICE_JOIN_TOKEN");
    if (!v || !*v) return NULL;
    char *c = sl_xstrdup(v);
    memset(v, 'x', strlen(v));
    return c;
}

int sl_agent_serve(const sl_agent_config *cfg_in, sl_err *err)
{
    sl_agent_config cfg = *cfg_in;
    if (cfg.max_inflight <= 0) cfg.max_inflight = 1024;
    if (cfg.wait_ms <= 0) cfg.wait_ms = 5000;
    sl_agent a_ = {0}, *a = &a_;
    a->cfg = &cfg;
    /* Modules run as our user: keep them out of our memory and
     * /proc/PID/{environ,mem} (ptrace needs CAP_SYS_PTRACE now). Children
     * are dumpable again after their exec. */
    prctl(PR_SET_DUMPABLE, 0);
    sl_err_clear(err);
    a->join_cred = join_credential(cfg.join_token_file, err);
    if (!a->join_cred && err->code) return err->code;
    pthread_mutex_init(&a->reg_mu, NULL);
    char host[256];
    if (!cfg.name || !*cfg.name) {
        gethostname(host, sizeof host);
        host[sizeof host - 1] = 0;
        cfg.name = host;
    }
    a->name = sl_xstrdup(cfg.name);
    a->agent_id = sl_xasprintf("%s/%d/%lld", a->name, (int)getpid(), (long long)sl_mono_ms());
    a->mem_root =
        cfg.mem_root ? sl_xstrdup(cfg.mem_root) : sl_xasprintf("/dev/shm/sluice/%s", a->name);
    char *dir = cfg.dir ? sl_xstrdup(cfg.dir) : sl_xasprintf("/var/tmp/sluice/%s", a->name);
    a->ssd_root = cfg.ssd_root ? sl_xstrdup(cfg.ssd_root) : sl_xasprintf("%s/ssd", dir);
    /* Work dirs live in memory beside the memory tier: creating and
     * removing one per attempt on a journaling disk costs more than
     * running a short module. They only hold logs and emit files. */
    a->work_root = sl_xasprintf("%s.work", a->mem_root);
    free(dir);
    if (sl_mkdir_p(a->mem_root) < 0 || sl_mkdir_p(a->ssd_root) < 0 || sl_mkdir_p(a->work_root) < 0)
        return sl_errf(err, SL_EIO, "cannot create agent directories (%s, %s, %s): %s", a->mem_root,
                       a->ssd_root, a->work_root, strerror(errno));
    /* Budgets: what sluice may keep in each tier. By default half the
     * memory file system (modules need the rest to work in) and 80 % of
     * the SSD's free space. */
    struct statvfs vm, vs;
    a->mem_budget = cfg.mem_budget;
    a->ssd_budget = cfg.ssd_budget;
    if (a->mem_budget <= 0 && statvfs(a->mem_root, &vm) == 0)
        a->mem_budget = (int64_t)vm.f_blocks * (int64_t)vm.f_frsize / 2;
    if (a->ssd_budget <= 0 && statvfs(a->ssd_root, &vs) == 0)
        a->ssd_budget = (int64_t)vs.f_bavail * (int64_t)vs.f_frsize / 10 * 8;
    /* Modules run in their work dir: every path handed to them is absolute. */
    char **roots[] = {&a->mem_root, &a->ssd_root, &a->work_root};
    for (size_t i = 0; i < 3; i++) {
        char *abs = realpath(*roots[i], NULL);
        if (!abs) return sl_errf(err, SL_EIO, "cannot resolve %s: %s", *roots[i], strerror(errno));
        free(*roots[i]);
        *roots[i] = abs;
    }
    sl_agent_base_env(a);
    /* A daemon keeps no hold on the directory it was started from, and
     * whatever a runtime drops in its cwd lands among the work dirs. */
    if (chdir(a->work_root) < 0)
        return sl_errf(err, SL_EIO, "cannot enter %s: %s", a->work_root, strerror(errno));

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGCHLD);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    a->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->report_cv, NULL);
    pthread_cond_init(&a->capacity_cv, NULL);

    /* reports of tasks that finished before a restart (sent after registering) */
    if (sl_agent_journal_open(a, err) < 0) return err->code;
    sl_agent_journal_load(a);

    a->cred_path = sl_xasprintf("%s.cred", a->mem_root);
    char *own = load_credential(a);
    if (!own && !a->join_cred)
        return sl_errf(err, SL_EINVAL,
                       "no credential to join the cluster: give --join-token-file (the "
                       "controller's STATE/secrets/join.token) or $SLUICE_JOIN_TOKEN_FILE");
    const sl_rpc_tls rtls = {cfg.tls_ca, cfg.tls_cert, cfg.tls_key};
    a->rpc = sl_rpc_client_new(cfg.controller, &rtls, own ? own : a->join_cred, err);
    if (own) explicit_bzero(own, strlen(own));
    free(own);
    if (!a->rpc) return err->code ? err->code : SL_ERPC;
    /* The controller may start after us (sluice run, Slurm): retry. */
    int64_t warn_at = sl_mono_ms() + 5000;
    for (;;) {
        sl_err e = {0};
        if (do_register(a, &e) == 0) break;
        if (e.code == SL_EEXIST) { /* our name is held by a live agent: wait for it */
            if (sl_mono_ms() > warn_at) {
                fprintf(stderr, "sluice agent %s: %s\n", a->name, e.msg);
                warn_at = sl_mono_ms() + 30000;
            }
        } else if (e.code != SL_ERPC && e.code != SL_ETIMEOUT) {
            *err = e;
            return e.code;
        }
        if (sl_mono_ms() > warn_at) {
            fprintf(stderr, "sluice agent %s: waiting for the controller: %s\n", a->name, e.msg);
            warn_at = sl_mono_ms() + 30000;
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof si) == sizeof si &&
            (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT))
            return 0;
        sl_sleep_ms(100);
    }
    /* the data server needs the key the first registration brought;
     * registering again tells the controller where it listens */
    if (sl_agent_cache_start(a, err) < 0) return err->code;
    if (do_register(a, err) < 0) return err->code;
    /* reports of tasks that finished before a restart go out first */
    if (a->done_head) {
        /* before anything is leased: a task whose lease expired while we
         * were away is taken as done, not leased again and run twice */
        for (int tries = 0; a->done_head && tries < 20; tries++) {
            size_t n = 0;
            sl_atask *batch = take_done(a, REPORT_BATCH, &n);
            if (send_completions(a, batch, n) == 0) {
                free_batch(a, batch);
            } else {
                put_back_done(a, batch, n);
                sl_sleep_ms(250);
            }
        }
    }
    fprintf(stderr, "sluice agent %s: registered with %s (mem %s, ssd %s, data %s)\n", a->name,
            cfg.controller, a->mem_root, a->ssd_root, a->data_addr);

    pthread_t lt, rt;
    pthread_create(&lt, NULL, lease_thread, a);
    pthread_create(&rt, NULL, report_thread, a);
    int64_t drain_end = 0; /* > 0 while draining (--drain-on-term) */
    for (;;) {
        int more = start_pending(a);
        int timeout = police(a);
        if (drain_end && timeout > 100) timeout = 100;
        if (more) timeout = 0; /* reap and look at signals, then start the rest */
        struct pollfd pf[2] = {{sfd, POLLIN, 0}, {a->evfd, POLLIN, 0}};
        if (poll(pf, 2, timeout < 0 ? 0 : timeout) < 0 && errno != EINTR) break;
        int stop = 0;
        if (pf[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGTERM && cfg.drain_ms > 0) {
                    if (!drain_end) { /* drain: lease no more, let running tasks finish */
                        fprintf(stderr, "sluice agent %s: SIGTERM: draining for up to %.0f s\n",
                                a->name, cfg.drain_ms / 1000.0);
                        drain_end = sl_mono_ms() + cfg.drain_ms;
                        pthread_mutex_lock(&a->mu);
                        a->draining = 1;
                        pthread_cond_broadcast(&a->capacity_cv);
                        pthread_mutex_unlock(&a->mu);
                    }
                } else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    stop = 1;
                }
            }
            reap(a);
        }
        if (drain_end) {
            pthread_mutex_lock(&a->mu);
            int idle = a->lease_done && !a->pending_head && a->nrunning == 0;
            pthread_mutex_unlock(&a->mu);
            if (idle || sl_mono_ms() >= drain_end) {
                fprintf(stderr, "sluice agent %s: drain %s\n", a->name,
                        idle ? "done" : "time is up: stopping what still runs");
                stop = 1;
            }
        }
        if (pf[1].revents & POLLIN) {
            uint64_t v;
            if (read(a->evfd, &v, sizeof v) < 0 && errno != EAGAIN) break;
        }
        if (stop) break;
    }
    /* Shutdown: stop leasing, kill what runs (its leases expire and the
     * tasks run elsewhere), flush what already finished. */
    pthread_mutex_lock(&a->mu);
    a->stopping = 1;
    for (size_t i = 0; i < a->nrunning; i++)
        if (a->running[i]->pid > 0) kill(-a->running[i]->pid, SIGKILL);
    pthread_cond_broadcast(&a->capacity_cv);
    pthread_cond_broadcast(&a->report_cv);
    pthread_mutex_unlock(&a->mu);
    /* slot containers go before the joins: a long poll may outlast the
     * grace period of whoever stops us */
    sl_runtime_shutdown_all();
    pthread_join(lt, NULL);
    pthread_join(rt, NULL);
    /* one last heartbeat: deletions waiting for this host are done now,
     * not left for an agent that may never come back */
    heartbeat(a);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    sl_agent_cache_stop(a);
    sl_rpc_client_free(a->rpc);
    for (size_t i = 0; i < a->nbase; i++)
        free(a->base_env[i]);
    free(a->base_env);
    for (size_t i = 0; i < a->nmodels; i++)
        sl_pipeline_free(a->models[i].model);
    free(a->models);
    for (size_t i = 0; i < a->nrunning; i++)
        sl_agent_task_free(a->running[i]);
    free(a->running);
    while (a->pending_head) {
        sl_atask *nx = a->pending_head->next;
        sl_agent_task_free(a->pending_head);
        a->pending_head = nx;
    }
    while (a->done_head) {
        sl_atask *nx = a->done_head->next;
        sl_agent_task_free(a->done_head);
        a->done_head = nx;
    }
    free(a->cancel);
    close(sfd);
    close(a->evfd);
    free(a->name);
    free(a->agent_id);
    free(a->mem_root);
    free(a->ssd_root);
    free(a->work_root);
    free(a->journal_dir);
    return 0;
}
