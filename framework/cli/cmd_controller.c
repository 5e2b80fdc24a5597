/* cmd_controller.c - `sluice controller`: the controller daemon. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "controller/controller.h"
#include "util/units.h"

static const char USAGE[] =
    "usage: sluice controller [--state DIR] [--listen ADDR] [--addr-file FILE]\n"
    "                         [--lease-ttl DURATION] [--threads N] [--fsync]\n"
    "                         [--http ADDR] [--tls-cert F --tls-key F [--tls-ca F]]\n"
    "                         [--metrics-forget D] [--history-every D] [--history-days N]\n\n"
    "Runs the controller: durable state in DIR/sluice.db (SQLite, WAL), the gRPC\n"
    "API on ADDR (default 127.0.0.1:7470; port 0 picks a free one, written to\n"
    "--addr-file). Agents lease tasks from it; the CLI and any gRPC client with\n"
    "framework/proto/sluice.proto talk to it. Stops on SIGTERM/SIGINT.\n\n"
    "  --state DIR        state directory (default ./sluice-state)\n"
    "  --lease-ttl D      lease length before an agent's task is re-queued (30s)\n"
    "  --threads N        RPC worker threads (16)\n"
    "  --fsync            fsync every commit (survives power loss, slower)\n"
    "  --http ADDR        serve a status page, /metrics (Prometheus) and /api/status\n"
    "                     on ADDR, e.g. 127.0.0.1:7471 (off by default)\n"
    "  --metrics-forget D a finished pipeline leaves /metrics after D (10m)\n"
    "  --history-every D  metrics history sample interval (10s; /api/history)\n"
    "  --history-days N   metrics history kept N days (7)\n"
    "  --tls-cert F --tls-key F   serve the API over TLS with this certificate\n"
    "  --tls-ca F         with TLS: also require client certificates signed by F\n\n"
    "Every call needs a credential. On first start the controller makes them in\n"
    "DIR/secrets/ (mode 0600): user.token for people and their tools (sluice\n"
    "submit/status/...), join.token for agents (sluice agent --join-token-file).\n"
    "See docs/security.md.\n";

int cmd_controller(int argc, char **argv)
{
    static const struct option opts[] = {
        {"state", 1, 0, 's'},         {"listen", 1, 0, 'l'},       {"addr-file", 1, 0, 'a'},
        {"lease-ttl", 1, 0, 't'},     {"threads", 1, 0, 'n'},      {"fsync", 0, 0, 'f'},
        {"tls-cert", 1, 0, 'C'},      {"http", 1, 0, 'H'},         {"tls-key", 1, 0, 'K'},
        {"tls-ca", 1, 0, 'A'},        {"help", 0, 0, 'h'},         {"metrics-forget", 1, 0, 'M'},
        {"history-every", 1, 0, 'E'}, {"history-days", 1, 0, 'D'}, {0, 0, 0, 0}};
    sl_controller_config cfg = {.state_dir = "sluice-state",
                                .listen = "127.0.0.1:7470",
                                .lease_ttl_ms = 30000,
                                .rpc_threads = 16};
    int c;
    sl_err e = {0};
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            cfg.state_dir = optarg;
            break;
        case 'l':
            cfg.listen = optarg;
            break;
        case 'a':
            cfg.addr_file = optarg;
            break;
        case 't':
            if (sl_parse_duration_ms(optarg, &cfg.lease_ttl_ms, &e) < 0)
                sl_die(2, "--lease-ttl: %s", e.msg);
            break;
        case 'n':
            cfg.rpc_threads = atoi(optarg);
            break;
        case 'f':
            cfg.durable_fsync = 1;
            break;
        case 'C':
            cfg.tls.cert_file = optarg;
            break;
        case 'K':
            cfg.tls.key_file = optarg;
            break;
        case 'A':
            cfg.tls.ca_file = optarg;
            break;
        case 'H':
            cfg.http = optarg;
            break;
        case 'M':
        case 'E': {
            int64_t ms = 0;
            if (sl_parse_duration_ms(optarg, &ms, &e) < 0)
                sl_die(2, "--%s: %s", c == 'M' ? "metrics-forget" : "history-every", e.msg);
            *(c == 'M' ? &cfg.metrics_forget_s : &cfg.history_every_s) = ms / 1000.0;
            break;
        }
        case 'D':
            cfg.history_days = atoi(optarg);
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind != argc) return sl_cli_usage(USAGE, 1);
    if (sl_controller_serve(&cfg, &e) < 0) {
        fprintf(stderr, "sluice controller: %s\n", e.msg);
        return 1;
    }
    return 0;
}
