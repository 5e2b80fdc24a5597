/* ingest_gen.c - writes voltage-like MWA test data for bench/ingest.sh:
 * bytes of 4+4-bit complex samples, each part Gaussian with sigma about 2
 * levels clipped to -8..7 (MWA.md), so zstd sees the real data's statistics
 * (ratio about 0.7), unlike random bytes (1.0) or zeros (0.0).
 * usage: ingest_gen BYTES > FILE */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: ingest_gen BYTES > FILE\n");
        return 2;
    }
    long long n = atoll(argv[1]);
    /* table of 65536 nibble draws from the clipped Gaussian, indexed by
     * 16 random bits: cheap and good enough for a compression benchmark */
    static int8_t table[65536];
    for (int i = 0; i < 65536; i++) {
        double p = (i + 0.5) / 65536.0, lo = -12, hi = 12; /* inverse normal CDF */
        for (int k = 0; k < 60; k++) {
            double mid = (lo + hi) / 2;
            if (0.5 * erfc(-mid / sqrt(2)) < p)
                lo = mid;
            else
                hi = mid;
        }
        long v = lround(2.0 * lo);
        table[i] = (int8_t)(v < -8 ? -8 : v > 7 ? 7 : v);
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    static unsigned char buf[1 << 20];
    while (n > 0) {
        size_t m = n < (long long)sizeof buf ? (size_t)n : sizeof buf;
        for (size_t i = 0; i < m; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] =
                (unsigned char)((table[x & 0xffff] & 15) | ((table[(x >> 16) & 0xffff] & 15) << 4));
        }
        if (fwrite(buf, 1, m, stdout) != m) return 1;
        n -= (long long)m;
    }
    return 0;
}
