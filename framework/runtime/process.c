/* process.c - the built-in runtimes and the runtime table: `process` (the
 * module runs as a plain child process, the default) and `noop` (nothing
 * runs; the task succeeds at once, which measures the framework alone). The
 * `model` runtime (model.c, a modelled duration and output size) and the
 * container runtimes (podman.c, docker.c, charliecloud.c, apptainer.c,
 * bwrap.c) register in the same table. */
#include <string.h>

#include "runtime/container.h"
#include "runtime/runtime.h"

static int process_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    *exit_code = 0;
    return sl_spawn(s->argv, s->envp, s->workdir, s->stdout_path, s->stderr_path, pid, err);
}

static int noop_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    (void)s;
    (void)err;
    *pid = 0;
    *exit_code = 0;
    return 0;
}

static const sl_runtime process_rt = {"process", process_start, NULL, NULL};
static const sl_runtime noop_rt = {"noop", noop_start, NULL, NULL};

static const sl_runtime *const RUNTIMES[] = {
    &process_rt,           &noop_rt,
    &sl_runtime_model,     &sl_runtime_podman,
    &sl_runtime_docker,    &sl_runtime_charliecloud,
    &sl_runtime_apptainer, &sl_runtime_singularity,
    &sl_runtime_bwrap,
};
#define NRUNTIMES (sizeof RUNTIMES / sizeof RUNTIMES[0])

const sl_runtime *sl_runtime_find(const char *name)
{
    if (!name || !*name) name = "process";
    for (size_t i = 0; i < NRUNTIMES; i++)
        if (strcmp(RUNTIMES[i]->name, name) == 0) return RUNTIMES[i];
    return NULL;
}

void sl_runtime_task_ended(pid_t pid, int wait_status, int killed, char *note, size_t notelen)
{
    if (note && notelen) note[0] = 0;
    for (size_t i = 0; i < NRUNTIMES; i++)
        if (RUNTIMES[i]->finish) RUNTIMES[i]->finish(pid, wait_status, killed, note, notelen);
}

void sl_runtime_shutdown_all(void)
{
    for (size_t i = 0; i < NRUNTIMES; i++)
        if (RUNTIMES[i]->shutdown) RUNTIMES[i]->shutdown();
}
