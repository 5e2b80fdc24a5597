/* container.h - what the container runtimes share (not for the agent).
 *
 * Every container runtime turns the same sl_run_spec into its own command
 * line: the cache tiers and the agent's work root bound at the same paths,
 * only the SLUICE_* variables and the stage's env: passed in, host
 * networking, the stage's cpus/memory/gpus, the image. These helpers build
 * such argv arrays, filter the environment, run short helper commands
 * (image checks, container creation) and locate sluice-init. */
#ifndef SL_RUNTIME_CONTAINER_H
#define SL_RUNTIME_CONTAINER_H

#include <stddef.h>

#include "runtime/runtime.h"

extern const sl_runtime sl_runtime_podman, sl_runtime_docker, sl_runtime_charliecloud,
    sl_runtime_apptainer, sl_runtime_singularity, sl_runtime_bwrap;

/* A NULL-terminated argv under construction (heap strings). */
typedef struct sl_argv {
    char **v;
    size_t n, cap;
} sl_argv;

void sl_argv_add(sl_argv *a, const char *s);
void sl_argv_addf(sl_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_argv_free(sl_argv *a);

/* True for the environment entries a container gets: SLUICE_* and the
 * names of the stage's env: (the agent's own environment stays outside). */
int sl_runtime_env_passes(const sl_stage *st, const char *entry);
/* The directory holding every work dir of this agent (parent of workdir):
 * a long-lived slot container binds it once and serves many tasks. */
char *sl_runtime_work_root(const char *workdir);
/* "1.500" for cpus_milli 1500. */
void sl_runtime_cpus_str(int64_t cpus_milli, char *buf, size_t n);

/* Runs argv to completion (envp: the agent's environment), stdout into out
 * (trimmed, may be NULL) and stderr's first line into errline (may be NULL).
 * Returns the exit status (0..255), 128+N for a signal, or negative with err
 * filled when the program could not be started. */
int sl_runtime_run(char *const *argv, char *out, size_t outlen, char *errline, size_t errlen,
                   sl_err *err);
/* Starts argv in the background (stdout/stderr to /dev/null) and returns its
 * pid, or -1; the agent's reaper collects it. */
pid_t sl_runtime_run_bg(char *const *argv);

/* Absolute path of a helper program installed beside the running binary
 * (build/bin/sluice-init), else found in PATH; NULL when missing. */
char *sl_runtime_helper(const char *name);

#endif
