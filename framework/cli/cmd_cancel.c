/* cmd_cancel.c - `sluice cancel`: cancel a pipeline; agents stop its
 * running tasks at their next heartbeat. */
#include <getopt.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: sluice cancel [--controller ADDR] [--json] PIPELINE\n\n"
    "Cancels a running pipeline: its queued tasks are cancelled and agents kill\n"
    "its running ones at their next heartbeat. A pipeline that already finished\n"
    "(done, failed or cancelled) is left as it is: the command says so and exits 1.\n";

int cmd_cancel(int argc, char **argv)
{
    static const struct option opts[] = {
        {"controller", 1, 0, 'c'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *ctl = NULL;
    int json = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind != argc - 1) return sl_cli_usage(USAGE, 1);
    Sluice__V1__CancelRequest req = SLUICE__V1__CANCEL_REQUEST__INIT;
    req.pipeline = argv[optind];
    Sluice__V1__CancelReply *rep = NULL;
    int rc = SL_CLI_CALL(ctl, "Cancel", cancel_request, &req, cancel_reply, rep);
    if (rc < 0) return 1;
    if (json)
        printf("{\"cancelled\":%lld}\n", (long long)rep->cancelled);
    else
        printf("cancelled %lld task(s)\n", (long long)rep->cancelled);
    sluice__v1__cancel_reply__free_unpacked(rep, NULL);
    return 0;
}
