/* store_int.h - internals shared by the store_*.c files (not for callers). */
#ifndef SL_STORE_INT_H
#define SL_STORE_INT_H

#include <assert.h>
#include <sqlite3.h>
#include <stdio.h>

#include "store/store.h"

enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_PIPE_INSERT,
    ST_PIPE_STATE,
    ST_PIPE_ALL,
    ST_PIPE_RUNNING,
    ST_TASK_INSERT,
    ST_LEASE_HOST,
    ST_LEASE_ANY,
    ST_LEASE_MARK,
    ST_TASK_GET,
    ST_TASK_FIND,
    ST_TASK_FINISH,
    ST_TASK_REQUEUE,
    ST_TASK_REQUEUE_RESET,
    ST_TASK_EXTEND,
    ST_TASK_EXPIRED,
    ST_LEASE_EXTEND_ALL,
    ST_TASK_COUNTS,
    ST_TASK_LIST,
    ST_PIPE_CANCEL,

    ST_ATTEMPT_INSERT,
    ST_ATTEMPTS,
    ST_GATHER_ADD,
    ST_GATHER_COUNT,
    ST_GATHER_MEMBERS,
    ST_GATHER_PENDING,
    ST_HOST_UPSERT,
    ST_HOST_SEEN,
    ST_HOST_STATE,
    ST_HOSTS,
    ST_EVENT,
    ST_EVENT_COUNT,
    ST_OBJ_PUT,
    ST_OBJ_DROP_REPLICAS,
    ST_OBJ_GET,
    ST_OBJ_REF,
    ST_OBJ_REFS,
    ST_OBJ_DEL_Q,
    ST_OBJ_DEL_R,
    ST_OBJ_DEL_O,
    ST_REPL_ADD,
    ST_REPLS,
    ST_USAGE_R,
    ST_USAGE_T,
    ST_HOST_OBJS,
    ST_HOST_DROP,
    ST_OLDEST,
    ST_TIN_ADD,
    ST_TIN_EACH,
    ST_CONSUMERS,
    ST_TASK_OUTPUT,
    ST_DEL_TAKE,
    ST_DEL_RM,
    ST_BUDGET,
    ST_SET_BUDGET,
    ST_GATHER_SRC,
    ST_GATHER_SRCS,
    ST_RERUN,
    ST_REHOST,
    ST_REPL_DROP,
    ST_EXP_INSERT,
    ST_EXP_ADVANCE,
    ST_EXP_EACH,
    ST_STAGE_KEYS,
    SL_STMT_MAX
};

struct sl_store {
    sqlite3 *db;
    char *path;
    int version;
    sqlite3_stmt *stmts[SL_STMT_MAX];
};

/* Returns the cached statement `id`, prepared from sql on first use, reset
 * and with bindings cleared; NULL on a prepare error. */
sqlite3_stmt *sl_store_stmt(sl_store *s, int id, const char *sql);
int sl_store_fail(sl_store *s, sl_err *err, const char *what);

static inline void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static inline const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

#endif
