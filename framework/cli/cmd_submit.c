/* cmd_submit.c - `sluice submit` and `sluice validate`: read a pipeline
 * file, validate it here (errors point at file:line:col before anything is
 * sent), then hand its text and the variables it used to the controller. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"
#include "pipeline/template.h"
#include <unistd.h>

static char *slurp(const char *path, size_t *len, sl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sl_errf(err, SL_EIO, "cannot read %s: %m", path);
        return NULL;
    }
    sl_buf b = SL_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        sl_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    return sl_buf_steal(&b);
}

int64_t sl_cli_submit_file(sl_rpc_client *c, const char *addr, const char *file,
                           const char *env_file, int quiet)
{
    sl_err e = {0};
    size_t len;
    char *text = slurp(file, &len, &e);
    if (!text) {
        fprintf(stderr, "sluice: %s\n", e.msg);
        return -2;
    }
    sl_varsrc src = {.use_environ = 1, .env_file = env_file};
    sl_pipeline *p = sl_pipeline_parse(file, text, len, &src, &e);
    if (!p) {
        fprintf(stderr, "%s\n", e.msg);
        free(text);
        return -2;
    }
    Sluice__V1__SubmitRequest req = SLUICE__V1__SUBMIT_REQUEST__INIT;
    req.file = (char *)file;
    req.yaml = text;
    Sluice__V1__Var *vs = sl_xcalloc(p->nvars ? p->nvars : 1, sizeof *vs);
    Sluice__V1__Var **vp = sl_xcalloc(p->nvars ? p->nvars : 1, sizeof *vp);
    for (size_t i = 0; i < p->nvars; i++) {
        sluice__v1__var__init(&vs[i]);
        vs[i].name = p->vars[i].key;
        vs[i].value = p->vars[i].value;
        vp[i] = &vs[i];
    }
    req.vars = vp;
    req.n_vars = p->nvars;
    Sluice__V1__SubmitReply *rep = NULL;
    int64_t id = -1;
    if (SL_CALL(c, "Submit", submit_request, &req, submit_reply, rep, 60000, &e) < 0) {
        sl_cli_report(addr, &e);
    } else {
        id = rep->pipeline_id;
        if (!quiet)
            printf("submitted pipeline '%s' as #%lld with %lld initial task(s)\n",
                   rep->name[0] ? rep->name : p->name, (long long)id,
                   (long long)rep->tasks_created);
        sluice__v1__submit_reply__free_unpacked(rep, NULL);
    }
    free(vs);
    free(vp);
    sl_pipeline_free(p);
    free(text);
    return id;
}

static const char USAGE[] =
    "usage: sluice submit [--controller ADDR] [--env-file FILE] [--json] FILE.yaml\n\n"
    "Validates FILE.yaml (${VAR} from the environment and --env-file) and\n"
    "submits it to the controller. Prints the pipeline id.\n"
    "Exit status: 0 submitted, 1 the controller refused or is unreachable,\n"
    "2 misuse or an invalid FILE.yaml.\n";

int cmd_submit(int argc, char **argv)
{
    static const struct option opts[] = {{"controller", 1, 0, 'c'},
                                         {"env-file", 1, 0, 'e'},
                                         {"json", 0, 0, 'j'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *ctl = NULL, *env_file = NULL;
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctl = optarg;
            break;
        case 'e':
            env_file = optarg;
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
    const char *addr = sl_cli_controller(ctl);
    sl_rpc_client *cl = sl_cli_connect(addr);
    int64_t id = sl_cli_submit_file(cl, addr, argv[optind], env_file, json);
    sl_rpc_client_free(cl);
    if (id < 0) return id == -2 ? 2 : 1; /* an invalid file is the caller's to fix */
    if (json) printf("{\"pipeline_id\":%lld}\n", (long long)id);
    return 0;
}

static const char VUSAGE[] =
    "usage: sluice validate [--env-file FILE] [--list] [--limit N] FILE.yaml...\n\n"
    "Checks pipeline files without running them; errors are printed as\n"
    "file:line:col: what is wrong. Exit status 1 if any file is invalid.\n"
    "A stage command whose program is not on PATH (runtime process or bwrap)\n"
    "is a warning (file:line:col: warning: ...), not an error: the agents'\n"
    "hosts may have it. --list also prints the tasks the initial messages\n"
    "make, one 'STAGE KEY' line each: the first N (--limit, default 1000) of\n"
    "each message, then how many more.\n";

/* 1 if prog can be run: a path (with '/') that exists, relative to the
 * working directory or to the YAML file's directory, or a name found in
 * PATH (the stage's own env: PATH if it sets one) or beside this sluice
 * binary (agents put their own directory first in PATH). */
