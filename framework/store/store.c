/* store.c - SQLite connection, schema, migrations and transactions.
 *
 * The schema is versioned in `meta.schema_version`; sl_store_open creates a
 * new database or migrates an older one step by step inside a transaction,
 * and refuses a database written by a newer sluice. Prepared statements are
 * cached per connection (see stmt()), which is what makes batched leases and
 * completions cheap. The SQL for each area lives in the store_*.c files. */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const MIGRATIONS[] = {
    /* 0 -> 1: the initial schema */
    "CREATE TABLE pipelines("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, file TEXT NOT NULL, yaml TEXT NOT NULL,"
    " vars TEXT NOT NULL, state TEXT NOT NULL, created REAL NOT NULL, finished REAL);"
    "CREATE TABLE tasks("
    " id INTEGER PRIMARY KEY, pipeline_id INTEGER NOT NULL, stage INTEGER NOT NULL,"
    " key TEXT NOT NULL, headers TEXT, state INTEGER NOT NULL, want_host TEXT, host TEXT,"
    " attempts INTEGER NOT NULL DEFAULT 0, lease_agent TEXT, lease_deadline REAL,"
    " exit_code INTEGER, created REAL NOT NULL, ready REAL, started REAL, finished REAL,"
    " UNIQUE(pipeline_id, stage, key));"
    "CREATE INDEX tasks_queue ON tasks(pipeline_id, stage, want_host, id) WHERE state = 0;"
    "CREATE INDEX tasks_leases ON tasks(lease_deadline) WHERE state = 1;"
    "CREATE TABLE attempts("
    " id INTEGER PRIMARY KEY, task_id INTEGER NOT NULL, n INTEGER NOT NULL, host TEXT,"
    " started REAL, finished REAL, exit_code INTEGER, error TEXT, stdout_tail TEXT,"
    " stderr_tail TEXT);"
    "CREATE INDEX attempts_task ON attempts(task_id);"
    "CREATE TABLE gathers("
    " pipeline_id INTEGER NOT NULL, stage INTEGER NOT NULL, gkey TEXT NOT NULL,"
    " member TEXT NOT NULL, host TEXT, seq INTEGER NOT NULL,"
    " PRIMARY KEY(pipeline_id, stage, gkey, member)) WITHOUT ROWID;"
    "CREATE TABLE hosts("
    " name TEXT PRIMARY KEY, agent_id TEXT, groups TEXT, mem_root TEXT, ssd_root TEXT,"
    " addr TEXT, state TEXT NOT NULL, last_seen REAL);"
    "CREATE TABLE events("
    " id INTEGER PRIMARY KEY, t REAL NOT NULL, pipeline_id INTEGER, task_id INTEGER,"
    " kind TEXT NOT NULL, msg TEXT);",
    /* 1 -> 2: the cache catalog. An object is the output directory of one
     * task; replicas say which hosts hold it in which tier; task_inputs
     * which objects a task reads (its reference counts); deletions are
     * waiting for their host's next heartbeat. */
    "ALTER TABLE tasks ADD COLUMN tier TEXT;"
    "ALTER TABLE tasks ADD COLUMN reserve INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN mem_budget INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE hosts ADD COLUMN ssd_budget INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE gathers ADD COLUMN src_stage INTEGER;"
    "ALTER TABLE gathers ADD COLUMN src_key TEXT;"
    "CREATE TABLE objects("
    " pipeline_id INTEGER NOT NULL, stage INTEGER NOT NULL, key TEXT NOT NULL,"
    " task_id INTEGER NOT NULL, size INTEGER NOT NULL, files TEXT NOT NULL,"
    " refs INTEGER NOT NULL DEFAULT 0, keep INTEGER NOT NULL, state TEXT NOT NULL,"
    " created REAL NOT NULL, PRIMARY KEY(pipeline_id, stage, key)) WITHOUT ROWID;"
    "CREATE TABLE replicas("
    " pipeline_id INTEGER NOT NULL, stage INTEGER NOT NULL, key TEXT NOT NULL,"
    " host TEXT NOT NULL, tier TEXT NOT NULL, size INTEGER NOT NULL, created REAL NOT NULL,"
    " PRIMARY KEY(pipeline_id, stage, key, host)) WITHOUT ROWID;"
    "CREATE INDEX replicas_host ON replicas(host, tier, created);"
    "CREATE TABLE task_inputs("
    " task_id INTEGER NOT NULL, stage INTEGER NOT NULL, key TEXT NOT NULL,"
    " PRIMARY KEY(task_id, stage, key)) WITHOUT ROWID;"
    "CREATE INDEX task_inputs_obj ON task_inputs(stage, key);"
    "CREATE TABLE deletions(host TEXT NOT NULL, path TEXT NOT NULL,"
    " PRIMARY KEY(host, path)) WITHOUT ROWID;",
    /* 2 -> 3: lazy expansion of large messages (store_expand.c). A row is
     * one message whose key template is expanded a chunk at a time; `next`
     * is the ordinal of the first key not yet made into a task, advanced in
     * the same transaction as the tasks it makes, so a restarted controller
     * resumes exactly there. `batch` > 0: keys per batch (0 = none). */
    "CREATE TABLE expansions("
    " id INTEGER PRIMARY KEY, pipeline_id INTEGER NOT NULL, stage INTEGER NOT NULL,"
    " tmpl TEXT NOT NULL, headers TEXT, total INTEGER NOT NULL, next INTEGER NOT NULL,"
    " batch INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);"
    "CREATE INDEX expansions_pipeline ON expansions(pipeline_id);",
    /* 3 -> 4: each host's agent credential, as its SHA-256 (hex): the
     * credential itself is only ever held by the agent. */
    "ALTER TABLE hosts ADD COLUMN cred TEXT;",
    /* 4 -> 5: the metrics history (store_history.c): a sample of a few key
     * series every 10 s (step 10), rolled up into 5-minute averages (step
     * 300) after a day, deleted after a few days. */
    "CREATE TABLE metrics_history("
    " series TEXT NOT NULL, t REAL NOT NULL, value REAL NOT NULL, step INTEGER NOT NULL,"
    " PRIMARY KEY(series, t)) WITHOUT ROWID;"
    "CREATE INDEX metrics_history_t ON metrics_history(step, t);",
};
#define NMIGRATIONS ((int)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

