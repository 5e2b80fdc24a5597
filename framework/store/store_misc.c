/* store_misc.c - the SQL of pipelines, gather joins, hosts and events. */
#include "store/store_int.h"

#include <string.h>

int64_t sl_store_pipeline_insert(sl_store *s, const char *name, const char *file, const char *yaml,
                                 const char *vars_json, double now, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_PIPE_INSERT,
                                     "INSERT INTO pipelines(name, file, yaml, vars, state, created)"
                                     " VALUES(?,?,?,?,'running',?)");
    if (!st) return sl_store_fail(s, err, "prepare pipeline insert");
    bind_text(st, 1, name);
    bind_text(st, 2, file);
    bind_text(st, 3, yaml);
    bind_text(st, 4, vars_json);
    sqlite3_bind_double(st, 5, now);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "insert pipeline");
    return sqlite3_last_insert_rowid(s->db);
}

int sl_store_pipeline_set_state(sl_store *s, int64_t id, const char *state, double finished,
                                sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_PIPE_STATE, "UPDATE pipelines SET state=?, finished=? WHERE id=?");
    if (!st) return sl_store_fail(s, err, "prepare pipeline state");
    bind_text(st, 1, state);
    if (finished > 0)
        sqlite3_bind_double(st, 2, finished);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, id);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "set pipeline state");
    return 0;
}

int sl_store_pipelines_each(sl_store *s, int only_running, sl_pipeline_row_fn fn, void *ctx,
                            sl_err *err)
{
    sqlite3_stmt *st =
        only_running ? sl_store_stmt(s, ST_PIPE_RUNNING,
                                     "SELECT id, name, file, yaml, vars, state, created, finished "
                                     "FROM pipelines WHERE state='running' ORDER BY id")
                     : sl_store_stmt(s, ST_PIPE_ALL,
                                     "SELECT id, name, file, yaml, vars, state, created, finished "
                                     "FROM pipelines ORDER BY id");
    if (!st) return sl_store_fail(s, err, "prepare pipelines");
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sl_pipeline_row r = {sqlite3_column_int64(st, 0),  (char *)col_text(st, 1),
                             (char *)col_text(st, 2),      (char *)col_text(st, 3),
                             (char *)col_text(st, 4),      (char *)col_text(st, 5),
                             sqlite3_column_double(st, 6), sqlite3_column_double(st, 7)};
        n++;
        int x = fn(ctx, &r);
        if (x) {
            sqlite3_reset(st);
            return x < 0 ? x : n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, "read pipelines");
}

int sl_store_gather_add(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                        const char *member, const char *host, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_GATHER_ADD,
        "INSERT OR IGNORE INTO gathers(pipeline_id, stage, gkey, member, host, seq) "
        "VALUES(?1,?2,?3,?4,?5,(SELECT count(*) FROM gathers WHERE pipeline_id=?1 AND "
        "stage=?2 AND gkey=?3))");
    if (!st) return sl_store_fail(s, err, "prepare gather add");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, gkey);
    bind_text(st, 4, member);
    bind_text(st, 5, host);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "add gather member");
    if (sqlite3_changes(s->db) == 0) return 0;
    st = sl_store_stmt(s, ST_GATHER_COUNT,
                       "SELECT count(*) FROM gathers WHERE pipeline_id=? AND stage=? AND gkey=?");
    if (!st) return sl_store_fail(s, err, "prepare gather count");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, gkey);
    if (sqlite3_step(st) != SQLITE_ROW) return sl_store_fail(s, err, "count gather members");
    int n = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return n;
}

int sl_store_gather_members(sl_store *s, int64_t pipeline_id, int stage, const char *gkey,
                            sl_member_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_GATHER_MEMBERS,
                                     "SELECT member, host FROM gathers WHERE pipeline_id=? AND "
                                     "stage=? AND gkey=? ORDER BY seq");
    if (!st) return sl_store_fail(s, err, "prepare gather members");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    bind_text(st, 3, gkey);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        if (fn(ctx, col_text(st, 0), col_text(st, 1))) {
            sqlite3_reset(st);
            return n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, "read gather members");
}

