/* test_store.c - the SQLite store on real files: schema version and
 * migrations, key uniqueness, leases (host-bound first), expiry and
 * requeue, gather joins, the metrics history (rollup, retention), a
 * database from a newer sluice refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/sluice-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[160];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

typedef struct {
    int n;
    int64_t ids[16];
    char keys[16][32];
} rows;

static int collect(void *ctx, const sl_task_row *r)
{
    rows *c = ctx;
    c->ids[c->n] = r->id;
    snprintf(c->keys[c->n], sizeof c->keys[0], "%s", r->key);
    c->n++;
    return 0;
}

static void test_schema_and_reopen(void **state)
{
    (void)state;
    sl_store *s;
    sl_err e = {0};
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0);
    assert_int_equal(sl_store_schema_version(s), SL_STORE_SCHEMA_VERSION);
    assert_true(sl_store_pipeline_insert(s, "p", "p.yaml", "name: p", "{}", 1.0, &e) > 0);
    sl_store_close(s);
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0); /* reopen: no migration again */
    assert_int_equal(sl_store_schema_version(s), SL_STORE_SCHEMA_VERSION);
    sl_store_close(s);
    /* a database written by a newer sluice is refused with a clear message */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema_version'", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(sl_store_open(path, 0, &s, &e), SL_ESTORE);
    assert_non_null(strstr(e.msg, "schema version 99"));
}

static void test_tasks_and_leases(void **state)
{
    (void)state;
    sl_store *s;
    sl_err e = {0};
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0);
    assert_int_equal(sl_store_begin(s, &e), 0);
    int64_t pid = sl_store_pipeline_insert(s, "p", "p.yaml", "name: p", "{}", 1.0, &e);
    assert_int_equal(sl_store_task_insert(s, pid, 0, "a", NULL, NULL, 1.0, NULL, &e), 1);
    assert_int_equal(sl_store_task_insert(s, pid, 0, "a", NULL, NULL, 1.0, NULL, &e), 0); /* dup */
    assert_int_equal(sl_store_task_insert(s, pid, 0, "b", NULL, "h2", 1.0, NULL, &e), 1);
    assert_int_equal(sl_store_task_insert(s, pid, 0, "c", NULL, NULL, 1.0, NULL, &e), 1);
    assert_int_equal(sl_store_commit(s, &e), 0);

    /* h1 gets the unbound tasks only; h2 gets its bound task first */
    rows r1 = {0}, r2 = {0};
    assert_int_equal(sl_store_lease(s, pid, 0, "h1", "ag1", 5, 100.0, collect, &r1, &e), 2);
    assert_string_equal(r1.keys[0], "a");
    assert_string_equal(r1.keys[1], "c");
    assert_int_equal(sl_store_lease(s, pid, 0, "h2", "ag2", 5, 100.0, collect, &r2, &e), 1);
    assert_string_equal(r2.keys[0], "b");

    /* heartbeats extend only the holder's lease */
    assert_int_equal(sl_store_task_extend(s, r1.ids[0], "ag1", 200.0, &e), 1);
    assert_int_equal(sl_store_task_extend(s, r1.ids[0], "ag2", 200.0, &e), 0);
    /* expiry at t=150: the two leases at 100 expired, the extended one not */
    rows ex = {0};
    assert_int_equal(sl_store_tasks_expired(s, 150.0, collect, &ex, &e), 2);
    assert_int_equal(sl_store_task_requeue(s, r1.ids[1], 150.0, 0, &e), 1);
    rows r3 = {0};
    assert_int_equal(sl_store_lease(s, pid, 0, "h3", "ag3", 5, 300.0, collect, &r3, &e), 1);
    assert_string_equal(r3.keys[0], "c");
    assert_int_equal(sl_store_task_finish(s, r3.ids[0], SL_TASK_DONE, "h3", 0, 1, 2, &e), 1);
    sl_store_close(s);
}

static void test_gather(void **state)
{
    (void)state;
    sl_store *s;
    sl_err e = {0};
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0);
    assert_int_equal(sl_store_gather_add(s, 1, 2, "g", "m1", "h1", &e), 1);
    assert_int_equal(sl_store_gather_add(s, 1, 2, "g", "m1", "h1", &e), 0); /* same member */
    assert_int_equal(sl_store_gather_add(s, 1, 2, "g", "m2", "h2", &e), 2);
    assert_int_equal(sl_store_gather_add(s, 1, 2, "h", "m1", "h2", &e), 1);
    assert_int_equal(sl_store_gather_pending(s, 1, 2, 2, &e), 1); /* only "h" is short */
    sl_store_close(s);
}

