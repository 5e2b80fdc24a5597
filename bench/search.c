/* bench/search.c - throughput of presto-search's two heavy steps on a file the
 * size of one MWA search job: 3072 channels, 400 us samples (100 us
 * down-sampled x4), 60 s, 8-bit SIGPROC written to a temporary directory.
 *
 * Figures, each beside the limit it chases, measured in the same run:
 *  - dedispersion (trials x samples x channels per second) vs the memory read
 *    bandwidth expressed in channel-samples per second (a brute-force
 *    dedisperser must stream every float sample once per trial, so this is its
 *    ceiling; subbands reuse partial sums and may beat it);
 *  - FFT search (DM trials per second: FFT, red-noise normalisation, harmonic
 *    sums to 16, peak picking) vs a single FFTW transform of the same length
 *    on the same threads (the search can never beat its own FFT).
 * Usage: build/bench/search [--dm-max X] [--seconds S] [--threads N] [--dir D] */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../modules/presto-search/dedisp.h"
#include "../modules/presto-search/fftsearch.h"
#include "../modules/presto-search/filterbank.h"
#include "../modules/presto-search/parallel.h"
#include "../modules/presto-search/rfi.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Streaming read of a buffer much larger than the caches, per thread. */
typedef struct {
    const float *buf;
    size_t n;
    double sums[64];
} stream_ctx;

static void stream_part(void *p, int thread, long i)
{
    stream_ctx *s = p;
    size_t per = s->n / 64, a = (size_t)i * per;
    float acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
    for (size_t k = a; k + 4 <= a + per; k += 4) {
        acc0 += s->buf[k];
        acc1 += s->buf[k + 1];
        acc2 += s->buf[k + 2];
        acc3 += s->buf[k + 3];
    }
    s->sums[thread] += acc0 + acc1 + acc2 + acc3;
}

typedef struct {
    int64_t trial_samples; /* sum over trials of series length */
    double checksum[64];
} sink_ctx;

static void sink(void *p, int thread, double dm, int ds, float *series, int64_t n)
{
    (void)dm;
    (void)ds;
    sink_ctx *s = p;
    s->checksum[thread] += series[n / 2];
}

typedef struct {
    fft_searcher *fs;
    float **series;
    const float *noise; /* n + 64 noise samples, copied in at an offset per trial */
    int64_t n;
    cand_list *out;
    int fft_only;
} fs_ctx;

static void fs_one(void *p, int thread, long i)
{
    fs_ctx *x = p;
    float *s = x->series[thread];
    memcpy(s, x->noise + i % 64, sizeof(float) * x->n);
    if (x->fft_only)
        fft_searcher_fft_only(x->fs, thread, s);
    else
        fft_searcher_run(x->fs, thread, s, 10.0, &x->out[thread]);
}