int64_t sl_store_gather_pending(sl_store *s, int64_t pipeline_id, int stage, int need, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_GATHER_PENDING,
        "SELECT count(*) FROM (SELECT gkey FROM gathers WHERE pipeline_id=? AND stage=? "
        "GROUP BY gkey HAVING count(*) < ?)");
    if (!st) return sl_store_fail(s, err, "prepare gather pending");
    sqlite3_bind_int64(st, 1, pipeline_id);
    sqlite3_bind_int(st, 2, stage);
    sqlite3_bind_int(st, 3, need);
    if (sqlite3_step(st) != SQLITE_ROW) return sl_store_fail(s, err, "count pending groups");
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

int sl_store_host_upsert(sl_store *s, const sl_host_row *h, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_HOST_UPSERT,
        "INSERT INTO hosts(name, agent_id, groups, mem_root, ssd_root, addr, state, last_seen) "
        "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET agent_id=excluded.agent_id, "
        "groups=excluded.groups, mem_root=excluded.mem_root, ssd_root=excluded.ssd_root, "
        "addr=excluded.addr, state=excluded.state, last_seen=excluded.last_seen");
    if (!st) return sl_store_fail(s, err, "prepare host upsert");
    bind_text(st, 1, h->name);
    bind_text(st, 2, h->agent_id);
    bind_text(st, 3, h->groups);
    bind_text(st, 4, h->mem_root);
    bind_text(st, 5, h->ssd_root);
    bind_text(st, 6, h->addr);
    bind_text(st, 7, h->state ? h->state : "up");
    sqlite3_bind_double(st, 8, h->last_seen);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "upsert host");
    return 0;
}

int sl_store_host_seen(sl_store *s, const char *name, double now, sl_err *err)
{
    sqlite3_stmt *st =
        sl_store_stmt(s, ST_HOST_SEEN, "UPDATE hosts SET last_seen=?, state='up' WHERE name=?");
    if (!st) return sl_store_fail(s, err, "prepare host seen");
    sqlite3_bind_double(st, 1, now);
    bind_text(st, 2, name);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "update host");
    return sqlite3_changes(s->db);
}

int64_t sl_store_host_replica_count(sl_store *s, const char *host, sl_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM replicas WHERE host=?", -1, &st, NULL) !=
        SQLITE_OK)
        return sl_store_fail(s, err, "prepare replica count");
    bind_text(st, 1, host);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return n < 0 ? sl_store_fail(s, err, "count replicas") : n;
}

int sl_store_host_get_state(sl_store *s, const char *name, char *out, size_t n, sl_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT state FROM hosts WHERE name=?", -1, &st, NULL) !=
        SQLITE_OK)
        return sl_store_fail(s, err, "prepare host state");
    bind_text(st, 1, name);
    int rc = sqlite3_step(st), found = 0;
    if (rc == SQLITE_ROW) {
        snprintf(out, n, "%s", col_text(st, 0) ? col_text(st, 0) : "");
        found = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : sl_store_fail(s, err, "host state");
}

int sl_store_host_cred(sl_store *s, const char *name, char cred[65], double *last_seen, sl_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT coalesce(cred,''), last_seen, state FROM hosts WHERE name=?", -1,
                           &st, NULL) != SQLITE_OK)
        return sl_store_fail(s, err, "prepare host credential");
    bind_text(st, 1, name);
    int rc = sqlite3_step(st), found = 0;
    cred[0] = 0;
    if (rc == SQLITE_ROW) {
        snprintf(cred, 65, "%s", col_text(st, 0) ? col_text(st, 0) : "");
        /* a lost host's name is free whenever it was last seen */
        const char *state = col_text(st, 2);
        *last_seen = state && strcmp(state, "up") == 0 ? sqlite3_column_double(st, 1) : 0;
        found = 1;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : sl_store_fail(s, err, "host credential");
}

