/* rpc_server.c - the serving half of rpc.h on the gRPC core C API.
 *
 * Thread per call, synchronous: each of the nthreads workers owns one
 * completion queue and asks the server for one call at a time, then receives
 * the request, runs the handler and sends reply + status. A worker asks for
 * the next call only when it is free, so a handler that blocks (long-poll)
 * holds its own worker and nothing else: calls that arrive meanwhile wait in
 * gRPC's queue for the next free worker, never behind the blocked one.
 * Methods are matched by path from generic requests (no registered methods),
 * so an unknown path is answered UNIMPLEMENTED by the same loop instead of
 * hanging in a queue nobody serves.
 *
 * Access: the caller's credential is checked against the method's roles
 * before the request message is even read, so no handler - and no decoder
 * - ever runs for a caller without a valid credential. */
#include "rpc/rpc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "rpc/rpc_internal.h"

typedef struct sl_rpc_worker {
    sl_rpc_server *s;
    grpc_completion_queue *cq;
    pthread_t thread;
} sl_rpc_worker;

struct sl_rpc_server {
    grpc_server *server;
    grpc_completion_queue *shutdown_cq; /* only for the shutdown notification */
    sl_rpc_method *methods;             /* names copied: callers may pass temporaries */
    size_t nmethods;
    void *ctx;
    sl_rpc_auth auth;
    void *auth_ctx;
    atomic_long refused_logged_at; /* second of the last refusal logged (rate limit) */
    sl_rpc_worker *workers;
    int nworkers; /* queues created and registered */
    int nthreads; /* threads started (<= nworkers) */
    atomic_int stopping;
    pthread_mutex_t mu; /* guards shutdown_sent: shutdown and stop may race */
    int shutdown_sent;
};

static int status_of(int rc)
{
    switch (rc) {
    case SL_EINVAL:
        return GRPC_STATUS_INVALID_ARGUMENT;
    case SL_ENOTFOUND:
        return GRPC_STATUS_NOT_FOUND;
    case SL_EPERM:
        return GRPC_STATUS_PERMISSION_DENIED;
    case SL_EAUTH:
        return GRPC_STATUS_UNAUTHENTICATED;
    case SL_EEXIST:
        return GRPC_STATUS_ALREADY_EXISTS;
    default:
        return GRPC_STATUS_INTERNAL;
    }
}

static const sl_rpc_method *find_method(const sl_rpc_server *s, grpc_slice path)
{
    size_t n = GRPC_SLICE_LENGTH(path);
    const char *p = (const char *)GRPC_SLICE_START_PTR(path);
    for (size_t i = 0; i < s->nmethods; i++)
        if (strlen(s->methods[i].name) == n && memcmp(s->methods[i].name, p, n) == 0)
            return &s->methods[i];
    return NULL;
}

/* Runs the handler on the request in bb; fills *reply or the status. */
static int run_handler(sl_rpc_server *s, const sl_rpc_method *m, const sl_rpc_caller *who,
                       grpc_byte_buffer *bb, grpc_byte_buffer **reply, sl_err *err)
{
    grpc_byte_buffer_reader rd;
    if (!grpc_byte_buffer_reader_init(&rd, bb))
        return sl_errf(err, SL_EINVAL, "%s: cannot decode the request payload", m->name);
    /* One flat copy: handlers get a contiguous buffer for protobuf-c. */
    grpc_slice req = grpc_byte_buffer_reader_readall(&rd);
    grpc_byte_buffer_reader_destroy(&rd);

    sl_buf resp = SL_BUF_INIT;
    int rc = m->fn(s->ctx, who, GRPC_SLICE_START_PTR(req), GRPC_SLICE_LENGTH(req), &resp, err);
    grpc_slice_unref(req);
    if (rc < 0) {
        sl_buf_free(&resp);
        if (!err->msg[0]) sl_errf(err, rc, "%s failed (error %d)", m->name, rc);
        err->code = rc;
        /* the caller's mistakes are the caller's to read; anything else
         * (a full disk, a broken database) is the operator's too */
        if (rc != SL_EINVAL && rc != SL_ENOTFOUND && rc != SL_EPERM && rc != SL_EAUTH &&
            rc != SL_EEXIST)
            fprintf(stderr, "sluice: %s: %s\n", m->name, err->msg);
        return rc;
    }
    /* Hand the reply's heap block to gRPC instead of copying it. */
    size_t len = resp.len;
    grpc_slice out = grpc_empty_slice();
    if (len)
        out = grpc_slice_new(sl_buf_steal(&resp), len, free);
    else
        sl_buf_free(&resp);
    *reply = grpc_raw_byte_buffer_create(&out, 1);
    grpc_slice_unref(out);
    return 0;
}

