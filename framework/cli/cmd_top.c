/* cmd_top.c - `sluice top`: live per-stage rates of the running pipelines,
 * busiest first, from the Status RPC (the same numbers /metrics and
 * /api/history carry). Besides the controller's one-minute rate it shows
 * the rate between two refreshes, so a change shows at once. On a terminal
 * it redraws every --every seconds until Ctrl-C; --once prints one frame. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/clock.h"

static const char USAGE[] =
    "usage: sluice top [--controller ADDR] [--every SECONDS] [--once] [--all]\n\n"
    "Live per-stage throughput of running pipelines (--all: finished ones too),\n"
    "busiest stage first: tasks done per second over the last minute (RATE/s),\n"
    "over the last refresh (NOW/s), running, queued and done. Redraws every 2 s\n"
    "on a terminal; --once prints once. The history behind it is served as JSON\n"
    "by the controller's --http page at /api/history (docs/cli.md).\n";

typedef struct {
    long long pid;
    char name[128];
    long long done;
} prev_done;

typedef struct {
    const Sluice__V1__PipelineStatus *p;
    const Sluice__V1__StageStatus *s;
} row;

static int by_rate(const void *a, const void *b)
{
    const row *x = a, *y = b;
    double d = y->s->rate - x->s->rate;
    if (d != 0) return d > 0 ? 1 : -1;
    return (int)(y->s->running - x->s->running);
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {{"controller", 1, 0, 'c'}, {"every", 1, 0, 'e'},
                                         {"once", 0, 0, 'o'},       {"all", 0, 0, 'a'},
                                         {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    const char *ctl = NULL;
    int once = 0, all = 0, c;
    double every = 2;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'e':
            every = atof(optarg);
            break;
        case 'o':
            once = 1;
            break;
        case 'a':
            all = 1;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind < argc || every <= 0) return sl_cli_usage(USAGE, 1);
    const char *addr = sl_cli_controller(ctl);
    sl_rpc_client *cl = sl_cli_connect(addr);
    Sluice__V1__StatusRequest req = SLUICE__V1__STATUS_REQUEST__INIT;
    req.pipeline = (char *)"";
    int live = !once && sl_cli_tty(), rc = 0;
    prev_done *prev = NULL;
    size_t nprev = 0;
    double last = 0;
    for (int frame = 0;; frame++) {
        Sluice__V1__StatusReply *rep = NULL;
        sl_err e = {0};
        if (SL_CALL(cl, "Status", status_request, &req, status_reply, rep, 10000, &e) < 0) {
            sl_cli_report(addr, &e);
            rc = 1;
            break;
        }
        double now = sl_wall();
        size_t nrows = 0;
        row *rows = NULL;
        for (size_t i = 0; i < rep->n_pipelines; i++) {
            const Sluice__V1__PipelineStatus *p = rep->pipelines[i];
            if (!all && strcmp(p->state, "running") != 0) continue;
            for (size_t k = 0; k < p->n_stages; k++) {
                rows = sl_xrealloc(rows, (nrows + 1) * sizeof *rows);
                rows[nrows++] = (row){p, p->stages[k]};
            }
        }
        if (nrows) qsort(rows, nrows, sizeof *rows, by_rate);
        if (live) fputs(frame ? "\033[H\033[J" : "\033[2J\033[H", stdout);
        printf("%-24s %-16s %8s %8s %8s %8s %10s\n", "PIPELINE", "STAGE", "RATE/s", "NOW/s",
               "RUNNING", "QUEUED", "DONE");
        prev_done *next = sl_xcalloc(nrows ? nrows : 1, sizeof *next);
        for (size_t r = 0; r < nrows; r++) {
            const Sluice__V1__PipelineStatus *p = rows[r].p;
            const Sluice__V1__StageStatus *s = rows[r].s;
            char label[160], nowr[32] = "-";
            snprintf(label, sizeof label, "%s#%lld", p->name, (long long)p->pipeline_id);
            for (size_t j = 0; j < nprev && last > 0; j++)
                if (prev[j].pid == p->pipeline_id && !strcmp(prev[j].name, s->name))
                    snprintf(nowr, sizeof nowr, "%.2f", (s->done - prev[j].done) / (now - last));
            printf("%-24s %-16s %8.2f %8s %8lld %8lld %10lld\n", label, s->name, s->rate, nowr,
                   (long long)s->running, (long long)s->queued, (long long)s->done);
            next[r].pid = p->pipeline_id;
            snprintf(next[r].name, sizeof next[r].name, "%s", s->name);
            next[r].done = s->done;
        }
        if (!nrows) printf("(no %spipelines)\n", all ? "" : "running ");
        fflush(stdout);
        free(prev);
        prev = next;
        nprev = nrows;
        last = now;
        free(rows);
        sluice__v1__status_reply__free_unpacked(rep, NULL);
        if (!live) break;
        sl_sleep_ms((int64_t)(every * 1000));
    }
    free(prev);
    sl_rpc_client_free(cl);
    return rc;
}
