/* store_expand.c - the SQL of lazy expansion and of the status matrix.
 *
 * A large message (or one with `batch:`) is kept as one row of
 * `expansions`: its key template, headers, the number of keys it makes and
 * the ordinal of the next key to turn into a task. The scheduler advances
 * the ordinal in the same transaction as the tasks it creates, so expansion
 * resumes exactly where it stopped after a controller restart. The matrix
 * query streams (key, state) of one stage for `sluice status --matrix`. */
#include "store/store_int.h"

int64_t sl_store_expansion_insert(sl_store *s, int64_t pipeline_id, int stage, const char *tmpl,
                                  const char *headers, int64_t total, int64_t batch, double now,
                                  sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_EXP_INSERT,
                                     "INSERT INTO expansions(pipeline_id, stage, tmpl, headers, "
                                     "total, next, batch, created) VALUES(?,?,?,?,?,0,?,?)");
    if (!st) return sl_store_fail(s, err, "prepare expansion insert");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, tmpl);
    bind_text(st, 4, headers && *headers ? headers : NULL);
    sqlite3_bind_int64(st, 5, total);
    sqlite3_bind_int64(st, 6, batch);
    sqlite3_bind_double(st, 7, now);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "insert expansion");
    return sqlite3_last_insert_rowid(s->db);
}

int sl_store_expansion_advance(sl_store *s, int64_t id, int64_t next, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_EXP_ADVANCE, "UPDATE expansions SET next=? WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare expansion advance");
    sqlite3_bind_int64(st, 1, next);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "advance expansion");
    return 0;
}

int sl_store_expansions_each(sl_store *s, sl_expansion_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_EXP_EACH,
                                     "SELECT id, pipeline_id, stage, tmpl, headers, total, next, "
                                     "batch FROM expansions ORDER BY id");
    if (!st) return sl_store_fail(s, err, "prepare expansions");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sl_expansion_row r = {sqlite3_column_int64(st, 0),
                              sqlite3_column_int64(st, 1),
                              sqlite3_column_int(st, 2),
                              col_text(st, 3),
                              col_text(st, 4),
                              sqlite3_column_int64(st, 5),
                              sqlite3_column_int64(st, 6),
                              sqlite3_column_int64(st, 7)};
        int x = fn(ctx, &r);
        if (x) {
            sqlite3_reset(st);
            return x < 0 ? x : 0;
        }
    }
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "read expansions");
}

int sl_store_stage_keys(sl_store *s, int64_t pipeline_id, int stage, sl_key_state_fn fn, void *ctx,
                        sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_STAGE_KEYS,
                                     "SELECT key, state FROM tasks WHERE pipeline_id=? AND "
                                     "stage=?");
    if (!st) return sl_store_fail(s, err, "prepare stage keys");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int x = fn(ctx, col_text(st, 0), sqlite3_column_int(st, 1));
        if (x) {
            sqlite3_reset(st);
            return x < 0 ? x : 0;
        }
    }
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "read stage keys");
}
