/* cmd_hosts.c - `sluice hosts`: the hosts agents registered from. */
#include <getopt.h>
#include <time.h>

#include "cli/cli.h"
#include "util/units.h"

static const char USAGE[] = "usage: sluice hosts [--controller ADDR] [--json]\n";

int cmd_hosts(int argc, char **argv)
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
    if (optind != argc) return sl_cli_usage(USAGE, 1);
    const char *addr = sl_cli_controller(ctl);
    sl_rpc_client *cl = sl_cli_connect(addr);
    Sluice__V1__HostsRequest req = SLUICE__V1__HOSTS_REQUEST__INIT;
    Sluice__V1__HostsReply *rep = NULL;
    sl_err e = {0};
    int rc = SL_CALL(cl, "Hosts", hosts_request, &req, hosts_reply, rep, 30000, &e);
    sl_rpc_client_free(cl);
    if (rc < 0) {
        sl_cli_report(addr, &e);
        return 1;
    }
    double now = (double)time(NULL);
    sl_buf b = SL_BUF_INIT;
    if (json)
        sl_buf_putc(&b, '[');
    else
        printf("%-14s %-6s %-6s %-16s %-21s %-21s %s\n", "HOST", "STATE", "SEEN", "GROUPS",
               "MEM USED/BUDGET", "SSD USED/BUDGET", "DATA");
    for (size_t i = 0; i < rep->n_hosts; i++) {
        const Sluice__V1__HostInfo *h = rep->hosts[i];
        sl_buf g = SL_BUF_INIT;
        for (size_t k = 0; k < h->n_groups; k++)
            sl_buf_printf(&g, "%s%s", k ? "," : "", h->groups[k]);
        if (json) {
            sl_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
            sl_buf_json_str(&b, h->name);
            sl_buf_puts(&b, ",\"state\":");
            sl_buf_json_str(&b, h->state);
            sl_buf_puts(&b, ",\"groups\":");
            sl_buf_json_str(&b, g.data ? g.data : "");
            sl_buf_puts(&b, ",\"mem_root\":");
            sl_buf_json_str(&b, h->mem_root);
            sl_buf_puts(&b, ",\"ssd_root\":");
            sl_buf_json_str(&b, h->ssd_root);
            sl_buf_puts(&b, ",\"addr\":");
            sl_buf_json_str(&b, h->addr);
            sl_buf_printf(&b,
                          ",\"mem_used\":%lld,\"mem_budget\":%lld,\"ssd_used\":%lld,"
                          "\"ssd_budget\":%lld,\"last_seen\":%.3f}",
                          (long long)h->mem_used, (long long)h->mem_budget, (long long)h->ssd_used,
                          (long long)h->ssd_budget, h->last_seen);
        } else {
            char ago[32], mu[16], mb[16], su[16], sb[16], mem[40], ssd[40];
            sl_cli_fmt_duration(ago, sizeof ago, now - h->last_seen);
            sl_format_size(h->mem_used, mu, sizeof mu);
            sl_format_size(h->mem_budget, mb, sizeof mb);
            sl_format_size(h->ssd_used, su, sizeof su);
            sl_format_size(h->ssd_budget, sb, sizeof sb);
            snprintf(mem, sizeof mem, "%s/%s", mu, mb);
            snprintf(ssd, sizeof ssd, "%s/%s", su, sb);
            printf("%-14s %-6s %-6s %-16s %-21s %-21s %s\n", h->name, h->state, ago,
                   g.data ? g.data : "-", mem, ssd, h->addr[0] ? h->addr : "-");
        }
        sl_buf_free(&g);
    }
    if (json) {
        sl_buf_puts(&b, "]\n");
        fputs(b.data, stdout);
    }
    sl_buf_free(&b);
    sluice__v1__hosts_reply__free_unpacked(rep, NULL);
    return 0;
}
