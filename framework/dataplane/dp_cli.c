/* dp_cli.c - sluice-dp: the data plane on the command line, for tests and ops.
 *
 * A thin main over dataplane.h: `serve` runs a data server until SIGINT or
 * SIGTERM, `get`/`put`/`stat` talk to one, `cap` mints a capability, `key`
 * derives a server key from a master key, `sum` and `handoff` are the local
 * operations. The agent embeds the same library; this tool exists so the
 * protocol can be exercised, benchmarked and debugged without a cluster.
 * Keys come from --key, --key-file or $SLUICE_DP_KEY and capabilities from
 * --cap or $SLUICE_DP_CAP (files and the environment keep them out of `ps`). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/dataplane.h"
#include "util/units.h"

static const char usage[] =
    "usage: sluice-dp serve --root NAME=DIR [--root ...] [--listen HOST:PORT] KEY\n"
    "                       [--block-size SIZE] [--rate-limit SIZE] [--timeout-ms N]\n"
    "                       [--max-conns N] [--sock-buf SIZE]\n"
    "                       [--tls-cert F --tls-key F [--tls-ca F]]\n"
    "       sluice-dp get ADDR OBJECT DEST CAP [--streams N] [--min-chunk SIZE]\n"
    "                       [--expect-checksum HEX] [--timeout-ms N] [--sock-buf SIZE] [--fsync]\n"
    "                       [--tls-ca F [--tls-cert F --tls-key F]]\n"
    "       sluice-dp put ADDR FILE OBJECT CAP [--timeout-ms N] [--tls-ca F ...]\n"
    "       sluice-dp stat ADDR OBJECT CAP [--tls-ca F ...]\n"
    "       sluice-dp cap KEY --op r|p --reader HOST --ttl SECONDS PATH\n"
    "       sluice-dp key --master-file F HOST\n"
    "       sluice-dp sum FILE [--block-size SIZE]\n"
    "       sluice-dp handoff SRC DST\n"
    "KEY: --key HEX | --key-file FILE | $SLUICE_DP_KEY   (the server's key, 64 hex chars)\n"
    "CAP: --cap C | $SLUICE_DP_CAP   (a capability minted by `cap` with that server's key)\n"
    "OBJECT is ROOT/relative/path; ADDR is HOST:PORT; PATH is relative to a root.\n"
    "A read capability (--op r) for PATH allows stat/get of ROOT/PATH and ROOT/PATH/...;\n"
    "a push capability (--op p) allows put of mem/PATH/..., which the server stages in\n"
    "<mem root>/.pushed/PATH/...\n"
    "serve prints the bound port on stdout, then serves until SIGINT/SIGTERM.\n"
    "get/put print one line of key=value figures (size, checksum, fetched, resumed, ...).\n"
    "cap and key print the capability / the server key on stdout.\n"
    "Exit status: 0 ok, 1 failed, 2 usage, 3 refused (capability or certificate).\n";

typedef struct args {
    const char *pos[4];
    int npos;
    const char *key, *cap, *listen, *op, *reader, *master_file;
    sl_dp_tls tls;
    sl_dp_root roots[SL_DP_MAX_ROOTS];
    int nroots;
    int64_t block_size, rate_limit, min_chunk, sock_buf, ttl;
    int streams, timeout_ms, max_conns, fsync;
    uint64_t expect;
} args;

static char key_buf[SL_DP_KEY_HEX + 2];

/* First line of a secret file, without its newline. */
static void read_secret(const char *path, char *buf, size_t n, const char *what)
{
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, (int)n, f)) sl_die(2, "cannot read %s file %s", what, path);
    fclose(f);
    buf[strcspn(buf, "\r\n")] = 0;
}

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
        } else if (strcmp(o, "--key") == 0) {
            a->key = v;
        } else if (strcmp(o, "--key-file") == 0) {
            read_secret(v, key_buf, sizeof key_buf, "key");
            a->key = key_buf;
        } else if (strcmp(o, "--cap") == 0) {
            a->cap = v;
        } else if (strcmp(o, "--op") == 0) {
            a->op = v;
        } else if (strcmp(o, "--reader") == 0) {
            a->reader = v;
        } else if (strcmp(o, "--ttl") == 0) {
            a->ttl = atoll(v);
        } else if (strcmp(o, "--master-file") == 0) {
            a->master_file = v;
        } else if (strcmp(o, "--tls-ca") == 0) {
            a->tls.ca_file = v;
        } else if (strcmp(o, "--tls-cert") == 0) {
            a->tls.cert_file = v;
        } else if (strcmp(o, "--tls-key") == 0) {
            a->tls.key_file = v;
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
    if (!a->key) a->key = getenv("SLUICE_DP_KEY");
    if (!a->cap) a->cap = getenv("SLUICE_DP_CAP");
}

