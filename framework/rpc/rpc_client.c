/* rpc_client.c - the calling half of rpc.h on the gRPC core C API.
 *
 * One channel per client (gRPC multiplexes concurrent calls over its HTTP/2
 * connection and reconnects by itself). Each call runs as a single batch -
 * send metadata, message and half-close, receive everything - on a
 * completion queue borrowed from a small pool, so threads never share a
 * queue and a call costs one wake-up. Deadlines are gRPC's, so a call never
 * waits longer than asked even when the server hangs. */
#include "rpc/rpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>

#include "rpc/rpc_internal.h"

#define SL_RPC_MAX_BACKOFF_MS 1000 /* longest wait between connection attempts */

struct sl_rpc_client {
    grpc_channel *ch;
    char *target;
    char *peer;         /* what the target is, for messages ("controller") */
    pthread_mutex_t mu; /* guards the idle queue pool below and the credential */
    char *bearer;       /* "Bearer <credential>", sent with every call; NULL: none */
    grpc_completion_queue **idle;
    size_t nidle, cap;
};

void sl_rpc_client_set_credential(sl_rpc_client *c, const char *credential)
{
    char *b = credential && *credential ? sl_xasprintf("Bearer %s", credential) : NULL;
    pthread_mutex_lock(&c->mu);
    char *old = c->bearer;
    c->bearer = b;
    pthread_mutex_unlock(&c->mu);
    if (old) memset(old, 0, strlen(old));
    free(old);
}

sl_rpc_client *sl_rpc_client_new(const char *target, const sl_rpc_tls *tls, const char *credential,
                                 sl_err *err)
{
    if (!target || !*target) {
        sl_errf(err, SL_EINVAL, "rpc client: empty target address (want host:port)");
        return NULL;
    }
    grpc_init(); /* reference counted by gRPC; released in sl_rpc_client_free */
    sl_rpc_client *c = sl_xcalloc(1, sizeof *c);
    c->target = sl_xstrdup(target);
    c->peer = sl_xstrdup("server");
    pthread_mutex_init(&c->mu, NULL);

    grpc_arg args[5];
    memset(args, 0, sizeof args);
    for (int i = 0; i < 5; i++)
        args[i].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = SL_RPC_MAX_MESSAGE;
    /* We set no retry policy, and the retry layer would buffer every
     * outgoing message for replay: pure per-call overhead. Callers retry. */
    args[1].key = GRPC_ARG_ENABLE_RETRIES;
    args[1].value.integer = 0;
    /* Agents must find a restarted controller within about a second, not
     * after gRPC's default backoff that grows to two minutes. */
    args[2].key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS;
    args[2].value.integer = 100;
    /* Despite its name this is the time one connection attempt may take
     * (TCP, then the server's HTTP/2 SETTINGS), not a backoff: at 100 ms a
     * server that is merely slow to answer, as on a loaded machine, failed
     * every call with "connection attempt timed out before receiving
     * SETTINGS frame". A refused connection (server down) still fails at
     * once and is retried after the backoff above; the call's deadline
     * still bounds the wait. 20 s is gRPC's default. */
    args[3].key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS;
    args[3].value.integer = 20000;
    args[4].key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
    args[4].value.integer = SL_RPC_MAX_BACKOFF_MS;
    grpc_channel_args ca = {.num_args = 5, .args = args};
    sl_rpc_client_set_credential(c, credential);
    grpc_channel_credentials *creds = sl_rpc_channel_creds(tls, err);
    if (!creds) {
        sl_rpc_client_free(c);
        return NULL;
    }
    c->ch = grpc_channel_create(target, creds, &ca);
    grpc_channel_credentials_release(creds);
    if (!c->ch) {
        sl_errf(err, SL_EINVAL, "rpc client: cannot create a channel to '%s'", target);
        sl_rpc_client_free(c);
        return NULL;
    }
    return c;
}

void sl_rpc_client_set_peer(sl_rpc_client *c, const char *what)
{
    if (c && what && *what) {
        free(c->peer);
        c->peer = sl_xstrdup(what);
    }
}

void sl_rpc_client_free(sl_rpc_client *c)
{
    if (!c) return;
    if (c->ch) grpc_channel_destroy(c->ch);
    for (size_t i = 0; i < c->nidle; i++)
        sl_rpc_cq_destroy(c->idle[i]);
    free(c->idle);
    pthread_mutex_destroy(&c->mu);
    free(c->target);
    free(c->peer);
    if (c->bearer) memset(c->bearer, 0, strlen(c->bearer));
    free(c->bearer);
    free(c);
    grpc_shutdown();
}

