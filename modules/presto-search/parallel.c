/* parallel.c - a tiny fork-join loop on pthreads (see parallel.h).
 *
 * Threads are created per call: the calls it serves (a pass of DM trials, a
 * set of subbands) take milliseconds, and thread start-up is ~50 us, so a
 * persistent pool would not pay for its complexity. */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct {
    parallel_fn fn;
    void *ctx;
    long n;
    atomic_long next;
} loop_state;

typedef struct {
    loop_state *st;
    int thread;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *w = p;
    for (;;) {
        long i = atomic_fetch_add(&w->st->next, 1);
        if (i >= w->st->n) break;
        w->st->fn(w->st->ctx, w->thread, i);
    }
    return NULL;
}

int parallel_for(int nthreads, long n, parallel_fn fn, void *ctx)
{
    loop_state st = {.fn = fn, .ctx = ctx, .n = n};
    atomic_init(&st.next, 0);
    if (nthreads > 64) nthreads = 64;
    if (nthreads <= 1 || n <= 1) {
        worker_arg w = {&st, 0};
        worker(&w);
        return 0;
    }
    pthread_t tid[64];
    worker_arg args[64];
    int started = 0, rc = 0;
    for (int t = 1; t < nthreads; t++) {
        args[t] = (worker_arg){&st, t};
        if (pthread_create(&tid[t], NULL, worker, &args[t]) != 0) {
            rc = -1;
            break;
        }
        started = t;
    }
    args[0] = (worker_arg){&st, 0};
    worker(&args[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    return rc;
}

int parallel_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
