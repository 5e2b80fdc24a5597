/* process.c - the built-in runtimes: `process` (the module runs as a plain
 * child process, the default) and `noop` (nothing runs; the task succeeds at
 * once, which measures the framework alone). Container runtimes register in
 * the same table (see runtime.h). */
#include <string.h>

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

static const sl_runtime RUNTIMES[] = {
    {"process", process_start},
    {"noop", noop_start},
};

const sl_runtime *sl_runtime_find(const char *name)
{
    if (!name || !*name)
        name = "process";
    for (size_t i = 0; i < sizeof RUNTIMES / sizeof RUNTIMES[0]; i++)
        if (strcmp(RUNTIMES[i].name, name) == 0)
            return &RUNTIMES[i];
    return NULL;
}
