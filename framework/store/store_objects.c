/* store_objects.c - the SQL of the cache catalog: objects (the output
 * directory of a task), their replicas on hosts, the inputs of tasks that
 * hold references to them, and deletions waiting for an agent. */
#include "store/store_int.h"

#include <string.h>

int sl_store_object_put(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                        int64_t task_id, int64_t size, const char *files, int keep,
                        const char *host, const char *tier, double now, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_OBJ_PUT,
        "INSERT INTO objects(pipeline_id, stage, key, task_id, size, files, refs, keep, state, "
        "created) VALUES(?1,?2,?3,?4,?5,?6,0,?7,'live',?8) ON CONFLICT DO UPDATE SET "
        "task_id=excluded.task_id, size=excluded.size, files=excluded.files, state='live', "
        "created=excluded.created");
    if (!st) return sl_store_fail(s, err, "prepare object put");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    sqlite3_bind_int64(st, 4, task_id);
    sqlite3_bind_int64(st, 5, size);
    bind_text(st, 6, files);
    sqlite3_bind_int(st, 7, keep);
    sqlite3_bind_double(st, 8, now);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "record object");
    /* a re-run replaces whatever replicas were left of the lost one */
    st = sl_store_stmt(s, ST_OBJ_DROP_REPLICAS,
                       "DELETE FROM replicas WHERE pipeline_id=? AND stage=? AND key=?");
    if (!st) return sl_store_fail(s, err, "prepare replica drop");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "drop replicas");
    return sl_store_replica_add(s, pipeline_id, stage, key, host, tier, size, now, err);
}

int sl_store_object_get(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                        sl_object_row *row, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_OBJ_GET,
                                     "SELECT task_id, size, refs, keep, files, state FROM "
                                     "objects WHERE pipeline_id=? AND stage=? AND key=?");
    if (!st) return sl_store_fail(s, err, "prepare object get");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return sl_store_fail(s, err, "read object");
    row->pipeline_id = pipeline_id;
    row->stage = stage;
    row->key = key;
    row->task_id = sqlite3_column_int64(st, 0);
    row->size = sqlite3_column_int64(st, 1);
    row->refs = sqlite3_column_int(st, 2);
    row->keep = sqlite3_column_int(st, 3);
    row->files = col_text(st, 4);
    row->state = col_text(st, 5);
    return 1;
}

int sl_store_object_ref(sl_store *s, int64_t pipeline_id, int stage, const char *key, int delta,
                        sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_OBJ_REF,
                                     "UPDATE objects SET refs=max(0, refs+?) WHERE "
                                     "pipeline_id=? AND stage=? AND key=? RETURNING refs");
    if (!st) return sl_store_fail(s, err, "prepare object ref");
    sqlite3_bind_int(st, 1, delta);
    sqlite3_bind_int64(st, 2, pipeline_id);
    sqlite3_bind_int(st, 3, stage);
    bind_text(st, 4, key);
    int rc = sqlite3_step(st), refs = -1;
    if (rc == SQLITE_ROW)
        refs = sqlite3_column_int(st, 0);
    else if (rc != SQLITE_DONE)
        return sl_store_fail(s, err, "update object references");
    sqlite3_reset(st);
    return refs < 0 ? SL_ENOTFOUND : refs;
}

int sl_store_object_delete(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                           const char *relpath, const char *state, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_OBJ_DEL_Q,
        "INSERT OR IGNORE INTO deletions(host, path) SELECT host, tier || '/' || ?4 FROM "
        "replicas WHERE pipeline_id=?1 AND stage=?2 AND key=?3");
    if (!st) return sl_store_fail(s, err, "prepare deletion");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    bind_text(st, 4, relpath);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "queue deletion");
    st = sl_store_stmt(s, ST_OBJ_DEL_R,
                       "DELETE FROM replicas WHERE pipeline_id=? AND stage=? AND key=?");
    if (!st) return sl_store_fail(s, err, "prepare replica delete");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "delete replicas");
    st = sl_store_stmt(s, ST_OBJ_DEL_O,
                       "UPDATE objects SET state=? WHERE pipeline_id=? AND stage=? AND key=?");
    if (!st) return sl_store_fail(s, err, "prepare object state");
    bind_text(st, 1, state);
    sqlite3_bind_int64(st, 2, pipeline_id);
    sqlite3_bind_int(st, 3, stage);
    bind_text(st, 4, key);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "set object state");
    return 0;
}

int sl_store_replica_add(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                         const char *host, const char *tier, int64_t size, double now, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_REPL_ADD,
        "INSERT OR REPLACE INTO replicas(pipeline_id, stage, key, host, tier, size, created) "
        "VALUES(?,?,?,?,?,?,?)");
    if (!st) return sl_store_fail(s, err, "prepare replica add");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    bind_text(st, 4, host);
    bind_text(st, 5, tier);
    sqlite3_bind_int64(st, 6, size);
    sqlite3_bind_double(st, 7, now);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "add replica");
    return 0;
}

