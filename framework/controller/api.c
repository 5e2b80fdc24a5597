/* api.c - the controller's gRPC methods: unpack a protobuf request, call the
 * scheduler, pack the reply. No policy lives here; see framework/sched.
 * Every reply is built on the stack or in small heap arrays freed before the
 * handler returns. */
#include "controller/api.h"

#include <stdlib.h>
#include <string.h>

#include "cache/manifest_pb.h"
#include "dataplane/dataplane.h"
#include "sluice.pb-c.h"
#include "store/store.h"

#define UNPACK(T, fn, var)                                                                         \
    Sluice__V1__##T *var = sluice__v1__##fn##__unpack(NULL, len, req);                             \
    if (!var) return sl_errf(err, SL_EINVAL, "malformed " #T " message");

#define PACK(fn, msg)                                                                              \
    do {                                                                                           \
        size_t n_ = sluice__v1__##fn##__get_packed_size(msg);                                      \
        sl_buf_reset(resp);                                                                        \
        sl_buf_reserve(resp, n_);                                                                  \
        sluice__v1__##fn##__pack(msg, (uint8_t *)resp->data);                                      \
        resp->len = n_;                                                                            \
    } while (0)

static int h_submit(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                    size_t len, sl_buf *resp, sl_err *err)
{
    sl_sched *s = ctx;
    UNPACK(SubmitRequest, submit_request, r);
    sl_kvpair *vars = sl_xcalloc(r->n_vars ? r->n_vars : 1, sizeof *vars);
    for (size_t i = 0; i < r->n_vars; i++) {
        vars[i].name = r->vars[i]->name;
        vars[i].value = r->vars[i]->value;
    }
    int64_t id = 0, n = 0;
    int rc = sl_sched_submit(s, r->file[0] ? r->file : "pipeline.yaml", r->yaml, vars, r->n_vars,
                             &id, &n, err);
    if (rc == 0) {
        Sluice__V1__SubmitReply o = SLUICE__V1__SUBMIT_REPLY__INIT;
        o.pipeline_id = id;
        o.tasks_created = n;
        const char *name = sl_sched_pipeline_name(s, id);
        o.name = (char *)(name ? name : "");
        PACK(submit_reply, &o);
    }
    free(vars);
    sluice__v1__submit_request__free_unpacked(r, NULL);
    return rc;
}

static int h_get_pipeline(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                          const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(GetPipelineRequest, get_pipeline_request, r);
    sl_buf file = SL_BUF_INIT, yaml = SL_BUF_INIT, vars = SL_BUF_INIT, state = SL_BUF_INIT;
    int rc = sl_sched_get_pipeline(ctx, r->pipeline_id, &file, &yaml, &vars, &state, err);
    if (rc == 0) {
        Sluice__V1__GetPipelineReply o = SLUICE__V1__GET_PIPELINE_REPLY__INIT;
        o.pipeline_id = r->pipeline_id;
        o.file = file.data;
        o.yaml = yaml.data;
        o.state = state.data;
        /* vars travel as the JSON object the store keeps, in one Var */
        Sluice__V1__Var v = SLUICE__V1__VAR__INIT, *vp = &v;
        v.name = (char *)"json";
        v.value = vars.data;
        o.vars = &vp;
        o.n_vars = 1;
        PACK(get_pipeline_reply, &o);
    }
    sl_buf_free(&file);
    sl_buf_free(&yaml);
    sl_buf_free(&vars);
    sl_buf_free(&state);
    sluice__v1__get_pipeline_request__free_unpacked(r, NULL);
    return rc;
}

typedef struct {
    Sluice__V1__PipelineStatus **items;
    size_t n;
} status_acc;

static int status_cb(void *ctx, const sl_pipe_stat *ps)
{
    status_acc *a = ctx;
    Sluice__V1__PipelineStatus *p = sl_xmalloc(sizeof *p);
    sluice__v1__pipeline_status__init(p);
    p->pipeline_id = ps->id;
    p->name = sl_xstrdup(ps->name);
    p->state = sl_xstrdup(ps->state);
    p->created = ps->created;
    p->finished = ps->finished;
    p->n_stages = ps->nstages;
    p->n_warnings = ps->nwarnings;
    p->warnings = sl_xcalloc(ps->nwarnings ? ps->nwarnings : 1, sizeof *p->warnings);
    for (size_t i = 0; i < ps->nwarnings; i++)
        p->warnings[i] = sl_xstrdup(ps->warnings[i]);
    p->stages = sl_xcalloc(ps->nstages ? ps->nstages : 1, sizeof *p->stages);
    for (size_t k = 0; k < ps->nstages; k++) {
        Sluice__V1__StageStatus *s = sl_xmalloc(sizeof *s);
        sluice__v1__stage_status__init(s);
        const sl_stage_stat *ss = &ps->stages[k];
        s->name = sl_xstrdup(ss->name);
        s->queued = ss->count[SL_TASK_QUEUED];
        s->running = ss->count[SL_TASK_RUNNING];
        s->done = ss->count[SL_TASK_DONE];
        s->failed = ss->count[SL_TASK_FAILED];
        s->cancelled = ss->count[SL_TASK_CANCELLED];
        s->waiting = ss->waiting;
        s->rate = ss->rate;
        s->eta_s = ss->eta_s;
        s->pending = ss->pending;
        p->stages[k] = s;
    }
    a->items = sl_xrealloc(a->items, (a->n + 1) * sizeof *a->items);
    a->items[a->n++] = p;
    return 0;
}

static int h_status(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                    size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(StatusRequest, status_request, r);
    status_acc a = {0};
    int rc = sl_sched_status(ctx, r->pipeline, status_cb, &a, err);
    if (rc == 0) {
        Sluice__V1__StatusReply o = SLUICE__V1__STATUS_REPLY__INIT;
        o.pipelines = a.items;
        o.n_pipelines = a.n;
        PACK(status_reply, &o);
    }
    for (size_t i = 0; i < a.n; i++) {
        Sluice__V1__PipelineStatus *p = a.items[i];
        for (size_t k = 0; k < p->n_stages; k++) {
            free(p->stages[k]->name);
            free(p->stages[k]);
        }
        free(p->stages);
        for (size_t k = 0; k < p->n_warnings; k++)
            free(p->warnings[k]);
        free(p->warnings);
        free(p->name);
        free(p->state);
        free(p);
    }
    free(a.items);
    sluice__v1__status_request__free_unpacked(r, NULL);
    return rc;
}

/* ---- task listings and logs: read the store directly under the lock ---- */

typedef struct {
    sl_sched *sched;
    Sluice__V1__TaskInfo **items;
    size_t n;
} tasks_acc;

static Sluice__V1__TaskInfo *task_info(sl_sched *s, const sl_task_row *r)
{
    Sluice__V1__TaskInfo *t = sl_xmalloc(sizeof *t);
    sluice__v1__task_info__init(t);
    t->id = r->id;
    t->pipeline_id = r->pipeline_id;
    t->stage = (char *)sl_sched_stage_name_locked(s, r->pipeline_id, r->stage);
    t->key = sl_xstrdup(r->key);
    t->headers = sl_xstrdup(r->headers ? r->headers : "");
    t->state = (char *)sl_task_state_name(r->state);
    t->host = sl_xstrdup(r->host ? r->host : "");
    t->attempts = r->attempts;
    t->exit_code = r->exit_code;
    t->created = r->created;
    t->started = r->started;
    t->finished = r->finished;
    t->ready = r->ready;
    return t;
}

static void task_info_free(Sluice__V1__TaskInfo *t)
{
    if (!t) return;
    free(t->key);
    free(t->headers);
    free(t->host);
    free(t);
}

static int list_cb(void *ctx, const sl_task_row *r)
{
    tasks_acc *a = ctx;
    a->items = sl_xrealloc(a->items, (a->n + 1) * sizeof *a->items);
    a->items[a->n++] = task_info(a->sched, r);
    return 0;
}

typedef struct {
    tasks_acc *acc;
    int64_t pid;
    int stage, state, limit;
    int64_t after;
} list_args;

static int list_in_store(void *ctx, sl_store *st, sl_err *err)
{
    list_args *a = ctx;
    return sl_store_tasks_list(st, a->pid, a->stage, a->state, a->after, a->limit, list_cb, a->acc,
                               err);
}

/* Resolves optional pipeline and stage names to ids (-1 = any). */
static int resolve(sl_sched *s, const char *pipeline, const char *stage, int64_t *pid, int *sidx,
                   sl_err *err)
{
    *pid = -1;
    *sidx = -1;
    if (pipeline && *pipeline && sl_sched_find_pipeline(s, pipeline, pid, err) < 0)
        return SL_ENOTFOUND;
    if (stage && *stage) {
        if (*pid < 0) return sl_errf(err, SL_EINVAL, "a stage filter needs a pipeline");
        int k = sl_sched_stage_index(s, *pid, stage, err);
        if (k < 0) return k;
        *sidx = k;
    }
    return 0;
}

static int h_list_tasks(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                        const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    sl_sched *s = ctx;
    UNPACK(ListTasksRequest, list_tasks_request, r);
    tasks_acc acc = {s, NULL, 0};
    list_args a = {&acc, -1, -1, -1, r->limit > 0 ? r->limit : 1000, r->after_id};
    int rc = resolve(s, r->pipeline, r->stage, &a.pid, &a.stage, err);
    if (rc == 0 && r->state[0] && (a.state = sl_task_state_parse(r->state)) < 0)
        rc = sl_errf(err, SL_EINVAL,
                     "unknown state '%s' (queued, running, done, failed, cancelled)", r->state);
    if (rc == 0) rc = sl_sched_with_store(s, list_in_store, &a, err);
    if (rc >= 0) {
        rc = 0;
        Sluice__V1__ListTasksReply o = SLUICE__V1__LIST_TASKS_REPLY__INIT;
        o.tasks = acc.items;
        o.n_tasks = acc.n;
        PACK(list_tasks_reply, &o);
    }
    for (size_t i = 0; i < acc.n; i++)
        task_info_free(acc.items[i]);
    free(acc.items);
    sluice__v1__list_tasks_request__free_unpacked(r, NULL);
    return rc;
}

typedef struct {
    sl_sched *sched;
    Sluice__V1__TaskInfo *task;
    Sluice__V1__AttemptInfo **att;
    size_t natt;
    int64_t id, pid;
    int stage;
    const char *key;
} logs_args;

static int one_task_cb(void *ctx, const sl_task_row *r)
{
    logs_args *a = ctx;
    a->task = task_info(a->sched, r);
    a->id = r->id;
    return 1;
}

static int attempt_cb(void *ctx, const sl_attempt_row *r)
{
    logs_args *a = ctx;
    Sluice__V1__AttemptInfo *x = sl_xmalloc(sizeof *x);
    sluice__v1__attempt_info__init(x);
    x->n = r->n;
    x->host = sl_xstrdup(r->host ? r->host : "");
    x->started = r->started;
    x->finished = r->finished;
    x->exit_code = r->exit_code;
    x->stdout_tail = sl_xstrdup(r->stdout_tail ? r->stdout_tail : "");
    x->stderr_tail = sl_xstrdup(r->stderr_tail ? r->stderr_tail : "");
    x->error = sl_xstrdup(r->error ? r->error : "");
    a->att = sl_xrealloc(a->att, (a->natt + 1) * sizeof *a->att);
    a->att[a->natt++] = x;
    return 0;
}

static int logs_in_store(void *ctx, sl_store *st, sl_err *err)
{
    logs_args *a = ctx;
    int rc = a->id > 0 ? sl_store_task_get(st, a->id, one_task_cb, a, err)
                       : sl_store_task_find(st, a->pid, a->stage, a->key, one_task_cb, a, err);
    if (rc < 0) return rc;
    if (!a->task) return sl_errf(err, SL_ENOTFOUND, "no such task");
    return sl_store_attempts_each(st, a->id, attempt_cb, a, err);
}

static int h_task_logs(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                       const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    sl_sched *s = ctx;
    UNPACK(TaskLogsRequest, task_logs_request, r);
    logs_args a = {s, NULL, NULL, 0, r->task_id, -1, -1, r->key};
    int rc = 0;
    if (r->task_id <= 0) {
        rc = resolve(s, r->pipeline, r->stage, &a.pid, &a.stage, err);
        if (rc == 0 && (a.pid < 0 || a.stage < 0 || !r->key[0]))
            rc = sl_errf(err, SL_EINVAL, "give a task id, or pipeline, stage and key");
    }
    if (rc == 0) rc = sl_sched_with_store(s, logs_in_store, &a, err);
    if (rc >= 0) {
        rc = 0;
        Sluice__V1__TaskLogsReply o = SLUICE__V1__TASK_LOGS_REPLY__INIT;
        o.task = a.task;
        o.attempts = a.att;
        o.n_attempts = a.natt;
        PACK(task_logs_reply, &o);
    }
    task_info_free(a.task);
    for (size_t i = 0; i < a.natt; i++) {
        free(a.att[i]->host);
        free(a.att[i]->stdout_tail);
        free(a.att[i]->stderr_tail);
        free(a.att[i]->error);
        free(a.att[i]);
    }
    free(a.att);
    sluice__v1__task_logs_request__free_unpacked(r, NULL);
    return rc;
}

static int h_retry(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                   size_t len, sl_buf *resp, sl_err *err)
{
    sl_sched *s = ctx;
    UNPACK(RetryRequest, retry_request, r);
    int64_t pid;
    int stage;
    int64_t n = 0;
    int rc = resolve(s, r->pipeline, r->stage, &pid, &stage, err);
    if (rc == 0 && pid < 0) rc = sl_errf(err, SL_EINVAL, "name the pipeline whose tasks to retry");
    if (rc == 0) rc = sl_sched_retry(s, pid, stage, r->task_ids, r->n_task_ids, &n, err);
    if (rc == 0) {
        Sluice__V1__RetryReply o = SLUICE__V1__RETRY_REPLY__INIT;
        o.requeued = n;
        PACK(retry_reply, &o);
    }
    sluice__v1__retry_request__free_unpacked(r, NULL);
    return rc;
}

static int h_cancel(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                    size_t len, sl_buf *resp, sl_err *err)
{
    sl_sched *s = ctx;
    UNPACK(CancelRequest, cancel_request, r);
    int64_t pid, n = 0;
    int rc = sl_sched_find_pipeline(s, r->pipeline, &pid, err);
    if (rc == 0) rc = sl_sched_cancel(s, pid, &n, err);
    if (rc == 0) {
        Sluice__V1__CancelReply o = SLUICE__V1__CANCEL_REPLY__INIT;
        o.cancelled = n;
        PACK(cancel_reply, &o);
    }
    sluice__v1__cancel_request__free_unpacked(r, NULL);
    return rc;
}

static int h_emit(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                  size_t len, sl_buf *resp, sl_err *err)
{
    sl_sched *s = ctx;
    UNPACK(EmitRequest, emit_request, r);
    int64_t pid, n = 0;
    int rc = sl_sched_find_pipeline(s, r->pipeline, &pid, err);
    sl_msg *m = sl_xcalloc(r->n_messages ? r->n_messages : 1, sizeof *m);
    for (size_t i = 0; i < r->n_messages; i++) {
        m[i].stage = r->messages[i]->stage;
        m[i].key = r->messages[i]->key;
        m[i].headers = r->messages[i]->headers;
    }
    if (rc == 0) rc = sl_sched_emit(s, pid, m, r->n_messages, &n, err);
    if (rc == 0) {
        Sluice__V1__EmitReply o = SLUICE__V1__EMIT_REPLY__INIT;
        o.created = n;
        PACK(emit_reply, &o);
    }
    free(m);
    sluice__v1__emit_request__free_unpacked(r, NULL);
    return rc;
}

typedef struct {
    Sluice__V1__HostInfo **items;
    size_t n;
} hosts_acc;

static int host_cb(void *ctx, const sl_host_row *h)
{
    hosts_acc *a = ctx;
    Sluice__V1__HostInfo *x = sl_xmalloc(sizeof *x);
    sluice__v1__host_info__init(x);
    x->name = sl_xstrdup(h->name);
    x->mem_root = sl_xstrdup(h->mem_root ? h->mem_root : "");
    x->ssd_root = sl_xstrdup(h->ssd_root ? h->ssd_root : "");
    x->state = sl_xstrdup(h->state ? h->state : "");
    x->addr = sl_xstrdup(h->addr ? h->addr : "");
    x->last_seen = h->last_seen;
    x->mem_budget = h->mem_budget;
    x->ssd_budget = h->ssd_budget;
    x->mem_used = h->mem_used;
    x->ssd_used = h->ssd_used;
    /* groups: comma-separated in the store */
    const char *p = h->groups ? h->groups : "";
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        x->groups = sl_xrealloc(x->groups, (x->n_groups + 1) * sizeof *x->groups);
        x->groups[x->n_groups++] = sl_xstrndup(p, n);
        p = e ? e + 1 : p + n;
    }
    a->items = sl_xrealloc(a->items, (a->n + 1) * sizeof *a->items);
    a->items[a->n++] = x;
    return 0;
}

