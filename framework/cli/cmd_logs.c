/* cmd_logs.c - `sluice logs`: every attempt of one task with its exit code,
 * framework-side error and the tails of stdout and stderr. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: sluice logs [--controller ADDR] [--json] TASK_ID\n"
    "       sluice logs [--controller ADDR] [--json] PIPELINE STAGE KEY\n\n"
    "Shows each attempt of a task: host, exit code, error, and the last 4 KiB\n"
    "of its stdout and stderr.\n";

int cmd_logs(int argc, char **argv)
{
    static const struct option opts[] = {
        {"controller", 1, 0, 'c'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *ctl = NULL;
    int json = 0, c;
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
    Sluice__V1__TaskLogsRequest req = SLUICE__V1__TASK_LOGS_REQUEST__INIT;
    if (argc - optind == 1) {
        req.task_id = atoll(argv[optind]);
        if (req.task_id <= 0) return sl_cli_usage(USAGE, 1);
    } else if (argc - optind == 3) {
        req.pipeline = argv[optind];
        req.stage = argv[optind + 1];
        req.key = argv[optind + 2];
    } else {
        return sl_cli_usage(USAGE, 1);
    }
    Sluice__V1__TaskLogsReply *rep = NULL;
    int rc = SL_CLI_CALL(ctl, "TaskLogs", task_logs_request, &req, task_logs_reply, rep);
    if (rc < 0) return 1;
    const Sluice__V1__TaskInfo *t = rep->task;
    if (json) {
        sl_buf b = SL_BUF_INIT;
        sl_buf_printf(&b, "{\"id\":%lld,\"stage\":", (long long)t->id);
        sl_buf_json_str(&b, t->stage);
        sl_buf_puts(&b, ",\"key\":");
        sl_buf_json_str(&b, t->key);
        sl_buf_puts(&b, ",\"state\":");
        sl_buf_json_str(&b, t->state);
        sl_buf_puts(&b, ",\"attempts\":[");
        for (size_t i = 0; i < rep->n_attempts; i++) {
            const Sluice__V1__AttemptInfo *a = rep->attempts[i];
            sl_buf_printf(&b,
                          "%s{\"n\":%d,\"exit_code\":%d,\"started\":%.6f,\"finished\":%.6f,"
                          "\"host\":",
                          i ? "," : "", a->n, a->exit_code, a->started, a->finished);
            sl_buf_json_str(&b, a->host);
            sl_buf_puts(&b, ",\"error\":");
            sl_buf_json_str(&b, a->error);
            sl_buf_puts(&b, ",\"stdout\":");
            sl_buf_json_str(&b, a->stdout_tail);
            sl_buf_puts(&b, ",\"stderr\":");
            sl_buf_json_str(&b, a->stderr_tail);
            sl_buf_puts(&b, "}");
        }
        sl_buf_puts(&b, "]}\n");
        fputs(b.data, stdout);
        sl_buf_free(&b);
    } else {
        printf("task %lld  %s  %s  state %s, %d attempt(s)\n", (long long)t->id, t->stage, t->key,
               t->state, t->attempts);
        for (size_t i = 0; i < rep->n_attempts; i++) {
            const Sluice__V1__AttemptInfo *a = rep->attempts[i];
            printf("--- attempt %d on %s: exit %d, %.3f s%s%s\n", a->n, a->host, a->exit_code,
                   a->finished - a->started, a->error[0] ? ": " : "", a->error);
            if (a->stdout_tail[0])
                printf("[stdout]\n%s%s", a->stdout_tail,
                       a->stdout_tail[strlen(a->stdout_tail) - 1] == '\n' ? "" : "\n");
            if (a->stderr_tail[0])
                printf("[stderr]\n%s%s", a->stderr_tail,
                       a->stderr_tail[strlen(a->stderr_tail) - 1] == '\n' ? "" : "\n");
        }
        if (rep->n_attempts == 0) printf("(no finished attempts yet)\n");
    }
    sluice__v1__task_logs_reply__free_unpacked(rep, NULL);
    return 0;
}
