/* cmd_submit.c - `sluice submit` and `sluice validate`: read a pipeline
 * file, validate it here (errors point at file:line:col before anything is
 * sent), then hand its text and the variables it used to the controller. */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "pipeline/pipeline.h"

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
    "usage: sluice validate [--env-file FILE] FILE.yaml...\n\n"
    "Checks pipeline files without running them; errors are printed as\n"
    "file:line:col: what is wrong. Exit status 1 if any file is invalid.\n";

int cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"env-file", 1, 0, 'e'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *env_file = NULL;
    int c, bad = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            env_file = optarg;
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
            bad = 1;
            continue;
        }
        printf("%s: pipeline '%s' is valid: %zu stage(s), %zu initial message(s)\n", argv[i],
               p->name, p->nstages, p->nmessages);
        sl_pipeline_free(p);
    }
    return bad;
}