static int hosts_in_store(void *ctx, sl_store *st, sl_err *err)
{
    return sl_store_hosts_each(st, host_cb, ctx, err);
}

static int h_hosts(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                   size_t len, sl_buf *resp, sl_err *err)
{
    (void)req;
    (void)len;
    hosts_acc a = {0};
    int rc = sl_sched_with_store(ctx, hosts_in_store, &a, err);
    if (rc >= 0) {
        rc = 0;
        Sluice__V1__HostsReply o = SLUICE__V1__HOSTS_REPLY__INIT;
        o.hosts = a.items;
        o.n_hosts = a.n;
        PACK(hosts_reply, &o);
    }
    for (size_t i = 0; i < a.n; i++) {
        Sluice__V1__HostInfo *x = a.items[i];
        for (size_t g = 0; g < x->n_groups; g++)
            free(x->groups[g]);
        free(x->groups);
        free(x->name);
        free(x->mem_root);
        free(x->ssd_root);
        free(x->state);
        free(x->addr);
        free(x);
    }
    free(a.items);
    return rc;
}

static int h_register(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                      const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(RegisterRequest, register_request, r);
    int rc = 0;
    if (!r->host || !r->host->name[0]) {
        rc = sl_errf(err, SL_EINVAL, "register: the agent must name its host");
    } else {
        const Sluice__V1__HostInfo *h = r->host;
        sl_agent_info ai = {h->name,     h->name,       h->mem_root,
                            h->ssd_root, h->addr,       (const char *const *)h->groups,
                            h->n_groups, h->mem_budget, h->ssd_budget};
        if (r->agent_id[0]) /* "host/pid/start", stable for one agent process */
            ai.agent_id = r->agent_id;
        sl_register_out out;
        rc = sl_sched_register(ctx, &ai, who->role == SL_ROLE_AGENT ? who->host : NULL, &out, err);
        if (rc == 0) {
            Sluice__V1__RegisterReply o = SLUICE__V1__REGISTER_REPLY__INIT;
            o.agent_id = (char *)ai.agent_id;
            o.lease_ttl_ms = out.lease_ttl_ms;
            o.credential = out.credential;
            o.dp_key = out.dp_key;
            o.wipe_cache = out.wipe_cache != 0;
            o.host_was_lost = out.wipe_cache == 2;
            PACK(register_reply, &o);
        }
        explicit_bzero(&out, sizeof out);
    }
    sluice__v1__register_request__free_unpacked(r, NULL);
    return rc;
}

