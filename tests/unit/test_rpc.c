/* test_rpc.c - unit tests of framework/rpc over real sockets on 127.0.0.1.
 *
 * Every test starts a real gRPC server on port 0 and talks to it with our
 * client: echo, error codes crossing the wire, unknown methods, many threads
 * at once, a long-poll handler that must not stall other calls, deadlines,
 * a dead port, stopping a server with a call in flight, reconnecting after
 * an outage, and one protobuf-c message of sluice.proto to prove the
 * generated code links and parses. */
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpc/rpc.h"
#include "sluice.pb-c.h"
#include "util/clock.h"

/* No LeakSanitizer suppression for gRPC: with every server stopped and
 * every client freed, the last grpc_shutdown() runs gRPC's shutdown
 * synchronously and the run is leak-free (checked with
 * LSAN_OPTIONS=print_suppressions=1). A blanket "leak:libgrpc" would also
 * hide our own leaks of gRPC objects (a byte buffer we forget to destroy
 * has libgrpc frames in its stack), so add one only for a proven gRPC-side
 * leak, and name its function. */

#define ECHO "/sluice.test.T/Echo"
#define FAIL "/sluice.test.T/Fail"
#define BLOCK "/sluice.test.T/Block"
#define LEASE "/sluice.v1.Sluice/Lease"

typedef struct tctx {
    pthread_mutex_t mu; /* guards entered and release */
    pthread_cond_t cv;
    int entered;
    int release;
    sl_rpc_server *srv; /* set after start, for sl_rpc_server_stopping */
    atomic_int echo_calls;
} tctx;

static int h_echo(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                  size_t len, sl_buf *resp, sl_err *err)
{
    (void)err;
    atomic_fetch_add(&((tctx *)ctx)->echo_calls, 1);
    sl_buf_append(resp, req, len);
    return 0;
}

/* Request text "CODE message": fails with that sluice code. */
static int h_fail(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                  size_t len, sl_buf *resp, sl_err *err)
{
    (void)ctx;
    (void)resp;
    char s[256];
    snprintf(s, sizeof s, "%.*s", (int)len, (const char *)req);
    int code = atoi(s);
    const char *msg = strchr(s, ' ');
    return sl_errf(err, code, "%s", msg ? msg + 1 : "");
}

/* Long-poll: blocks until released, the server stops, or the number of
 * milliseconds in the request has passed; then replies "woke". */
static int h_block(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                   size_t len, sl_buf *resp, sl_err *err)
{
    (void)err;
    tctx *t = ctx;
    char s[32];
    snprintf(s, sizeof s, "%.*s", (int)len, (const char *)req);
    int64_t end = sl_mono_ms() + atoi(s);
    pthread_mutex_lock(&t->mu);
    t->entered++;
    pthread_cond_broadcast(&t->cv);
    while (!t->release && !sl_rpc_server_stopping(t->srv) && sl_mono_ms() < end) {
        pthread_mutex_unlock(&t->mu);
        sl_sleep_ms(5);
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    sl_buf_puts(resp, "woke");
    return 0;
}

static int h_lease(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                   size_t len, sl_buf *resp, sl_err *err)
{
    (void)ctx;
    Sluice__V1__LeaseRequest *lr = sluice__v1__lease_request__unpack(NULL, len, req);
    if (!lr) return sl_errf(err, SL_EINVAL, "bad LeaseRequest");
    Sluice__V1__LeaseReply rep = SLUICE__V1__LEASE_REPLY__INIT;
    size_t n = lr->max_tasks > 0 ? (size_t)lr->max_tasks : 0;
    Sluice__V1__LeasedTask *tasks = calloc(n ? n : 1, sizeof *tasks);
    Sluice__V1__LeasedTask **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    char(*keys)[64] = calloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        sluice__v1__leased_task__init(&tasks[i]);
        tasks[i].id = (int64_t)i + 100;
        tasks[i].pipeline_id = lr->n_load ? lr->load[0]->pipeline_id : 0;
        tasks[i].attempt = 1;
        snprintf(keys[i], sizeof keys[i], "%s/ch%zu", lr->host, 109 + i);
        tasks[i].key = keys[i];
        tasks[i].headers = "{}";
        ptrs[i] = &tasks[i];
    }
    rep.n_tasks = n;
    rep.tasks = ptrs;
    rep.lease_ttl_ms = lr->wait_ms * 10;
    size_t sz = sluice__v1__lease_reply__get_packed_size(&rep);
    sl_buf_reserve(resp, sz);
    sluice__v1__lease_reply__pack(&rep, (uint8_t *)resp->data);
    resp->len = sz;
    free(keys);
    free(ptrs);
    free(tasks);
    sluice__v1__lease_request__free_unpacked(lr, NULL);
    return 0;
}