static const char *role_name(unsigned role)
{
    switch (role) {
    case SL_ROLE_USER:
        return "a user's";
    case SL_ROLE_JOIN:
        return "the join";
    case SL_ROLE_AGENT:
        return "an agent's";
    default:
        return "an unknown";
    }
}

/* Who presents which credential, and may they call m? 0, or SL_EAUTH /
 * SL_EPERM with err filled (the client sees the message). */
static int check_access(sl_rpc_server *s, const sl_rpc_method *m, const grpc_metadata_array *md,
                        sl_rpc_caller *who, const char *mname, sl_err *err)
{
    const char *cred = NULL;
    size_t len = 0;
    if (sl_rpc_bearer(md, &cred, &len) < 0 || len == 0)
        return sl_errf(err, SL_EAUTH,
                       "%s needs a credential (metadata \"authorization: Bearer ...\"); see "
                       "docs/security.md",
                       mname);
    if (len > 4096) return sl_errf(err, SL_EAUTH, "credential too long");
    char buf[4097];
    memcpy(buf, cred, len);
    buf[len] = 0;
    int rc = s->auth(s->auth_ctx, buf, len, who);
    memset(buf, 0, len);
    if (rc < 0 || !who->role)
        return sl_errf(err, SL_EAUTH,
                       "%s: credential not valid here (revoked, or another cluster's)", mname);
    if (!m) return 0;
    if (!(m->roles & who->role))
        return sl_errf(err, SL_EPERM, "%s cannot be called with %s credential%s%s", mname,
                       role_name(who->role), who->role == SL_ROLE_AGENT ? " of host " : "",
                       who->role == SL_ROLE_AGENT ? who->host : "");
    return 0;
}

/* Refusals are logged, at most one a second: an attacker must not be able
 * to fill the operator's log. */
static void log_refusal(sl_rpc_server *s, const char *peer, const sl_err *err)
{
    long now = (long)time(NULL);
    long last = atomic_load(&s->refused_logged_at);
    if (now == last || !atomic_compare_exchange_strong(&s->refused_logged_at, &last, now)) return;
    fprintf(stderr, "sluice: refused a call from %s: %s\n", peer ? peer : "?", err->msg);
}