/* ---- objects on the wire: manifest text <-> ObjectFile (cache/manifest_pb.h) ---- */

typedef struct {
    Sluice__V1__ObjectRef **refs;
    size_t n;
    void **allocs; /* everything to free after packing */
    size_t nallocs;
} pb_arena;

static void *pa_alloc(pb_arena *a, size_t n)
{
    void *p = sl_xcalloc(1, n);
    a->allocs = sl_xrealloc(a->allocs, (a->nallocs + 1) * sizeof *a->allocs);
    a->allocs[a->nallocs++] = p;
    return p;
}

static void pa_free(pb_arena *a)
{
    for (size_t i = 0; i < a->nallocs; i++)
        free(a->allocs[i]);
    free(a->allocs);
    memset(a, 0, sizeof *a);
}

static void *pa_alloc_cb(void *arena, size_t n)
{
    return pa_alloc(arena, n);
}

/* A capability for reader to read (or push) the object at path on host's
 * data server, in the arena; "" if it cannot be made. */
static char *cap_for(pb_arena *a, sl_sched *s, int op, const char *host, const char *path,
                     const char *reader)
{
    char *c = pa_alloc(a, SL_DP_MAX_CAP + 1);
    sl_sched_cap(s, op, host, path, reader, c, SL_DP_MAX_CAP + 1);
    return c;
}

