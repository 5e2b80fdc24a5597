/* manifest_hash.c - what the integrity check costs: hashing an object's
 * files with the manifest's XXH3-128 (cache/manifest.c, through mappings of
 * the page cache) beside the limits it chases, measured in the same run:
 * memcpy between two warm buffers of the same size (one core's memory
 * bandwidth) and read() of the same file into a user buffer. Every agent
 * hashes each output once when it collects it and each copy once when it
 * arrives, so this is the cost per byte moved.
 * Usage: manifest_hash [DIR (/dev/shm)] [MiB (1024)] [rounds (5)] */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "cache/manifest.h"
#include "util/clock.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/dev/shm";
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (rounds < 1 || rounds > 100) rounds = 5;
    size_t n = mib << 20;
    char path[4096];
    snprintf(path, sizeof path, "%s/sluice-bench-hash.%d", dir, (int)getpid());
    unsigned char *a = malloc(n), *b = malloc(n);
    if (!a || !b) {
        fprintf(stderr, "manifest_hash: out of memory for 2 x %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++) /* not compressible, not zero pages */
        a[i] = (unsigned char)(i * 2654435761u >> 13);
    memset(b, 1, n);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, a, n) != (ssize_t)n) {
        fprintf(stderr, "manifest_hash: cannot write %s\n", path);
        return 1;
    }
    double hash[100], copy[100], rd[100], warm[100], touch[100];
    for (int r = 0; r < rounds; r++) {
        char hex[SL_MANIFEST_HASH_HEX + 1];
        sl_err e = {0};
        int64_t t0 = sl_mono_us();
        if (sl_manifest_hash_file(path, hex, NULL, &e) < 0) {
            fprintf(stderr, "manifest_hash: %s\n", e.msg);
            return 1;
        }
        int64_t t1 = sl_mono_us();
        memcpy(b, a, n);
        int64_t t2 = sl_mono_us();
        size_t got = 0;
        while (got < n) {
            ssize_t k = pread(fd, b + got, n - got < (8u << 20) ? n - got : (8u << 20), (off_t)got);
            if (k <= 0) break;
            got += (size_t)k;
        }
        int64_t t3 = sl_mono_us();
        XXH128_hash_t h = XXH3_128bits(a, n);
        int64_t t4 = sl_mono_us();
        if (h.low64 == 42) puts("");
        warm[r] = n / 1e3 / (double)(t4 - t3);
        /* the floor for any reader of the file: map its page cache (4 KiB
         * pages on tmpfs: the mapping is most of the cost) and load one word
         * per cache line */
        int64_t t5 = sl_mono_us();
        const volatile uint64_t *map = mmap(NULL, n, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
        uint64_t sum = 0;
        if ((void *)map == MAP_FAILED) return 1;
        for (size_t i = 0; i < n / 8; i += 8)
            sum += map[i];
        munmap((void *)map, n);
        int64_t t6 = sl_mono_us();
        if (sum == 42) puts("");
        touch[r] = n / 1e3 / (double)(t6 - t5);
        hash[r] = n / 1e3 / (double)(t1 - t0);
        copy[r] = n / 1e3 / (double)(t2 - t1);
        rd[r] = n / 1e3 / (double)(t3 - t2);
    }
    unlink(path);
    close(fd);
    qsort(hash, (size_t)rounds, sizeof *hash, cmp_d);
    qsort(copy, (size_t)rounds, sizeof *copy, cmp_d);
    qsort(rd, (size_t)rounds, sizeof *rd, cmp_d);
    qsort(warm, (size_t)rounds, sizeof *warm, cmp_d);
    qsort(touch, (size_t)rounds, sizeof *touch, cmp_d);
    int m = rounds / 2;
    printf("bench manifest_hash: %zu MiB file in %s, %d rounds interleaved, medians\n", mib, dir,
           rounds);
    printf("  XXH3-128 of the file (manifest)          %6.2f GB/s\n", hash[m]);
    printf("  reading every cache line of the file     %6.2f GB/s   (limit: map + read once)\n",
           touch[m]);
    printf("  read() of the file into a buffer         %6.2f GB/s\n", rd[m]);
    printf("  memcpy between user buffers, same size   %6.2f GB/s   (huge pages)\n", copy[m]);
    printf("  XXH3-128 of a user buffer                %6.2f GB/s\n", warm[m]);
    printf("  ratio hashing / reading the file: %.0f %% (target >= 75 %%); hashing / memcpy: "
           "%.0f %%\n",
           100 * hash[m] / touch[m], 100 * hash[m] / copy[m]);
    free(a);
    free(b);
    return 0;
}