static void serve_call(sl_rpc_worker *w, grpc_call *call, const grpc_call_details *d,
                       const grpc_metadata_array *md)
{
    sl_rpc_server *s = w->s;
    const sl_rpc_method *m = find_method(s, d->method);
    grpc_byte_buffer *reply = NULL;
    sl_err err;
    sl_err_clear(&err);
    int rc = 0;
    grpc_status_code status = GRPC_STATUS_OK;
    char mname[128];
    snprintf(mname, sizeof mname, "%.*s", (int)GRPC_SLICE_LENGTH(d->method),
             (const char *)GRPC_SLICE_START_PTR(d->method));
    sl_rpc_caller who;
    memset(&who, 0, sizeof who);

    if ((rc = check_access(s, m, md, &who, mname, &err)) < 0) {
        status = status_of(rc);
        char *peer = grpc_call_get_peer(call); /* only for the log: costs an allocation */
        log_refusal(s, peer, &err);
        gpr_free(peer);
    } else if (!m) {
        status = GRPC_STATUS_UNIMPLEMENTED;
        snprintf(err.msg, sizeof err.msg, "unknown method %.*s", (int)GRPC_SLICE_LENGTH(d->method),
                 (const char *)GRPC_SLICE_START_PTR(d->method));
    } else {
        grpc_byte_buffer *req = NULL;
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &req;
        if (grpc_call_start_batch(call, &op, 1, SL_RPC_TAG_RECV, NULL) != GRPC_CALL_OK) return;
        if (!sl_rpc_wait(w->cq, SL_RPC_TAG_RECV) || !req) {
            /* Cancelled or the client half-closed without a message:
             * nobody to answer. */
            if (req) grpc_byte_buffer_destroy(req);
            return;
        }
        rc = run_handler(s, m, &who, req, &reply, &err);
        grpc_byte_buffer_destroy(req);
        if (rc < 0) status = status_of(rc);
    }

    char codebuf[16];
    grpc_metadata trailer;
    memset(&trailer, 0, sizeof trailer);
    size_t ntrailer = 0;
    if (rc < 0 && status == GRPC_STATUS_INTERNAL) {
        snprintf(codebuf, sizeof codebuf, "%d", rc);
        trailer.key = grpc_slice_from_static_string(SL_RPC_CODE_KEY);
        trailer.value = grpc_slice_from_copied_string(codebuf);
        ntrailer = 1;
    }
    grpc_slice details = grpc_slice_from_copied_string(err.msg);
    int cancelled = 0;
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (reply) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = reply;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = status;
    ops[n].data.send_status_from_server.status_details = status == GRPC_STATUS_OK ? NULL : &details;
    ops[n].data.send_status_from_server.trailing_metadata_count = ntrailer;
    ops[n++].data.send_status_from_server.trailing_metadata = ntrailer ? &trailer : NULL;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &cancelled;
    if (grpc_call_start_batch(call, ops, n, SL_RPC_TAG_SEND, NULL) == GRPC_CALL_OK)
        sl_rpc_wait(w->cq, SL_RPC_TAG_SEND); /* failure = client gone; nothing to do */
    grpc_slice_unref(details);
    if (ntrailer) grpc_slice_unref(trailer.value);
    if (reply) grpc_byte_buffer_destroy(reply);
}

static void *worker_main(void *arg)
{
    sl_rpc_worker *w = arg;
    sl_rpc_server *s = w->s;
    while (!atomic_load(&s->stopping)) {
        grpc_call *call = NULL;
        grpc_call_details d;
        grpc_metadata_array md;
        grpc_call_details_init(&d);
        grpc_metadata_array_init(&md);
        /* After shutdown gRPC fails this request through the queue, which
         * is how an idle worker learns it should leave. */
        int ok = grpc_server_request_call(s->server, &call, &d, &md, w->cq, w->cq,
                                          SL_RPC_TAG_REQUEST) == GRPC_CALL_OK &&
                 sl_rpc_wait(w->cq, SL_RPC_TAG_REQUEST);
        if (ok) serve_call(w, call, &d, &md);
        if (call) grpc_call_unref(call);
        grpc_call_details_destroy(&d);
        grpc_metadata_array_destroy(&md);
        if (!ok) break;
    }
    return NULL;
}