static Sluice__V1__ObjectRef *objref_to_pb(pb_arena *a, const sl_obj_ref *o, sl_sched *s,
                                           const char *reader)
{
    Sluice__V1__ObjectRef *x = pa_alloc(a, sizeof *x);
    sluice__v1__object_ref__init(x);
    x->path = o->path;
    x->size = o->size;
    x->stage = o->stage;
    x->key = o->key;
    x->files = sl_manifest_to_pb(o->files, &x->n_files, pa_alloc_cb, a);
    x->n_replicas = o->nreplicas;
    x->replicas = pa_alloc(a, (o->nreplicas ? o->nreplicas : 1) * sizeof *x->replicas);
    for (size_t i = 0; i < o->nreplicas; i++) {
        Sluice__V1__Replica *r = pa_alloc(a, sizeof *r);
        sluice__v1__replica__init(r);
        r->host = o->replicas[i].host;
        r->addr = o->replicas[i].addr;
        r->tier = o->replicas[i].tier;
        r->cap = cap_for(a, s, SL_DP_CAP_READ, r->host, o->path, reader);
        x->replicas[i] = r;
    }
    return x;
}

static Sluice__V1__Push **pushes_to_pb(pb_arena *a, const sl_push_list *l, sl_sched *s,
                                       const char *reader)
{
    Sluice__V1__Push **v = pa_alloc(a, (l->n ? l->n : 1) * sizeof *v);
    for (size_t i = 0; i < l->n; i++) {
        Sluice__V1__Push *x = pa_alloc(a, sizeof *x);
        sluice__v1__push__init(x);
        x->path = l->v[i].path;
        x->tier = l->v[i].tier;
        x->dest_host = l->v[i].dest_host;
        x->dest_addr = l->v[i].dest_addr;
        x->files = sl_manifest_to_pb(l->v[i].files, &x->n_files, pa_alloc_cb, a);
        x->cap = cap_for(a, s, SL_DP_CAP_PUSH, x->dest_host, x->path, reader);
        v[i] = x;
    }
    return v;
}

