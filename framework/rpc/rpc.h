/* rpc.h - the only door to gRPC in sluice.
 *
 * A byte-level unary RPC server and client over standard gRPC (HTTP/2),
 * implemented on the gRPC core C API. Callers exchange serialized protobuf
 * messages (protobuf-c, see framework/proto/sluice.proto); no other file
 * includes a grpc header.
 *
 * Method names are full gRPC paths, e.g. "/sluice.v1.Sluice/Lease".
 * Handlers run on the server's worker threads and may block (long-poll), so
 * a server needs more threads than the long-polls it expects at once. */
#ifndef SL_RPC_H
#define SL_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

/* Fills resp with the serialized reply and returns 0, or returns a negative
 * SL_E* code with err filled: the client then gets that code and message
 * (SL_EINVAL -> INVALID_ARGUMENT, SL_ENOTFOUND -> NOT_FOUND, others
 * INTERNAL). */
typedef int (*sl_rpc_handler)(void *ctx, const uint8_t *req, size_t len, sl_buf *resp, sl_err *err);

typedef struct sl_rpc_method {
    const char *name;
    sl_rpc_handler fn;
} sl_rpc_method;

typedef struct sl_rpc_server sl_rpc_server;
typedef struct sl_rpc_client sl_rpc_client;

/* Listens on addr ("127.0.0.1:7470", "0.0.0.0:0" for any port) and serves
 * the methods with nthreads worker threads. *bound_port gets the port. */
sl_rpc_server *sl_rpc_server_start(const char *addr, const sl_rpc_method *methods, size_t n,
                                   void *ctx, int nthreads, int *bound_port, sl_err *err);
/* Stops accepting, cancels calls in flight, waits for the workers. A
 * handler that is blocked in its own code (a long-poll) keeps its worker
 * until it returns, so long-poll handlers must wake up when
 * sl_rpc_server_stopping() turns true (poll it, or have the owner call
 * sl_rpc_server_shutdown, wake its waiters, then stop). Frees s. */
void sl_rpc_server_stop(sl_rpc_server *s);
/* First half of stop, without waiting: no new calls, and every call in
 * flight is cancelled, so its client gets an error now even while its
 * handler still runs. Idempotent; sl_rpc_server_stop must still follow. */
void sl_rpc_server_shutdown(sl_rpc_server *s);
/* True once shutdown began; for long-poll handlers to check between waits. */
int sl_rpc_server_stopping(const sl_rpc_server *s);

/* A channel to target ("127.0.0.1:7470"); connects lazily, reconnects
 * after failures. Safe to use from several threads at once. */
sl_rpc_client *sl_rpc_client_new(const char *target, sl_err *err);
/* Names the peer in error messages: "controller at 127.0.0.1:7470
 * unreachable: ...". Default "server". Call before sharing c. */
void sl_rpc_client_set_peer(sl_rpc_client *c, const char *what);
/* One unary call. Returns 0 with resp filled, SL_ETIMEOUT when the deadline
 * passed, SL_ERPC when the server is unreachable, or the server's code.
 * resp is reset first. timeout_ms <= 0 means no deadline. Messages up to
 * 64 MiB both ways. */
int sl_rpc_call(sl_rpc_client *c, const char *method, const uint8_t *req, size_t len, sl_buf *resp,
                int timeout_ms, sl_err *err);
/* Call only after every call on c has returned. */
void sl_rpc_client_free(sl_rpc_client *c);

#endif
