/* cmd_run.c - `sluice run FILE.yaml`, the embedded default: one controller
 * and N local agents as child processes (real daemons, real sockets, SQLite
 * in a state directory), the pipeline submitted, progress shown, and the
 * exit status telling whether every task succeeded. Children are stopped by
 * the PIDs this command started, never by name. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "util/clock.h"
#include "util/fsutil.h"

extern char **environ;

static const char USAGE[] =
    "usage: sluice run [--agents N] [--state DIR] [--env-file FILE] [--lease-ttl D]\n"
    "                  [--quiet] [--keep] [--http] FILE.yaml\n\n"
    "Runs a pipeline on this machine: starts a controller and local agents\n"
    "(cluster.agents of the YAML, or --agents N, default 1), submits FILE.yaml,\n"
    "shows per-stage progress, waits, and exits 0 only if every task succeeded.\n"
    "State, logs and work dirs go to --state (default .sluice/NAME-TIMESTAMP);\n"
    "each agent's memory tier is /dev/shm/sluice-run-PID/AGENT (removed at the\n"
    "end unless --keep). --http serves the controller's status page and /metrics\n"
    "on a free port of 127.0.0.1 and prints its address.\n";

static volatile sig_atomic_t interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static pid_t spawn_self(const char *log, char *const *argv)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n < 0) sl_die(1, "cannot find my own executable: %s", strerror(errno));
    exe[n] = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) sl_die(1, "cannot start %s: %s", argv[1], strerror(rc));
    return pid;
}

static void stop_children(pid_t *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] > 0) kill(pids[i], SIGTERM);
    int64_t until = sl_mono_ms() + 5000;
    for (size_t i = 0; i < n; i++) {
        if (pids[i] <= 0) continue;
        while (waitpid(pids[i], NULL, WNOHANG) == 0) {
            if (sl_mono_ms() > until) {
                kill(pids[i], SIGKILL);
                waitpid(pids[i], NULL, 0);
                break;
            }
            sl_sleep_ms(10);
        }
    }
}

static void show_failures(sl_rpc_client *cl, int64_t pid)
{
    Sluice__V1__ListTasksRequest req = SLUICE__V1__LIST_TASKS_REQUEST__INIT;
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)pid);
    req.pipeline = id;
    req.state = (char *)"failed";
    req.limit = 5;
    Sluice__V1__ListTasksReply *rep = NULL;
    sl_err e = {0};
    if (SL_CALL(cl, "ListTasks", list_tasks_request, &req, list_tasks_reply, rep, 10000, &e) < 0)
        return;
    for (size_t i = 0; i < rep->n_tasks; i++) {
        const Sluice__V1__TaskInfo *t = rep->tasks[i];
        fprintf(stderr, "failed: %s %s (task %lld, exit %d on %s) - see: sluice logs %lld\n",
                t->stage, t->key, (long long)t->id, t->exit_code, t->host, (long long)t->id);
    }
    sluice__v1__list_tasks_reply__free_unpacked(rep, NULL);
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"agents", 1, 0, 'n'},    {"state", 1, 0, 's'}, {"env-file", 1, 0, 'e'},
        {"lease-ttl", 1, 0, 't'}, {"quiet", 0, 0, 'q'}, {"keep", 0, 0, 'k'},
        {"http", 0, 0, 'H'},      {"help", 0, 0, 'h'},  {0, 0, 0, 0}};
    int nagents = 0, quiet = 0, keep = 0, http = 0, c;
    const char *state = NULL, *env_file = NULL, *ttl = "10s";
    while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            nagents = atoi(optarg);
            break;
        case 's':
            state = optarg;
            break;
        case 'e':
            env_file = optarg;
            break;
        case 't':
            ttl = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'k':
            keep = 1;
            break;
        case 'H':
            http = 1;
            break;
        case 'h':
            return sl_cli_usage(USAGE, 0);
        default:
            return sl_cli_usage(USAGE, 1);
        }
    }
    if (optind != argc - 1) return sl_cli_usage(USAGE, 1);
    const char *file = argv[optind];
    sl_err e = {0};
    sl_varsrc src = {.use_environ = 1, .env_file = env_file};
    sl_pipeline *p = sl_pipeline_load(file, &src, &e);
    if (!p) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    /* agents: --agents N overrides cluster.agents; names local-1..N */
    size_t n = nagents > 0 ? (size_t)nagents : p->nagents ? p->nagents : 1;
    char *sdir;
    if (state) {
        sdir = sl_xstrdup(state);
    } else {
        char ts[32];
        time_t now = time(NULL);
        strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", localtime(&now));
        mkdir(".sluice", 0755);
        sdir = sl_xasprintf(".sluice/%s-%s-%d", p->name, ts, (int)getpid());
    }
    if (mkdir(sdir, 0755) < 0 && errno != EEXIST)
        sl_die(1, "cannot create state directory %s: %s", sdir, strerror(errno));
    char *shm = sl_xasprintf("/dev/shm/sluice-run-%d", (int)getpid());
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    pid_t *pids = sl_xcalloc(n + 1, sizeof *pids);
    char *addr_file = sl_xasprintf("%s/controller.addr", sdir);
    unlink(addr_file);
    char *clog = sl_xasprintf("%s/controller.log", sdir);
    char *cargv[] = {(char *)"sluice",
                     (char *)"controller",
                     (char *)"--state",
                     sdir,
                     (char *)"--listen",
                     (char *)"127.0.0.1:0",
                     (char *)"--addr-file",
                     addr_file,
                     (char *)"--lease-ttl",
                     (char *)ttl,
                     http ? (char *)"--http" : NULL,
                     (char *)"127.0.0.1:0",
                     NULL};
    pids[0] = spawn_self(clog, cargv);
    char addr[256] = "";
    for (int i = 0; i < 1000 && !addr[0]; i++) {
        FILE *f = fopen(addr_file, "r");
        if (f) {
            if (!fgets(addr, sizeof addr, f)) addr[0] = 0;
            fclose(f);
            addr[strcspn(addr, "\n")] = 0;
        }
        if (!addr[0]) {
            if (waitpid(pids[0], NULL, WNOHANG) == pids[0]) {
                pids[0] = 0;
                fprintf(stderr, "sluice: the controller exited at start; see %s\n", clog);
                return 1;
            }
            sl_sleep_ms(10);
        }
    }
    if (!addr[0]) {
        stop_children(pids, 1);
        sl_die(1, "the controller did not start within 10 s; see %s", clog);
    }
    /* the controller made its credentials on start (controller/secrets.h) */
    char *join = sl_xasprintf("%s/secrets/join.token", sdir);
    char *user = sl_xasprintf("%s/secrets/user.token", sdir);
    for (size_t i = 0; i < n; i++) {
        char *name =
            i < p->nagents ? sl_xstrdup(p->agents[i].name) : sl_xasprintf("local-%zu", i + 1);
        char *dir = sl_xasprintf("%s/agents/%s", sdir, name);
        char *mem = sl_xasprintf("%s/%s", shm, name);
        char *log = sl_xasprintf("%s/agent-%s.log", sdir, name);
        size_t ng = i < p->nagents ? p->agents[i].ngroups : 0;
        char **av = sl_xcalloc(14 + 2 * ng, sizeof *av);
        size_t k = 0;
        av[k++] = (char *)"sluice";
        av[k++] = (char *)"agent";
        av[k++] = (char *)"--controller";
        av[k++] = addr;
        av[k++] = (char *)"--name";
        av[k++] = name;
        av[k++] = (char *)"--dir";
        av[k++] = dir;
        av[k++] = (char *)"--mem";
        av[k++] = mem;
        av[k++] = (char *)"--join-token-file";
        av[k++] = join;
        for (size_t g = 0; g < ng; g++) {
            av[k++] = (char *)"--group";
            av[k++] = p->agents[i].groups[g];
        }
        av[k] = NULL;
        pids[i + 1] = spawn_self(log, av);
        free(av);
        free(name);
        free(dir);
        free(mem);
        free(log);
    }
    if (!quiet)
        printf("sluice run: controller %s, %zu agent(s), state in %s\n"
               "sluice run: other commands reach it with SLUICE_STATE=%s\n",
               addr, n, sdir, sdir);
    if (http && !quiet) { /* the controller wrote its http "host:port" beside the addr file */
        char *hf = sl_xasprintf("%s.http", addr_file);
        FILE *f = fopen(hf, "r");
        char line[256];
        if (f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            printf("sluice run: status page http://%s/ (metrics at /metrics)\n", line);
        }
        if (f) fclose(f);
        free(hf);
    }
    setenv("SLUICE_TOKEN_FILE", user, 1);
    sl_rpc_client *cl = sl_cli_connect(addr);
    int64_t id = sl_cli_submit_file(cl, addr, file, env_file, quiet);
    int rc = 1;
    if (id > 0) {
        Sluice__V1__StatusRequest req = SLUICE__V1__STATUS_REQUEST__INIT;
        char ids[32];
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        req.pipeline = ids;
        int tty = !quiet && sl_cli_tty();
        int64_t last_print = 0;
        size_t shown_lines = 0;
        for (int frame = 0; !interrupted; frame++) {
            Sluice__V1__StatusReply *rep = NULL;
            if (SL_CALL(cl, "Status", status_request, &req, status_reply, rep, 10000, &e) < 0) {
                sl_cli_report(addr, &e);
                break;
            }
            int finished = rep->n_pipelines && strcmp(rep->pipelines[0]->state, "running");
            int64_t now = sl_mono_ms();
            if (tty) {
                if (frame) printf("\033[%zuA\033[J", shown_lines);
                sl_cli_print_status(stdout, rep, 0);
                fflush(stdout);
                shown_lines = rep->n_pipelines
                                  ? rep->pipelines[0]->n_stages + 2 + rep->pipelines[0]->n_warnings
                                  : 0;
            } else if (!quiet && (finished || now - last_print >= 5000)) {
                sl_cli_print_status(stdout, rep, 0);
                fflush(stdout);
                last_print = now;
            }
            if (finished) {
                rc = strcmp(rep->pipelines[0]->state, "done") == 0 ? 0 : 1;
                sluice__v1__status_reply__free_unpacked(rep, NULL);
                break;
            }
            sluice__v1__status_reply__free_unpacked(rep, NULL);
            sl_sleep_ms(tty ? 250 : 100);
        }
        if (interrupted)
            fprintf(stderr, "sluice run: interrupted; stopping the controller and agents\n");
        else if (rc != 0)
            show_failures(cl, id);
    }
    sl_rpc_client_free(cl);
    stop_children(pids, n + 1);
    if (!keep) sl_rm_rf(shm);
    if (!quiet)
        printf("sluice run: pipeline %s; logs and state in %s\n", rc == 0 ? "succeeded" : "FAILED",
               sdir);
    free(pids);
    free(addr_file);
    free(join);
    free(user);
    free(clog);
    free(shm);
    free(sdir);
    sl_pipeline_free(p);
    return interrupted ? 130 : rc;
}