static grpc_completion_queue *take_cq(sl_rpc_client *c)
{
    grpc_completion_queue *cq = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->nidle) cq = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->mu);
    return cq ? cq : grpc_completion_queue_create_for_next(NULL);
}

static void give_cq(sl_rpc_client *c, grpc_completion_queue *cq)
{
    pthread_mutex_lock(&c->mu);
    if (c->nidle == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->idle = sl_xrealloc(c->idle, c->cap * sizeof *c->idle);
    }
    c->idle[c->nidle++] = cq;
    pthread_mutex_unlock(&c->mu);
}

/* The sluice error code the server put in the trailer, or 0. */
static int trailer_code(const grpc_metadata_array *md)
{
    for (size_t i = 0; i < md->count; i++) {
        const grpc_metadata *m = &md->metadata[i];
        size_t kl = GRPC_SLICE_LENGTH(m->key), vl = GRPC_SLICE_LENGTH(m->value);
        if (kl != strlen(SL_RPC_CODE_KEY) ||
            memcmp(GRPC_SLICE_START_PTR(m->key), SL_RPC_CODE_KEY, kl) != 0 || vl == 0 || vl > 11)
            continue;
        char v[12];
        memcpy(v, GRPC_SLICE_START_PTR(m->value), vl);
        v[vl] = 0;
        int code = atoi(v);
        return code < 0 ? code : 0;
    }
    return 0;
}

static const char *status_name(grpc_status_code st)
{
    static const char *names[] = {
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    };
    return st >= 0 && (size_t)st < sizeof names / sizeof names[0] ? names[st] : "status?";
}

static int map_status(sl_rpc_client *c, const char *method, grpc_status_code st,
                      const char *details, const grpc_metadata_array *trailer, int timeout_ms,
                      sl_err *err)
{
    int code = trailer_code(trailer);
    switch (st) {
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return sl_errf(err, SL_ETIMEOUT, "%s at %s: %s timed out after %d ms", c->peer, c->target,
                       method, timeout_ms);
    case GRPC_STATUS_UNAVAILABLE:
        return sl_errf(err, SL_ERPC, "%s at %s unreachable: %s", c->peer, c->target, details);
    case GRPC_STATUS_UNIMPLEMENTED:
        return sl_errf(err, SL_ERPC, "%s at %s does not implement %s (is it an older version?)",
                       c->peer, c->target, method);
    case GRPC_STATUS_INVALID_ARGUMENT:
        return sl_errf(err, code ? code : SL_EINVAL, "%s", details);
    case GRPC_STATUS_NOT_FOUND:
        return sl_errf(err, code ? code : SL_ENOTFOUND, "%s", details);
    case GRPC_STATUS_ALREADY_EXISTS:
        return sl_errf(err, SL_EEXIST, "%s", details);
    case GRPC_STATUS_UNAUTHENTICATED:
        return sl_errf(err, SL_EAUTH, "%s at %s refused %s: %s", c->peer, c->target, method,
                       details);
    case GRPC_STATUS_PERMISSION_DENIED:
        return sl_errf(err, SL_EPERM, "%s at %s refused %s: %s", c->peer, c->target, method,
                       details);
    case GRPC_STATUS_CANCELLED:
        return sl_errf(err, SL_ERPC, "%s at %s cancelled %s (shutting down?)%s%s", c->peer,
                       c->target, method, *details ? ": " : "", details);
    default:
        /* A sluice server put the handler's own message and code there. */
        if (code) return sl_errf(err, code, "%s", details);
        return sl_errf(err, SL_ERPC, "%s at %s: %s failed: %s: %s", c->peer, c->target, method,
                       status_name(st), details);
    }
}

/* A channel whose last connection attempt failed fails calls at once, and
 * reconnects in the background after the backoff (at most 1 s, +20 %
 * jitter). That attempt only moves while some thread polls for the
 * channel: with every call failing at once nobody does, and gRPC's backup
 * poller takes it one step every 5 s (an agent found its restarted
 * controller 3-9 s late, after the restart's lease grace). So a call on
 * such a channel first watches it, which polls, for up to two of the
 * longest backoffs: a server back by then is connected to, one still down
 * fails the call as before, 2 s later. A new channel (every CLI command)
 * is not in that state and fails at once when nothing listens. */
