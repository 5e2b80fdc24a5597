/* rpc_pb.h - one unary call of the sluice API with protobuf-c messages:
 * pack the request, call, unpack the reply. Shared by the agent and the
 * CLI so the marshalling exists once. Evaluates to 0 (reply set, to be freed
 * with its __free_unpacked) or a negative SL_E* code with err filled. */
#ifndef SL_RPC_PB_H
#define SL_RPC_PB_H

#include <stdlib.h>

#include "rpc/rpc.h"
#include "sluice.pb-c.h"

#define SL_API_METHOD(name) "/sluice.v1.Sluice/" name

#define SL_PB_CALL(client, method, reqfn, req, replyfn, reply, timeout, err)                       \
    ({                                                                                             \
        size_t n_ = sluice__v1__##reqfn##__get_packed_size(req);                                   \
        uint8_t *b_ = sl_xmalloc(n_ ? n_ : 1);                                                     \
        sluice__v1__##reqfn##__pack(req, b_);                                                      \
        sl_buf r_ = SL_BUF_INIT;                                                                   \
        int rc_ = sl_rpc_call(client, method, b_, n_, &r_, timeout, err);                          \
        free(b_);                                                                                  \
        if (rc_ == 0) {                                                                            \
            reply = sluice__v1__##replyfn##__unpack(NULL, r_.len, (const uint8_t *)r_.data);       \
            if (!reply) rc_ = sl_errf(err, SL_ERPC, "malformed reply to %s", method);              \
        }                                                                                          \
        sl_buf_free(&r_);                                                                          \
        rc_;                                                                                       \
    })

#endif