int sl_store_replicas_each(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                           sl_replica_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_REPLS,
        "SELECT r.host, r.tier, h.addr, h.state, r.size FROM replicas r LEFT JOIN hosts h ON "
        "h.name=r.host WHERE r.pipeline_id=? AND r.stage=? AND r.key=? ORDER BY r.created");
    if (!st) return sl_store_fail(s, err, "prepare replicas");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sl_replica_row r = {col_text(st, 0), col_text(st, 1), col_text(st, 2), col_text(st, 3),
                            sqlite3_column_int64(st, 4)};
        n++;
        if (fn(ctx, &r)) {
            sqlite3_reset(st);
            return n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, "read replicas");
}

int64_t sl_store_host_usage(sl_store *s, const char *host, const char *tier, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_USAGE_R, "SELECT coalesce(sum(size),0) FROM replicas WHERE host=? AND tier=?");
    if (!st) return sl_store_fail(s, err, "prepare usage");
    bind_text(st, 1, host);
    bind_text(st, 2, tier);
    if (sqlite3_step(st) != SQLITE_ROW) return sl_store_fail(s, err, "sum replicas");
    int64_t used = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    st = sl_store_stmt(s, ST_USAGE_T,
                       "SELECT coalesce(sum(reserve),0) FROM tasks WHERE state=1 AND host=? AND "
                       "tier=?");
    if (!st) return sl_store_fail(s, err, "prepare reservations");
    bind_text(st, 1, host);
    bind_text(st, 2, tier);
    if (sqlite3_step(st) != SQLITE_ROW) return sl_store_fail(s, err, "sum reservations");
    used += sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return used;
}

static int each_objkey(sl_store *s, sqlite3_stmt *st, sl_objkey_fn fn, void *ctx, sl_err *err,
                       const char *what)
{
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1), col_text(st, 2))) {
            sqlite3_reset(st);
            return n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, what);
}

int sl_store_host_objects(sl_store *s, const char *host, sl_objkey_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_HOST_OBJS,
                      "SELECT pipeline_id, stage, key FROM replicas WHERE host=? ORDER BY created");
    if (!st) return sl_store_fail(s, err, "prepare host objects");
    bind_text(st, 1, host);
    return each_objkey(s, st, fn, ctx, err, "host objects");
}

int sl_store_host_drop_replicas(sl_store *s, const char *host, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_HOST_DROP, "DELETE FROM replicas WHERE host=?");
    if (!st) return sl_store_fail(s, err, "prepare host drop");
    bind_text(st, 1, host);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "drop host replicas");
    return sqlite3_changes(s->db);
}

int sl_store_oldest_object(sl_store *s, int64_t pipeline_id, int stage, const char *host,
                           sl_objkey_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_OLDEST,
                      "SELECT r.pipeline_id, r.stage, r.key FROM replicas r JOIN objects o ON "
                      "o.pipeline_id=r.pipeline_id AND o.stage=r.stage AND o.key=r.key WHERE "
                      "r.pipeline_id=? AND r.stage=? AND r.host=? AND o.state='live' AND o.keep=0 "
                      "ORDER BY r.created LIMIT 1");
    if (!st) return sl_store_fail(s, err, "prepare oldest");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, host);
    return each_objkey(s, st, fn, ctx, err, "oldest object");
}

int sl_store_task_inputs_add(sl_store *s, int64_t task_id, int stage, const char *key, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_TIN_ADD, "INSERT OR IGNORE INTO task_inputs(task_id, stage, key) VALUES(?,?,?)");
    if (!st) return sl_store_fail(s, err, "prepare task input");
    sqlite3_bind_int64(st, 1, task_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "add task input");
    return sqlite3_changes(s->db);
}

int sl_store_task_inputs_each(sl_store *s, int64_t task_id, sl_objkey_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_TIN_EACH,
        "SELECT t.pipeline_id, i.stage, i.key FROM task_inputs i JOIN tasks t ON t.id=i.task_id "
        "WHERE i.task_id=? ORDER BY i.stage, i.key");
    if (!st) return sl_store_fail(s, err, "prepare task inputs");
    sqlite3_bind_int64(st, 1, task_id);
    return each_objkey(s, st, fn, ctx, err, "task inputs");
}

int sl_store_object_consumers(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                              sl_consumer_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_CONSUMERS,
        "SELECT t.id, t.state FROM task_inputs i JOIN tasks t ON t.id=i.task_id WHERE "
        "i.stage=? AND i.key=? AND t.pipeline_id=?");
    if (!st) return sl_store_fail(s, err, "prepare consumers");
    sqlite3_bind_int(st, 1, stage);
    bind_text(st, 2, key);
    sqlite3_bind_int64(st, 3, pipeline_id);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1))) {
            sqlite3_reset(st);
            return n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, "read consumers");
}

