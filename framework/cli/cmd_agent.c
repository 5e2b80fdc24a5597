/* cmd_agent.c - `sluice agent`: the agent daemon of one host. */
#include <getopt.h>
#include <string.h>

#include "agent/agent.h"
#include "cli/cli.h"
#include "util/units.h"
#include "util/units.h"

static const char USAGE[] =
    "usage: sluice agent [--controller ADDR] [--name HOST] [--group G]...\n"
    "                    [--dir DIR] [--mem DIR] [--ssd DIR] [--max-inflight N]\n\n"
    "Runs this host's agent: registers with the controller, leases tasks in\n"
    "batches (long-poll), runs each module in its own process group with the\n"
    "module contract's argv and environment, and reports results.\n\n"
    "  --name HOST        host name the controller sees (default: hostname)\n"
    "  --group G          a host group for group-bound stages (repeatable)\n"
    "  --dir DIR          agent directory (default /var/tmp/sluice/HOST)\n"
    "  --mem DIR          memory cache tier, $SLUICE_MEM (default /dev/shm/sluice/HOST)\n"
    "  --ssd DIR          SSD cache tier, $SLUICE_SSD (default DIR/ssd)\n"
    "  --max-inflight N   leased + running tasks at most (1024)\n"
    "  --wait MS          long-poll length in milliseconds (5000)\n"
    "  --keep-workdirs    keep work dirs of successful attempts\n"
    "  --drain-on-term D  on SIGTERM stop leasing and let running tasks finish for up\n"
    "                     to D (e.g. 100s) before stopping (Slurm's --signal); SIGINT\n"
    "                     and a SIGTERM without this option stop at once\n"
    "  --mem-budget SIZE  bytes of the memory tier objects may use (default: half of it)\n"
    "  --ssd-budget SIZE  bytes of the SSD tier objects may use (default: 80 % of free;\n"
    "                     0 disables spilling to SSD)\n"
    "  --data-listen ADDR data server address (default: the advertised address, any\n"
    "                     free port)\n"
    "  --advertise IP     address peers reach the data server at (default: the local\n"
    "                     address used to reach the controller)\n"
    "  --join-token-file F  the controller's join credential (its STATE/secrets/\n"
    "                     join.token; default $SLUICE_JOIN_TOKEN_FILE, else\n"
    "                     $SLUICE_JOIN_TOKEN). Only needed to join: the agent then\n"
    "                     keeps its own credential in MEM.cred (0600) for a restart\n"
    "  --tls-ca F         TLS to the controller and to peers' data servers, checked\n"
    "                     against this CA (default $SLUICE_TLS_CA)\n"
    "  --tls-cert F --tls-key F  this host's certificate: its data server serves TLS\n";

int cmd_agent(int argc, char **argv)
{
    static const struct option opts[] = {{"controller", 1, 0, 'c'},
                                         {"name", 1, 0, 'n'},
                                         {"group", 1, 0, 'g'},
                                         {"dir", 1, 0, 'd'},
                                         {"mem", 1, 0, 'm'},
                                         {"ssd", 1, 0, 's'},
                                         {"max-inflight", 1, 0, 'i'},
                                         {"wait", 1, 0, 'w'},
                                         {"keep-workdirs", 0, 0, 'k'},
                                         {"drain-on-term", 1, 0, 'D'},
                                         {"mem-budget", 1, 0, 'M'},
                                         {"ssd-budget", 1, 0, 'S'},
                                         {"data-listen", 1, 0, 'L'},
                                         {"advertise", 1, 0, 'A'},
                                         {"join-token-file", 1, 0, 'J'},
                                         {"tls-ca", 1, 0, 'T'},
                                         {"tls-cert", 1, 0, 'C'},
                                         {"tls-key", 1, 0, 'K'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    sl_agent_config cfg = {0};
    const char *controller = NULL;
    const char **groups = NULL;
    size_t ng = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            controller = optarg;
            break;
        case 'n':
            cfg.name = optarg;
            break;
        case 'g':
            groups = sl_xrealloc(groups, (ng + 1) * sizeof *groups);
            groups[ng++] = optarg;
            break;
        case 'd':
            cfg.dir = optarg;
            break;
        case 'm':
            cfg.mem_root = optarg;
            break;
        case 's':
            cfg.ssd_root = optarg;
            break;
        case 'i':
            cfg.max_inflight = atoi(optarg);
            break;
        case 'w':
            cfg.wait_ms = atoi(optarg);
            break;
        case 'k':
            cfg.keep_workdirs = 1;
            break;
        case 'D': {
            sl_err de = {0};
            if (sl_parse_duration_ms(optarg, &cfg.drain_ms, &de) < 0) {
                fprintf(stderr, "sluice agent: --drain-on-term: %s\n", de.msg);
                return 2;
            }
            break;
        }
        case 'M':
        case 'S': {
            sl_err e = {0};
            int64_t v;
            if (sl_parse_size(optarg, &v, &e) < 0)
                sl_die(2, "--%s: %s", c == 'M' ? "mem-budget" : "ssd-budget", e.msg);
            /* 0 means "none": one byte, since 0 in the config means "default" */
            *(c == 'M' ? &cfg.mem_budget : &cfg.ssd_budget) = v > 0 ? v : 1;
            break;
        }
        case 'L':
            cfg.data_listen = optarg;
            break;
        case 'A':
            cfg.advertise = optarg;
            break;
        case 'J':
            cfg.join_token_file = optarg;
            break;
        case 'T':
            cfg.tls_ca = optarg;
            break;
        case 'C':
            cfg.tls_cert = optarg;
            break;
        case 'K':
            cfg.tls_key = optarg;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind != argc) return sl_cli_usage(USAGE, 1);
    cfg.controller = sl_cli_controller(controller);
    if (!cfg.tls_ca) cfg.tls_ca = sl_cli_tls_ca();
    if (!!cfg.tls_cert != !!cfg.tls_key) sl_die(2, "--tls-cert and --tls-key go together");
    cfg.groups = groups;
    cfg.ngroups = ng;
    sl_err e = {0};
    int rc = sl_agent_serve(&cfg, &e);
    free(groups);
    if (rc < 0) {
        fprintf(stderr, "sluice agent: %s\n", e.msg);
        return 1;
    }
    return 0;
}
