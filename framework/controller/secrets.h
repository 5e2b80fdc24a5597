/* secrets.h - the controller's credentials, kept in STATE/secrets/ (mode
 * 0700, files 0600), made on first start and read on every later one:
 *   user.token  the user credential: submit, read, retry, cancel
 *   join.token  the join credential: lets an agent register, nothing else
 *   master.key  32 random bytes from which each data server's
 *               capability key is derived; never leaves the controller
 * Agents' own credentials are issued at registration (sched_lease.c).
 * Rotate one by removing its file and restarting the controller (see
 * docs/security.md). */
#ifndef SL_SECRETS_H
#define SL_SECRETS_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"
#include "sched/sched.h"
#include "util/err.h"

#define SL_SECRET_TOKEN_MAX 128

typedef struct sl_secrets {
    char user[SL_SECRET_TOKEN_MAX];
    char join[SL_SECRET_TOKEN_MAX];
    uint8_t master[32];
    sl_sched *sched; /* for agents' credentials; set before serving */
} sl_secrets;

/* Reads STATE/secrets/, creating what is missing. Refuses files that other
 * users may read (a credential someone else could have copied). */
int sl_secrets_load(const char *state_dir, sl_secrets *out, sl_err *err);

/* The rpc layer's authenticator (sl_rpc_auth) over a loaded sl_secrets. */
int sl_secrets_auth(void *ctx, const char *cred, size_t len, sl_rpc_caller *who);

/* Wipes the secrets from memory. */
void sl_secrets_clear(sl_secrets *s);

#endif