int main(int argc, char **argv)
{
    double dm_max = 5.0, seconds = 60.0;
    int nthreads = parallel_default_threads(), nchan = 3072;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    static struct option lo[] = {{"dm-max", 1, 0, 'd'},  {"seconds", 1, 0, 's'},
                                 {"threads", 1, 0, 't'}, {"dir", 1, 0, 'D'},
                                 {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (ch == 'd')
            dm_max = atof(optarg);
        else if (ch == 's')
            seconds = atof(optarg);
        else if (ch == 't')
            nthreads = atoi(optarg);
        else if (ch == 'D')
            dir = optarg;
        else {
            fprintf(ch == 'h' ? stdout : stderr,
                    "usage: %s [--dm-max X] [--seconds S] "
                    "[--threads N] [--dir D]\n",
                    argv[0]);
            return ch == 'h' ? 0 : 2;
        }
    }
    double tsamp = 400e-6;
    int64_t nsamp = (int64_t)(seconds / tsamp);
    char path[512], err[1024];
    snprintf(path, sizeof path, "%s/bench_search_%d.fil", dir, (int)getpid());
    printf("bench/search: %d channels x %lld samples of %.0f us (%.0f s), %d threads, file %s\n",
           nchan, (long long)nsamp, tsamp * 1e6, seconds, nthreads, path);

    /* Write the file: approximately Gaussian 8-bit noise (sum of 4 uniform bytes). */
    double t0 = now_s();
    fil_header h = {.fch1 = 169.595,
                    .foff = -0.01,
                    .nchan = nchan,
                    .tsamp = tsamp,
                    .tstart = 58000.0,
                    .nbits = 8};
    snprintf(h.source, sizeof h.source, "BENCH");
    fil_writer *w;
    if (fil_create(&w, path, &h, err)) {
        fprintf(stderr, "bench/search: %s\n", err);
        return 1;
    }
    int64_t blk = 1000;
    uint8_t *buf = malloc((size_t)blk * nchan);
    uint64_t x = 88172645463325252ULL;
    for (int64_t s0 = 0; s0 < nsamp; s0 += blk) {
        int64_t n = nsamp - s0 < blk ? nsamp - s0 : blk;
        for (int64_t k = 0; k < n * nchan; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            unsigned v =
                (unsigned)(x & 0xff) + ((x >> 8) & 0xff) + ((x >> 16) & 0xff) + ((x >> 24) & 0xff);
            buf[k] = (uint8_t)(v / 4); /* mean 127.5, sigma ~37 */
        }
        if (fil_write_samples(w, buf, n, err)) {
            fprintf(stderr, "bench/search: %s\n", err);
            unlink(path);
            return 1;
        }
    }
    free(buf);
    fil_close(w, err);
    double gb = (double)nsamp * nchan / 1e9;
    printf("write .fil: %.2f GB in %.1f s\n", gb, now_s() - t0);

    fb_data fb;
    t0 = now_s();
    char *paths[1] = {path};
    int rc = fb_read(&fb, paths, 1, 0, err);
    unlink(path);
    if (rc) {
        fprintf(stderr, "bench/search: %s\n", err);
        return 1;
    }
    double tread = now_s() - t0;
    printf("read .fil -> float channel-major: %.2f GB in %.2f s = %.2f GB/s of file\n", gb, tread,
           gb / tread);

    rfi_options ro;
    rfi_default_options(&ro);
    ro.nthreads = nthreads;
    rfi_mask m;
    t0 = now_s();
    rfi_apply_stats st;
    if (rfi_find(&fb, &ro, &m, err) || rfi_apply(&fb, &m, &ro, &st, err)) {
        fprintf(stderr, "bench/search: %s\n", err);
        return 1;
    }
    double trfi = now_s() - t0;
    printf("rfifind + clean: %.2f s = %.2e channel-samples/s\n", trfi,
           nsamp * (double)nchan / trfi);
    rfi_mask_free(&m);

    /* Limit 1: memory read bandwidth, streaming the data itself (1.8 GB). */
    stream_ctx sc = {.buf = fb.data, .n = (size_t)nsamp * nchan};
    parallel_for(nthreads, 64, stream_part, &sc); /* warm */
    double best_bw = 0;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now_s();
        parallel_for(nthreads, 64, stream_part, &sc);
        double bw = sc.n * sizeof(float) / (now_s() - t0);
        if (bw > best_bw) best_bw = bw;
    }
    double limit_cs = best_bw / sizeof(float);
    printf("limit: memory read bandwidth %.2f GB/s (%d threads) = %.3e channel-samples/s "
           "(brute force reads each once per trial)\n",
           best_bw / 1e9, nthreads, limit_cs);

    /* Dedispersion over a DM plan. */
    double fmin, fmax, cbw;
    fb_band(&fb, &fmin, &fmax, &cbw);
    ddplan_params pp = {.lodm = 0,
                        .hidm = dm_max,
                        .tsamp = tsamp,
                        .fctr = 0.5 * (fmin + fmax),
                        .bw = fmax - fmin + cbw,
                        .nchan = nchan,
                        .nsub = 0,
                        .ff = 1.0,
                        .max_downsamp = 64};
    ddplan plan;
    if (ddplan_make(&pp, &plan, err)) {
        fprintf(stderr, "bench/search: %s\n", err);
        return 1;
    }
    dedisp d;
    dedisp_init(&d, &fb, plan.nsub, nthreads, err);
    sink_ctx sk;
    memset(&sk, 0, sizeof sk);
    t0 = now_s();
    dedisp_run_plan(&d, &plan, 0, sink, &sk, err);
    double tdd = now_s() - t0;
    double work = 0;
    for (int s = 0; s < plan.nsteps; s++)
        work += (double)plan.step[s].ndm * (nsamp / plan.step[s].downsamp) * nchan;
    double rate = work / tdd;
    printf(
        "dedispersion: %d DM trials (0-%.1f, %d subbands) in %.2f s = %.3e trial-channel-samples/s "
        "= %.2f x the memory-bandwidth limit\n",
        plan.total_dms, dm_max, plan.nsub, tdd, rate, rate / limit_cs);
    dedisp_free(&d);

    /* FFT search vs FFT alone, same length, same threads. */
    search_params sp;
    search_default_params(&sp);
    fft_searcher *fs = fft_searcher_new(nsamp, tsamp, &sp, nthreads, err);
    if (!fs) {
        fprintf(stderr, "bench/search: %s\n", err);
        return 1;
    }
    /* Noise input: a dedispersed series of the cleaned data is exactly that. */
    float *noise = malloc(sizeof(float) * (nsamp + 64));
    for (int64_t k = 0; k < nsamp + 64; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[k] = (float)((x & 0xffff) + ((x >> 16) & 0xffff) + ((x >> 32) & 0xffff) +
                           ((x >> 48) & 0xffff)) /
                       65536.0f -
                   2.0f;
    }
    fs_ctx fx = {.fs = fs, .n = nsamp, .noise = noise};
    fx.series = calloc((size_t)nthreads, sizeof(float *));
    fx.out = calloc((size_t)nthreads, sizeof(cand_list));
    for (int t = 0; t < nthreads; t++)
        fx.series[t] = fftwf_malloc(sizeof(float) * (nsamp + 2));
    int ntr = 200;
    fx.fft_only = 1;
    parallel_for(nthreads, 8, fs_one, &fx);
    t0 = now_s();
    parallel_for(nthreads, ntr, fs_one, &fx);
    double fft_rate = ntr / (now_s() - t0);
    fx.fft_only = 0;
    t0 = now_s();
    parallel_for(nthreads, ntr, fs_one, &fx);
    double search_rate = ntr / (now_s() - t0);
    size_t ncand = 0;
    for (int t = 0; t < nthreads; t++)
        ncand += fx.out[t].n;
    printf("limit: FFTW r2c of %lld points (+ copying the input): %.1f transforms/s (%d threads)\n",
           (long long)nsamp, fft_rate, nthreads);
    printf("FFT search (zmax 0, 16 harmonics): %.1f DM trials/s = %.2f of the FFT-only rate "
           "(%.1f candidates per noise trial)\n",
           search_rate, search_rate / fft_rate, (double)ncand / ntr);
    free(noise);
    for (int t = 0; t < nthreads; t++) {
        fftwf_free(fx.series[t]);
        cand_list_free(&fx.out[t]);
    }
    free(fx.series);
    free(fx.out);
    fft_searcher_free(fs);
    fb_free(&fb);
    return 0;
}