const char *sl_task_state_name(int state)
{
    static const char *const names[] = {"queued", "running", "done", "failed", "cancelled"};
    return state >= 0 && state < SL_TASK_NSTATES ? names[state] : "?";
}

int sl_task_state_parse(const char *name)
{
    for (int i = 0; i < SL_TASK_NSTATES; i++)
        if (strcmp(name, sl_task_state_name(i)) == 0) return i;
    return -1;
}

int sl_store_fail(sl_store *s, sl_err *err, const char *what)
{
    return sl_errf(err, SL_ESTORE, "state database %s: %s: %s", s->path, what,
                   sqlite3_errmsg(s->db));
}

sqlite3_stmt *sl_store_stmt(sl_store *s, int id, const char *sql)
{
    assert(id >= 0 && id < SL_STMT_MAX);
    sqlite3_stmt *st = s->stmts[id];
    if (!st) {
        if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
            return NULL;
        s->stmts[id] = st;
    } else {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    return st;
}

static int exec(sl_store *s, const char *sql, sl_err *err)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sl_errf(err, SL_ESTORE, "state database %s: %s", s->path, msg ? msg : "error");
        sqlite3_free(msg);
        return SL_ESTORE;
    }
    return 0;
}

static int read_version(sl_store *s)
{
    sqlite3_stmt *st;
    int v = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='schema_version'", -1, &st,
                           NULL) != SQLITE_OK)
        return 0;
    if (sqlite3_step(st) == SQLITE_ROW) v = atoi((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int migrate(sl_store *s, sl_err *err)
{
    if (exec(s, "BEGIN IMMEDIATE", err) < 0) return SL_ESTORE;
    if (exec(s, "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)", err) < 0)
        goto fail;
    int v = read_version(s);
    if (v > NMIGRATIONS) {
        sl_errf(err, SL_ESTORE,
                "state database %s has schema version %d but this sluice knows only up to %d; "
                "use a newer sluice or another --state directory",
                s->path, v, NMIGRATIONS);
        goto fail;
    }
    for (; v < NMIGRATIONS; v++) {
        if (exec(s, MIGRATIONS[v], err) < 0) {
            sl_err_prefix(err, "migration to schema version %d", v + 1);
            goto fail;
        }
    }
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta VALUES('schema_version','%d')", v);
    if (exec(s, sql, err) < 0 || exec(s, "COMMIT", err) < 0) goto fail;
    s->version = v;
    return 0;
fail:
    exec(s, "ROLLBACK", NULL);
    return SL_ESTORE;
}

int sl_store_open(const char *path, int durable_fsync, sl_store **out, sl_err *err)
{
    sl_store *s = sl_xcalloc(1, sizeof *s);
    s->path = sl_xstrdup(path);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        sl_errf(err, SL_ESTORE, "cannot open state database %s: %s", path,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sl_store_close(s);
        return SL_ESTORE;
    }
    sqlite3_busy_timeout(s->db, 5000);
    if (exec(s, "PRAGMA journal_mode=WAL", err) < 0 ||
        exec(s, durable_fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", err) < 0 ||
        exec(s, "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY",
             err) < 0 ||
        migrate(s, err) < 0) {
        sl_store_close(s);
        return SL_ESTORE;
    }
    *out = s;
    return 0;
}

void sl_store_close(sl_store *s)
{
    if (!s) return;
    for (int i = 0; i < SL_STMT_MAX; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

int sl_store_schema_version(sl_store *s)
{
    return s->version;
}

int sl_store_begin(sl_store *s, sl_err *err)
{
    sqlite3_stmt *st = sl_store_stmt(s, ST_BEGIN, "BEGIN IMMEDIATE");
    if (!st || sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "begin");
    return 0;
}

int sl_store_commit(sl_store *s, sl_err *err)
{
    /* A statement left on a row (sl_store_object_get) keeps a read snapshot
     * open, and then no checkpoint can reset the WAL, which grows without
     * bound under load (1 GiB in bench/campaign.sh). Nothing read may be
     * used after a commit, so end them all here. */
    for (int i = 0; i < SL_STMT_MAX; i++)
        if (s->stmts[i] && i != ST_COMMIT) sqlite3_reset(s->stmts[i]);
    sqlite3_stmt *st = sl_store_stmt(s, ST_COMMIT, "COMMIT");
    if (!st || sqlite3_step(st) != SQLITE_DONE) return sl_store_fail(s, err, "commit");
    return 0;
}

void sl_store_rollback(sl_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) exec(s, "ROLLBACK", NULL);
}