/* sl_obj_out views of ObjectRefs; the files text is heap-allocated. */
static sl_obj_out *objouts_view(Sluice__V1__ObjectRef **refs, size_t n, int dest_host)
{
    sl_obj_out *o = sl_xcalloc(n ? n : 1, sizeof *o);
    for (size_t i = 0; i < n; i++) {
        const Sluice__V1__ObjectRef *r = refs[i];
        o[i].path = r->path;
        o[i].size = r->size;
        o[i].files = sl_manifest_from_pb(r->files, r->n_files);
        o[i].tier = r->n_replicas ? r->replicas[0]->tier : "mem";
        o[i].host = dest_host && r->n_replicas ? r->replicas[0]->host : NULL;
    }
    return o;
}

static void objouts_free(sl_obj_out *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)o[i].files);
    free(o);
}

/* Borrowed view of protobuf completions as scheduler completions; the
 * strings stay owned by the unpacked request. */
typedef struct {
    sl_completion *c;
    sl_msg *msgs;
    size_t n;
} completions_view;

static void view_completions(completions_view *v, Sluice__V1__Completion **done, size_t n)
{
    v->c = sl_xcalloc(n ? n : 1, sizeof *v->c);
    size_t nmsg = 0;
    for (size_t i = 0; i < n; i++)
        nmsg += done[i]->n_emitted;
    v->msgs = sl_xcalloc(nmsg ? nmsg : 1, sizeof *v->msgs);
    v->n = n;
    sl_msg *mp = v->msgs;
    for (size_t i = 0; i < n; i++) {
        const Sluice__V1__Completion *d = done[i];
        sl_completion *c = &v->c[i];
        c->task_id = d->task_id;
        c->attempt = d->attempt;
        c->exit_code = d->exit_code;
        c->started = d->started;
        c->finished = d->finished;
        c->stdout_tail = d->stdout_tail;
        c->stderr_tail = d->stderr_tail;
        c->error = d->error;
        c->emitted = mp;
        c->nemitted = d->n_emitted;
        c->outputs = objouts_view(d->outputs, d->n_outputs, 0);
        c->noutputs = d->n_outputs;
        c->copies = objouts_view(d->copies, d->n_copies, 0);
        c->ncopies = d->n_copies;
        c->unreachable = objouts_view(d->unreachable, d->n_unreachable, 1);
        c->nunreachable = d->n_unreachable;
        c->corrupt = objouts_view(d->corrupt, d->n_corrupt, 1);
        c->ncorrupt = d->n_corrupt;
        for (size_t k = 0; k < d->n_emitted; k++, mp++) {
            mp->stage = d->emitted[k]->stage;
            mp->key = d->emitted[k]->key;
            mp->headers = d->emitted[k]->headers;
        }
    }
}

