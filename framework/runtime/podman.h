/* podman.h - the container engine podman.c and docker.c share: one pool of
 * slot containers per engine program (see podman.c for the lifecycle). */
#ifndef SL_RUNTIME_PODMAN_H
#define SL_RUNTIME_PODMAN_H

#include <stdint.h>
#include <sys/types.h>

#include "runtime/runtime.h"

typedef struct sl_cslot {
    char name[64]; /* sluice-<agentpid>-<n> (slot) or sluice-<agentpid>-r<n> (one-shot) */
    char *id;      /* container id (slots), for the OOM counter */
    char *key;     /* what makes two slots interchangeable */
    pid_t busy;    /* pid of the exec/run client of the running task, 0 = idle */
    int oneshot;   /* `run --rm` per task: gone when the task ends */
    int64_t memory, last_used;
    long oom_seen;
} sl_cslot;

typedef struct sl_cengine {
    const char *prog; /* "podman" or "docker" */
    int reuse;        /* -1 = not decided yet (SLUICE_CONTAINER_REUSE) */
    sl_cslot *slots;
    size_t nslots;
    unsigned next_id;
    pid_t *removing; /* background `rm -f` helpers shutdown waits for */
    size_t nremoving;
    char **images; /* images known to exist */
    size_t nimages;
    int fifo_fd;
    char *fifo_path, *init_path;
} sl_cengine;

#define SL_CENGINE_INIT(prog)                                                                      \
    {                                                                                              \
        prog, -1, NULL, 0, 0, NULL, 0, NULL, 0, -1, NULL, NULL                                     \
    }

int sl_cengine_start(sl_cengine *e, const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err);
void sl_cengine_finish(sl_cengine *e, pid_t pid, int status, int killed, char *note, size_t n);
void sl_cengine_shutdown(sl_cengine *e);

#endif