static int validate_program_found(const sl_stage *s, const char *yaml_file)
{
    const char *prog = s->command[0];
    if (strchr(prog, '/')) {
        if (access(prog, X_OK) == 0) return 1;
        if (prog[0] == '/') return 0;
        const char *slash = strrchr(yaml_file, '/');
        if (!slash) return 0;
        char buf[4096];
        snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - yaml_file), yaml_file, prog);
        return access(buf, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    for (size_t i = 0; i < s->nenv; i++)
        if (!strcmp(s->env[i].key, "PATH")) path = s->env[i].value;
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    char *cut = strrchr(self, '/');
    if (cut) *cut = 0;
    sl_buf dirs = SL_BUF_INIT;
    sl_buf_printf(&dirs, "%s:%s", self, path ? path : "/usr/bin:/bin");
    int found = 0;
    for (char *d = dirs.data, *end; d && !found; d = end ? end + 1 : NULL) {
        end = strchr(d, ':');
        if (end) *end = 0;
        char buf[4096];
        snprintf(buf, sizeof buf, "%s/%s", *d ? d : ".", prog);
        found = access(buf, X_OK) == 0;
    }
    sl_buf_free(&dirs);
    return found;
}

static void validate_warn_programs(const sl_pipeline *p)
{
    for (size_t i = 0; i < p->nstages; i++) {
        const sl_stage *s = &p->stages[i];
        if (!s->ncommand || (strcmp(s->runtime, "process") && strcmp(s->runtime, "bwrap")))
            continue;
        if (validate_program_found(s, p->file)) continue;
        fprintf(stderr,
                "%s:%d:%d: warning: command '%s' of stage '%s' is not found on PATH here "
                "(fine if the agents' hosts have it; otherwise give its path)\n",
                p->file, s->command_loc.line, s->command_loc.col, s->command[0], s->name);
    }
}

typedef struct {
    const char *stage;
    int64_t shown, limit;
} list_ctx;

static int list_key(void *ctx, const char *key)
{
    list_ctx *l = ctx;
    if (l->shown >= l->limit) return 1;
    printf("%s %s\n", l->stage, key);
    l->shown++;
    return 0;
}

/* The tasks the initial messages make: the first `limit` keys of each
 * message, then a count of the rest. */
static int validate_list(const sl_pipeline *p, int64_t limit)
{
    int64_t total = 0;
    for (size_t i = 0; i < p->nmessages; i++) {
        const sl_message *m = &p->messages[i];
        sl_err e = {0};
        int64_t count = sl_template_count(m->key, &e);
        if (count < 0) {
            fprintf(stderr, "%s:%d:%d: %s\n", p->file, m->loc.line, m->loc.col, e.msg);
            return 1;
        }
        list_ctx l = {m->to, 0, limit};
        if (sl_template_expand(m->key, NULL, list_key, &l, &e) < 0) {
            fprintf(stderr, "%s:%d:%d: %s\n", p->file, m->loc.line, m->loc.col, e.msg);
            return 1;
        }
        if (count > l.shown)
            printf("... and %lld more of message %zu (%lld keys to '%s')\n",
                   (long long)(count - l.shown), i + 1, (long long)count, m->to);
        total += count;
    }
    printf("%lld task key(s) from %zu initial message(s)\n", (long long)total, p->nmessages);
    return 0;
}

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {{"env-file", 1, 0, 'e'},
                                         {"list", 0, 0, 'l'},
                                         {"limit", 1, 0, 'n'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *env_file = NULL;
    int c, bad = 0, list = 0;
    int64_t limit = 1000;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            env_file = optarg;
            break;
        case 'l':
            list = 1;
            break;
        case 'n':
            limit = atoll(optarg);
            if (limit < 0) return sl_cli_usage(VUSAGE, 1);
            break;
        case 'h':
            return sl_cli_usage(VUSAGE, 0);
        default:
            return sl_cli_usage(VUSAGE, 1);
        }
    }
    if (optind >= argc) return sl_cli_usage(VUSAGE, 1);
    for (int i = optind; i < argc; i++) {
        sl_err e = {0};
        sl_varsrc src = {.use_environ = 1, .env_file = env_file};
        sl_pipeline *p = sl_pipeline_load(argv[i], &src, &e);
        if (!p) {
            fprintf(stderr, "%s\n", e.msg);
            bad = 2; /* invalid input (docs/cli.md) */
            continue;
        }
        validate_warn_programs(p);
        printf("%s: pipeline '%s' is valid: %zu stage(s), %zu initial message(s)\n", argv[i],
               p->name, p->nstages, p->nmessages);
        if (list && validate_list(p, limit) && !bad) bad = 1;
        sl_pipeline_free(p);
    }
    return bad;
}