static void view_free(completions_view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        objouts_free((sl_obj_out *)v->c[i].outputs, v->c[i].noutputs);
        objouts_free((sl_obj_out *)v->c[i].copies, v->c[i].ncopies);
        objouts_free((sl_obj_out *)v->c[i].unreachable, v->c[i].nunreachable);
        objouts_free((sl_obj_out *)v->c[i].corrupt, v->c[i].ncorrupt);
    }
    free(v->c);
    free(v->msgs);
}

/* An agent acts only for its own host: the host it names and the agent id
 * it gives ("host/pid/start") must be those of its credential. */
static int own_host(const sl_rpc_caller *who, const char *host, const char *agent_id, sl_err *err)
{
    size_t hl = strlen(who->host);
    if (strcmp(host, who->host) != 0 ||
        (agent_id[0] && (strncmp(agent_id, who->host, hl) != 0 || agent_id[hl] != '/')))
        return sl_errf(err, SL_EPERM,
                       "the credential of host %s cannot act for host '%.255s' (agent '%.255s')",
                       who->host, host, agent_id);
    return 0;
}

static int h_lease(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                   size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(LeaseRequest, lease_request, r);
    if (own_host(who, r->host, r->agent_id, err) < 0) {
        sluice__v1__lease_request__free_unpacked(r, NULL);
        return SL_EPERM;
    }
    sl_stage_load *load = sl_xcalloc(r->n_load ? r->n_load : 1, sizeof *load);
    for (size_t i = 0; i < r->n_load; i++) {
        load[i].pipeline_id = r->load[i]->pipeline_id;
        load[i].stage = r->load[i]->stage;
        load[i].running = r->load[i]->running;
    }
    int wait = r->wait_ms < 0 ? 0 : r->wait_ms > 60000 ? 60000 : r->wait_ms;
    sl_lease_result res;
    sl_push_list push = {0};
    int rc = 0;
    if (r->n_done) { /* completions piggybacked on the lease: record them first */
        completions_view v;
        view_completions(&v, r->done, r->n_done);
        rc = sl_sched_complete(ctx, r->agent_id, r->host, v.c, r->n_done, &push, err);
        view_free(&v);
    }
    if (rc >= 0)
        rc = sl_sched_lease(ctx, r->agent_id, r->host, load, r->n_load,
                            r->max_tasks > 0 ? r->max_tasks : 64, wait, &res, err);
    pb_arena pa = {0};
    if (rc == 0) {
        Sluice__V1__LeaseReply o = SLUICE__V1__LEASE_REPLY__INIT;
        Sluice__V1__LeasedTask *ts = sl_xcalloc(res.n ? res.n : 1, sizeof *ts);
        Sluice__V1__LeasedTask **tp = sl_xcalloc(res.n ? res.n : 1, sizeof *tp);
        for (size_t i = 0; i < res.n; i++) {
            sluice__v1__leased_task__init(&ts[i]);
            ts[i].id = res.tasks[i].id;
            ts[i].pipeline_id = res.tasks[i].pipeline_id;
            ts[i].stage = res.tasks[i].stage;
            ts[i].key = res.tasks[i].key;
            ts[i].headers = res.tasks[i].headers;
            ts[i].attempt = res.tasks[i].attempt;
            ts[i].ready_at = res.tasks[i].ready_at;
            ts[i].tier = res.tasks[i].tier ? res.tasks[i].tier : (char *)"";
            ts[i].n_inputs = res.tasks[i].ninputs;
            ts[i].inputs = pa_alloc(&pa, (res.tasks[i].ninputs ? res.tasks[i].ninputs : 1) *
                                             sizeof *ts[i].inputs);
            for (size_t k = 0; k < res.tasks[i].ninputs; k++)
                ts[i].inputs[k] = objref_to_pb(&pa, &res.tasks[i].inputs[k], ctx, who->host);
            tp[i] = &ts[i];
        }
        o.tasks = tp;
        o.n_tasks = res.n;
        o.lease_ttl_ms = res.lease_ttl_ms;
        o.saturated = res.saturated;
        o.push = pushes_to_pb(&pa, &push, ctx, who->host);
        o.n_push = push.n;
        o.delete_ = res.deletions;
        o.n_delete_ = res.ndeletions;
        PACK(lease_reply, &o);
        free(ts);
        free(tp);
        sl_lease_result_free(&res);
    }
    pa_free(&pa);
    sl_push_list_free(&push);
    free(load);
    sluice__v1__lease_request__free_unpacked(r, NULL);
    return rc;
}

