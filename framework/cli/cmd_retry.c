/* cmd_retry.c - `sluice retry`: put failed tasks back in the queue. */
#include <getopt.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: sluice retry [--controller ADDR] [--json] [--stage S] PIPELINE [TASK_ID...]\n\n"
    "Re-queues the given failed tasks, or every failed task of the pipeline (or\n"
    "of one stage), with fresh retry budgets.\n";

int cmd_retry(int argc, char **argv)
{
    static const struct option opts[] = {{"controller", 1, 0, 'c'},
                                         {"json", 0, 0, 'j'},
                                         {"stage", 1, 0, 's'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *ctl = NULL;
    int json = 0;
    Sluice__V1__RetryRequest req = SLUICE__V1__RETRY_REQUEST__INIT;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 's':
            req.stage = optarg;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind >= argc) return sl_cli_usage(USAGE, 1);
    req.pipeline = argv[optind++];
    req.n_task_ids = (size_t)(argc - optind);
    req.task_ids = sl_xcalloc(req.n_task_ids ? req.n_task_ids : 1, sizeof *req.task_ids);
    for (size_t i = 0; i < req.n_task_ids; i++) {
        long long v;
        if (sl_cli_parse_int("a TASK_ID", argv[optind + (int)i], &v) < 0 || v <= 0) {
            free(req.task_ids);
            return sl_cli_usage(USAGE, 1);
        }
        req.task_ids[i] = v;
    }
    Sluice__V1__RetryReply *rep = NULL;
    int rc = SL_CLI_CALL(ctl, "Retry", retry_request, &req, retry_reply, rep);
    free(req.task_ids);
    if (rc < 0) return 1;
    if (json)
        printf("{\"requeued\":%lld}\n", (long long)rep->requeued);
    else
        printf("re-queued %lld task(s)\n", (long long)rep->requeued);
    sluice__v1__retry_reply__free_unpacked(rep, NULL);
    return 0;
}