int sl_store_host_set_cred(sl_store *s, const char *name, const char *cred, sl_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "UPDATE hosts SET cred=? WHERE name=?", -1, &st, NULL) !=
        SQLITE_OK)
        return sl_store_fail(s, err, "prepare host credential update");
    bind_text(st, 1, cred);
    bind_text(st, 2, name);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "host credential update");
}

int sl_store_hosts_seen_all(sl_store *s, double now, sl_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "UPDATE hosts SET last_seen=? WHERE state='up'", -1, &st, NULL) !=
        SQLITE_OK)
        return sl_store_fail(s, err, "prepare hosts grace");
    sqlite3_bind_double(st, 1, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sl_store_fail(s, err, "hosts grace");
}

int sl_store_host_set_state(sl_store *s, const char *name, const char *state, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_HOST_STATE, "UPDATE hosts SET state=? WHERE name=?");
    if (!st) return sl_store_fail(s, err, "prepare host state");
    bind_text(st, 1, state);
    bind_text(st, 2, name);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "set host state");
    return 0;
}

int sl_store_hosts_each(sl_store *s, sl_host_row_fn fn, void *ctx, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_HOSTS,
        "SELECT name, agent_id, groups, mem_root, ssd_root, addr, state, last_seen, mem_budget, "
        "ssd_budget, (SELECT coalesce(sum(size),0) FROM replicas r WHERE r.host=h.name AND "
        "r.tier='mem'), (SELECT coalesce(sum(size),0) FROM replicas r WHERE r.host=h.name AND "
        "r.tier='ssd') FROM hosts h ORDER BY name");
    if (!st) return sl_store_fail(s, err, "prepare hosts");
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sl_host_row h = {col_text(st, 0),
                         col_text(st, 1),
                         col_text(st, 2),
                         col_text(st, 3),
                         col_text(st, 4),
                         col_text(st, 5),
                         col_text(st, 6),
                         sqlite3_column_double(st, 7),
                         sqlite3_column_int64(st, 8),
                         sqlite3_column_int64(st, 9),
                         sqlite3_column_int64(st, 10),
                         sqlite3_column_int64(st, 11)};
        n++;
        if (fn(ctx, &h)) {
            sqlite3_reset(st);
            return n;
        }
    }
    return rc == SQLITE_DONE ? n : sl_store_fail(s, err, "read hosts");
}

int sl_store_event(sl_store *s, double t, int64_t pipeline_id, int64_t task_id, const char *kind,
                   const char *msg, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(
        s, ST_EVENT, "INSERT INTO events(t, pipeline_id, task_id, kind, msg) VALUES(?,?,?,?,?)");
    if (!st) return sl_store_fail(s, err, "prepare event");
    sqlite3_bind_double(st, 1, t);
    if (pipeline_id > 0)
        sqlite3_bind_int64(st, 2, pipeline_id);
    else
        sqlite3_bind_null(st, 2);
    if (task_id > 0)
        sqlite3_bind_int64(st, 3, task_id);
    else
        sqlite3_bind_null(st, 3);
    bind_text(st, 4, kind);
    bind_text(st, 5, msg);
    if (sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "insert event");
    return 0;
}

int64_t sl_store_event_count(sl_store *s, int64_t pipeline_id, const char *kind, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_EVENT_COUNT,
                                     "SELECT count(*) FROM events WHERE pipeline_id=? AND kind=?");
    if (!st) return sl_store_fail(s, err, "prepare event count");
    sqlite3_bind_int64(st, 1, pipeline_id);
    bind_text(st, 2, kind);
    if (sqlite3_step(st) != SQLITE_ROW) return sl_store_fail(s, err, "count events");
    return sqlite3_column_int64(st, 0);
}