static int h_complete(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                      const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(CompleteRequest, complete_request, r);
    if (own_host(who, r->host, r->agent_id, err) < 0) {
        sluice__v1__complete_request__free_unpacked(r, NULL);
        return SL_EPERM;
    }
    completions_view v;
    view_completions(&v, r->done, r->n_done);
    sl_push_list push = {0};
    pb_arena pa = {0};
    int rc = sl_sched_complete(ctx, r->agent_id, r->host, v.c, r->n_done, &push, err);
    if (rc >= 0) {
        Sluice__V1__CompleteReply o = SLUICE__V1__COMPLETE_REPLY__INIT;
        o.accepted = rc;
        o.push = pushes_to_pb(&pa, &push, ctx, who->host);
        o.n_push = push.n;
        PACK(complete_reply, &o);
        rc = 0;
    }
    pa_free(&pa);
    sl_push_list_free(&push);
    view_free(&v);
    sluice__v1__complete_request__free_unpacked(r, NULL);
    return rc;
}

static int h_heartbeat(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                       const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(HeartbeatRequest, heartbeat_request, r);
    if (own_host(who, r->host, r->agent_id, err) < 0) {
        sluice__v1__heartbeat_request__free_unpacked(r, NULL);
        return SL_EPERM;
    }
    int64_t *cancel = NULL;
    size_t ncancel = 0, ndel = 0;
    char **del = NULL;
    sl_obj_out *pushed = objouts_view(r->pushed, r->n_pushed, 1);
    int rc = sl_sched_heartbeat(ctx, r->agent_id, r->host, r->running, r->n_running, pushed,
                                r->n_pushed, &cancel, &ncancel, &del, &ndel, err);
    if (rc == 0) {
        Sluice__V1__HeartbeatReply o = SLUICE__V1__HEARTBEAT_REPLY__INIT;
        o.cancel = cancel;
        o.n_cancel = ncancel;
        o.delete_ = del;
        o.n_delete_ = ndel;
        PACK(heartbeat_reply, &o);
    }
    for (size_t i = 0; i < ndel; i++)
        free(del[i]);
    free(del);
    free(cancel);
    objouts_free(pushed, r->n_pushed);
    sluice__v1__heartbeat_request__free_unpacked(r, NULL);
    return rc;
}

