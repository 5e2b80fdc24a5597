/* spawn.c - process creation for the agent (see sl_spawn in runtime.h).
 *
 * posix_spawn cannot set PR_SET_PDEATHSIG, and without it a SIGKILLed agent
 * leaves its modules running unsupervised. So this is posix_spawn's own
 * technique done by hand: clone with CLONE_VM|CLONE_VFORK on a small private
 * stack, where the child only makes async-signal-safe system calls on memory
 * prepared by the parent, then execve. The parent resumes once the child has
 * exec'd or failed; a failure's errno comes back through the shared struct. */
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"

#define SPAWN_STACK (64 * 1024)

typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *workdir, *out, *err;
    pid_t parent;
    int child_errno; /* written by the child before _exit(127) */
    const char *failed_step;
} spawn_args;

static int child_main(void *arg)
{
    spawn_args *a = arg;
    sigset_t none;
    sigemptyset(&none);
    /* The agent blocks signals for its signalfd and ignores SIGPIPE;
     * modules must start with the defaults. execve resets caught signals
     * by itself; only ignored ones survive it, and SIGPIPE is the only
     * signal the agent (and gRPC) ignores. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    sigprocmask(SIG_SETMASK, &none, NULL);
    a->failed_step = "setpgid";
    if (setpgid(0, 0) < 0) goto fail;
    a->failed_step = "prctl";
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) goto fail;
    if (getppid() != a->parent) /* the agent died before prctl took effect */
        _exit(127);
    a->failed_step = "chdir to the work dir";
    if (a->workdir && chdir(a->workdir) < 0) goto fail;
    int in = open("/dev/null", O_RDONLY);
    a->failed_step = "open stdout log";
    int out = a->out ? open(a->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (a->out && out < 0) goto fail;
    a->failed_step = "open stderr log";
    int er = a->err ? open(a->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    if (a->err && er < 0) goto fail;
    if (in >= 0) dup2(in, 0);
    if (out >= 0) dup2(out, 1);
    if (er >= 0) dup2(er, 2);
    a->failed_step = "exec";
    execve(a->path, a->argv, a->envp);
fail:
    a->child_errno = errno;
    _exit(127);
}

/* Finds prog in the PATH of envp (or the agent's own PATH). */
static char *resolve(const char *prog, char *const *envp)
{
    if (strchr(prog, '/')) return sl_xstrdup(prog);
    const char *path = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
    if (!path) path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        char *cand = sl_xasprintf("%.*s/%s", (int)n, path, prog);
        if (access(cand, X_OK) == 0) return cand;
        free(cand);
        path += n + (end ? 1 : 0);
    }
    return NULL;
}

int sl_spawn(char *const *argv, char *const *envp, const char *workdir, const char *stdout_path,
             const char *stderr_path, pid_t *pid, sl_err *err)
{
    if (!argv || !argv[0]) return sl_errf(err, SL_EINVAL, "empty command");
    char *path = resolve(argv[0], envp);
    if (!path) return sl_errf(err, SL_ENOTFOUND, "command '%s' not found in PATH", argv[0]);
    spawn_args a = {path, argv, envp, workdir, stdout_path, stderr_path, getpid(), 0, NULL};
    char *stack = sl_xmalloc(SPAWN_STACK);
    pid_t p = clone(child_main, stack + SPAWN_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    int clone_errno = errno;
    free(stack);
    if (p < 0) {
        free(path);
        return sl_errf(err, SL_EIO, "cannot start '%s': clone: %s", argv[0], strerror(clone_errno));
    }
    if (a.child_errno) {
        int st;
        waitpid(p, &st, 0);
        sl_errf(err, SL_EIO, "cannot start '%s': %s: %s", path, a.failed_step,
                strerror(a.child_errno));
        free(path);
        return SL_EIO;
    }
    free(path);
    *pid = p;
    return 0;
}
