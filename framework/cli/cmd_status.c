/* cmd_status.c - `sluice status`: per-stage progress. On a terminal it
 * redraws every half second until the pipelines shown have finished (Ctrl-C
 * leaves); elsewhere, or with --once or --json, it prints once. */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/clock.h"

static const char USAGE[] =
    "usage: sluice status [--controller ADDR] [--json] [--once] [PIPELINE]\n"
    "       sluice status --matrix PIPELINE [--stage S] [--rows N] [--cols N] [--json]\n\n"
    "Shows done / running / queued / waiting (incomplete gathers) / failed per\n"
    "stage, the completion rate over the last minute and an ETA; PENDING counts\n"
    "keys of large messages not yet made into tasks. PIPELINE is a name (the\n"
    "latest with that name) or a number; all pipelines by default.\n\n"
    "--matrix: the states of one stage's tasks as a crosstab of two '/'-segments\n"
    "of the key (1-based, negative from the end; by default rows 2 and cols 3\n"
    "for keys of three or more segments, 1 and 2 for two, the only segment as\n"
    "rows for one), e.g. pointing group x time range: ' ' not expanded yet, . queued, R running,\n"
    "d partly done, D done, F failed, C cancelled; done/total per row.\n";

static int all_finished(const Sluice__V1__StatusReply *st)
{
    for (size_t i = 0; i < st->n_pipelines; i++)
        if (!strcmp(st->pipelines[i]->state, "running")) return 0;
    return 1;
}

int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"controller", 1, 0, 'c'}, {"json", 0, 0, 'j'},   {"once", 0, 0, 'o'},
        {"help", 0, 0, 'h'},       {"matrix", 1, 0, 'm'}, {"stage", 1, 0, 's'},
        {"rows", 1, 0, 'r'},       {"cols", 1, 0, 'C'},   {0, 0, 0, 0}};
    const char *ctl = NULL, *matrix = NULL, *stage = NULL;
    int json = 0, once = 0, c, rows = 0, cols = 0, bad = 0; /* 0: from the keys */
    long long v = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'o':
            once = 1;
            break;
        case 'm':
            matrix = optarg;
            break;
        case 's':
            stage = optarg;
            break;
        case 'r':
            bad |= sl_cli_parse_int("--rows", optarg, &v) < 0 || v == 0 || v < INT32_MIN ||
                   v > INT32_MAX;
            rows = (int)v;
            break;
        case 'C':
            bad |= sl_cli_parse_int("--cols", optarg, &v) < 0 || v == 0 || v < INT32_MIN ||
                   v > INT32_MAX;
            cols = (int)v;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind < argc - 1 || (matrix && optind < argc) || bad) return sl_cli_usage(USAGE, 1);
    if (matrix) return sl_cli_matrix(ctl, matrix, stage, rows, cols, json);
    const char *addr = sl_cli_controller(ctl);
    sl_rpc_client *cl = sl_cli_connect(addr);
    Sluice__V1__StatusRequest req = SLUICE__V1__STATUS_REQUEST__INIT;
    req.pipeline = optind < argc ? argv[optind] : (char *)"";
    int live = !json && !once && sl_cli_tty();
    int rc = 0;
    for (int frame = 0;; frame++) {
        Sluice__V1__StatusReply *rep = NULL;
        sl_err e = {0};
        if (SL_CALL(cl, "Status", status_request, &req, status_reply, rep, 10000, &e) < 0) {
            sl_cli_report(addr, &e);
            rc = 1;
            break;
        }
        if (live) fputs(frame ? "\033[H\033[J" : "\033[2J\033[H", stdout);
        if (!json && rep->n_pipelines == 0) printf("no pipelines\n");
        sl_cli_print_status(stdout, rep, json);
        fflush(stdout);
        int done = all_finished(rep);
        sluice__v1__status_reply__free_unpacked(rep, NULL);
        if (!live || done) break;
        sl_sleep_ms(500);
    }
    sl_rpc_client_free(cl);
    return rc;
}
