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

/* Who may call what. Every call carries a credential (gRPC metadata
 * "authorization: Bearer <credential>"); before any handler runs the
 * server's authenticator maps it to a role, and a method whose roles do not
 * include it is refused: UNAUTHENTICATED for a missing or unknown
 * credential, PERMISSION_DENIED for a known one of the wrong role. */
enum {
    SL_ROLE_USER = 1,  /* people and their tools: submit, read, retry, cancel */
    SL_ROLE_JOIN = 2,  /* a host joining the cluster: register, nothing else */
    SL_ROLE_AGENT = 4, /* a registered agent, bound to its host name */
};
#define SL_RPC_MAX_HOST 256

typedef struct sl_rpc_caller {
    unsigned role;              /* one SL_ROLE_* */
    char host[SL_RPC_MAX_HOST]; /* SL_ROLE_AGENT: the host its credential is bound to */
} sl_rpc_caller;

/* Fills resp with the serialized reply and returns 0, or returns a negative
 * SL_E* code with err filled: the client then gets that code and message
 * (SL_EINVAL -> INVALID_ARGUMENT, SL_ENOTFOUND -> NOT_FOUND, SL_EPERM ->
 * PERMISSION_DENIED, SL_EAUTH -> UNAUTHENTICATED, SL_EEXIST -> ALREADY_EXISTS,
 * others INTERNAL). */
typedef int (*sl_rpc_handler)(void *ctx, const sl_rpc_caller *who, const uint8_t *req, size_t len,
                              sl_buf *resp, sl_err *err);

typedef struct sl_rpc_method {
    const char *name;
    sl_rpc_handler fn;
    unsigned roles; /* SL_ROLE_* bits allowed to call it; 0 = nobody */
} sl_rpc_method;

/* Maps a credential (len bytes, NUL-terminated) to who->role and, for an
 * agent, who->host. Returns 0, or SL_EAUTH when it is nobody's. Runs on the
 * server's worker threads: must be thread-safe and quick. */
typedef int (*sl_rpc_auth)(void *ctx, const char *cred, size_t len, sl_rpc_caller *who);

/* PEM files. Server: cert + key turn TLS on; ca as well requires clients
 * to show a certificate it signed. Client: ca turns TLS on and verifies the
 * server's certificate (chain and name); cert + key are its own, if the
 * server asks. */
typedef struct sl_rpc_tls {
    const char *ca_file, *cert_file, *key_file;
} sl_rpc_tls;

#define SL_RPC_MAX_MESSAGE_DEFAULT (64u * 1024 * 1024)

typedef struct sl_rpc_server_config {
    const char *addr; /* "127.0.0.1:7470"; port 0 picks one */
    int nthreads;     /* worker threads (long-polls each hold one) */
    sl_rpc_auth auth; /* required: there is no anonymous access */
    void *auth_ctx;
    sl_rpc_tls tls;
    size_t max_message; /* largest request accepted (0: SL_RPC_MAX_MESSAGE_DEFAULT) */
} sl_rpc_server_config;

typedef struct sl_rpc_server sl_rpc_server;
typedef struct sl_rpc_client sl_rpc_client;

/* Listens on cfg->addr and serves the methods; ctx goes to every handler.
 * *bound_port gets the port. */
sl_rpc_server *sl_rpc_server_start(const sl_rpc_server_config *cfg, const sl_rpc_method *methods,
                                   size_t n, void *ctx, int *bound_port, sl_err *err);
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
 * after failures. Safe to use from several threads at once. tls may be
 * NULL (plain TCP) and credential NULL (set it later). */
sl_rpc_client *sl_rpc_client_new(const char *target, const sl_rpc_tls *tls, const char *credential,
                                 sl_err *err);
/* Replaces the credential sent with every later call (an agent's, issued
 * at registration). Safe while other threads call. */
void sl_rpc_client_set_credential(sl_rpc_client *c, const char *credential);
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