#define ANY (SL_ROLE_USER | SL_ROLE_AGENT)
static const sl_rpc_method methods[] = {{ECHO, h_echo, ANY},
                                        {FAIL, h_fail, ANY},
                                        {BLOCK, h_block, ANY},
                                        {LEASE, h_lease, SL_ROLE_AGENT}};

/* "user-cred" is a user, "agent-cred" the agent of host h1, anything else
 * nobody. */
static int t_auth(void *ctx, const char *cred, size_t len, sl_rpc_caller *who)
{
    (void)ctx;
    (void)len;
    if (!strcmp(cred, "user-cred")) {
        who->role = SL_ROLE_USER;
        return 0;
    }
    if (!strcmp(cred, "agent-cred")) {
        who->role = SL_ROLE_AGENT;
        snprintf(who->host, sizeof who->host, "h1");
        return 0;
    }
    return SL_EAUTH;
}

static sl_rpc_server *t_start(const char *addr, void *ctx, int nthreads, int *port, sl_err *err)
{
    sl_rpc_server_config c = {.addr = addr, .nthreads = nthreads, .auth = t_auth};
    return sl_rpc_server_start(&c, methods, 4, ctx, port, err);
}

typedef struct fixture {
    tctx t;
    sl_rpc_server *srv;
    sl_rpc_client *cli;
    int port;
    char target[64];
} fixture;

static int setup_n(void **state, int nthreads)
{
    fixture *f = calloc(1, sizeof *f);
    pthread_mutex_init(&f->t.mu, NULL);
    pthread_cond_init(&f->t.cv, NULL);
    sl_err err;
    f->srv = t_start("127.0.0.1:0", &f->t, nthreads, &f->port, &err);
    if (!f->srv) fail_msg("server start: %s", err.msg);
    f->t.srv = f->srv;
    snprintf(f->target, sizeof f->target, "127.0.0.1:%d", f->port);
    f->cli = sl_rpc_client_new(f->target, NULL, "agent-cred", &err);
    assert_non_null(f->cli);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_n(state, 4);
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_rpc_client_free(f->cli);
    sl_rpc_server_stop(f->srv);
    pthread_mutex_destroy(&f->t.mu);
    pthread_cond_destroy(&f->t.cv);
    free(f);
    return 0;
}

static int call_str(fixture *f, const char *method, const char *req, sl_buf *resp, int tmo,
                    sl_err *err)
{
    return sl_rpc_call(f->cli, method, (const uint8_t *)req, strlen(req), resp, tmo, err);
}

static void wait_entered(tctx *t, int n)
{
    pthread_mutex_lock(&t->mu);
    while (t->entered < n)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void test_echo(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    assert_int_equal(call_str(f, ECHO, "hello sluice", &r, 5000, &err), 0);
    assert_string_equal(r.data, "hello sluice");
    /* empty message both ways */
    assert_int_equal(sl_rpc_call(f->cli, ECHO, NULL, 0, &r, 5000, &err), 0);
    assert_int_equal(r.len, 0);
    assert_non_null(r.data);
    /* 20 MiB: beyond gRPC's 4 MiB default, within our 64 MiB limit */
    size_t big = 20u << 20;
    uint8_t *p = malloc(big);
    for (size_t i = 0; i < big; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 12));
    assert_int_equal(sl_rpc_call(f->cli, ECHO, p, big, &r, 20000, &err), 0);
    assert_int_equal(r.len, big);
    assert_memory_equal(r.data, p, big);
    free(p);
    sl_buf_free(&r);
}

static void test_error_codes(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    assert_int_equal(call_str(f, FAIL, "-6 no task 42", &r, 5000, &err), SL_ENOTFOUND);
    assert_string_equal(err.msg, "no task 42");
    assert_int_equal(call_str(f, FAIL, "-1 pipeline.yaml:3: bad stage", &r, 5000, &err), SL_EINVAL);
    assert_string_equal(err.msg, "pipeline.yaml:3: bad stage");
    /* INTERNAL on the wire; the exact code rides in the trailer */
    assert_int_equal(call_str(f, FAIL, "-4 database is locked", &r, 5000, &err), SL_ESTORE);
    assert_string_equal(err.msg, "database is locked");
    assert_int_equal(err.code, SL_ESTORE);
    sl_buf_free(&r);
}

