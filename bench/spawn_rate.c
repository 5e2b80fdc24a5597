/* spawn_rate.c - the machine's bare fork+exec rate, the limit that
 * bench/dispatch.sh compares sluice's /bin/true throughput against.
 * Runs P processes in parallel, each posix_spawn()ing PROG and waiting
 * for it in a loop for S seconds; prints the total spawns per second.
 * usage: spawn_rate [SECONDS=2] [PARALLEL=2] [PROG=/bin/true] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    int par = argc > 2 ? atoi(argv[2]) : 2;
    char *prog = argc > 3 ? argv[3] : "/bin/true";
    long *counts = mmap(NULL, sizeof(long) * (size_t)par, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED) return 1;
    double t0 = now();
    for (int p = 0; p < par; p++) {
        if (fork() == 0) {
            long n = 0;
            char *av[] = {prog, NULL};
            while (now() - t0 < secs) {
                pid_t pid;
                if (posix_spawn(&pid, prog, NULL, NULL, av, environ) != 0) _exit(1);
                waitpid(pid, NULL, 0);
                n++;
            }
            counts[p] = n;
            _exit(0);
        }
    }
    for (int p = 0; p < par; p++)
        wait(NULL);
    double el = now() - t0;
    long total = 0;
    for (int p = 0; p < par; p++)
        total += counts[p];
    printf("%.0f\n", total / el);
    return 0;
}