enum { NEED_NONE, NEED_KEY, NEED_CAP };

static void need(const args *a, int n, int what)
{
    if (a->npos != n) sl_die(2, "wrong number of arguments\n%s", usage);
    if (what == NEED_KEY && (!a->key || !*a->key))
        sl_die(2, "a server key is required (--key, --key-file or $SLUICE_DP_KEY)");
    if (what == NEED_CAP && (!a->cap || !*a->cap))
        sl_die(2, "a capability is required (--cap or $SLUICE_DP_CAP; mint one with "
                  "`sluice-dp cap`)");
}

static int cmd_serve(args *a)
{
    need(a, 0, NEED_KEY);
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
    cfg.key = a->key;
    cfg.tls = a->tls;
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
    if (a->tls.ca_file || a->tls.cert_file || a->tls.key_file) o->tls = &a->tls;
}

static int cmd_cap(const args *a)
{
    need(a, 1, NEED_KEY);
    if (!a->op || strlen(a->op) != 1 || !a->reader || a->ttl <= 0)
        sl_die(2, "cap needs --op r|p, --reader HOST and --ttl SECONDS\n%s", usage);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t exp = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + a->ttl * 1000;
    char cap[SL_DP_MAX_CAP + 1];
    sl_err err = {0};
    if (sl_dp_cap_make(a->key, a->op[0], a->pos[0], a->reader, exp, cap, sizeof cap, &err) < 0)
        sl_die(2, "cap: %s", err.msg);
    printf("%s\n", cap);
    return 0;
}

static int cmd_key(const args *a)
{
    need(a, 1, NEED_NONE);
    if (!a->master_file) sl_die(2, "key needs --master-file F (64 hex chars)\n%s", usage);
    char hex[SL_DP_KEY_HEX + 2];
    uint8_t master[32];
    read_secret(a->master_file, hex, sizeof hex, "master key");
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (strlen(hex) != SL_DP_KEY_HEX || sscanf(hex + 2 * i, "%2x", &v) != 1)
            sl_die(2, "master key file %s: want %d hex characters", a->master_file, SL_DP_KEY_HEX);
        master[i] = (uint8_t)v;
    }
    char key[SL_DP_KEY_HEX + 1];
    sl_dp_server_key(master, a->pos[0], key);
    printf("%s\n", key);
    return 0;
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
    if (strcmp(cmd, "cap") == 0) return cmd_cap(&a);
    if (strcmp(cmd, "key") == 0) return cmd_key(&a);
    if (strcmp(cmd, "get") == 0) {
        need(&a, 3, NEED_CAP);
        rc = sl_dp_fetch(a.pos[0], a.cap, a.pos[1], a.pos[2], &o, &st, &err);
        print_stats(rc ? "failed" : "ok", &st);
    } else if (strcmp(cmd, "put") == 0) {
        need(&a, 3, NEED_CAP);
        rc = sl_dp_push(a.pos[0], a.cap, a.pos[1], a.pos[2], &o, &st, &err);
        print_stats(rc ? "failed" : "ok", &st);
    } else if (strcmp(cmd, "stat") == 0) {
        need(&a, 2, NEED_CAP);
        uint64_t size = 0, sum = 0;
        rc = sl_dp_stat(a.pos[0], a.cap, a.pos[1], &o, &size, &sum, &err);
        if (!rc)
            printf("size=%llu checksum=%016llx\n", (unsigned long long)size,
                   (unsigned long long)sum);
    } else if (strcmp(cmd, "sum") == 0) {
        need(&a, 1, NEED_NONE);
        uint64_t sum = 0;
        rc = sl_dp_checksum_file(a.pos[0], (uint32_t)a.block_size, &sum, &err);
        if (!rc) printf("%016llx\n", (unsigned long long)sum);
    } else if (strcmp(cmd, "handoff") == 0) {
        need(&a, 2, NEED_NONE);
        rc = sl_dp_handoff(a.pos[0], a.pos[1], &err);
    } else {
        sl_die(2, "unknown command '%s'\n%s", cmd, usage);
    }
    if (rc) {
        fprintf(stderr, "sluice-dp %s: %s\n", cmd, err.msg);
        return rc == SL_EPERM ? 3 : 1; /* 3: refused by an authorization check */
    }
    return 0;
}
