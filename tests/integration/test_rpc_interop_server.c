/* test_rpc_interop_server.c - a tiny sluice.v1.Sluice server for
 * tests/integration/test_rpc_interop.sh, where a gRPC client that is not
 * ours (Python grpcio, stubs generated from sluice.proto) calls it. It proves
 * framework/rpc speaks standard gRPC and that protobuf-c and Google's
 * protobuf agree on the messages. Serves Lease (echoes the request back into
 * the reply) and Heartbeat (NOT_FOUND for an unknown agent); every other
 * method of the service is left UNIMPLEMENTED on purpose.
 * Usage: sl-rpc-interop-server [ADDR]   prints the bound port, then serves
 * until SIGTERM or SIGINT and exits 0 after a clean stop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "sluice.pb-c.h"

static int lease(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                 size_t len, sl_buf *resp, sl_err *err)
{
    (void)ctx;
    Sluice__V1__LeaseRequest *lr = sluice__v1__lease_request__unpack(NULL, len, req);
    if (!lr) return sl_errf(err, SL_EINVAL, "LeaseRequest does not parse");
    size_t n = lr->max_tasks > 0 && lr->max_tasks <= 1000 ? (size_t)lr->max_tasks : 0;
    Sluice__V1__LeasedTask *t = calloc(n + 1, sizeof *t);
    Sluice__V1__LeasedTask **tp = calloc(n + 1, sizeof *tp);
    char **keys = calloc(n + 1, sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        sluice__v1__leased_task__init(&t[i]);
        t[i].id = 1000 + (int64_t)i;
        t[i].pipeline_id = lr->n_load ? lr->load[0]->pipeline_id : 0;
        t[i].stage = lr->n_load ? lr->load[0]->stage : 0;
        t[i].attempt = 1;
        t[i].ready_at = 1.5;
        keys[i] = sl_xasprintf("%s/%s/%zu", lr->agent_id, lr->host, i);
        t[i].key = keys[i];
        t[i].headers = "{\"sort_tag\":\"x\"}";
        tp[i] = &t[i];
    }
    Sluice__V1__LeaseReply rep = SLUICE__V1__LEASE_REPLY__INIT;
    rep.n_tasks = n;
    rep.tasks = tp;
    rep.lease_ttl_ms = (int64_t)lr->wait_ms * 1000;
    size_t sz = sluice__v1__lease_reply__get_packed_size(&rep);
    sl_buf_reserve(resp, sz);
    resp->len = sluice__v1__lease_reply__pack(&rep, (uint8_t *)resp->data);
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(tp);
    free(t);
    sluice__v1__lease_request__free_unpacked(lr, NULL);
    return 0;
}

static int heartbeat(void *ctx, const sl_rpc_caller *who __attribute__((unused)),
                     const uint8_t *req, size_t len, sl_buf *resp, sl_err *err)
{
    (void)ctx;
    Sluice__V1__HeartbeatRequest *hb = sluice__v1__heartbeat_request__unpack(NULL, len, req);
    if (!hb) return sl_errf(err, SL_EINVAL, "HeartbeatRequest does not parse");
    int rc = 0;
    if (strcmp(hb->agent_id, "agent-1") != 0) {
        rc = sl_errf(err, SL_ENOTFOUND, "unknown agent '%s'; register first", hb->agent_id);
    } else {
        /* cancel the odd task ids, to show repeated fields both ways */
        int64_t *cancel = calloc(hb->n_running + 1, sizeof *cancel);
        Sluice__V1__HeartbeatReply rep = SLUICE__V1__HEARTBEAT_REPLY__INIT;
        for (size_t i = 0; i < hb->n_running; i++)
            if (hb->running[i] % 2) cancel[rep.n_cancel++] = hb->running[i];
        rep.cancel = cancel;
        sl_buf_reserve(resp, sluice__v1__heartbeat_reply__get_packed_size(&rep));
        resp->len = sluice__v1__heartbeat_reply__pack(&rep, (uint8_t *)resp->data);
        free(cancel);
    }
    sluice__v1__heartbeat_request__free_unpacked(hb, NULL);
    return rc;
}

/* One credential, "interop-agent", for the whole test. */
static int one_cred(void *ctx, const char *cred, size_t len, sl_rpc_caller *who)
{
    (void)ctx;
    if (len != sizeof "interop-agent" - 1 || memcmp(cred, "interop-agent", len) != 0)
        return SL_EAUTH;
    who->role = SL_ROLE_AGENT;
    snprintf(who->host, sizeof who->host, "node3");
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:0";
    /* Block the stop signals before gRPC starts its threads, so they
     * inherit the mask and only sigwait below sees them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    static const sl_rpc_method methods[] = {
        {"/sluice.v1.Sluice/Lease", lease, SL_ROLE_AGENT},
        {"/sluice.v1.Sluice/Heartbeat", heartbeat, SL_ROLE_AGENT},
    };
    sl_err err;
    int port = 0;
    sl_rpc_server *s =
        sl_rpc_server_start(&(sl_rpc_server_config){.addr = addr, .nthreads = 2, .auth = one_cred},
                            methods, 2, NULL, &port, &err);
    if (!s) sl_die(1, "%s", err.msg);
    printf("%d\n", port);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    sl_rpc_server_stop(s);
    return 0;
}
