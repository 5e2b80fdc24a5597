/* container.c - helpers shared by the container runtimes (container.h):
 * argv building, environment filtering, short synchronous helper commands
 * and helper-binary lookup. The helper commands run with posix_spawn and are
 * waited for by pid, so they never confuse the agent's reaper (which only
 * acts on pids it started tasks with). */
#include "runtime/container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"

extern char **environ;

void sl_argv_add(sl_argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 32;
        a->v = sl_xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = sl_xstrdup(s);
    a->v[a->n] = NULL;
}

void sl_argv_addf(sl_argv *a, const char *fmt, ...)
{
    sl_buf b = SL_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sl_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    sl_argv_add(a, b.data ? b.data : "");
    sl_buf_free(&b);
}

void sl_argv_free(sl_argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

int sl_runtime_env_passes(const sl_stage *st, const char *entry)
{
    if (strncmp(entry, "SLUICE_", 7) == 0) return 1;
    const char *eq = strchr(entry, '=');
    size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
    for (size_t i = 0; st && i < st->nenv; i++)
        if (strlen(st->env[i].key) == n && strncmp(st->env[i].key, entry, n) == 0) return 1;
    return 0;
}

char *sl_runtime_work_root(const char *workdir)
{
    const char *slash = strrchr(workdir, '/');
    if (!slash || slash == workdir) return sl_xstrdup(workdir);
    return sl_xstrndup(workdir, (size_t)(slash - workdir));
}

void sl_runtime_cpus_str(int64_t cpus_milli, char *buf, size_t n)
{
    snprintf(buf, n, "%lld.%03lld", (long long)(cpus_milli / 1000), (long long)(cpus_milli % 1000));
}

static void read_all(int fd, sl_buf *b)
{
    char tmp[4096];
    ssize_t k;
    while ((k = read(fd, tmp, sizeof tmp)) > 0 || (k < 0 && errno == EINTR))
        if (k > 0) sl_buf_append(b, tmp, (size_t)k);
}

static void copy_trimmed(const char *s, char *dst, size_t n, int first_line)
{
    if (!dst || !n) return;
    while (*s == ' ' || *s == '\n' || *s == '\t')
        s++;
    size_t len = first_line ? strcspn(s, "\n") : strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r'))
        len--;
    if (len >= n) len = n - 1;
    memcpy(dst, s, len);
    dst[len] = 0;
}

int sl_runtime_run(char *const *argv, char *out, size_t outlen, char *errline, size_t errlen,
                   sl_err *err)
{
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) < 0) return sl_errf(err, SL_EIO, "pipe: %s", strerror(errno));
    if (pipe2(pe, O_CLOEXEC) < 0) {
        close(po[0]);
        close(po[1]);
        return sl_errf(err, SL_EIO, "pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    /* The agent blocks SIGCHLD/SIGTERM for its signalfd: give the helper
     * the default mask. */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return sl_errf(err, SL_ENOTFOUND, "cannot run %s: %s", argv[0], strerror(rc));
    }
    /* stdout is small (an id, a list of names); read it, then stderr. A
     * helper filling the stderr pipe while we wait on stdout would need
     * 64 KiB of complaints first. */
    sl_buf bo = SL_BUF_INIT, be = SL_BUF_INIT;
    read_all(po[0], &bo);
    read_all(pe[0], &be);
    close(po[0]);
    close(pe[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    copy_trimmed(bo.data ? bo.data : "", out, outlen, 0);
    copy_trimmed(be.data ? be.data : "", errline, errlen, 1);
    sl_buf_free(&bo);
    sl_buf_free(&be);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

pid_t sl_runtime_run_bg(char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc == 0 ? pid : -1;
}

char *sl_runtime_helper(const char *name)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            char *p = sl_xasprintf("%s/%s", self, name);
            if (access(p, X_OK) == 0) return p;
            free(p);
        }
    }
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t k = end ? (size_t)(end - path) : strlen(path);
        char *p = sl_xasprintf("%.*s/%s", (int)k, path, name);
        if (k && access(p, X_OK) == 0) return p;
        free(p);
        path += k + (end ? 1 : 0);
    }
    return NULL;
}