static int h_matrix(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                    size_t len, sl_buf *resp, sl_err *err)
{
    UNPACK(MatrixRequest, matrix_request, r);
    sl_matrix m;
    int rc = sl_sched_matrix(ctx, r->pipeline, r->stage, r->row_segment, r->col_segment, &m, err);
    if (rc == 0) {
        Sluice__V1__MatrixReply o = SLUICE__V1__MATRIX_REPLY__INIT;
        o.pipeline_id = m.pipeline_id;
        o.stage = m.stage;
        o.rows = m.rows;
        o.n_rows = m.nrows;
        o.cols = m.cols;
        o.n_cols = m.ncols;
        o.cells = sl_xcalloc(m.nrows ? m.nrows : 1, sizeof *o.cells);
        for (size_t i = 0; i < m.nrows; i++)
            o.cells[i] = sl_xstrndup(m.cells + i * m.ncols, m.ncols);
        o.n_cells = m.nrows;
        o.row_done = m.row_done;
        o.n_row_done = m.nrows;
        o.row_total = m.row_total;
        o.n_row_total = m.nrows;
        o.row_segment = m.row_seg;
        o.col_segment = m.col_seg;
        PACK(matrix_reply, &o);
        for (size_t i = 0; i < m.nrows; i++)
            free(o.cells[i]);
        free(o.cells);
        sl_matrix_free(&m);
    }
    sluice__v1__matrix_request__free_unpacked(r, NULL);
    return rc;
}

#define U SL_ROLE_USER
#define A SL_ROLE_AGENT
const sl_rpc_method sl_api_methods[] = {
    {"/sluice.v1.Sluice/Matrix", h_matrix, U},
    {"/sluice.v1.Sluice/Submit", h_submit, U},
    {"/sluice.v1.Sluice/GetPipeline", h_get_pipeline, U | A}, /* agents rebuild the model */
    {"/sluice.v1.Sluice/Status", h_status, U},
    {"/sluice.v1.Sluice/ListTasks", h_list_tasks, U},
    {"/sluice.v1.Sluice/TaskLogs", h_task_logs, U},
    {"/sluice.v1.Sluice/Retry", h_retry, U},
    {"/sluice.v1.Sluice/Cancel", h_cancel, U},
    {"/sluice.v1.Sluice/Emit", h_emit, U},
    {"/sluice.v1.Sluice/Hosts", h_hosts, U},
    /* the join credential, or an agent's own to register again */
    {"/sluice.v1.Sluice/Register", h_register, SL_ROLE_JOIN | A},
    {"/sluice.v1.Sluice/Lease", h_lease, A},
    {"/sluice.v1.Sluice/Complete", h_complete, A},
    {"/sluice.v1.Sluice/Heartbeat", h_heartbeat, A},
};
#undef U
#undef A
const size_t sl_api_nmethods = sizeof sl_api_methods / sizeof sl_api_methods[0];
