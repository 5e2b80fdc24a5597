/* cmd_emit.c - `sluice emit`: inside a module (SLUICE_WORK set) it appends
 * a message to the task's emit file, which the agent sends downstream when
 * the task succeeds; outside, it injects messages into a pipeline through
 * the controller. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pipeline/template.h"
#include "util/json.h"

static const char USAGE[] =
    "usage: sluice emit [--stage S] [--headers JSON] KEY...\n"
    "       sluice emit --pipeline P [--stage S] [--headers JSON] [--controller ADDR] [--json] "
    "KEY...\n\n"
    "In a module, records KEY as an output message of the running task (sent\n"
    "through the stage's emits: when the task succeeds). With --pipeline, sends\n"
    "KEY straight to stage S (default: the first stage) of pipeline P; KEY may\n"
    "hold ranges like obs/ch{109..132}.\n";

int cmd_emit(int argc, char **argv)
{
    static const struct option opts[] = {{"controller", 1, 0, 'c'},
                                         {"json", 0, 0, 'j'},
                                         {"pipeline", 1, 0, 'p'},
                                         {"stage", 1, 0, 's'},
                                         {"headers", 1, 0, 'H'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *ctl = NULL, *pipeline = NULL, *stage = NULL, *headers = NULL;
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
        case 'p':
            pipeline = optarg;
            break;
        case 's':
            stage = optarg;
            break;
        case 'H':
            headers = optarg;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind >= argc) return sl_cli_usage(USAGE, 1);
    sl_err e = {0};
    if (headers && sl_json_check_object(headers, &e) < 0) sl_die(2, "--headers: %s", e.msg);
    const char *work = getenv("SLUICE_WORK");
    if (!pipeline) {
        if (!work || !*work)
            sl_die(2, "not inside a sluice task (SLUICE_WORK is not set); "
                      "use --pipeline to send messages to a pipeline");
        char *path = sl_xasprintf("%s/emit", work);
        FILE *f = fopen(path, "a");
        if (!f) sl_die(1, "cannot append to %s: %s", path, strerror(errno));
        for (int i = optind; i < argc; i++) {
            if (sl_key_validate(argv[i], &e) < 0) sl_die(2, "key '%s': %s", argv[i], e.msg);
            if (stage) fprintf(f, "@%s ", stage);
            fputs(argv[i], f);
            if (headers) { /* headers must stay on one line */
                fputc(' ', f);
                for (const char *h = headers; *h; h++)
                    fputc(*h == '\n' || *h == '\r' ? ' ' : *h, f);
            }
            fputc('\n', f);
        }
        if (fclose(f) != 0) sl_die(1, "cannot write %s: %s", path, strerror(errno));
        free(path);
        return 0;
    }
    Sluice__V1__EmitRequest req = SLUICE__V1__EMIT_REQUEST__INIT;
    req.pipeline = (char *)pipeline;
    req.n_messages = (size_t)(argc - optind);
    Sluice__V1__Message *ms = sl_xcalloc(req.n_messages, sizeof *ms);
    req.messages = sl_xcalloc(req.n_messages, sizeof *req.messages);
    for (size_t i = 0; i < req.n_messages; i++) {
        sluice__v1__message__init(&ms[i]);
        ms[i].stage = (char *)(stage ? stage : "");
        ms[i].key = argv[optind + (int)i];
        ms[i].headers = (char *)(headers ? headers : "");
        req.messages[i] = &ms[i];
    }
    Sluice__V1__EmitReply *rep = NULL;
    int rc = SL_CLI_CALL(ctl, "Emit", emit_request, &req, emit_reply, rep);
    free(ms);
    free(req.messages);
    if (rc < 0) return 1;
    if (json)
        printf("{\"created\":%lld}\n", (long long)rep->created);
    else
        printf("created %lld task(s)\n", (long long)rep->created);
    sluice__v1__emit_reply__free_unpacked(rep, NULL);
    return 0;
}
