/* cmd_slurm.c - `sluice slurm up|status|down`: agents as Slurm jobs.
 *
 * `up` submits one batch job whose srun starts one agent per allocated node
 * (framework/slurm renders the script); more `up` = more nodes. `status`
 * shows this controller's jobs (squeue, by job name and comment) beside the
 * hosts the controller sees; `down` scancels them and waits until Slurm has
 * ended them, i.e. no agent of theirs is left. docs/slurm.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "slurm/slurm.h"
#include "util/clock.h"
#include "util/units.h"

static const char USAGE[] =
    "usage: sluice slurm up [options]        submit one batch job: an agent per node\n"
    "       sluice slurm status [options]    this controller's agent jobs and hosts\n"
    "       sluice slurm down [options]      cancel them and wait until they are gone\n\n"
    "Runs sluice agents on Slurm nodes with the pilot pattern: one batch job whose\n"
    "`srun --ntasks-per-node=1` starts `sluice agent` on every allocated node.\n"
    "More `up` = more nodes; `scancel JOBID` (or `down --job JOBID`) shrinks.\n"
    "See 'sluice slurm COMMAND --help' and docs/slurm.md.\n";

static const char USAGE_UP[] =
    "usage: sluice slurm up --nodes N [options]\n"
    "       sluice slurm up --from FILE.yaml [options]   (cluster.slurm of the file)\n\n"
    "Submits ONE batch job whose srun runs one `sluice agent` per allocated node,\n"
    "named after the Slurm node, with its memory tier under the node's /dev/shm\n"
    "and its SSD tier and work dirs on the node's local disk; both are removed\n"
    "when the agent ends. Every agent is in group slurm-JOBID (plus --groups).\n\n"
    "  --nodes N            nodes (agents); with --het the compute nodes\n"
    "  --het I:C            heterogeneous job: I ingest nodes (group 'ingest') and\n"
    "                       C compute nodes (group 'compute')\n"
    "  --partition P  --time T  --qos Q  --reservation R  --account A\n"
    "  --constraint C       the usual sbatch options (T: MM, HH:MM:SS, D-HH:MM, ...)\n"
    "  --shared             do not ask for whole nodes (default: --exclusive); agents\n"
    "                       are then named NODE-jJOBID, as a node may hold two\n"
    "  --sbatch OPT         any other sbatch option, e.g. --sbatch=--mem=0 (repeatable)\n"
    "  --groups G[,G...]    groups for every agent (repeatable)\n"
    "  --group-by-node      also a group named after each node\n"
    "  --drain D            SIGTERM the agents D before the time limit (default 2m);\n"
    "                       they stop leasing and let running tasks finish; 0 = off\n"
    "  --controller ADDR    the controller the agents dial ($SLUICE_CONTROLLER)\n"
    "  --controller-inside  start the controller on the job's first node instead;\n"
    "                       ADDR is then its listen address (default 0.0.0.0:7470)\n"
    "  --controller-state DIR  its state dir (default: under the SSD root); its\n"
    "                     secrets/join.token must be readable by every node (a\n"
    "                     shared path) unless --join-token-file is given\n"
    "  --join-token-file F  the join credential the agents present (default\n"
    "                     $SLUICE_JOIN_TOKEN_FILE, else $SLUICE_STATE/secrets/join.token);\n"
    "                     a path every node can read, passed by name, never by value\n"
    "  --mem-root DIR       parent of the memory tier on each node (/dev/shm)\n"
    "  --ssd-root DIR       parent of the SSD tier on each node (/tmp)\n"
    "  --sluice PATH        the sluice binary as the nodes see it (default: this one)\n"
    "  --job-name NAME      (default sluice-agents; status/down match the prefix)\n"
    "  --output PATTERN     batch output file (default sluice-agents-%j.out)\n"
    "  --wait S             wait up to S seconds until every agent registered\n"
    "  --script             print the batch script instead of submitting it\n";

static const char USAGE_STATUS[] =
    "usage: sluice slurm status [--controller ADDR] [--all] [--json]\n\n"
    "Lists the Slurm jobs `sluice slurm up` submitted for this controller\n"
    "(squeue: job name sluice-agents*, comment sluice:ADDR) and the hosts the\n"
    "controller sees. --all: sluice agent jobs of every controller.\n";

static const char USAGE_DOWN[] =
    "usage: sluice slurm down [--controller ADDR] [--all] [--job ID]... [--timeout S]\n\n"
    "Cancels this controller's agent jobs (or only the given job ids) with scancel\n"
    "and waits (default 120 s) until Slurm no longer lists them: their agents are\n"
    "gone. Tasks they were running are re-queued when their leases expire.\n";

/* ---- helpers ---------------------------------------------------------------- */

