/* model.c - the `model` runtime: no module runs; the task takes a modelled
 * time and writes a modelled output, so a whole campaign's shape (task
 * counts, durations, output sizes, cache budgets) can go through the real
 * controller and agents on one small machine (bench/campaign.sh).
 *
 * Duration: SLUICE_MODEL_SECONDS from the stage's env: (decimal seconds;
 * 0 or unset: done at once); the agent waits for a `sleep` child, so the
 * task holds its slot like a real one. Output: when the stage declares
 * output_size (or SLUICE_MODEL_BYTES is set), a sparse file of that many
 * bytes is written into $SLUICE_OUT: the catalog sees the real size while
 * the file costs no memory or disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/buf.h"

static const char *env_get(char *const *envp, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; envp && envp[i]; i++)
        if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=') return envp[i] + n + 1;
    return NULL;
}

static int write_sparse(const char *dir, long long size, sl_err *err)
{
    char *path = sl_xasprintf("%s/model.out", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        rc = sl_errf(err, SL_EIO, "model runtime: cannot write %lld bytes to %s: %s", size, path,
                     strerror(errno));
    if (fd >= 0) close(fd);
    free(path);
    return rc;
}

static int model_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    *pid = 0;
    *exit_code = 0;
    const char *out = env_get(s->envp, "SLUICE_OUT");
    const char *bytes = env_get(s->envp, "SLUICE_MODEL_BYTES");
    long long size = bytes ? atoll(bytes) : s->stage ? (long long)s->stage->output_size : 0;
    if (size > 0 && out && *out && write_sparse(out, size, err) < 0) return SL_EIO;
    const char *secs = env_get(s->envp, "SLUICE_MODEL_SECONDS");
    double t = secs ? strtod(secs, NULL) : 0;
    if (!(t > 0)) return 0; /* finished at once */
    char arg[64];
    snprintf(arg, sizeof arg, "%.6f", t);
    char *argv[] = {(char *)"sleep", arg, NULL};
    return sl_spawn(argv, s->envp, s->workdir, s->stdout_path, s->stderr_path, pid, err);
}

const sl_runtime sl_runtime_model = {"model", model_start, NULL, NULL};
