/* runtime.h - the seam between the agent and whatever runs a task.
 *
 * A runtime turns a prepared task (argv, environment, work dir, log files)
 * into a running process group the agent can wait for and signal. The
 * process runtime execs the module directly; container runtimes (podman,
 * docker, charliecloud, apptainer, bwrap) wrap the same argv in their own
 * command line and may keep a container per slot. The agent only ever sees a
 * pid whose process group it can kill. */
#ifndef SL_RUNTIME_H
#define SL_RUNTIME_H

#include <sys/types.h>

#include "pipeline/pipeline.h"
#include "util/err.h"

typedef struct sl_run_spec {
    const sl_stage *stage;   /* image, cpus, memory, env ... */
    char *const *argv;       /* module argv: command..., key, headers */
    char *const *envp;       /* full environment of the module */
    const char *workdir;     /* private per attempt; the module's cwd */
    const char *stdout_path; /* created/truncated */
    const char *stderr_path;
    const char *mem_root, *ssd_root; /* cache tiers to bind at the same paths */
} sl_run_spec;

typedef struct sl_runtime {
    const char *name;
    /* Starts the task in a new process group; *pid is the group leader the
     * agent waits for. pid 0 with *exit_code set means it already finished
     * (the noop runtime). */
    int (*start)(const sl_run_spec *spec, pid_t *pid, int *exit_code, sl_err *err);
    /* Optional. The pid start() returned was reaped with this wait status;
     * `killed` is set when the agent killed it (timeout, cancel). A runtime
     * that keeps a container per slot returns the slot to its pool here, or
     * discards the container when what ran inside may still be running. It
     * may explain the end in note (e.g. out of memory), "" otherwise. */
    void (*finish)(pid_t pid, int wait_status, int killed, char *note, size_t notelen);
    /* Optional. Stops and removes everything the runtime keeps (slot
     * containers); called once by the agent when it stops. */
    void (*shutdown)(void);
} sl_runtime;

/* model.c: modelled duration and sparse output of a declared size. */
extern const sl_runtime sl_runtime_model;

/* The runtime registered under `name` ("process", "noop", ...), or NULL. */
const sl_runtime *sl_runtime_find(const char *name);
/* Calls every runtime's finish hook for a reaped task pid (runtimes ignore
 * pids they did not start); note gets the first explanation given. */
void sl_runtime_task_ended(pid_t pid, int wait_status, int killed, char *note, size_t notelen);
/* Calls every runtime's shutdown hook (agent exit). */
void sl_runtime_shutdown_all(void);

/* Spawns argv[0] (resolved through PATH from envp when it has no '/') as
 * the leader of a new process group that dies with the calling thread
 * (PR_SET_PDEATHSIG), with stdout/stderr redirected and cwd = workdir.
 * Uses clone(CLONE_VM|CLONE_VFORK) like posix_spawn: no page-table copy, so
 * the cost does not grow with the agent's memory. */
int sl_spawn(char *const *argv, char *const *envp, const char *workdir, const char *stdout_path,
             const char *stderr_path, pid_t *pid, sl_err *err);

#endif
