/* apptainer.c - the apptainer and singularity runtimes (`apptainer exec`,
 * `singularity exec`). UNTESTED HERE: neither is packaged for Debian 12, so
 * this is the command line as documented by apptainer 1.x, shown in
 * docs/containers.md.
 *
 * The image is a .sif file or sandbox directory path, or a name such as
 * sluice/beam-maker:0.1.0 found as $SLUICE_SIF_DIR/sluice_beam-maker_0.1.0.sif
 * (default /var/tmp/sluice/sif). --containall gives a clean environment,
 * private /tmp, pid and ipc namespaces; the host network is kept (exec
 * without --net); the cache tiers and work root are bound at the same paths;
 * variables go in as APPTAINERENV_NAME (SINGULARITYENV_NAME), which survive
 * --cleanenv and need no quoting; --nv when the stage asks for GPUs. Like
 * ch-run, apptainer runs in the calling process group, so the agent's kill
 * on timeout or cancel reaches the module. */
#include "runtime/container.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_SIF_DIR "/var/tmp/sluice/sif"

static char *sif_path(const char *image)
{
    if (image[0] == '/' || image[0] == '.' || strstr(image, "://")) return sl_xstrdup(image);
    const char *dir = getenv("SLUICE_SIF_DIR");
    char *name = sl_xstrdup(image);
    for (char *p = name; *p; p++)
        if (*p == '/' || *p == ':') *p = '_';
    char *path = sl_xasprintf("%s/%s.sif", dir && *dir ? dir : DEFAULT_SIF_DIR, name);
    free(name);
    return path;
}

static int ap_start(const char *prog, const char *envprefix, const sl_run_spec *s, pid_t *pid,
                    int *exit_code, sl_err *err)
{
    *exit_code = 0;
    if (!s->stage->image || !s->stage->image[0])
        return sl_errf(err, SL_EINVAL, "stage has runtime %s but no image", prog);
    char *img = sif_path(s->stage->image);
    struct stat st;
    if (!strstr(img, "://") && stat(img, &st) < 0) {
        int rc = sl_errf(err, SL_ENOTFOUND,
                         "%s image %s not found (image %s); build it with: podman save -o "
                         "img.tar %s && %s build %s docker-archive:img.tar",
                         prog, img, s->stage->image, s->stage->image, prog, img);
        free(img);
        return rc;
    }
    char *work_root = sl_runtime_work_root(s->workdir);
    sl_argv a = {0};
    sl_argv_add(&a, prog);
    sl_argv_add(&a, "exec");
    sl_argv_add(&a, "--containall");
    const char *binds[] = {s->mem_root, s->ssd_root, work_root};
    for (size_t i = 0; i < 3; i++)
        if (binds[i] && binds[i][0]) sl_argv_addf(&a, "--bind=%s", binds[i]);
    sl_argv_addf(&a, "--pwd=%s", s->workdir);
    if (s->stage->cpus_milli > 0) {
        char c[32];
        sl_runtime_cpus_str(s->stage->cpus_milli, c, sizeof c);
        sl_argv_addf(&a, "--cpus=%s", c);
    }
    if (s->stage->memory > 0) sl_argv_addf(&a, "--memory=%lld", (long long)s->stage->memory);
    if (s->stage->ngpus > 0) sl_argv_add(&a, "--nv");
    sl_argv_add(&a, img);
    for (char *const *v = s->argv; *v; v++)
        sl_argv_add(&a, *v);
    sl_argv env = {0};
    for (char *const *e = s->envp; e && *e; e++) {
        if (!strncmp(*e, "PATH=", 5) || !strncmp(*e, "HOME=", 5) || !strncmp(*e, "USER=", 5))
            sl_argv_add(&env, *e);
        else if (sl_runtime_env_passes(s->stage, *e))
            sl_argv_addf(&env, "%s%s", envprefix, *e);
    }
    int rc = sl_spawn(a.v, env.v, s->workdir, s->stdout_path, s->stderr_path, pid, err);
    if (rc == SL_ENOTFOUND)
        rc = sl_errf(err, SL_ENOTFOUND,
                     "%s is not installed on this host (it is not packaged for Debian 12; see "
                     "docs/containers.md)",
                     prog);
    sl_argv_free(&a);
    sl_argv_free(&env);
    free(work_root);
    free(img);
    return rc;
}

static int apptainer_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    return ap_start("apptainer", "APPTAINERENV_", s, pid, exit_code, err);
}

static int singularity_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    return ap_start("singularity", "SINGULARITYENV_", s, pid, exit_code, err);
}

const sl_runtime sl_runtime_apptainer = {"apptainer", apptainer_start, NULL, NULL};
const sl_runtime sl_runtime_singularity = {"singularity", singularity_start, NULL, NULL};
