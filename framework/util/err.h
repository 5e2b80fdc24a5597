/* err.h - caller-owned error messages.
 *
 * Library functions in framework/ return 0 (or a count) on success and a
 * negative code on failure, filling a caller-owned sl_err with a sentence that
 * says what went wrong and, where it helps, what to do. Nothing below the CLI
 * and daemon mains prints or exits on its own. */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <stddef.h>

enum {
    SL_OK = 0,
    SL_EINVAL = -1, /* bad input (YAML, key, argument) */
    SL_EIO = -2,    /* file system or socket error */
    SL_ENOMEM = -3, /* allocation failed */
    SL_ESTORE = -4, /* SQLite error */
    SL_ERPC = -5,   /* RPC transport or remote error */
    SL_ENOTFOUND = -6,
    SL_ETIMEOUT = -7,
    SL_EEXIST = -8,
    SL_EPERM = -9, /* refused by an authorization check (capability, certificate) */
};

typedef struct sl_err {
    int code;
    char msg[1024];
} sl_err;

/* Formats msg into e (if non-NULL) and returns code. */
int sl_errf(sl_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "prefix: old message". Returns e->code. */
int sl_err_prefix(sl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_err_clear(sl_err *e);

/* Prints "sluice: msg" to stderr and exits with status; for mains only. */
void sl_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
