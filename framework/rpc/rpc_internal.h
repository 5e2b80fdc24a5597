/* rpc_internal.h - what rpc_server.c and rpc_client.c share, and nothing
 * outside framework/rpc/ may include (it pulls in grpc headers).
 *
 * Holds the channel arguments both sides agree on and the small trailer
 * that carries a sluice error code across the wire: gRPC has one status for
 * every internal failure, but a caller of sl_rpc_call wants to tell a store
 * error from an I/O error, so the server adds "sl-code: -4" to the trailing
 * metadata and our client prefers it over the mapped status. Foreign
 * clients simply ignore it. */
#ifndef SL_RPC_INTERNAL_H
#define SL_RPC_INTERNAL_H

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

#include "rpc/rpc.h"

/* Large batches (a Complete with thousands of stdout tails, a ListTasks of a
 * whole campaign) must fit; gRPC's default receive limit is 4 MiB. */
#define SL_RPC_MAX_MESSAGE ((int)SL_RPC_MAX_MESSAGE_DEFAULT)

/* Credentials for a listening port / a channel from PEM files (rpc_tls.c):
 * insecure ones when tls names no files; NULL with err filled on a bad file. */
grpc_server_credentials *sl_rpc_server_creds(const sl_rpc_tls *tls, sl_err *err);
grpc_channel_credentials *sl_rpc_channel_creds(const sl_rpc_tls *tls, sl_err *err);
/* The credential of "authorization: Bearer <credential>" in md: 0 with
 * *cred (not NUL-terminated) and *len set, -1 when there is none. */
int sl_rpc_bearer(const grpc_metadata_array *md, const char **cred, size_t *len);

#define SL_RPC_CODE_KEY "sl-code"

/* Tags for the completion queues; each queue has one operation in flight
 * at a time, so a tag only checks that we woke for what we waited on. */
#define SL_RPC_TAG_REQUEST ((void *)1)
#define SL_RPC_TAG_RECV ((void *)2)
#define SL_RPC_TAG_SEND ((void *)3)
#define SL_RPC_TAG_SHUTDOWN ((void *)4)
#define SL_RPC_TAG_CALL ((void *)5)
#define SL_RPC_TAG_WATCH ((void *)6)

/* Waits for the one pending event of cq; returns its success flag. */
static inline int sl_rpc_wait(grpc_completion_queue *cq, void *tag)
{
    grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    return ev.type == GRPC_OP_COMPLETE && ev.tag == tag && ev.success;
}

/* Shuts a queue down and discards what is left in it, as gRPC requires
 * before grpc_completion_queue_destroy. */
static inline void sl_rpc_cq_destroy(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
    }
    grpc_completion_queue_destroy(cq);
}

#endif
