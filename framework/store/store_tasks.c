/* store_tasks.c - the SQL of tasks and attempts: insert with key
 * uniqueness, batched leases, completion, requeue, lease extension and
 * expiry, counts and listings. Every function runs inside the caller's
 * transaction when one is open. */
#include "store/store_int.h"

#include <stdlib.h>

#define TASK_COLS                                                                                  \
    "id, pipeline_id, stage, key, headers, state, want_host, host, attempts, lease_agent, "        \
    "lease_deadline, exit_code, created, ready, started, finished"

/* A task is leased only when every object it reads is live somewhere. */
#define INPUTS_READY                                                                               \
    " AND NOT EXISTS (SELECT 1 FROM task_inputs i LEFT JOIN objects o ON "                         \
    "o.pipeline_id=tasks.pipeline_id AND o.stage=i.stage AND o.key=i.key WHERE "                   \
    "i.task_id=tasks.id AND (o.state IS NULL OR o.state != 'live'))"

static void task_from(sqlite3_stmt *st, sl_task_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->pipeline_id = sqlite3_column_int64(st, 1);
    r->stage = sqlite3_column_int(st, 2);
    r->key = col_text(st, 3);
    r->headers = col_text(st, 4);
    r->state = sqlite3_column_int(st, 5);
    r->want_host = col_text(st, 6);
    r->host = col_text(st, 7);
    r->attempts = sqlite3_column_int(st, 8);
    r->lease_agent = col_text(st, 9);
    r->lease_deadline = sqlite3_column_double(st, 10);
    r->exit_code = sqlite3_column_type(st, 11) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 11);
    r->created = sqlite3_column_double(st, 12);
    r->ready = sqlite3_column_double(st, 13);
    r->started = sqlite3_column_double(st, 14);
    r->finished = sqlite3_column_double(st, 15);
}

/* Steps st to the end, calling fn per row; returns rows or negative. */
static int each_task(sl_store *s, sqlite3_stmt *st, sl_task_row_fn fn, void *ctx, sl_err *err,
                     const char *what)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sl_task_row r;
        task_from(st, &r);
        n++;
        if (fn) {
            int x = fn(ctx, &r);
            if (x) {
                sqlite3_reset(st);
                return x < 0 ? x : n;
            }
        }
    }
    if (rc != SQLITE_DONE) return sl_store_fail(s, err, what);
    return n;
}

int sl_store_task_insert(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                         const char *headers, const char *want_host, double now, int64_t *id,
                         sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_TASK_INSERT,
        "INSERT OR IGNORE INTO tasks(pipeline_id, stage, key, headers, state, want_host, "
        "created, ready) VALUES(?,?,?,?,0,?,?,?)");
    if (!st) return sl_store_fail(s, err, "prepare task insert");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    bind_text(st, 4, headers);
    bind_text(st, 5, want_host);
    sqlite3_bind_double(st, 6, now);
    sqlite3_bind_double(st, 7, now);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "insert task");
    if (sqlite3_changes(s->db) == 0) return 0;
    if (id) *id = sqlite3_last_insert_rowid(s->db);
    return 1;
}