static void test_unknown_method(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    assert_int_equal(call_str(f, "/sluice.test.T/Nope", "x", &r, 5000, &err), SL_ERPC);
    assert_non_null(strstr(err.msg, "does not implement /sluice.test.T/Nope"));
    assert_non_null(strstr(err.msg, f->target));
    /* the server is still fine afterwards */
    assert_int_equal(call_str(f, ECHO, "still here", &r, 5000, &err), 0);
    sl_buf_free(&r);
}

typedef struct worker_arg {
    fixture *f;
    int id;
    int ncalls;
    int failures;
} worker_arg;

static void *concurrent_worker(void *p)
{
    worker_arg *a = p;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    char msg[64];
    for (int i = 0; i < a->ncalls; i++) {
        snprintf(msg, sizeof msg, "thread %d call %d", a->id, i);
        if (call_str(a->f, ECHO, msg, &r, 10000, &err) != 0 || strcmp(r.data, msg) != 0)
            a->failures++;
    }
    sl_buf_free(&r);
    return NULL;
}

static void test_concurrent(void **state)
{
    fixture *f = *state;
    enum { NT = 6, NC = 300 };
    pthread_t th[NT];
    worker_arg a[NT];
    for (int i = 0; i < NT; i++) {
        a[i] = (worker_arg){f, i, NC, 0};
        pthread_create(&th[i], NULL, concurrent_worker, &a[i]);
    }
    int failures = 0;
    for (int i = 0; i < NT; i++) { /* join all before asserting: a failed
                                    * assert would tear down under them */
        pthread_join(th[i], NULL);
        failures += a[i].failures;
    }
    assert_int_equal(failures, 0);
    assert_int_equal(atomic_load(&f->t.echo_calls), NT * NC);
}

typedef struct block_arg {
    fixture *f;
    const char *req;
    int timeout_ms;
    int rc;
    int64_t elapsed_ms;
    sl_err err;
    sl_buf resp;
} block_arg;

static void *block_caller(void *p)
{
    block_arg *a = p;
    int64_t t0 = sl_mono_ms();
    a->rc = call_str(a->f, BLOCK, a->req, &a->resp, a->timeout_ms, &a->err);
    a->elapsed_ms = sl_mono_ms() - t0;
    return NULL;
}

static void test_long_poll(void **state)
{
    fixture *f = *state; /* 4 workers */
    block_arg b[2] = {{.f = f, .req = "20000", .timeout_ms = 30000},
                      {.f = f, .req = "20000", .timeout_ms = 30000}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, block_caller, &b[i]);
    wait_entered(&f->t, 2);
    /* two workers are held by long-polls; the other two keep serving */
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    int64_t t0 = sl_mono_ms();
    for (int i = 0; i < 200; i++)
        assert_int_equal(call_str(f, ECHO, "meanwhile", &r, 5000, &err), 0);
    assert_true(sl_mono_ms() - t0 < 5000);
    pthread_mutex_lock(&f->t.mu);
    f->t.release = 1;
    pthread_mutex_unlock(&f->t.mu);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(b[i].rc, 0);
        assert_string_equal(b[i].resp.data, "woke");
        sl_buf_free(&b[i].resp);
    }
    sl_buf_free(&r);
}

static void test_deadline(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    int64_t t0 = sl_mono_ms();
    assert_int_equal(call_str(f, BLOCK, "400", &r, 100, &err), SL_ETIMEOUT);
    int64_t dt = sl_mono_ms() - t0;
    assert_true(dt >= 90 && dt < 390);
    assert_non_null(strstr(err.msg, "timed out after 100 ms"));
    sl_buf_free(&r);
}

