/* rpc_latency.c - what one control-plane call costs through framework/rpc.
 *
 * An in-process server (2 workers) and client on 127.0.0.1, as a controller
 * and an agent sharing a host: unary round-trip latency (p50/p99) for small
 * messages, calls/s from several client threads (the controller must take
 * thousands of leases/completions a second), and MB/s for 1 MiB replies
 * (large batches). The limit chased is gRPC core's own ~70 us round trip on
 * this machine (MACHINE-NOTES). Usage: rpc_latency [SECONDS per phase] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "util/clock.h"

static int echo(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                size_t len, sl_buf *resp, sl_err *err)
{
    (void)ctx;
    (void)err;
    sl_buf_append(resp, req, len);
    return 0;
}

/* Replies with the number of bytes the request asks for. */
static int blob(void *ctx, const sl_rpc_caller *who __attribute__((unused)), const uint8_t *req,
                size_t len, sl_buf *resp, sl_err *err)
{
    (void)ctx;
    (void)err;
    size_t n = strtoul(len ? (const char *)req : "0", NULL, 10);
    sl_buf_reserve(resp, n);
    memset(resp->data, 'x', n);
    resp->len = n;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct load {
    sl_rpc_client *c;
    int64_t until_us;
    long calls;
} load;

static void *load_main(void *p)
{
    load *l = p;
    uint8_t msg[64];
    memset(msg, 'm', sizeof msg);
    sl_buf r = SL_BUF_INIT;
    sl_err err;
    while (sl_mono_us() < l->until_us) {
        if (sl_rpc_call(l->c, "/bench.B/Echo", msg, sizeof msg, &r, 5000, &err) != 0)
            sl_die(1, "call failed: %s", err.msg);
        l->calls++;
    }
    sl_buf_free(&r);
    return NULL;
}

/* One credential, "bench-user", for the whole bench. */
static int one_cred(void *ctx, const char *cred, size_t len, sl_rpc_caller *who)
{
    (void)ctx;
    if (len != sizeof "bench-user" - 1 || memcmp(cred, "bench-user", len) != 0) return SL_EAUTH;
    who->role = SL_ROLE_USER;
    snprintf(who->host, sizeof who->host, "node3");
    return 0;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    static const sl_rpc_method methods[] = {{"/bench.B/Echo", echo, SL_ROLE_USER},
                                            {"/bench.B/Blob", blob, SL_ROLE_USER}};
    sl_err err;
    int port;
    sl_rpc_server *s = sl_rpc_server_start(
        &(sl_rpc_server_config){.addr = "127.0.0.1:0", .nthreads = 2, .auth = one_cred}, methods, 2,
        NULL, &port, &err);
    if (!s) sl_die(1, "%s", err.msg);
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_rpc_client *c = sl_rpc_client_new(target, NULL, "bench-user", &err);
    if (!c) sl_die(1, "%s", err.msg);

    uint8_t msg[64];
    memset(msg, 'm', sizeof msg);
    sl_buf r = SL_BUF_INIT;
    for (int i = 0; i < 500; i++) /* connect and warm up */
        if (sl_rpc_call(c, "/bench.B/Echo", msg, sizeof msg, &r, 5000, &err) != 0)
            sl_die(1, "warm-up call failed: %s", err.msg);

    /* one caller, sequential: latency */
    size_t cap = 1 << 20, n = 0;
    int64_t *lat = malloc(cap * sizeof *lat);
    int64_t t0 = sl_mono_us(), end = t0 + (int64_t)(secs * 1e6);
    while (n < cap) {
        int64_t a = sl_mono_us();
        if (a >= end) break;
        if (sl_rpc_call(c, "/bench.B/Echo", msg, sizeof msg, &r, 5000, &err) != 0)
            sl_die(1, "call failed: %s", err.msg);
        lat[n++] = sl_mono_us() - a;
    }
    double el = (sl_mono_us() - t0) / 1e6;
    qsort(lat, n, sizeof *lat, cmp_i64);
    printf("rpc unary 64 B, 1 caller:   p50 %lld us  p99 %lld us  %.0f calls/s  (%zu calls; limit "
           "~70 us gRPC core round trip)\n",
           (long long)lat[n / 2], (long long)lat[n * 99 / 100], n / el, n);
    free(lat);

    /* several callers on one channel: throughput */
    for (int nt = 2; nt <= 8; nt *= 2) {
        pthread_t th[8];
        load l[8];
        int64_t until = sl_mono_us() + (int64_t)(secs * 1e6);
        t0 = sl_mono_us();
        for (int i = 0; i < nt; i++) {
            l[i] = (load){c, until, 0};
            pthread_create(&th[i], NULL, load_main, &l[i]);
        }
        long total = 0;
        for (int i = 0; i < nt; i++) {
            pthread_join(th[i], NULL);
            total += l[i].calls;
        }
        el = (sl_mono_us() - t0) / 1e6;
        printf("rpc unary 64 B, %d callers:  %.0f calls/s  (2 server workers, 2 vCPUs shared by "
               "both sides)\n",
               nt, total / el);
    }

    /* 1 MiB replies: large batches */
    const char *mib = "1048576";
    long calls = 0;
    t0 = sl_mono_us();
    end = t0 + (int64_t)(secs * 1e6);
    while (sl_mono_us() < end) {
        if (sl_rpc_call(c, "/bench.B/Blob", (const uint8_t *)mib, strlen(mib), &r, 10000, &err) !=
            0)
            sl_die(1, "blob call failed: %s", err.msg);
        calls++;
    }
    el = (sl_mono_us() - t0) / 1e6;
    printf("rpc 1 MiB replies:          %.0f MB/s  %.1f ms per call  (bulk data never goes here; "
           "loopback TCP ~3500 MB/s)\n",
           calls * 1048576.0 / el / 1e6, el * 1e3 / calls);

    sl_buf_free(&r);
    sl_rpc_client_free(c);
    sl_rpc_server_stop(s);
    return 0;
}