/* Expansion cursors survive a reopen (what a restarted controller reads),
 * and the matrix query streams keys with their states. */
typedef struct {
    int n;
    int64_t next, total, batch;
    char tmpl[64];
} exp_seen;

static int exp_cb(void *ctx, const sl_expansion_row *r)
{
    exp_seen *x = ctx;
    x->n++;
    x->next = r->next;
    x->total = r->total;
    x->batch = r->batch;
    snprintf(x->tmpl, sizeof x->tmpl, "%s", r->tmpl);
    return 0;
}

static int keys_cb(void *ctx, const char *key, int state)
{
    (void)key;
    ((int *)ctx)[state]++;
    return 0;
}

typedef struct {
    int n, n_rolled;
    double sum;
} hist_seen;

static int hist_cb(void *ctx, const char *series, double t, double value, int step)
{
    hist_seen *h = ctx;
    (void)t;
    assert_true(strncmp(series, "rate:1:", 7) == 0); /* the prefix, nothing else */
    h->n++;
    h->n_rolled += step == 300;
    h->sum += value;
    return 0;
}

/* The metrics history: samples by prefix, 5-minute averages after the raw
 * window, nothing past the retention. */
static void test_history(void **state)
{
    (void)state;
    sl_store *s;
    sl_err e = {0};
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0);
    double now = 1000000.0 * 300; /* a bucket boundary */
    /* 30 samples 10 s apart over 300 s, two days ago: one bucket */
    for (int i = 0; i < 30; i++) {
        double t = now - 2 * 86400 + i * 10;
        assert_int_equal(sl_store_history_add(s, "rate:1:a", t, i, &e), 0);
        assert_int_equal(sl_store_history_add(s, "rate:10:a", t, 1, &e), 0);
    }
    assert_int_equal(sl_store_history_add(s, "rate:1:b", now - 5, 7, &e), 0);         /* recent */
    assert_int_equal(sl_store_history_add(s, "rate:1:c", now - 9 * 86400, 1, &e), 0); /* old */
    assert_int_equal(sl_store_history_rollup(s, now, 86400, 300, 7 * 86400, &e), 0);
    hist_seen h = {0};
    assert_int_equal(sl_store_history_each(s, "rate:1:", 0, 1000, hist_cb, &h, &e), 2);
    assert_int_equal(h.n_rolled, 1);
    assert_true(h.sum > 14.5 + 7 - 1e-9 && h.sum < 14.5 + 7 + 1e-9); /* avg(0..29) + 7 */
    h = (hist_seen){0};
    assert_int_equal(sl_store_history_each(s, "rate:1:", now - 60, 1000, hist_cb, &h, &e), 1);
    sl_store_close(s);
}

static void test_expansions(void **state)
{
    (void)state;
    sl_store *s;
    sl_err e = {0};
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0);
    assert_int_equal(sl_store_begin(s, &e), 0);
    int64_t pid = sl_store_pipeline_insert(s, "p", "p.yaml", "name: p", "{}", 1.0, &e);
    int64_t id = sl_store_expansion_insert(s, pid, 1, "k{1..100000}", NULL, 100000, 40, 1.0, &e);
    assert_true(id > 0);
    assert_int_equal(sl_store_expansion_advance(s, id, 5000, &e), 0);
    assert_int_equal(sl_store_task_insert(s, pid, 1, "k1", NULL, NULL, 1.0, NULL, &e), 1);
    assert_int_equal(sl_store_task_insert(s, pid, 1, "k2", NULL, NULL, 1.0, NULL, &e), 1);
    assert_int_equal(sl_store_commit(s, &e), 0);
    /* an uncommitted advance is not kept */
    assert_int_equal(sl_store_begin(s, &e), 0);
    assert_int_equal(sl_store_expansion_advance(s, id, 9000, &e), 0);
    sl_store_rollback(s);
    sl_store_close(s);
    assert_int_equal(sl_store_open(path, 0, &s, &e), 0);
    exp_seen x = {0};
    assert_int_equal(sl_store_expansions_each(s, exp_cb, &x, &e), 0);
    assert_int_equal(x.n, 1);
    assert_int_equal(x.next, 5000);
    assert_int_equal(x.total, 100000);
    assert_int_equal(x.batch, 40);
    assert_string_equal(x.tmpl, "k{1..100000}");
    int counts[SL_TASK_NSTATES] = {0};
    assert_int_equal(sl_store_stage_keys(s, pid, 1, keys_cb, counts, &e), 0);
    assert_int_equal(counts[SL_TASK_QUEUED], 2);
    sl_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tasks_and_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gather, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expansions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
