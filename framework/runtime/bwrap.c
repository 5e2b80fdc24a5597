/* bwrap.c - the bwrap runtime: a light sandbox for plain host programs.
 *
 * No image: the module is the host's program, run by bubblewrap in fresh
 * namespaces (mount, pid, ipc, uts, user) with the host network kept for
 * the data plane. It sees the host's /usr and the few /etc files programs
 * need (loader cache, name resolution, certificates), the directory of its
 * own executable read-only, the cache tiers and its work dir read-write at
 * the same paths, private /tmp, /proc and /dev, and only the SLUICE_* and
 * stage env: variables (plus PATH). bwrap runs as the task's process-group
 * leader and its child dies with it, so the agent's kill on timeout or
 * cancel reaches everything. cpus/memory are not enforced (no cgroups). */
#include "runtime/container.h"
#include "util/buf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const ETC_FILES[] = {
    "/etc/ld.so.cache", "/etc/ld.so.conf",  "/etc/ld.so.conf.d",    "/etc/alternatives",
    "/etc/hosts",       "/etc/resolv.conf", "/etc/nsswitch.conf",   "/etc/passwd",
    "/etc/group",       "/etc/ssl",         "/etc/ca-certificates", "/etc/localtime",
    "/etc/gai.conf",    "/etc/host.conf",
};

/* /bin, /lib ... are symlinks into /usr on merged-/usr systems. */
static void top_dir(sl_argv *a, const char *path)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = 0;
        sl_argv_add(a, "--symlink");
        sl_argv_add(a, target);
        sl_argv_add(a, path);
    } else {
        sl_argv_add(a, "--ro-bind-try");
        sl_argv_add(a, path);
        sl_argv_add(a, path);
    }
}

static char *resolve_cmd(const char *prog, char *const *envp)
{
    if (strchr(prog, '/')) return realpath(prog, NULL);
    const char *path = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t k = end ? (size_t)(end - path) : strlen(path);
        char *cand = sl_xasprintf("%.*s/%s", (int)k, path, prog);
        if (k && access(cand, X_OK) == 0) {
            char *r = realpath(cand, NULL);
            free(cand);
            return r;
        }
        free(cand);
        path += k + (end ? 1 : 0);
    }
    return NULL;
}

static int bwrap_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    *exit_code = 0;
    char *cmd = resolve_cmd(s->argv[0], s->envp);
    if (!cmd) return sl_errf(err, SL_ENOTFOUND, "command '%s' not found in PATH", s->argv[0]);
    sl_argv a = {0};
    sl_argv_add(&a, "bwrap");
    sl_argv_add(&a, "--unshare-all");
    sl_argv_add(&a, "--share-net");
    sl_argv_add(&a, "--die-with-parent");
    sl_argv_add(&a, "--new-session");
    sl_argv_add(&a, "--ro-bind");
    sl_argv_add(&a, "/usr");
    sl_argv_add(&a, "/usr");
    const char *tops[] = {"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
        if (access(tops[i], F_OK) == 0) top_dir(&a, tops[i]);
    for (size_t i = 0; i < sizeof ETC_FILES / sizeof ETC_FILES[0]; i++) {
        sl_argv_add(&a, "--ro-bind-try");
        sl_argv_add(&a, ETC_FILES[i]);
        sl_argv_add(&a, ETC_FILES[i]);
    }
    sl_argv_add(&a, "--proc");
    sl_argv_add(&a, "/proc");
    sl_argv_add(&a, "--dev");
    sl_argv_add(&a, "/dev");
    sl_argv_add(&a, "--tmpfs");
    sl_argv_add(&a, "/tmp");
    char *dir = sl_xstrdup(cmd);
    *strrchr(dir, '/') = 0;
    if (strncmp(dir, "/usr/", 5) && dir[0]) { /* the module's own directory */
        sl_argv_add(&a, "--ro-bind");
        sl_argv_add(&a, dir);
        sl_argv_add(&a, dir);
    }
    free(dir);
    const char *binds[] = {s->mem_root, s->ssd_root, s->workdir};
    for (size_t i = 0; i < 3; i++)
        if (binds[i] && binds[i][0]) {
            sl_argv_add(&a, "--bind");
            sl_argv_add(&a, binds[i]);
            sl_argv_add(&a, binds[i]);
        }
    for (size_t i = 0; i < s->stage->ngpus; i++) {
        sl_argv_add(&a, "--dev-bind-try");
        sl_argv_add(&a, s->stage->gpus[i]);
        sl_argv_add(&a, s->stage->gpus[i]);
    }
    sl_argv_add(&a, "--chdir");
    sl_argv_add(&a, s->workdir);
    sl_argv_add(&a, "--clearenv");
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char *const *e = s->envp; e && *e; e++)
        if (!strncmp(*e, "PATH=", 5)) path = *e + 5;
    sl_argv_add(&a, "--setenv");
    sl_argv_add(&a, "PATH");
    sl_argv_add(&a, path);
    for (char *const *e = s->envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || !sl_runtime_env_passes(s->stage, *e)) continue;
        sl_argv_add(&a, "--setenv");
        sl_argv_addf(&a, "%.*s", (int)(eq - *e), *e);
        sl_argv_add(&a, eq + 1);
    }
    sl_argv_add(&a, "--");
    sl_argv_add(&a, cmd);
    free(cmd);
    for (char *const *v = s->argv + 1; *v; v++)
        sl_argv_add(&a, *v);
    int rc = sl_spawn(a.v, s->envp, s->workdir, s->stdout_path, s->stderr_path, pid, err);
    sl_argv_free(&a);
    if (rc == SL_ENOTFOUND)
        return sl_errf(err, SL_ENOTFOUND,
                       "bwrap is not installed on this host (runtime: bwrap); install it with: "
                       "scripts/install-deps.sh --containers");
    return rc;
}

const sl_runtime sl_runtime_bwrap = {"bwrap", bwrap_start, NULL, NULL};
