/* cli.h - what the subcommands of `sluice` share: the table of commands,
 * the controller connection, and the RPC call macro. One file per
 * subcommand (cmd_*.c), each with its own usage text. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <stdio.h>
#include <stdlib.h>

#include "rpc/rpc.h"
#include "rpc/rpc_pb.h"
#include "sluice.pb-c.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct sl_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} sl_cmd;

/* Controller address: --controller, else $SLUICE_CONTROLLER, else the
 * address a state directory names ($SLUICE_STATE), else 127.0.0.1:7470. */
const char *sl_cli_controller(const char *opt);
/* The user credential, looked for in order: $SLUICE_TOKEN_FILE (set by
 * --token-file), $SLUICE_TOKEN, $SLUICE_STATE/secrets/user.token, then
 * ${XDG_CONFIG_HOME:-~/.config}/sluice/token. Fills out ("" if none) and
 * from (where it came from); returns 1 if found. */
int sl_cli_credential(char *out, size_t n, char *from, size_t fn);
/* The CA that turns on TLS to the controller: $SLUICE_TLS_CA (set by
 * --tls-ca), or NULL. */
const char *sl_cli_tls_ca(void);
/* A client for the controller with the user credential and TLS settings
 * above; dies with a clear message on failure. */
sl_rpc_client *sl_cli_connect(const char *addr);
/* Prints "sluice: <msg>" (with a hint when the controller is unreachable). */
void sl_cli_report(const char *addr, const sl_err *e);
/* 1 if stdout is a terminal and NO_COLOR-free progress is wanted. */
int sl_cli_tty(void);
void sl_cli_fmt_duration(char *out, size_t n, double s);
/* Prints usage to stdout (for --help, exit 0) or stderr (misuse, exit 2). */
/* s as a whole decimal integer into *out: 0, or -1 (with a message on
 * stderr naming what) for anything else - the caller exits 2. */
int sl_cli_parse_int(const char *what, const char *s, long long *out);
int sl_cli_usage(const char *text, int misuse);
/* Pipeline status as text (tty: with a header) or JSON. */
void sl_cli_print_status(FILE *f, const Sluice__V1__StatusReply *st, int json);

/* One API call by method name ("Status"), see rpc/rpc_pb.h. */
#define SL_CALL(client, method, ...) SL_PB_CALL(client, SL_API_METHOD(method), __VA_ARGS__)

/* One call from a one-shot command: connect to the controller (--controller,
 * $SLUICE_CONTROLLER or the default), call, disconnect. On failure prints
 * the error, with a hint when the controller is unreachable; evaluates to 0
 * (reply set) or a negative code. */
#define SL_CLI_CALL(ctl, method, reqfn, req, replyfn, reply)                                       \
    ({                                                                                             \
        const char *ca_ = sl_cli_controller(ctl);                                                  \
        sl_rpc_client *cc_ = sl_cli_connect(ca_);                                                  \
        sl_err ce_ = {0};                                                                          \
        int cr_ = SL_CALL(cc_, method, reqfn, req, replyfn, reply, 30000, &ce_);                   \
        sl_rpc_client_free(cc_);                                                                   \
        if (cr_ < 0) sl_cli_report(ca_, &ce_);                                                     \
        cr_;                                                                                       \
    })

int cmd_controller(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_dag(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_tasks(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_hosts(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* `sluice status --matrix` (cmd_matrix.c); returns the exit code. */
int sl_cli_matrix(const char *ctl, const char *pipeline, const char *stage, int rows, int cols,
                  int json);

/* Shared by submit and run: reads FILE, validates it, and submits it with
 * the variables it used. Prints errors; returns the pipeline id, -2 if the
 * file cannot be read or is invalid (misuse: exit 2), -1 if the controller
 * refused or could not be reached (exit 1). */
int64_t sl_cli_submit_file(sl_rpc_client *c, const char *addr, const char *file,
                           const char *env_file, int quiet);

#endif