static int squeue_jobs(const char *prefix, const char *comment, sl_slurm_job **jobs, sl_err *e)
{
    char *argv[] = {"squeue", "--me", "-h", "-o", SL_SLURM_SQUEUE_FORMAT, NULL};
    sl_buf out = SL_BUF_INIT;
    int rc = sl_slurm_exec(argv, NULL, &out, e);
    if (rc > 0)
        rc = sl_errf(e, SL_EIO, "squeue failed (exit %d): is Slurm reachable (SLURM_CONF)?", rc);
    if (rc == 0) rc = sl_slurm_parse_squeue(out.data ? out.data : "", prefix, comment, jobs, e);
    sl_buf_free(&out);
    return rc;
}

static Sluice__V1__HostsReply *fetch_hosts(const char *addr, sl_err *e)
{
    sl_rpc_client *cl = sl_cli_connect(addr);
    Sluice__V1__HostsRequest req = SLUICE__V1__HOSTS_REQUEST__INIT;
    Sluice__V1__HostsReply *rep = NULL;
    int rc = SL_CALL(cl, "Hosts", hosts_request, &req, hosts_reply, rep, 10000, e);
    sl_rpc_client_free(cl);
    return rc < 0 ? NULL : rep;
}

/* Node names of a Slurm node list ("node[1-3],gpu7"), via scontrol. */
static char **expand_nodelist(const char *list, size_t *n, sl_err *e)
{
    *n = 0;
    char *argv[] = {"scontrol", "show", "hostnames", (char *)list, NULL};
    sl_buf out = SL_BUF_INIT;
    int rc = sl_slurm_exec(argv, NULL, &out, e);
    if (rc != 0) {
        if (rc > 0) sl_errf(e, SL_EIO, "scontrol show hostnames %s failed", list);
        sl_buf_free(&out);
        return NULL;
    }
    char **names = NULL, *save = NULL;
    for (char *t = strtok_r(out.data ? out.data : "", "\n", &save); t;
         t = strtok_r(NULL, "\n", &save)) {
        names = sl_xrealloc(names, (*n + 1) * sizeof *names);
        names[(*n)++] = sl_xstrdup(t);
    }
    sl_buf_free(&out);
    return names;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Waits until job `id` runs and an agent of each of its nodes is up. */
static int wait_agents(const char *addr, const char *comment, int64_t id, double since, int limit_s,
                       sl_err *e)
{
    int64_t end = sl_mono_ms() + (int64_t)limit_s * 1000;
    const char *why = "the job did not start";
    while (sl_mono_ms() < end) {
        sl_slurm_job *jobs = NULL;
        int n = squeue_jobs(NULL, comment, &jobs, e);
        if (n < 0) return n;
        int found = 0, running = 0;
        size_t nnames = 0;
        char **names = NULL;
        for (int i = 0; i < n; i++) {
            if (jobs[i].job_id != id) continue;
            found++;
            if (strcmp(jobs[i].state, "RUNNING")) continue;
            running++;
            size_t k = 0;
            char **more = expand_nodelist(jobs[i].nodelist, &k, e);
            names = sl_xrealloc(names, (nnames + k + 1) * sizeof *names);
            for (size_t j = 0; j < k; j++)
                names[nnames++] = more[j];
            free(more);
        }
        sl_slurm_jobs_free(jobs, n);
        if (!found) {
            free_names(names, nnames);
            return sl_errf(e, SL_ENOTFOUND,
                           "job %lld is no longer queued: see its output file for why",
                           (long long)id);
        }
        if (running == found && nnames) {
            why = "not every agent registered";
            Sluice__V1__HostsReply *h = fetch_hosts(addr, e);
            size_t up = 0;
            for (size_t i = 0; h && i < nnames; i++)
                for (size_t k = 0; k < h->n_hosts; k++)
                    if (!strcmp(h->hosts[k]->name, names[i]) && !strcmp(h->hosts[k]->state, "up") &&
                        h->hosts[k]->last_seen >= since - 1) {
                        up++;
                        break;
                    }
            if (h) sluice__v1__hosts_reply__free_unpacked(h, NULL);
            if (up == nnames) {
                printf("%zu agent(s) of job %lld registered\n", nnames, (long long)id);
                free_names(names, nnames);
                return 0;
            }
        }
        free_names(names, nnames);
        sl_sleep_ms(250);
    }
    return sl_errf(e, SL_ETIMEOUT, "after %d s %s (job %lld)", limit_s, why, (long long)id);
}

static int split_groups(const char *arg, const char ***groups, size_t *n)
{
    char *copy = sl_xstrdup(arg), *save = NULL; /* kept: groups point into it */
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        *groups = sl_xrealloc(*groups, (*n + 1) * sizeof **groups);
        (*groups)[(*n)++] = t;
    }
    return 0;
}