static void wait_reconnect(sl_rpc_client *c, grpc_completion_queue *cq, gpr_timespec deadline)
{
    if (grpc_channel_check_connectivity_state(c->ch, 0) != GRPC_CHANNEL_TRANSIENT_FAILURE) return;
    gpr_timespec until =
        gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                     gpr_time_from_millis(2 * SL_RPC_MAX_BACKOFF_MS, GPR_TIMESPAN));
    if (gpr_time_cmp(deadline, until) < 0) until = deadline;
    grpc_channel_watch_connectivity_state(c->ch, GRPC_CHANNEL_TRANSIENT_FAILURE, until, cq,
                                          SL_RPC_TAG_WATCH);
    sl_rpc_wait(cq, SL_RPC_TAG_WATCH); /* a state change or `until` ends it */
}

int sl_rpc_call(sl_rpc_client *c, const char *method, const uint8_t *req, size_t len, sl_buf *resp,
                int timeout_ms, sl_err *err)
{
    sl_buf_reset(resp);
    if (!method || method[0] != '/')
        return sl_errf(err, SL_EINVAL,
                       "rpc call: method '%s' is not a full path (\"/pkg.Service/Method\")",
                       method ? method : "(null)");
    grpc_completion_queue *cq = take_cq(c);
    gpr_timespec deadline = timeout_ms > 0
                                ? gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                               gpr_time_from_millis(timeout_ms, GPR_TIMESPAN))
                                : gpr_inf_future(GPR_CLOCK_MONOTONIC);
    wait_reconnect(c, cq, deadline);
    grpc_slice mslice = grpc_slice_from_copied_string(method);
    grpc_call *call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, mslice,
                                               NULL, deadline, NULL);
    grpc_slice_unref(mslice);

    /* A copy: gRPC may hold the message after the call returns (write
     * queues), and req belongs to the caller. */
    grpc_slice rs = grpc_slice_from_copied_buffer((const char *)req, len);
    grpc_byte_buffer *out = grpc_raw_byte_buffer_create(&rs, 1);
    grpc_slice_unref(rs);
    grpc_byte_buffer *in = NULL;
    grpc_metadata_array initial, trailer;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailer);
    grpc_status_code st = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();

    grpc_metadata auth;
    memset(&auth, 0, sizeof auth);
    pthread_mutex_lock(&c->mu);
    int has_auth = c->bearer != NULL;
    if (has_auth) {
        auth.key = grpc_slice_from_static_string("authorization");
        auth.value = grpc_slice_from_copied_string(c->bearer);
    }
    pthread_mutex_unlock(&c->mu);

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = has_auth ? 1 : 0;
    ops[0].data.send_initial_metadata.metadata = has_auth ? &auth : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = out;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &in;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailer;
    ops[5].data.recv_status_on_client.status = &st;
    ops[5].data.recv_status_on_client.status_details = &details;

    int rc = 0;
    grpc_call_error ce = grpc_call_start_batch(call, ops, 6, SL_RPC_TAG_CALL, NULL);
    if (ce != GRPC_CALL_OK) {
        rc = sl_errf(err, SL_ERPC, "%s at %s: cannot start %s: %s", c->peer, c->target, method,
                     grpc_call_error_to_string(ce));
    } else {
        /* Receiving the status always completes (by the deadline at the
         * latest), so this wait is bounded. */
        sl_rpc_wait(cq, SL_RPC_TAG_CALL);
        if (st == GRPC_STATUS_OK) {
            grpc_byte_buffer_reader rd;
            if (!in || !grpc_byte_buffer_reader_init(&rd, in)) {
                rc = sl_errf(err, SL_ERPC, "%s at %s: %s returned no reply message", c->peer,
                             c->target, method);
            } else {
                grpc_slice s;
                while (grpc_byte_buffer_reader_next(&rd, &s)) {
                    sl_buf_append(resp, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
                    grpc_slice_unref(s);
                }
                grpc_byte_buffer_reader_destroy(&rd);
                sl_buf_reserve(resp, 0); /* an empty reply is "", not NULL */
            }
        } else {
            char *d = grpc_slice_to_c_string(details);
            rc = map_status(c, method, st, d, &trailer, timeout_ms, err);
            gpr_free(d);
        }
    }
    grpc_call_unref(call);
    if (has_auth) grpc_slice_unref(auth.value);
    give_cq(c, cq);
    if (in) grpc_byte_buffer_destroy(in);
    grpc_byte_buffer_destroy(out);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailer);
    return rc;
}