static int collect_ids(sl_store *s, sqlite3_stmt *st, int64_t *ids, int n, sl_err *err)
{
    int k = 0, rc;
    while (k < n && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[k++] = sqlite3_column_int64(st, 0);
    if (k < n && rc != SQLITE_DONE) return sl_store_fail(s, err, "select queued tasks");
    sqlite3_reset(st);
    return k;
}

int sl_store_lease(sl_store *s, int64_t pipeline_id, int stage, const char *host, const char *agent,
                   int n, double deadline, sl_task_row_fn fn, void *ctx, sl_err *err)
{
    if (n <= 0) return 0;
    int64_t *ids = sl_xmalloc(sizeof *ids * (size_t)n);
    int k = 0, r;
    sqlite3_stmt *st = sl_store_stmt(s, ST_LEASE_HOST,
                                     "SELECT id FROM tasks WHERE pipeline_id=? AND stage=? AND "
                                     "want_host=? AND state=0" INPUTS_READY " ORDER BY id LIMIT ?");
    if (!st) {
        free(ids);
        return sl_store_fail(s, err, "prepare lease");
    }
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, host);
    sqlite3_bind_int(st, 4, n);
    if ((r = collect_ids(s, st, ids, n, err)) < 0) goto out;
    k = r;
    if (k < n) {
        st = sl_store_stmt(s, ST_LEASE_ANY,
                           "SELECT id FROM tasks WHERE pipeline_id=? AND stage=? AND "
                           "want_host IS NULL AND state=0" INPUTS_READY " ORDER BY id LIMIT ?");
        if (!st) {
            r = sl_store_fail(s, err, "prepare lease");
            goto out;
        }
        sqlite3_bind_int64(st, 1, pipeline_id);
        sqlite3_bind_int(st, 2, stage);
        sqlite3_bind_int(st, 3, n - k);
        if ((r = collect_ids(s, st, ids + k, n - k, err)) < 0) goto out;
        k += r;
    }
    for (int i = 0; i < k; i++) {
        st = sl_store_stmt(s, ST_LEASE_MARK,
                           "UPDATE tasks SET state=1, host=?, lease_agent=?, lease_deadline=?, "
                           "attempts=attempts+1 WHERE id=? RETURNING " TASK_COLS);
        if (!st) {
            r = sl_store_fail(s, err, "prepare lease update");
            goto out;
        }
        bind_text(st, 1, host);
        bind_text(st, 2, agent);
        sqlite3_bind_double(st, 3, deadline);
        sqlite3_bind_int64(st, 4, ids[i]);
        if ((r = each_task(s, st, fn, ctx, err, "lease task")) < 0) goto out;
    }
    r = k;
out:
    free(ids);
    return r;
}

int sl_store_task_get(sl_store *s, int64_t id, sl_task_row_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_TASK_GET, "SELECT " TASK_COLS " FROM tasks WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare task get");
    sqlite3_bind_int64(st, 1, id);
    return each_task(s, st, fn, ctx, err, "get task");
}

int sl_store_task_find(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                       sl_task_row_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_TASK_FIND,
                      "SELECT " TASK_COLS " FROM tasks WHERE pipeline_id=? AND stage=? AND key=?");
    if (!st) return sl_store_fail(s, err, "prepare task find");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    return each_task(s, st, fn, ctx, err, "find task");
}

int sl_store_task_finish(sl_store *s, int64_t id, int state, const char *host, int exit_code,
                         double started, double finished, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_TASK_FINISH,
        "UPDATE tasks SET state=?, host=COALESCE(?, host), exit_code=?, started=?, finished=?, "
        "lease_agent=NULL, lease_deadline=NULL WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare task finish");
    sqlite3_bind_int(st, 1, state);
    bind_text(st, 2, host);
    sqlite3_bind_int(st, 3, exit_code);
    sqlite3_bind_double(st, 4, started);
    sqlite3_bind_double(st, 5, finished);
    sqlite3_bind_int64(st, 6, id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "finish task");
    return sqlite3_changes(s->db);
}

int sl_store_task_requeue(sl_store *s, int64_t id, double now, int reset_attempts, sl_err *err)
{
    sqlite3_stmt *st =
        reset_attempts
            ? sl_store_stmt(s, ST_TASK_REQUEUE_RESET,
                            "UPDATE tasks SET state=0, attempts=0, ready=?, lease_agent=NULL, "
                            "lease_deadline=NULL, exit_code=NULL, finished=NULL WHERE id=?")
            : sl_store_stmt(s, ST_TASK_REQUEUE,
                            "UPDATE tasks SET state=0, ready=?, lease_agent=NULL, "
                            "lease_deadline=NULL WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare requeue");
    sqlite3_bind_double(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "requeue task");
    return sqlite3_changes(s->db);
}

int sl_store_task_extend(sl_store *s, int64_t id, const char *agent, double deadline, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_TASK_EXTEND,
                                     "UPDATE tasks SET lease_deadline=? WHERE id=? AND state=1 "
                                     "AND lease_agent=?");
    if (!st) return sl_store_fail(s, err, "prepare extend");
    sqlite3_bind_double(st, 1, deadline);
    sqlite3_bind_int64(st, 2, id);
    bind_text(st, 3, agent);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "extend lease");
    return sqlite3_changes(s->db);
}

int sl_store_tasks_expired(sl_store *s, double now, sl_task_row_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_TASK_EXPIRED,
                                     "SELECT " TASK_COLS " FROM tasks WHERE state=1 AND "
                                     "lease_deadline < ? ORDER BY lease_deadline LIMIT 10000");
    if (!st) return sl_store_fail(s, err, "prepare expired");
    sqlite3_bind_double(st, 1, now);
    return each_task(s, st, fn, ctx, err, "expired leases");
}

