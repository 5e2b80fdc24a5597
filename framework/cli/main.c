/* main.c - `sluice`, one binary with git-style subcommands. */
#include <string.h>

#include "cli/cli.h"

static const sl_cmd COMMANDS[] = {
    {"run", cmd_run, "run a pipeline on this machine: controller + local agents, wait"},
    {"controller", cmd_controller, "run the controller daemon"},
    {"agent", cmd_agent, "run an agent daemon on this host"},
    {"submit", cmd_submit, "submit a pipeline YAML file to a running controller"},
    {"validate", cmd_validate, "check a pipeline YAML file without running it"},
    {"dag", cmd_dag, "the stage graph of a pipeline file in Graphviz DOT (or SVG)"},
    {"status", cmd_status, "per-stage progress of pipelines (live on a terminal)"},
    {"top", cmd_top, "live per-stage throughput of running pipelines"},
    {"tasks", cmd_tasks, "list tasks, filtered by pipeline, stage and state"},
    {"logs", cmd_logs, "attempts of one task with their stdout/stderr tails"},
    {"report", cmd_report, "one HTML file: timeline, stage durations, failures of a pipeline"},
    {"retry", cmd_retry, "re-queue failed tasks"},
    {"cancel", cmd_cancel, "cancel a pipeline"},
    {"hosts", cmd_hosts, "the agents' hosts, groups, cache roots and state"},
    {"emit", cmd_emit, "emit a message (inside a module, or into a pipeline)"},
    {"slurm", cmd_slurm, "agents as Slurm jobs: up, status, down (pilot pattern)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice COMMAND [options]   (sluice COMMAND --help for details)\n\n"
               "sluice moves instrument data through pipeline stages on many hosts,\n"
               "keeping it in each host's memory or local SSD, never on shared storage.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-11s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(f, "\nThe controller address comes from --controller ADDR, $SLUICE_CONTROLLER,\n"
               "the state directory in $SLUICE_STATE, or defaults to 127.0.0.1:7470.\n"
               "Every call carries the user credential: --token-file FILE (any command),\n"
               "$SLUICE_TOKEN_FILE, $SLUICE_TOKEN, $SLUICE_STATE/secrets/user.token or\n"
               "~/.config/sluice/token; --tls-ca FILE ($SLUICE_TLS_CA) turns on TLS.\n"
               "Docs: docs/cli.md, docs/security.md, docs/pipeline-yaml.md.\n");
}

/* --token-file F and --tls-ca F are understood by every client command,
 * wherever they stand (before a "--"): taken out of argv here and passed
 * on as $SLUICE_TOKEN_FILE / $SLUICE_TLS_CA, which sl_cli_connect reads.
 * The daemons parse their own options. Returns the new argc. */
static int take_client_options(int argc, char **argv)
{
    /* the command: the first word that is not one of these options */
    int cmd = 1;
    while (cmd + 1 < argc && (!strcmp(argv[cmd], "--token-file") || !strcmp(argv[cmd], "--tls-ca")))
        cmd += 2;
    if (cmd > 1) { /* sluice --tls-ca F status: move the command first */
        char *c = argv[cmd];
        memmove(argv + 2, argv + 1, (size_t)(cmd - 1) * sizeof *argv);
        argv[1] = c;
    }
    if (!strcmp(argv[1], "controller") || !strcmp(argv[1], "agent")) return argc;
    static const struct {
        const char *opt, *env;
    } o[] = {{"--token-file", "SLUICE_TOKEN_FILE"}, {"--tls-ca", "SLUICE_TLS_CA"}};
    int k = 2;
    for (int i = 2; i < argc; i++) {
        int taken = 0;
        for (size_t j = 0; j < 2 && !taken && strcmp(argv[i], "--"); j++) {
            size_t l = strlen(o[j].opt);
            if (!strncmp(argv[i], o[j].opt, l) && argv[i][l] == '=') {
                setenv(o[j].env, argv[i] + l + 1, 1);
                taken = 1;
            } else if (!strcmp(argv[i], o[j].opt)) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "sluice: %s needs a file\n", o[j].opt);
                    exit(2);
                }
                setenv(o[j].env, argv[++i], 1);
                taken = 1;
            }
        }
        if (!strcmp(argv[i], "--")) {
            while (i < argc)
                argv[k++] = argv[i++];
            break;
        }
        if (!taken) argv[k++] = argv[i];
    }
    argv[k] = NULL;
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    argc = take_client_options(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sluice 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sluice: '%s' is not a sluice command. See 'sluice --help'.\n", argv[1]);
    return 2;
}
