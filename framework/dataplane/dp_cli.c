/* dp_cli.c - sluice-dp: the data plane on the command line, for tests and ops.
 *
 * A thin main over dataplane.h: `serve` runs a data server until SIGINT or
 * SIGTERM, `get`/`put`/`stat` talk to one, `sum` and `handoff` are the local
 * operations. The agent embeds the same library; this tool exists so the
 * protocol can be exercised, benchmarked and debugged without a cluster.
 * The token may come from --token, --token-file or $SLUICE_TOKEN (the last
 * two keep it out of `ps`). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataplane/dataplane.h"
#include "util/units.h"

static const char usage[] =
    "usage: sluice-dp serve --root NAME=DIR [--root ...] [--listen HOST:PORT] [TOKEN]\n"
    "                       [--block-size SIZE] [--rate-limit SIZE] [--timeout-ms N]\n"
    "                       [--max-conns N] [--sock-buf SIZE]\n"
    "       sluice-dp get ADDR OBJECT DEST [TOKEN] [--streams N] [--min-chunk SIZE]\n"
    "                       [--expect-checksum HEX] [--timeout-ms N] [--sock-buf SIZE] [--fsync]\n"
    "       sluice-dp put ADDR FILE OBJECT [TOKEN] [--timeout-ms N]\n"
    "       sluice-dp stat ADDR OBJECT [TOKEN]\n"
    "       sluice-dp sum FILE [--block-size SIZE]\n"
    "       sluice-dp handoff SRC DST\n"
    "TOKEN: --token T | --token-file FILE | $SLUICE_TOKEN\n"
    "OBJECT is ROOT/relative/path; ADDR is HOST:PORT.\n"
    "serve prints the bound port on stdout, then serves until SIGINT/SIGTERM.\n"
    "get/put print one line of key=value figures (size, checksum, fetched, resumed, ...).\n";

typedef struct args {
    const char *pos[4];
    int npos;
    const char *token, *listen;
    sl_dp_root roots[SL_DP_MAX_ROOTS];
    int nroots;
    int64_t block_size, rate_limit, min_chunk, sock_buf;
    int streams, timeout_ms, max_conns, fsync;
    uint64_t expect;
} args;

static char token_buf[SL_DP_MAX_TOKEN + 2];

static int64_t size_arg(const char *opt, const char *v)
{
    int64_t n;
    sl_err e;
    if (sl_parse_size(v, &n, &e)) sl_die(2, "%s: %s", opt, e.msg);
    return n;
}

static void parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(o, "--fsync") == 0) {
            a->fsync = 1;
            takes = 0;
        } else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
            fputs(usage, stdout);
            exit(0);
        } else if (o[0] == '-' && o[1] == '-' && !v) {
            sl_die(2, "%s needs a value\n%s", o, usage);
        } else if (strcmp(o, "--token") == 0) {
            a->token = v;
        } else if (strcmp(o, "--token-file") == 0) {
            FILE *f = fopen(v, "r");
            if (!f || !fgets(token_buf, sizeof token_buf, f))
                sl_die(2, "cannot read token file %s", v);
            fclose(f);
            token_buf[strcspn(token_buf, "\r\n")] = 0;
            a->token = token_buf;
        } else if (strcmp(o, "--listen") == 0) {
            a->listen = v;
        } else if (strcmp(o, "--root") == 0) {
            const char *eq = strchr(v, '=');
            if (!eq || a->nroots == SL_DP_MAX_ROOTS)
                sl_die(2, "--root wants NAME=DIR (at most %d)", SL_DP_MAX_ROOTS);
            a->roots[a->nroots].name = strndup(v, (size_t)(eq - v));
            a->roots[a->nroots++].path = eq + 1;
        } else if (strcmp(o, "--block-size") == 0) {
            a->block_size = size_arg(o, v);
        } else if (strcmp(o, "--rate-limit") == 0) {
            a->rate_limit = size_arg(o, v);
        } else if (strcmp(o, "--min-chunk") == 0) {
            a->min_chunk = size_arg(o, v);
        } else if (strcmp(o, "--sock-buf") == 0) {
            a->sock_buf = size_arg(o, v);
        } else if (strcmp(o, "--streams") == 0) {
            a->streams = atoi(v);
        } else if (strcmp(o, "--timeout-ms") == 0) {
            a->timeout_ms = atoi(v);
        } else if (strcmp(o, "--max-conns") == 0) {
            a->max_conns = atoi(v);
        } else if (strcmp(o, "--expect-checksum") == 0) {
            a->expect = strtoull(v, NULL, 16);
        } else if (o[0] == '-' && o[1] == '-') {
            sl_die(2, "unknown option %s\n%s", o, usage);
        } else {
            if (a->npos == 4) sl_die(2, "too many arguments\n%s", usage);
            a->pos[a->npos++] = o;
            takes = 0;
        }
        i += takes;
    }
    if (!a->token) a->token = getenv("SLUICE_TOKEN");
}

static void need(const args *a, int n, int token)
{
    if (a->npos != n) sl_die(2, "wrong number of arguments\n%s", usage);
    if (token && (!a->token || !*a->token))
        sl_die(2, "a cluster token is required (--token, --token-file or $SLUICE_TOKEN)");
}

static int cmd_serve(args *a)
{
    need(a, 0, 1);
    if (a->nroots == 0) sl_die(2, "serve needs at least one --root NAME=DIR");
    for (int i = 0; i < a->nroots; i++) { /* mkdir -p */
        char *p = strdup(a->roots[i].path);
        for (char *s = p + 1; *s; s++)
            if (*s == '/') {
                *s = 0;
                mkdir(p, 0755);
                *s = '/';
            }
        mkdir(p, 0755);
        free(p);
    }
    sl_dp_config cfg = {0};
    cfg.listen = a->listen ? a->listen : "127.0.0.1:0";
    cfg.token = a->token;
    memcpy(cfg.roots, a->roots, sizeof cfg.roots);
    cfg.nroots = a->nroots;
    cfg.io_timeout_ms = a->timeout_ms;
    cfg.max_conns = a->max_conns;
    cfg.block_size = (uint32_t)a->block_size;
    cfg.rate_limit = (uint64_t)a->rate_limit;
    cfg.sock_buf = (int)a->sock_buf;
    /* Block the stop signals before the server starts threads, then wait
     * for them synchronously: no handler, no async-signal-safety concerns. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    sl_err err = {0};
    int port = 0;
    sl_dp_server *s = sl_dp_server_start(&cfg, &port, &err);
    if (!s) sl_die(1, "%s", err.msg);
    printf("%d\n", port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    sl_dp_server_counters c;
    sl_dp_server_stats(s, &c);
    sl_dp_server_stop(s);
    for (int i = 0; i < a->nroots; i++)
        free((char *)a->roots[i].name);
    fprintf(stderr,
            "sluice-dp: stopped: conns=%llu refused=%llu gets=%llu sent=%llu puts=%llu "
            "received=%llu hashed=%llu\n",
            (unsigned long long)c.conns_accepted, (unsigned long long)c.conns_refused,
            (unsigned long long)c.gets, (unsigned long long)c.bytes_sent,
            (unsigned long long)c.puts_committed, (unsigned long long)c.bytes_received,
            (unsigned long long)c.hashes_computed);
    return 0;
}

static void opts_of(const args *a, sl_dp_opts *o)
{
    memset(o, 0, sizeof *o);
    o->streams = a->streams;
    o->min_chunk = (uint64_t)a->min_chunk;
    o->timeout_ms = a->timeout_ms;
    o->expect_checksum = a->expect;
    o->sock_buf = (int)a->sock_buf;
    o->fsync = a->fsync;
}

static void print_stats(const char *what, const sl_dp_stats *s)
{
    double sec = s->elapsed_us / 1e6;
    printf("%s size=%llu checksum=%016llx fetched=%llu resumed=%llu blocks=%u "
           "blocks_fetched=%u blocks_resumed=%u streams=%d seconds=%.6f GBps=%.3f\n",
           what, (unsigned long long)s->size, (unsigned long long)s->checksum,
           (unsigned long long)s->bytes_fetched, (unsigned long long)s->bytes_resumed, s->blocks,
           s->blocks_fetched, s->blocks_resumed, s->streams, sec,
           sec > 0 ? s->bytes_fetched / sec / 1e9 : 0.0);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    args a;
    parse(argc, argv, &a);
    const char *cmd = argv[1];
    sl_err err = {0};
    sl_dp_opts o;
    sl_dp_stats st;
    opts_of(&a, &o);
    int rc;
    if (strcmp(cmd, "serve") == 0) return cmd_serve(&a);
    if (strcmp(cmd, "get") == 0) {
        need(&a, 3, 1);
        rc = sl_dp_fetch(a.pos[0], a.token, a.pos[1], a.pos[2], &o, &st, &err);
        print_stats(rc ? "failed" : "ok", &st);
    } else if (strcmp(cmd, "put") == 0) {
        need(&a, 3, 1);
        rc = sl_dp_push(a.pos[0], a.token, a.pos[1], a.pos[2], &o, &st, &err);
        print_stats(rc ? "failed" : "ok", &st);
    } else if (strcmp(cmd, "stat") == 0) {
        need(&a, 2, 1);
        uint64_t size = 0, sum = 0;
        rc = sl_dp_stat(a.pos[0], a.token, a.pos[1], &o, &size, &sum, &err);
        if (!rc)
            printf("size=%llu checksum=%016llx\n", (unsigned long long)size,
                   (unsigned long long)sum);
    } else if (strcmp(cmd, "sum") == 0) {
        need(&a, 1, 0);
        uint64_t sum = 0;
        rc = sl_dp_checksum_file(a.pos[0], (uint32_t)a.block_size, &sum, &err);
        if (!rc) printf("%016llx\n", (unsigned long long)sum);
    } else if (strcmp(cmd, "handoff") == 0) {
        need(&a, 2, 0);
        rc = sl_dp_handoff(a.pos[0], a.pos[1], &err);
    } else {
        sl_die(2, "unknown command '%s'\n%s", cmd, usage);
    }
    if (rc) {
        fprintf(stderr, "sluice-dp %s: %s\n", cmd, err.msg);
        return 1;
    }
    return 0;
}
