/* parallel.h - the only threading the search uses: run fn(ctx, thread, i) for
 * i in [0, n) on nthreads POSIX threads that take indices from a shared
 * counter. Each thread index owns its own scratch in ctx, so callers need no
 * locks; the counter is the only shared state (an atomic). */
#ifndef PARALLEL_H
#define PARALLEL_H

typedef void (*parallel_fn)(void *ctx, int thread, long i);

/* Returns 0, or -1 if threads could not be created (then runs serially). */
int parallel_for(int nthreads, long n, parallel_fn fn, void *ctx);
/* Threads to use by default: online CPUs (at least 1). */
int parallel_default_threads(void);

#endif