static int parse_het(const char *s, int *ingest, int *compute)
{
    char *e;
    long a = strtol(s, &e, 10);
    if (e == s || *e != ':') return -1;
    char *e2;
    long b = strtol(e + 1, &e2, 10);
    if (e2 == e + 1 || *e2 || a < 1 || b < 1 || a > INT_MAX || b > INT_MAX) return -1;
    *ingest = (int)a;
    *compute = (int)b;
    return 0;
}

/* ---- up --------------------------------------------------------------------- */

static int slurm_up(int argc, char **argv)
{
    static const struct option opts[] = {{"nodes", 1, 0, 'n'},
                                         {"het", 1, 0, 'H'},
                                         {"partition", 1, 0, 'p'},
                                         {"time", 1, 0, 't'},
                                         {"qos", 1, 0, 'q'},
                                         {"reservation", 1, 0, 'r'},
                                         {"account", 1, 0, 'A'},
                                         {"constraint", 1, 0, 'C'},
                                         {"shared", 0, 0, 'x'},
                                         {"sbatch", 1, 0, 'S'},
                                         {"groups", 1, 0, 'g'},
                                         {"group-by-node", 0, 0, 'G'},
                                         {"drain", 1, 0, 'd'},
                                         {"controller", 1, 0, 'c'},
                                         {"controller-inside", 0, 0, 'I'},
                                         {"controller-state", 1, 0, 's'},
                                         {"join-token-file", 1, 0, 'T'},
                                         {"mem-root", 1, 0, 'm'},
                                         {"ssd-root", 1, 0, 'D'},
                                         {"sluice", 1, 0, 'b'},
                                         {"job-name", 1, 0, 'J'},
                                         {"output", 1, 0, 'o'},
                                         {"wait", 1, 0, 'w'},
                                         {"script", 0, 0, 'P'},
                                         {"from", 1, 0, 'f'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    sl_slurm_opts o = {0};
    const char *join = NULL;
    char join_abs[PATH_MAX];
    const char **groups = NULL, **sbatch = NULL;
    size_t ng = 0, nsb = 0;
    const char *ctl = NULL, *from = NULL, *drain = NULL;
    int wait_s = 0, print_script = 0, c, group_by_node = -1, exclusive = -1;
    while ((c = getopt_long(argc, argv, "hn:N:p:t:q:A:C:", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
        case 'N':
            o.nodes = atoi(optarg);
            if (o.nodes < 1) goto bad_nodes;
            break;
        case 'H':
            if (parse_het(optarg, &o.het_ingest, &o.nodes) < 0) {
                fprintf(stderr,
                        "sluice slurm up: --het wants INGEST:COMPUTE node counts, "
                        "e.g. --het 1:4 (got '%s')\n",
                        optarg);
                return 2;
            }
            break;
        case 'p':
            o.partition = optarg;
            break;
        case 't':
            o.time = optarg;
            break;
        case 'q':
            o.qos = optarg;
            break;
        case 'r':
            o.reservation = optarg;
            break;
        case 'A':
            o.account = optarg;
            break;
        case 'C':
            o.constraint = optarg;
            break;
        case 'x':
            exclusive = 0;
            break;
        case 'S':
            sbatch = sl_xrealloc(sbatch, (nsb + 1) * sizeof *sbatch);
            sbatch[nsb++] = optarg;
            break;
        case 'g':
            split_groups(optarg, &groups, &ng);
            break;
        case 'G':
            group_by_node = 1;
            break;
        case 'd':
            drain = optarg;
            break;
        case 'c':
            ctl = optarg;
            break;
        case 'I':
            o.controller_inside = 1;
            break;
        case 's':
            o.controller_state = optarg;
            break;
        case 'T':
            join = optarg;
            break;
        case 'm':
            o.mem_root = optarg;
            break;
        case 'D':
            o.ssd_root = optarg;
            break;
        case 'b':
            o.sluice = optarg;
            break;
        case 'J':
            o.job_name = optarg;
            break;
        case 'o':
            o.output = optarg;
            break;
        case 'w':
            wait_s = atoi(optarg);
            break;
        case 'P':
            print_script = 1;
            break;
        case 'f':
            from = optarg;
            break;
        case 'h':
            return sl_cli_usage(USAGE_UP, 0);
        default:
            return sl_cli_usage(USAGE_UP, 1);
        }
    }
    if (optind != argc) return sl_cli_usage(USAGE_UP, 1);

    /* cluster.slurm of a pipeline file: defaults the command line overrides */
    sl_pipeline *p = NULL;
    sl_err e = {0};
    int64_t drain_ms = 120000;
    if (from) {
        sl_varsrc src = {.use_environ = 1};
        p = sl_pipeline_load(from, &src, &e);
        if (!p) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        const sl_cluster_slurm *y = &p->slurm;
        if (!y->present) {
            fprintf(stderr, "sluice slurm up: %s has no cluster.slurm section\n", from);
            sl_pipeline_free(p);
            return 1;
        }
        if (!o.nodes) {
            o.nodes = y->nodes;
            if (!o.het_ingest) o.het_ingest = y->het_ingest;
        }
#define DEF(f)                                                                                     \
    if (!o.f) o.f = y->f
        DEF(partition);
        DEF(time);
        DEF(qos);
        DEF(reservation);
        DEF(account);
        DEF(constraint);
        DEF(mem_root);
        DEF(ssd_root);
#undef DEF
        if (exclusive < 0 && y->exclusive >= 0) exclusive = y->exclusive;
        if (group_by_node < 0) group_by_node = y->group_by_node;
        if (!ng)
            for (size_t i = 0; i < y->ngroups; i++) {
                groups = sl_xrealloc(groups, (ng + 1) * sizeof *groups);
                groups[ng++] = y->groups[i];
            }
        for (size_t i = 0; i < y->nsbatch; i++) {
            sbatch = sl_xrealloc(sbatch, (nsb + 1) * sizeof *sbatch);
            sbatch[nsb++] = y->sbatch[i];
        }
        if (!drain && y->drain_ms >= 0) drain_ms = y->drain_ms;
    }
    int rc = 1;
    if (drain && sl_parse_duration_ms(drain, &drain_ms, &e) < 0) {
        fprintf(stderr, "sluice slurm up: --drain: %s\n", e.msg);
        goto out;
    }
    if (!o.nodes) {
        fprintf(stderr, "sluice slurm up: say how many nodes: --nodes N (or cluster.slurm.nodes "
                        "with --from FILE)\n");
        rc = 2;
        goto out;
    }
    o.exclusive = exclusive != 0; /* default: whole nodes */
    o.group_by_node = group_by_node > 0;
    o.groups = groups;
    o.ngroups = ng;
    o.sbatch = sbatch;
    o.nsbatch = nsb;
    o.drain_s = (int)((drain_ms + 999) / 1000);
    o.controller = o.controller_inside ? (ctl ? ctl : "0.0.0.0:7470") : sl_cli_controller(ctl);
    /* the agents' join credential: a file the nodes can read, never the
     * credential itself in the script (a controller inside the job makes
     * its own in --controller-state) */
    if (!join && !o.controller_inside) join = getenv("SLUICE_JOIN_TOKEN_FILE");
    char *state_join = NULL;
    if ((!join || !*join) && !o.controller_inside && getenv("SLUICE_STATE"))
        join = state_join = sl_xasprintf("%s/secrets/join.token", getenv("SLUICE_STATE"));
    if (join && *join) {
        if (!realpath(join, join_abs)) {
            fprintf(stderr, "sluice slurm up: join credential %s: %s\n", join, strerror(errno));
            free(state_join);
            goto out;
        }
        o.join_token_file = join_abs;
    } else if (!o.controller_inside) {
        fprintf(stderr, "sluice slurm up: agents need the controller's join credential: give "
                        "--join-token-file (its STATE/secrets/join.token), "
                        "$SLUICE_JOIN_TOKEN_FILE or $SLUICE_STATE\n");
        goto out;
    }
    free(state_join);
    char self[PATH_MAX];
    if (!o.sluice) {
        ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
        if (k <= 0) {
            fprintf(stderr, "sluice slurm up: cannot find my own path; give --sluice PATH\n");
            goto out;
        }
        self[k] = 0;
        o.sluice = self;
    }
    sl_buf script = SL_BUF_INIT;
    if (sl_slurm_render_script(&o, &script, &e) < 0) {
        fprintf(stderr, "sluice slurm up: %s\n", e.msg);
        rc = 2; /* invalid input */
        goto out;
    }
    if (print_script) {
        fputs(script.data, stdout);
        sl_buf_free(&script);
        rc = 0;
        goto out;
    }
    if (!o.controller_inside &&
        (!strncmp(o.controller, "127.", 4) || !strncmp(o.controller, "localhost:", 10)))
        fprintf(stderr,
                "sluice slurm up: note: agents dial %s, which only works when the Slurm "
                "nodes are this machine (a test cluster); on a real cluster give an "
                "address the nodes can reach\n",
                o.controller);
    double since = (double)time(NULL);
    char *sargv[] = {"sbatch", "--parsable", NULL};
    sl_buf out = SL_BUF_INIT;
    int st = sl_slurm_exec(sargv, script.data, &out, &e);
    sl_buf_free(&script);
    int64_t id = 0;
    if (st > 0)
        fprintf(stderr, "sluice slurm up: sbatch failed (exit %d); its message is above\n", st);
    else if (st < 0 || sl_slurm_parse_sbatch(out.data ? out.data : "", &id, &e) < 0)
        fprintf(stderr, "sluice slurm up: %s\n", e.msg);
    sl_buf_free(&out);
    if (id <= 0) goto out;
    printf("submitted Slurm job %lld: %d%s node(s), agents -> %s%s\n", (long long)id,
           o.nodes + o.het_ingest, o.het_ingest ? " (het)" : "", o.controller,
           o.controller_inside ? " (controller inside the job)" : "");
    fflush(stdout);
    rc = 0;
    if (wait_s > 0 && !o.controller_inside) {
        char *comment = sl_slurm_comment(&o);
        if (wait_agents(o.controller, comment, id, since, wait_s, &e) < 0) {
            fprintf(stderr, "sluice slurm up: %s\n", e.msg);
            rc = 1;
        }
        free(comment);
    }
out:
    free(groups);
    free(sbatch);
    sl_pipeline_free(p);
    return rc;
bad_nodes:
    fprintf(stderr, "sluice slurm up: --nodes must be a positive count (got '%s')\n", optarg);
    return 2;
}

/* ---- status ------------------------------------------------------------------- */

static int parse_common(int argc, char **argv, const char *usage, const char **ctl, int *all,
                        int *json, int64_t **ids, size_t *nids, int *timeout_s)
{
    static const struct option opts[] = {
        {"controller", 1, 0, 'c'}, {"all", 0, 0, 'a'},  {"json", 0, 0, 'j'}, {"job", 1, 0, 'J'},
        {"timeout", 1, 0, 't'},    {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *ctl = optarg;
            break;
        case 'a':
            *all = 1;
            break;
        case 'j':
            if (!json) return sl_cli_usage(usage, 1);
            *json = 1;
            break;
        case 'J':
            if (!ids) return sl_cli_usage(usage, 1);
            *ids = sl_xrealloc(*ids, (*nids + 1) * sizeof **ids);
            (*ids)[(*nids)++] = strtoll(optarg, NULL, 10);
            break;
        case 't':
            if (!timeout_s) return sl_cli_usage(usage, 1);
            *timeout_s = atoi(optarg);
            break;
        case 'h':
            return sl_cli_usage(usage, 0);
        default:
            return sl_cli_usage(usage, 1);
        }
    }
    if (optind != argc) return sl_cli_usage(usage, 1);
    return -1;
}

static char *own_comment(const char *addr, int all)
{
    return all ? NULL : sl_xasprintf("sluice:%s", addr);
}

static int slurm_status(int argc, char **argv)
{
    const char *ctl = NULL;
    int all = 0, json = 0;
    int prc = parse_common(argc, argv, USAGE_STATUS, &ctl, &all, &json, NULL, NULL, NULL);
    if (prc >= 0) return prc;
    const char *addr = sl_cli_controller(ctl);
    char *comment = own_comment(addr, all);
    sl_err e = {0};
    sl_slurm_job *jobs = NULL;
    int n = squeue_jobs(SL_SLURM_JOB_NAME, comment, &jobs, &e);
    free(comment);
    if (n < 0) {
        fprintf(stderr, "sluice slurm status: %s\n", e.msg);
        return 1;
    }
    sl_err he = {0};
    Sluice__V1__HostsReply *h = fetch_hosts(addr, &he);
    sl_buf b = SL_BUF_INIT;
    if (json) {
        sl_buf_puts(&b, "{\"jobs\":[");
        for (int i = 0; i < n; i++) {
            sl_buf_printf(&b, "%s{\"id\":", i ? "," : "");
            sl_buf_json_str(&b, jobs[i].id);
            sl_buf_printf(&b, ",\"job_id\":%lld,\"name\":", (long long)jobs[i].job_id);
            sl_buf_json_str(&b, jobs[i].name);
            sl_buf_puts(&b, ",\"state\":");
            sl_buf_json_str(&b, jobs[i].state);
            sl_buf_printf(&b, ",\"nodes\":%d,\"nodelist\":", jobs[i].nodes);
            sl_buf_json_str(&b, jobs[i].nodelist);
            sl_buf_puts(&b, ",\"elapsed\":");
            sl_buf_json_str(&b, jobs[i].elapsed);
            sl_buf_puts(&b, ",\"limit\":");
            sl_buf_json_str(&b, jobs[i].limit);
            sl_buf_puts(&b, "}");
        }
        sl_buf_puts(&b, "],\"hosts\":[");
        for (size_t i = 0; h && i < h->n_hosts; i++) {
            sl_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
            sl_buf_json_str(&b, h->hosts[i]->name);
            sl_buf_puts(&b, ",\"state\":");
            sl_buf_json_str(&b, h->hosts[i]->state);
            sl_buf_puts(&b, "}");
        }
        sl_buf_puts(&b, "]}\n");
        fputs(b.data, stdout);
    } else {
        printf("%-10s %-16s %-10s %5s %-10s %-10s %s\n", "JOBID", "NAME", "STATE", "NODES",
               "ELAPSED", "LIMIT", "NODELIST");
        for (int i = 0; i < n; i++)
            printf("%-10s %-16s %-10s %5d %-10s %-10s %s\n", jobs[i].id, jobs[i].name,
                   jobs[i].state, jobs[i].nodes, jobs[i].elapsed, jobs[i].limit, jobs[i].nodelist);
        if (!n) printf("(no sluice agent jobs%s)\n", all ? "" : " for this controller");
        if (h) {
            int up = 0;
            for (size_t i = 0; i < h->n_hosts; i++)
                up += !strcmp(h->hosts[i]->state, "up");
            printf("\ncontroller %s: %d host(s) up of %zu known\n", addr, up, h->n_hosts);
            for (size_t i = 0; i < h->n_hosts; i++)
                printf("  %-20s %s\n", h->hosts[i]->name, h->hosts[i]->state);
        } else {
            printf("\ncontroller %s: %s\n", addr, he.msg);
        }
    }
    sl_buf_free(&b);
    if (h) sluice__v1__hosts_reply__free_unpacked(h, NULL);
    sl_slurm_jobs_free(jobs, n);
    return 0;
}

/* ---- down --------------------------------------------------------------------- */

static int slurm_down(int argc, char **argv)
{
    const char *ctl = NULL;
    int all = 0, timeout_s = 120;
    int64_t *ids = NULL;
    size_t nids = 0;
    int prc = parse_common(argc, argv, USAGE_DOWN, &ctl, &all, NULL, &ids, &nids, &timeout_s);
    if (prc >= 0) {
        free(ids);
        return prc;
    }
    const char *addr = sl_cli_controller(ctl);
    char *comment = own_comment(addr, all);
    sl_err e = {0};
    sl_slurm_job *jobs = NULL;
    int n = squeue_jobs(SL_SLURM_JOB_NAME, comment, &jobs, &e);
    int rc = 1;
    char **cargv = NULL;
    size_t nc = 0;
    if (n < 0) {
        fprintf(stderr, "sluice slurm down: %s\n", e.msg);
        goto out;
    }
    cargv = sl_xcalloc((size_t)n + 2, sizeof *cargv);
    cargv[nc++] = sl_xstrdup("scancel");
    int64_t *victims = sl_xcalloc((size_t)n + 1, sizeof *victims);
    size_t nv = 0;
    for (int i = 0; i < n; i++) {
        int wanted = !nids;
        for (size_t k = 0; k < nids; k++)
            wanted |= ids[k] == jobs[i].job_id;
        int dup = 0;
        for (size_t k = 0; k < nv; k++)
            dup |= victims[k] == jobs[i].job_id;
        if (!wanted || dup) continue;
        victims[nv++] = jobs[i].job_id;
        cargv[nc++] = sl_xasprintf("%lld", (long long)jobs[i].job_id);
    }
    sl_slurm_jobs_free(jobs, n);
    if (!nv) {
        printf("no sluice agent jobs to cancel\n");
        rc = 0;
        free(victims);
        goto out;
    }
    int st = sl_slurm_exec(cargv, NULL, NULL, &e);
    if (st != 0) {
        fprintf(stderr, "sluice slurm down: scancel failed%s%s\n", st < 0 ? ": " : "",
                st < 0 ? e.msg : "");
        free(victims);
        goto out;
    }
    printf("cancelled %zu job(s); waiting until Slurm ended them\n", nv);
    fflush(stdout);
    int64_t end = sl_mono_ms() + (int64_t)timeout_s * 1000;
    size_t left = nv;
    while (left && sl_mono_ms() < end) {
        sl_slurm_job *now = NULL;
        int m = squeue_jobs(SL_SLURM_JOB_NAME, comment, &now, &e);
        if (m < 0) break;
        left = 0;
        for (int i = 0; i < m; i++)
            for (size_t k = 0; k < nv; k++)
                if (now[i].job_id == victims[k]) {
                    left++;
                    break;
                }
        sl_slurm_jobs_free(now, m);
        if (left) sl_sleep_ms(250);
    }
    free(victims);
    if (left) {
        fprintf(stderr, "sluice slurm down: %zu job(s) still listed after %d s\n", left, timeout_s);
        goto out;
    }
    printf("all %zu job(s) ended: no agents left\n", nv);
    rc = 0;
out:
    for (size_t i = 0; i < nc; i++)
        free(cargv[i]);
    free(cargv);
    free(comment);
    free(ids);
    return rc;
}

int cmd_slurm(int argc, char **argv)
{
    if (argc < 2) return sl_cli_usage(USAGE, 1);
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))
        return sl_cli_usage(USAGE, 0);
    if (!strcmp(sub, "up")) return slurm_up(argc - 1, argv + 1);
    if (!strcmp(sub, "status")) return slurm_status(argc - 1, argv + 1);
    if (!strcmp(sub, "down")) return slurm_down(argc - 1, argv + 1);
    fprintf(stderr, "sluice slurm: unknown command '%s' (up, status, down)\n", sub);
    return 2;
}
