/* store_history.c - the metrics history: samples of a few key series (tasks
 * per state and stage, throughput, cache use per host) that the controller
 * writes every 10 s from its reaper thread, never from the lease path. Raw
 * samples are kept for a day and then averaged into 5-minute rows, so a
 * long campaign costs a bounded number of rows per series; rows older than
 * the retention are deleted. Statements are prepared per call: they run a
 * few times a minute, not per task. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static int exec_bind(sl_store *s, const char *sql, double a, sl_err *err, const char *what)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_store_fail(s, err, what);
    sqlite3_bind_double(st, 1, a);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, what);
}

int sl_store_history_add(sl_store *s, const char *series, double t, double value, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT OR REPLACE INTO metrics_history(series, t, value, step) "
                           "VALUES(?1, ?2, ?3, 10)",
                           -1, &st, NULL) != SQLITE_OK)
        return sl_store_fail(s, err, "prepare history insert");
    bind_text(st, 1, series);
    sqlite3_bind_double(st, 2, t);
    sqlite3_bind_double(st, 3, value);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "insert history sample");
}

int sl_store_history_rollup(sl_store *s, double now, double raw_keep_s, int bucket_s, double keep_s,
                            sl_err *err)
{
    if (bucket_s <= 10) bucket_s = 300;
    /* aligned, so a bucket is averaged once, from all its samples */
    double cut = (double)((int64_t)((now - raw_keep_s) / bucket_s) * bucket_s);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO metrics_history(series, t, value, step) "
             "SELECT series, CAST(t / %d AS INTEGER) * %d, avg(value), %d FROM metrics_history "
             "WHERE step < %d AND t < ?1 GROUP BY series, CAST(t / %d AS INTEGER)",
             bucket_s, bucket_s, bucket_s, bucket_s, bucket_s);
    int rc = exec_bind(s, sql, cut, err, "roll up history");
    if (rc == 0) {
        snprintf(sql, sizeof sql, "DELETE FROM metrics_history WHERE step < %d AND t < ?1",
                 bucket_s);
        rc = exec_bind(s, sql, cut, err, "delete rolled-up history");
    }
    if (rc == 0)
        rc = exec_bind(s, "DELETE FROM metrics_history WHERE t < ?1", now - keep_s, err,
                       "delete old history");
    return rc;
}

int64_t sl_store_history_each(sl_store *s, const char *prefix, double since, int64_t limit,
                              sl_history_fn fn, void *ctx, sl_err *err)
{
    /* a prefix as a key range: [prefix, prefix with its last byte + 1) */
    size_t n = prefix ? strlen(prefix) : 0;
    char *hi = sl_xstrdup(prefix ? prefix : "");
    while (n > 0 && (unsigned char)hi[n - 1] == 0xff)
        hi[--n] = 0;
    if (n > 0) hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT series, t, value, step FROM metrics_history WHERE series >= ?1 "
                           "AND (?2 = '' OR series < ?2) AND t >= ?3 ORDER BY series, t LIMIT ?4",
                           -1, &st, NULL) != SQLITE_OK) {
        free(hi);
        return sl_store_fail(s, err, "prepare history query");
    }
    bind_text(st, 1, prefix ? prefix : "");
    bind_text(st, 2, n > 0 ? hi : "");
    sqlite3_bind_double(st, 3, since);
    sqlite3_bind_int64(st, 4, limit > 0 ? limit : -1);
    int rc;
    int64_t rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        if (fn(ctx, col_text(st, 0), sqlite3_column_double(st, 1), sqlite3_column_double(st, 2),
               sqlite3_column_int(st, 3)))
            break;
    }
    sqlite3_finalize(st);
    free(hi);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? rows : sl_store_fail(s, err, "read history");
}

int sl_store_running_by_host(sl_store *s, sl_host_count_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = NULL;
    /* the partial index tasks_leases holds exactly the running tasks */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT host, count(*) FROM tasks WHERE state = 1 AND host IS NOT NULL "
                           "GROUP BY host",
                           -1, &st, NULL) != SQLITE_OK)
        return sl_store_fail(s, err, "prepare running per host");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (fn(ctx, col_text(st, 0), sqlite3_column_int64(st, 1))) break;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "running per host");
}
