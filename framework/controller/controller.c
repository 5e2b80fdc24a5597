/* controller.c - the controller daemon's lifecycle: open the state
 * database, serve the API, expire leases every 250 ms, stop on a signal.
 * The signal is taken synchronously with sigwait in the main thread, so no
 * handler runs concurrently with the scheduler. */
#include "controller/controller.h"
#include "controller/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controller/api.h"
#include "controller/http.h"
#include "controller/metrics.h"
#include "sched/sched.h"
#include "util/buf.h"
#include "util/clock.h"

typedef struct {
    sl_sched *sched;
    volatile int stop;
    double history_every_s;
    int history_days;
} reaper_ctx;

static void *reaper(void *arg)
{
    reaper_ctx *r = arg;
    double last_sample = 0;
    while (!r->stop) {
        sl_err e = {0};
        if (sl_sched_reap(r->sched, &e) < 0)
            fprintf(stderr, "sluice controller: reaper: %s\n", e.msg);
        /* the metrics history is written here, off the lease path */
        double now = sl_wall();
        if (now - last_sample >= r->history_every_s) {
            last_sample = now;
            sl_err he = {0};
            if (sl_metrics_sample(r->sched, now, r->history_days, &he) < 0)
                fprintf(stderr, "sluice controller: metrics history: %s\n", he.msg);
        }
        for (int i = 0; i < 5 && !r->stop; i++)
            sl_sleep_ms(50);
    }
    return NULL;
}

/* addr file: "host:port" of the API; with the status page on, its
 * "host:port" goes to ADDR_FILE.http (the addr file stays one line, which
 * every script reads whole). */
static int write_addr(const char *path, const char *listen, int port, int http_port, sl_err *err)
{
    char host[256];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = 0;
    if (!*host || strcmp(host, "0.0.0.0") == 0) snprintf(host, sizeof host, "127.0.0.1");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return sl_errf(err, SL_EIO, "cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "%s:%d\n", host, port);
    if (http_port > 0) {
        char hp[4096];
        snprintf(hp, sizeof hp, "%s.http", path);
        FILE *h = fopen(hp, "w");
        if (h) {
            fprintf(h, "%s:%d\n", host, http_port);
            fclose(h);
        }
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return sl_errf(err, SL_EIO, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

int sl_controller_serve(const sl_controller_config *cfg, sl_err *err)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
        return sl_errf(err, SL_EIO, "cannot create state directory %s: %s", cfg->state_dir,
                       strerror(errno));
    static sl_secrets secrets; /* the authenticator reads it from every RPC worker */
    int rc = sl_secrets_load(cfg->state_dir, &secrets, err);
    if (rc < 0) return rc;
    char *db = sl_xasprintf("%s/sluice.db", cfg->state_dir);
    sl_sched_config sc = {secrets.master, db, cfg->lease_ttl_ms, cfg->durable_fsync};
    sl_sched *sched = NULL;
    rc = sl_sched_open(&sc, &sched, err);
    free(db);
    if (rc < 0) {
        sl_secrets_clear(&secrets);
        return rc;
    }
    secrets.sched = sched;
    int port = 0;
    sl_rpc_server_config rcfg = {.addr = cfg->listen,
                                 .nthreads = cfg->rpc_threads > 0 ? cfg->rpc_threads : 16,
                                 .auth = sl_secrets_auth,
                                 .auth_ctx = &secrets,
                                 .tls = cfg->tls};
    sl_rpc_server *srv =
        sl_rpc_server_start(&rcfg, sl_api_methods, sl_api_nmethods, sched, &port, err);
    if (!srv) {
        sl_sched_close(sched);
        sl_secrets_clear(&secrets);
        return err->code ? err->code : SL_ERPC;
    }
    fprintf(stderr,
            "sluice controller: listening on %s (port %d%s), state in %s\n"
            "sluice controller: credentials in %s/secrets/: user.token for the CLI, join.token "
            "for agents\n",
            cfg->listen, port, cfg->tls.cert_file ? ", TLS" : "", cfg->state_dir, cfg->state_dir);
    sl_http *http = NULL;
    int hport = 0;
    if (cfg->http) {
        sl_http_config hc = {cfg->http, secrets.user, cfg->metrics_forget_s};
        if (!(http = sl_http_start(&hc, sched, &hport, err))) {
            sl_rpc_server_stop(srv);
            sl_sched_close(sched);
            return SL_EIO;
        }
        fprintf(stderr, "sluice controller: status page and /metrics on http port %d\n", hport);
    }
    if (cfg->addr_file && write_addr(cfg->addr_file, cfg->listen, port, hport, err) < 0) {
        sl_http_stop(http);
        sl_rpc_server_stop(srv);
        sl_sched_close(sched);
        return SL_EIO;
    }
    reaper_ctx rc_ctx = {sched, 0,
                         cfg->history_every_s > 0 ? cfg->history_every_s : SL_HISTORY_EVERY_S,
                         cfg->history_days};
    pthread_t th;
    pthread_create(&th, NULL, reaper, &rc_ctx);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "sluice controller: signal %d, shutting down\n", sig);
    rc_ctx.stop = 1;
    pthread_join(th, NULL);
    sl_sched_shutdown(sched); /* wakes long-polls so the RPC workers can finish */
    sl_http_stop(http);
    sl_rpc_server_stop(srv);
    sl_sched_close(sched);
    sl_secrets_clear(&secrets);
    return 0;
}
