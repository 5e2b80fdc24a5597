/* dataplane_handoff.c - bench/dataplane part (c): same-host hand-off is O(1).
 *
 * Two stages on one host pass an object by sl_dp_handoff (a hard link into
 * the consumer's place), never by copying. This times the hand-off of a 1 MiB
 * and a 1 GiB object in /dev/shm (median of many runs) and, for scale, one
 * copy of each; the figure to read is the 1 GiB / 1 MiB hand-off ratio,
 * which is about 1 when the cost does not depend on size.
 * Usage: dataplane_handoff [DIR]   (default /dev/shm) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/dataplane.h"
#include "util/clock.h"

#define RUNS 31

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int make_file(const char *path, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    size_t chunk = 1u << 20;
    char *buf = malloc(chunk);
    memset(buf, 0xA5, chunk);
    for (size_t done = 0; done < size; done += chunk)
        if (write(fd, buf, chunk) != (ssize_t)chunk) {
            free(buf);
            close(fd);
            return -1;
        }
    free(buf);
    return close(fd);
}

/* One copy with read/write through a 1 MiB buffer: what a hand-off avoids. */
static int64_t copy_us(const char *src, const char *dst)
{
    int64_t t0 = sl_mono_us();
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char *buf = malloc(1u << 20);
    ssize_t n;
    while ((n = read(in, buf, 1u << 20)) > 0)
        if (write(out, buf, (size_t)n) != n) break;
    free(buf);
    close(in);
    close(out);
    int64_t t = sl_mono_us() - t0;
    unlink(dst);
    return t;
}

static int64_t handoff_median_ns(const char *src, const char *dst)
{
    int64_t t[RUNS];
    for (int i = 0; i < RUNS; i++) {
        sl_err err;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (sl_dp_handoff(src, dst, &err)) {
            fprintf(stderr, "dataplane_handoff: %s\n", err.msg);
            exit(1);
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        t[i] = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
        unlink(dst); /* the consumer finished; the producer's name remains */
    }
    qsort(t, RUNS, sizeof *t, cmp64);
    return t[RUNS / 2];
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/dev/shm";
    char base[512], small[600], big[600], dst[600];
    snprintf(base, sizeof base, "%s/sluice-bench-handoff.%d", dir, (int)getpid());
    if (mkdir(base, 0755) < 0) {
        perror(base);
        return 1;
    }
    snprintf(small, sizeof small, "%s/obj-1MiB", base);
    snprintf(big, sizeof big, "%s/obj-1GiB", base);
    snprintf(dst, sizeof dst, "%s/consumer-input", base);
    int rc = 1;
    if (make_file(small, 1u << 20) || make_file(big, 1u << 30)) {
        fprintf(stderr, "dataplane_handoff: cannot create test objects in %s\n", base);
        goto out;
    }
    int64_t hs = handoff_median_ns(small, dst), hb = handoff_median_ns(big, dst);
    int64_t cs = copy_us(small, dst), cb = copy_us(big, dst);
    printf("bench dataplane (c): same-host hand-off (hard link) in %s, median of %d\n", dir, RUNS);
    printf("  handoff 1 MiB  : %8.1f us      (one copy: %10.1f us)\n", hs / 1e3, (double)cs);
    printf("  handoff 1 GiB  : %8.1f us      (one copy: %10.1f us)\n", hb / 1e3, (double)cb);
    printf("  ratio 1GiB/1MiB hand-off: %.2f (O(1) means ~1; a copy scales ~1024x: %.0f)\n",
           (double)hb / (double)hs, (double)cb / (double)(cs ? cs : 1));
    printf("  hand-off of 1 GiB vs copying it: %.0fx faster\n", cb * 1e3 / (double)hb);
    rc = 0;
out:
    unlink(small);
    unlink(big);
    unlink(dst);
    rmdir(base);
    return rc;
}