int sl_store_task_set_output(sl_store *s, int64_t id, const char *tier, int64_t reserve,
                             sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_TASK_OUTPUT, "UPDATE tasks SET tier=?, reserve=? WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare task output");
    bind_text(st, 1, tier);
    sqlite3_bind_int64(st, 2, reserve);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "set task output");
    return 0;
}

int sl_store_deletions_take(sl_store *s, const char *host, sl_path_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_DEL_TAKE, "SELECT path FROM deletions WHERE host=? LIMIT 10000");
    if (!st) return sl_store_fail(s, err, "prepare deletions");
    bind_text(st, 1, host);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        fn(ctx, col_text(st, 0));
    }
    if (rc != SQLITE_DONE) return sl_store_fail(s, err, "read deletions");
    if (n) {
        st = sl_store_stmt(s, ST_DEL_RM, "DELETE FROM deletions WHERE host=?");
        if (!st) return sl_store_fail(s, err, "prepare deletion removal");
        bind_text(st, 1, host);
        if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "remove deletions");
    }
    return n;
}

int sl_store_host_budget(sl_store *s, const char *host, int64_t *mem, int64_t *ssd, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_BUDGET, "SELECT mem_budget, ssd_budget FROM hosts WHERE name=?");
    if (!st) return sl_store_fail(s, err, "prepare budget");
    bind_text(st, 1, host);
    int rc = sqlite3_step(st);
    *mem = *ssd = 0;
    if (rc == SQLITE_ROW) {
        *mem = sqlite3_column_int64(st, 0);
        *ssd = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_DONE) {
        return sl_store_fail(s, err, "read budget");
    }
    sqlite3_reset(st);
    return 0;
}

int sl_store_host_set_budget(sl_store *s, const char *host, int64_t mem, int64_t ssd, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_SET_BUDGET, "UPDATE hosts SET mem_budget=?, ssd_budget=? WHERE name=?");
    if (!st) return sl_store_fail(s, err, "prepare set budget");
    sqlite3_bind_int64(st, 1, mem);
    sqlite3_bind_int64(st, 2, ssd);
    bind_text(st, 3, host);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "set budget");
    return 0;
}

int sl_store_gather_set_src(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                            const char *member, int src_stage, const char *src_key, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_GATHER_SRC,
        "UPDATE gathers SET src_stage=?, src_key=? WHERE pipeline_id=? AND stage=? AND gkey=? "
        "AND member=?");
    if (!st) return sl_store_fail(s, err, "prepare gather source");
    sqlite3_bind_int(st, 1, src_stage);
    bind_text(st, 2, src_key);
    sqlite3_bind_int64(st, 3, pipeline_id);
    sqlite3_bind_int(st, 4, stage);
    bind_text(st, 5, gkey);
    bind_text(st, 6, member);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "set gather source");
    return 0;
}

int sl_store_gather_srcs(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                         sl_objkey_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_GATHER_SRCS,
        "SELECT pipeline_id, src_stage, src_key FROM gathers WHERE pipeline_id=? AND stage=? "
        "AND gkey=? AND src_key IS NOT NULL ORDER BY seq");
    if (!st) return sl_store_fail(s, err, "prepare gather sources");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, gkey);
    return each_objkey(s, st, fn, ctx, err, "gather sources");
}

int sl_store_task_rerun(sl_store *s, int64_t id, double now, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_RERUN,
        "UPDATE tasks SET state=0, attempts=0, ready=?, want_host=NULL, lease_agent=NULL, "
        "lease_deadline=NULL, exit_code=NULL, finished=NULL, tier=NULL, reserve=0 WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare rerun");
    sqlite3_bind_double(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "rerun task");
    return sqlite3_changes(s->db);
}

int sl_store_consumers_rehost(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                              const char *host, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_REHOST,
        "UPDATE tasks SET want_host=?1 WHERE pipeline_id=?2 AND state=0 AND want_host IS NOT "
        "NULL AND want_host != ?1 AND id IN (SELECT task_id FROM task_inputs WHERE stage=?3 AND "
        "key=?4)");
    if (!st) return sl_store_fail(s, err, "prepare rehost");
    bind_text(st, 1, host);
    sqlite3_bind_int64(st, 2, pipeline_id);
    sqlite3_bind_int(st, 3, stage);
    bind_text(st, 4, key);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "rehost consumers");
    return sqlite3_changes(s->db);
}

int sl_store_replica_drop(sl_store *s, int64_t pipeline_id, int stage, const char *key,
                          const char *host, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_REPL_DROP,
                      "DELETE FROM replicas WHERE pipeline_id=? AND stage=? AND key=? AND host=?");
    if (!st) return sl_store_fail(s, err, "prepare replica drop");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, key);
    bind_text(st, 4, host);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "drop replica");
    return sqlite3_changes(s->db);
}
