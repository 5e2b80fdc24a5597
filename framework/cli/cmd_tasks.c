/* cmd_tasks.c - `sluice tasks`: list tasks with filters, as a table or JSON. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: sluice tasks [--controller ADDR] [--pipeline P] [--stage S]\n"
    "                    [--state queued|running|done|failed|cancelled]\n"
    "                    [--limit N] [--after ID] [--json]\n\n"
    "Lists tasks in id order (at most --limit, default 100; page with --after).\n";

static void jstr(const char *s)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_json_str(&b, s ? s : "");
    fputs(b.data, stdout);
    sl_buf_free(&b);
}

int cmd_tasks(int argc, char **argv)
{
    static const struct option opts[] = {
        {"controller", 1, 0, 'c'}, {"pipeline", 1, 0, 'p'}, {"stage", 1, 0, 's'},
        {"state", 1, 0, 't'},      {"limit", 1, 0, 'n'},    {"after", 1, 0, 'a'},
        {"json", 0, 0, 'j'},       {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    const char *ctl = NULL;
    Sluice__V1__ListTasksRequest req = SLUICE__V1__LIST_TASKS_REQUEST__INIT;
    req.limit = 100;
    int json = 0, c;
    long long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'p':
            req.pipeline = optarg;
            break;
        case 's':
            req.stage = optarg;
            break;
        case 't':
            req.state = optarg;
            break;
        case 'n':
            if (sl_cli_parse_int("--limit", optarg, &v) < 0 || v < 0 || v > INT32_MAX)
                return sl_cli_usage(USAGE, 1);
            req.limit = (int32_t)v;
            break;
        case 'a':
            if (sl_cli_parse_int("--after", optarg, &v) < 0) return sl_cli_usage(USAGE, 1);
            req.after_id = v;
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
    if (optind != argc) return sl_cli_usage(USAGE, 1);
    Sluice__V1__ListTasksReply *rep = NULL;
    int rc = SL_CLI_CALL(ctl, "ListTasks", list_tasks_request, &req, list_tasks_reply, rep);
    if (rc < 0) return 1;
    if (json)
        fputs("[", stdout);
    else
        printf("%-8s %-4s %-16s %-10s %-14s %4s %5s  %s\n", "ID", "PIPE", "STAGE", "STATE", "HOST",
               "TRY", "EXIT", "KEY");
    for (size_t i = 0; i < rep->n_tasks; i++) {
        const Sluice__V1__TaskInfo *t = rep->tasks[i];
        if (json) {
            printf("%s{\"id\":%lld,\"pipeline_id\":%lld,\"stage\":", i ? "," : "", (long long)t->id,
                   (long long)t->pipeline_id);
            jstr(t->stage);
            fputs(",\"key\":", stdout);
            jstr(t->key);
            fputs(",\"state\":", stdout);
            jstr(t->state);
            fputs(",\"host\":", stdout);
            jstr(t->host);
            printf(",\"attempts\":%d,\"exit_code\":%d,\"created\":%.6f,\"started\":%.6f,"
                   "\"finished\":%.6f,\"headers\":",
                   t->attempts, t->exit_code, t->created, t->started, t->finished);
            jstr(t->headers);
            fputs("}", stdout);
        } else {
            /* only a finished task has an exit status; 0 would read as success */
            char ex[16] = "";
            if (!strcmp(t->state, "done") || !strcmp(t->state, "failed"))
                snprintf(ex, sizeof ex, "%d", t->exit_code);
            printf("%-8lld %-4lld %-16s %-10s %-14s %4d %5s  %s\n", (long long)t->id,
                   (long long)t->pipeline_id, t->stage, t->state, t->host[0] ? t->host : "-",
                   t->attempts, ex, t->key);
        }
    }
    if (json) fputs("]\n", stdout);
    sluice__v1__list_tasks_reply__free_unpacked(rep, NULL);
    return 0;
}