static void test_dead_port(void **state)
{
    (void)state;
    /* a port that was free a moment ago and has no listener now */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", ntohs(sa.sin_port));
    sl_err err;
    sl_rpc_client *c = sl_rpc_client_new(target, NULL, "agent-cred", &err);
    assert_non_null(c);
    sl_rpc_client_set_peer(c, "controller");
    sl_buf r = SL_BUF_INIT;
    int64_t t0 = sl_mono_ms();
    assert_int_equal(sl_rpc_call(c, ECHO, (const uint8_t *)"x", 1, &r, 10000, &err), SL_ERPC);
    assert_true(sl_mono_ms() - t0 < 2000);
    char want[96];
    snprintf(want, sizeof want, "controller at %s unreachable: ", target);
    assert_non_null(strstr(err.msg, want));
    print_message("# %s\n", err.msg);
    sl_buf_free(&r);
    sl_rpc_client_free(c);
}

/* Shutdown cancels the call at once even though its handler still runs;
 * stop then returns as soon as the handler sees sl_rpc_server_stopping. */
static void test_stop_with_call_in_flight(void **state)
{
    fixture *f = *state;
    block_arg b = {.f = f, .req = "20000", .timeout_ms = 30000};
    pthread_t th;
    pthread_create(&th, NULL, block_caller, &b);
    wait_entered(&f->t, 1);
    int64_t t0 = sl_mono_ms();
    sl_rpc_server_stop(f->srv);
    f->srv = NULL;
    assert_true(sl_mono_ms() - t0 < 1000);
    pthread_join(th, NULL);
    /* The call is cancelled (SL_ERPC), or, when the handler saw the stop and
     * answered first, it completes: either way the client is released. */
    assert_true(b.rc == SL_ERPC || b.rc == 0);
    assert_true(b.elapsed_ms < 2000);
    print_message("# blocked client got: %s\n", b.rc ? b.err.msg : "an answer before the stop");
    sl_buf_free(&b.resp);
}

/* A handler that ignores stopping: its client is still released at once. */
static void test_shutdown_releases_client(void **state)
{
    fixture *f = *state;
    f->t.srv = NULL; /* handler no longer sees stopping */
    block_arg b = {.f = f, .req = "1500", .timeout_ms = 30000};
    pthread_t th;
    pthread_create(&th, NULL, block_caller, &b);
    wait_entered(&f->t, 1);
    sl_rpc_server_shutdown(f->srv);
    pthread_join(th, NULL);
    assert_int_equal(b.rc, SL_ERPC);
    assert_true(b.elapsed_ms < 1000);
    sl_rpc_server_stop(f->srv);
    f->srv = NULL;
    sl_buf_free(&b.resp);
}

static void test_lease_protobuf(void **state)
{
    fixture *f = *state;
    Sluice__V1__LeaseRequest lr = SLUICE__V1__LEASE_REQUEST__INIT;
    Sluice__V1__StageLoad l0 = SLUICE__V1__STAGE_LOAD__INIT, *loads[1] = {&l0};
    l0.pipeline_id = 7;
    l0.stage = 2;
    l0.running = 1;
    lr.agent_id = "agent-1";
    lr.host = "node3";
    lr.max_tasks = 3;
    lr.wait_ms = 250;
    lr.n_load = 1;
    lr.load = loads;
    uint8_t buf[256];
    size_t n = sluice__v1__lease_request__pack(&lr, buf);
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    assert_int_equal(sl_rpc_call(f->cli, LEASE, buf, n, &r, 5000, &err), 0);
    Sluice__V1__LeaseReply *rep =
        sluice__v1__lease_reply__unpack(NULL, r.len, (const uint8_t *)r.data);
    assert_non_null(rep);
    assert_int_equal(rep->n_tasks, 3);
    assert_int_equal(rep->lease_ttl_ms, 2500);
    assert_string_equal(rep->tasks[2]->key, "node3/ch111");
    assert_int_equal(rep->tasks[0]->pipeline_id, 7);
    assert_int_equal(rep->tasks[1]->id, 101);
    sluice__v1__lease_reply__free_unpacked(rep, NULL);
    /* garbage is INVALID_ARGUMENT from the handler */
    assert_int_equal(sl_rpc_call(f->cli, LEASE, (const uint8_t *)"\xff\xff\xff", 3, &r, 5000, &err),
                     SL_EINVAL);
    sl_buf_free(&r);
}

/* No credential, a wrong one, or one of the wrong role: refused before the
 * handler runs, and the caller can tell which. */