int sl_store_leases_extend_all(sl_store *s, double deadline, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_LEASE_EXTEND_ALL,
                      "UPDATE tasks SET lease_deadline=max(lease_deadline, ?) WHERE state=1");
    if (!st) return sl_store_fail(s, err, "prepare extend all");
    sqlite3_bind_double(st, 1, deadline);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "extend leases");
    return sqlite3_changes(s->db);
}

int sl_store_task_counts(sl_store *s, sl_count_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_TASK_COUNTS,
                                     "SELECT pipeline_id, stage, state, count(*) FROM tasks "
                                     "GROUP BY pipeline_id, stage, state");
    if (!st) return sl_store_fail(s, err, "prepare counts");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int x = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
                   sqlite3_column_int(st, 2), sqlite3_column_int64(st, 3));
        if (x) {
            sqlite3_reset(st);
            return x;
        }
    }
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "count tasks");
}

int sl_store_tasks_list(sl_store *s, int64_t pipeline_id, int stage, int state, int64_t after_id,
                        int limit, sl_task_row_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_TASK_LIST,
        "SELECT " TASK_COLS " FROM tasks WHERE (?1 < 0 OR pipeline_id=?1) AND "
        "(?2 < 0 OR stage=?2) AND (?3 < 0 OR state=?3) AND id > ?4 ORDER BY id LIMIT ?5");
    if (!st) return sl_store_fail(s, err, "prepare list");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    sqlite3_bind_int(st, 3, state);
    sqlite3_bind_int64(st, 4, after_id);
    sqlite3_bind_int(st, 5, limit > 0 ? limit : 1000);
    return each_task(s, st, fn, ctx, err, "list tasks");
}

int sl_store_pipeline_cancel_tasks(sl_store *s, int64_t pipeline_id, double now, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_PIPE_CANCEL,
                                     "UPDATE tasks SET state=4, finished=?, lease_agent=NULL, "
                                     "lease_deadline=NULL WHERE pipeline_id=? AND state IN (0,1)");
    if (!st) return sl_store_fail(s, err, "prepare cancel");
    sqlite3_bind_double(st, 1, now);
    sqlite3_bind_int64(st, 2, pipeline_id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "cancel tasks");
    return sqlite3_changes(s->db);
}

int sl_store_attempt_insert(sl_store *s, int64_t task_id, const sl_attempt_row *a, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_ATTEMPT_INSERT,
                      "INSERT INTO attempts(task_id, n, host, started, finished, exit_code, error, "
                      "stdout_tail, stderr_tail) VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st) return sl_store_fail(s, err, "prepare attempt");
    sqlite3_bind_int64(st, 1, task_id);
    sqlite3_bind_int(st, 2, a->n);
    bind_text(st, 3, a->host);
    sqlite3_bind_double(st, 4, a->started);
    sqlite3_bind_double(st, 5, a->finished);
    sqlite3_bind_int(st, 6, a->exit_code);
    bind_text(st, 7, a->error && *a->error ? a->error : NULL);
    bind_text(st, 8, a->stdout_tail && *a->stdout_tail ? a->stdout_tail : NULL);
    bind_text(st, 9, a->stderr_tail && *a->stderr_tail ? a->stderr_tail : NULL);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "insert attempt");
    return 0;
}

int sl_store_attempts_each(sl_store *s, int64_t task_id, sl_attempt_row_fn fn, void *ctx,
                           sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_ATTEMPTS,
                                     "SELECT n, exit_code, host, error, stdout_tail, stderr_tail, "
                                     "started, finished FROM attempts WHERE task_id=? ORDER BY id");
    if (!st) return sl_store_fail(s, err, "prepare attempts");
    sqlite3_bind_int64(st, 1, task_id);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sl_attempt_row a = {sqlite3_column_int(st, 0),
                            sqlite3_column_int(st, 1),
                            col_text(st, 2),
                            col_text(st, 3),
                            col_text(st, 4),
                            col_text(st, 5),
                            sqlite3_column_double(st, 6),
                            sqlite3_column_double(st, 7)};
        n++;
        if (fn(ctx, &a)) {
            sqlite3_reset(st);
            return n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, "read attempts");
}