static void begin_shutdown(sl_rpc_server *s)
{
    pthread_mutex_lock(&s->mu);
    if (!s->shutdown_sent) {
        s->shutdown_sent = 1;
        atomic_store(&s->stopping, 1);
        grpc_server_shutdown_and_notify(s->server, s->shutdown_cq, SL_RPC_TAG_SHUTDOWN);
        /* Calls waiting for a request or a handler's reply end now: their
         * clients get CANCELLED at once instead of at their deadline. */
        grpc_server_cancel_all_calls(s->server);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Tears down whatever start managed to build; also the end of stop. */
static void destroy_server(sl_rpc_server *s)
{
    begin_shutdown(s);
    for (int i = 0; i < s->nthreads; i++)
        pthread_join(s->workers[i].thread, NULL);
    /* The notification arrives once every call is released, which the
     * joined workers have done. */
    grpc_event ev;
    do
        ev = grpc_completion_queue_next(s->shutdown_cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    while (ev.type == GRPC_OP_COMPLETE && ev.tag != SL_RPC_TAG_SHUTDOWN);
    grpc_server_destroy(s->server);
    for (int i = 0; i < s->nworkers; i++)
        sl_rpc_cq_destroy(s->workers[i].cq);
    sl_rpc_cq_destroy(s->shutdown_cq);
    for (size_t i = 0; i < s->nmethods; i++)
        free((char *)s->methods[i].name);
    free(s->methods);
    free(s->workers);
    pthread_mutex_destroy(&s->mu);
    free(s);
    grpc_shutdown();
}

sl_rpc_server *sl_rpc_server_start(const sl_rpc_server_config *cfg, const sl_rpc_method *methods,
                                   size_t n, void *ctx, int *bound_port, sl_err *err)
{
    const char *addr = cfg ? cfg->addr : NULL;
    int nthreads = cfg ? cfg->nthreads : 0;
    if (!addr || !*addr || nthreads < 1 || (n && !methods)) {
        sl_errf(err, SL_EINVAL, "rpc server: need an address and at least one thread");
        return NULL;
    }
    if (!cfg->auth) {
        sl_errf(err, SL_EINVAL, "rpc server: an authenticator is required (no anonymous access)");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!methods[i].name || methods[i].name[0] != '/' || !methods[i].fn) {
            sl_errf(
                err, SL_EINVAL,
                "rpc server: method %zu needs a full path (\"/pkg.Service/Method\") and a handler",
                i);
            return NULL;
        }
    }
    grpc_init(); /* reference counted by gRPC; released in destroy_server */
    grpc_server_credentials *creds = sl_rpc_server_creds(&cfg->tls, err);
    if (!creds) {
        grpc_shutdown();
        return NULL;
    }

    sl_rpc_server *s = sl_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->ctx = ctx;
    s->auth = cfg->auth;
    s->auth_ctx = cfg->auth_ctx;
    s->nmethods = n;
    s->methods = sl_xcalloc(n ? n : 1, sizeof *s->methods);
    for (size_t i = 0; i < n; i++) {
        s->methods[i].name = sl_xstrdup(methods[i].name);
        s->methods[i].fn = methods[i].fn;
        s->methods[i].roles = methods[i].roles;
    }

    grpc_arg args[2];
    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = cfg->max_message > 0 && cfg->max_message < (size_t)SL_RPC_MAX_MESSAGE
                                ? (int)cfg->max_message
                                : SL_RPC_MAX_MESSAGE;
    /* gRPC sets SO_REUSEPORT by default, which would let a second
     * controller bind the same port silently and steal half the agents. */
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_ALLOW_REUSEPORT;
    args[1].value.integer = 0;
    grpc_channel_args ca = {.num_args = 2, .args = args};
    s->server = grpc_server_create(&ca, NULL);

    s->workers = sl_xcalloc((size_t)nthreads, sizeof *s->workers);
    for (int i = 0; i < nthreads; i++) {
        s->workers[i].s = s;
        s->workers[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->server, s->workers[i].cq, NULL);
        s->nworkers++;
    }
    s->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(s->server, s->shutdown_cq, NULL);

    int port = grpc_server_add_http2_port(s->server, addr, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        sl_errf(err, SL_EIO, "rpc server: cannot listen on %s (address in use, or not host:port)",
                addr);
        destroy_server(s);
        return NULL;
    }
    grpc_server_start(s->server);

    for (int i = 0; i < nthreads; i++) {
        int e = pthread_create(&s->workers[i].thread, NULL, worker_main, &s->workers[i]);
        if (e) {
            sl_errf(err, SL_EIO, "rpc server: cannot start worker thread %d: %s", i, strerror(e));
            destroy_server(s);
            return NULL;
        }
        s->nthreads++;
    }
    if (bound_port) *bound_port = port;
    return s;
}

void sl_rpc_server_shutdown(sl_rpc_server *s)
{
    if (s) begin_shutdown(s);
}

int sl_rpc_server_stopping(const sl_rpc_server *s)
{
    return s && atomic_load(&((sl_rpc_server *)s)->stopping);
}

void sl_rpc_server_stop(sl_rpc_server *s)
{
    if (s) destroy_server(s);
}