static void test_credentials(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    int before = atomic_load(&f->t.echo_calls);
    sl_rpc_client_set_credential(f->cli, NULL);
    assert_int_equal(call_str(f, ECHO, "x", &r, 5000, &err), SL_EAUTH);
    assert_non_null(strstr(err.msg, "needs a credential"));
    sl_rpc_client_set_credential(f->cli, "guess");
    assert_int_equal(call_str(f, ECHO, "x", &r, 5000, &err), SL_EAUTH);
    assert_int_equal(atomic_load(&f->t.echo_calls), before);
    sl_rpc_client_set_credential(f->cli, "user-cred");
    assert_int_equal(call_str(f, ECHO, "x", &r, 5000, &err), 0);
    assert_int_equal(call_str(f, LEASE, "", &r, 5000, &err), SL_EPERM);
    assert_non_null(strstr(err.msg, "a user's credential"));
    /* unknown methods are not even named to someone without a credential */
    sl_rpc_client_set_credential(f->cli, NULL);
    assert_int_equal(call_str(f, "/x.Y/Nope", "", &r, 5000, &err), SL_EAUTH);
    sl_rpc_client_set_credential(f->cli, "agent-cred");
    assert_int_equal(call_str(f, ECHO, "x", &r, 5000, &err), 0);
    sl_buf_free(&r);
}

static void test_port_in_use(void **state)
{
    fixture *f = *state;
    sl_err err;
    sl_rpc_server *s2 = t_start(f->target, &f->t, 1, NULL, &err);
    assert_null(s2);
    assert_int_equal(err.code, SL_EIO);
    assert_non_null(strstr(err.msg, f->target));
}

/* An agent's client outlives a controller restart on the same port: calls
 * fail while it is down and work again within about a second after. */
static void test_reconnect(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    assert_int_equal(call_str(f, ECHO, "before", &r, 5000, &err), 0);
    sl_rpc_server_stop(f->srv);
    f->srv = NULL;
    assert_int_equal(call_str(f, ECHO, "down", &r, 5000, &err), SL_ERPC);
    f->srv = t_start(f->target, &f->t, 2, NULL, &err);
    if (!f->srv) fail_msg("restart on %s: %s", f->target, err.msg);
    f->t.srv = f->srv;
    int64_t t0 = sl_mono_ms();
    int rc;
    while ((rc = call_str(f, ECHO, "after", &r, 5000, &err)) != 0 && sl_mono_ms() - t0 < 3000)
        sl_sleep_ms(20);
    assert_int_equal(rc, 0);
    assert_string_equal(r.data, "after");
    print_message("# reconnected %lld ms after the restart\n", (long long)(sl_mono_ms() - t0));
    sl_buf_free(&r);
}

/* The agent's case: the controller is down long enough for calls to fail
 * and the channel to back off, then comes back. The first call after that
 * connects and succeeds (it used to fail at once, the channel reconnecting
 * only when gRPC's backup poller ran, every 5 s). */
static void test_call_after_outage(void **state)
{
    fixture *f = *state;
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    assert_int_equal(call_str(f, ECHO, "before", &r, 5000, &err), 0);
    sl_rpc_server_stop(f->srv);
    f->srv = NULL;
    int64_t t0 = sl_mono_ms();
    while (sl_mono_ms() - t0 < 1500) { /* an agent retrying meanwhile */
        assert_int_not_equal(call_str(f, ECHO, "down", &r, 5000, &err), 0);
        sl_sleep_ms(100);
    }
    f->srv = t_start(f->target, &f->t, 2, NULL, &err);
    if (!f->srv) fail_msg("restart on %s: %s", f->target, err.msg);
    f->t.srv = f->srv;
    t0 = sl_mono_ms();
    int rc = call_str(f, ECHO, "after", &r, 10000, &err);
    if (rc != 0) fail_msg("first call after the restart: %s", err.msg);
    assert_string_equal(r.data, "after");
    print_message("# first call after the outage answered in %lld ms\n",
                  (long long)(sl_mono_ms() - t0));
    sl_buf_free(&r);
}

static void test_restart_cycles(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        fixture *f;
        setup_n((void **)&f, 2);
        sl_buf r = SL_BUF_INIT;
        sl_err err;
        assert_int_equal(call_str(f, ECHO, "cycle", &r, 5000, &err), 0);
        sl_buf_free(&r);
        teardown((void **)&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
        cmocka_unit_test(test_dead_port),
        cmocka_unit_test_setup_teardown(test_stop_with_call_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_releases_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_after_outage, setup, teardown),
        cmocka_unit_test(test_restart_cycles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
