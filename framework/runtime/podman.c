/* podman.c - the podman runtime, and the engine docker.c shares (the docker
 * command line is the same).
 *
 * Starting a container costs about 0.4 s here, which would dominate short
 * tasks, so by default a slot keeps its container: the first task of a
 * (stage, image, limits) on this agent starts `podman run -d` with
 * sluice-init as an idle PID 1, and every task runs through `podman exec`
 * with its own env, work dir and argv. A task that was killed (timeout,
 * cancel), died of SIGKILL inside (out of memory) or met a podman error
 * takes its container with it: what ran inside may still be running, so the
 * container is removed (in the background) and the next task gets a fresh
 * one. SLUICE_CONTAINER_REUSE=0 in the agent's environment runs one
 * `podman run --rm` per task instead. Names are sluice-<agentpid>-<n>, so
 * cleanup only ever touches our own containers; shutdown removes them all,
 * and sluice-init stops a container by itself if the agent dies. */
#include "runtime/container.h"
#include "util/buf.h"
#include "runtime/podman.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/clock.h"

#define MAX_IDLE_SLOTS 8 /* idle containers kept per agent before the oldest goes */

static void note_set(char *note, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_set(char *note, size_t n, const char *fmt, ...)
{
    if (!note || !n || note[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, n, fmt, ap);
    va_end(ap);
}

static void slot_free(sl_cslot *s)
{
    free(s->key);
    free(s->id);
}

/* Everything that makes two slot containers interchangeable. */
static char *slot_key(const sl_run_spec *s, const char *work_root)
{
    sl_buf b = SL_BUF_INIT;
    const sl_stage *st = s->stage;
    sl_buf_printf(&b, "%s\n%s\n%lld\n%lld\n%s\n%s\n%s", st->name, st->image,
                  (long long)st->cpus_milli, (long long)st->memory, s->mem_root ? s->mem_root : "",
                  s->ssd_root ? s->ssd_root : "", work_root);
    for (size_t i = 0; i < st->ngpus; i++)
        sl_buf_printf(&b, "\n%s", st->gpus[i]);
    return sl_buf_steal(&b);
}

static int image_present(sl_cengine *e, const char *image, sl_err *err)
{
    for (size_t i = 0; i < e->nimages; i++)
        if (!strcmp(e->images[i], image)) return 0;
    char *argv[] = {(char *)e->prog,
                    (char *)"image",
                    (char *)"inspect",
                    (char *)"--format",
                    (char *)"{{.Id}}",
                    (char *)image,
                    NULL};
    char line[512];
    int rc = sl_runtime_run(argv, NULL, 0, line, sizeof line, err);
    if (rc < 0)
        return sl_errf(err, SL_ENOTFOUND,
                       "%s is not installed on this host (runtime: %s); install it with: "
                       "scripts/install-deps.sh --containers",
                       e->prog, e->prog);
    if (rc != 0) {
        int ours = !strncmp(image, "sluice/", 7) || !strncmp(image, "localhost/sluice/", 17);
        if (ours)
            return sl_errf(err, SL_ENOTFOUND,
                           "image %s not found by %s; build it with: make images", image, e->prog);
        return sl_errf(err, SL_ENOTFOUND,
                       "image %s not found by %s; load it with: %s load -i FILE.tar (or %s pull "
                       "%s where a registry is reachable)",
                       image, e->prog, e->prog, e->prog, image);
    }
    e->images = sl_xrealloc(e->images, (e->nimages + 1) * sizeof *e->images);
    e->images[e->nimages++] = sl_xstrdup(image);
    return 0;
}

/* The FIFO sluice-init watches: created in the work root, held open by the
 * agent (O_RDWR never blocks) and never written. */
static int ensure_fifo(sl_cengine *e, const char *work_root, sl_err *err)
{
    if (e->fifo_fd >= 0 && e->fifo_path) return 0;
    char *p = sl_xasprintf("%s/.sluice-agent-%d.fifo", work_root, (int)getpid());
    unlink(p);
    if (mkfifo(p, 0600) < 0) {
        int rc = sl_errf(err, SL_EIO, "cannot create %s: %s", p, strerror(errno));
        free(p);
        return rc;
    }
    e->fifo_fd = open(p, O_RDWR | O_CLOEXEC);
    if (e->fifo_fd < 0) {
        int rc = sl_errf(err, SL_EIO, "cannot open %s: %s", p, strerror(errno));
        free(p);
        return rc;
    }
    e->fifo_path = p;
    return 0;
}

/* Flags every container of ours gets: label, host network, binds, limits. */
static void common_flags(sl_argv *a, const sl_run_spec *s, const char *work_root)
{
    const sl_stage *st = s->stage;
    sl_argv_addf(a, "--label=sluice.agent=%d", (int)getpid());
    sl_argv_add(a, "--network=host");
    const char *binds[] = {s->mem_root, s->ssd_root, work_root};
    for (size_t i = 0; i < 3; i++)
        if (binds[i] && binds[i][0]) sl_argv_addf(a, "--volume=%s:%s", binds[i], binds[i]);
    if (st->cpus_milli > 0) {
        char c[32];
        sl_runtime_cpus_str(st->cpus_milli, c, sizeof c);
        sl_argv_addf(a, "--cpus=%s", c);
    }
    if (st->memory > 0) { /* swap equal to memory: over the limit means killed, not swapped */
        sl_argv_addf(a, "--memory=%lldb", (long long)st->memory);
        sl_argv_addf(a, "--memory-swap=%lldb", (long long)st->memory);
    }
    for (size_t i = 0; i < st->ngpus; i++)
        sl_argv_addf(a, "--device=%s", st->gpus[i]);
}

static void env_flags(sl_argv *a, const sl_run_spec *s)
{
    for (char *const *e = s->envp; e && *e; e++)
        if (sl_runtime_env_passes(s->stage, *e)) sl_argv_addf(a, "--env=%s", *e);
}

static sl_cslot *slot_new(sl_cengine *e)
{
    e->slots = sl_xrealloc(e->slots, (e->nslots + 1) * sizeof *e->slots);
    sl_cslot *s = &e->slots[e->nslots++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "sluice-%d-%u", (int)getpid(), ++e->next_id);
    return s;
}

static void slot_drop(sl_cengine *e, size_t i)
{
    slot_free(&e->slots[i]);
    e->slots[i] = e->slots[--e->nslots];
}

/* `rm -f` kills at once with docker; podman first waits -t seconds. */
static void rm_argv(sl_cengine *e, sl_argv *a)
{
    sl_argv_add(a, e->prog);
    sl_argv_add(a, "rm");
    sl_argv_add(a, "--force");
    if (!strcmp(e->prog, "podman")) sl_argv_add(a, "--time=0");
}

/* Removes a container in the background; shutdown waits for these. */
static void remove_bg(sl_cengine *e, const char *name)
{
    sl_argv a = {0};
    rm_argv(e, &a);
    sl_argv_add(&a, name);
    pid_t p = sl_runtime_run_bg(a.v);
    sl_argv_free(&a);
    if (p > 0) {
        e->removing = sl_xrealloc(e->removing, (e->nremoving + 1) * sizeof *e->removing);
        e->removing[e->nremoving++] = p;
    }
}

static int create_slot(sl_cengine *e, const sl_run_spec *s, const char *work_root, char *key,
                       sl_cslot **out, sl_err *err)
{
    if (image_present(e, s->stage->image, err) < 0) return err->code;
    if (!e->init_path) {
        e->init_path = sl_runtime_helper("sluice-init");
        if (!e->init_path)
            return sl_errf(err, SL_ENOTFOUND,
                           "sluice-init not found beside the sluice binary or in PATH "
                           "(build it with: make build/bin/sluice-init)");
    }
    if (ensure_fifo(e, work_root, err) < 0) return err->code;
    sl_cslot *slot = slot_new(e);
    sl_argv a = {0};
    sl_argv_add(&a, e->prog);
    sl_argv_add(&a, "run");
    sl_argv_add(&a, "--detach");
    sl_argv_add(&a, "--rm");
    sl_argv_addf(&a, "--name=%s", slot->name);
    common_flags(&a, s, work_root);
    sl_argv_addf(&a, "--volume=%s:/.sluice-init:ro", e->init_path);
    sl_argv_add(&a, "--entrypoint=/.sluice-init");
    sl_argv_add(&a, s->stage->image);
    sl_argv_add(&a, "idle");
    sl_argv_add(&a, e->fifo_path);
    char id[256], line[512];
    int rc = sl_runtime_run(a.v, id, sizeof id, line, sizeof line, err);
    sl_argv_free(&a);
    if (rc != 0) {
        char name[64];
        snprintf(name, sizeof name, "%s", slot->name);
        slot_drop(e, e->nslots - 1);
        free(key);
        remove_bg(e, name); /* a half-created container, if any */
        if (rc < 0) return err->code;
        return sl_errf(err, SL_EIO, "%s run of image %s failed (exit %d): %s", e->prog,
                       s->stage->image, rc, line);
    }
    slot->id = sl_xstrdup(id);
    slot->key = key;
    slot->memory = s->stage->memory;
    *out = slot;
    return 0;
}

static int engine_exec(sl_cengine *e, const sl_run_spec *s, pid_t *pid, sl_err *err)
{
    char *work_root = sl_runtime_work_root(s->workdir);
    char *key = slot_key(s, work_root);
    sl_cslot *slot = NULL;
    for (size_t i = 0; i < e->nslots; i++)
        if (!e->slots[i].busy && !e->slots[i].oneshot && !strcmp(e->slots[i].key, key)) {
            slot = &e->slots[i];
            break;
        }
    if (slot) {
        free(key);
    } else if (create_slot(e, s, work_root, key, &slot, err) < 0) {
        free(work_root);
        return err->code;
    }
    free(work_root);
    sl_argv a = {0};
    sl_argv_add(&a, e->prog);
    sl_argv_add(&a, "exec");
    sl_argv_addf(&a, "--workdir=%s", s->workdir);
    env_flags(&a, s);
    sl_argv_add(&a, slot->name);
    for (char *const *v = s->argv; *v; v++)
        sl_argv_add(&a, *v);
    int rc = sl_spawn(a.v, s->envp, s->workdir, s->stdout_path, s->stderr_path, pid, err);
    sl_argv_free(&a);
    if (rc < 0) return rc;
    slot->busy = *pid;
    return 0;
}

static int engine_run(sl_cengine *e, const sl_run_spec *s, pid_t *pid, sl_err *err)
{
    if (image_present(e, s->stage->image, err) < 0) return err->code;
    char *work_root = sl_runtime_work_root(s->workdir);
    sl_cslot *slot = slot_new(e);
    snprintf(slot->name, sizeof slot->name, "sluice-%d-r%u", (int)getpid(), e->next_id);
    slot->oneshot = 1;
    slot->key = sl_xstrdup("");
    slot->memory = s->stage->memory;
    sl_argv a = {0};
    sl_argv_add(&a, e->prog);
    sl_argv_add(&a, "run");
    sl_argv_add(&a, "--rm");
    sl_argv_addf(&a, "--name=%s", slot->name);
    common_flags(&a, s, work_root);
    sl_argv_addf(&a, "--workdir=%s", s->workdir);
    env_flags(&a, s);
    sl_argv_addf(&a, "--entrypoint=%s", s->argv[0]);
    sl_argv_add(&a, s->stage->image);
    for (char *const *v = s->argv + 1; *v; v++)
        sl_argv_add(&a, *v);
    free(work_root);
    int rc = sl_spawn(a.v, s->envp, s->workdir, s->stdout_path, s->stderr_path, pid, err);
    sl_argv_free(&a);
    if (rc < 0) {
        slot_drop(e, e->nslots - 1);
        return rc;
    }
    slot->busy = *pid;
    return 0;
}

int sl_cengine_start(sl_cengine *e, const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    *exit_code = 0;
    if (!s->stage || !s->stage->image || !s->stage->image[0])
        return sl_errf(err, SL_EINVAL, "stage has runtime %s but no image", e->prog);
    if (e->reuse < 0) {
        const char *v = getenv("SLUICE_CONTAINER_REUSE");
        e->reuse = !(v && (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false")));
    }
    return e->reuse ? engine_exec(e, s, pid, err) : engine_run(e, s, pid, err);
}

/* The kernel's OOM-kill count of a container's memory cgroup (v1 or v2,
 * cgroupfs or systemd layout), or -1 when it cannot be found. */
static long oom_kills(const char *id)
{
    const char *fmts[] = {
        "/sys/fs/cgroup/memory/libpod_parent/libpod-%s/memory.oom_control",
        "/sys/fs/cgroup/memory/machine.slice/libpod-%s.scope/memory.oom_control",
        "/sys/fs/cgroup/memory/docker/%s/memory.oom_control",
        "/sys/fs/cgroup/libpod_parent/libpod-%s/memory.events",
        "/sys/fs/cgroup/machine.slice/libpod-%s.scope/memory.events",
        "/sys/fs/cgroup/system.slice/docker-%s.scope/memory.events",
    };
    for (size_t i = 0; id && i < sizeof fmts / sizeof fmts[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, fmts[i], id);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        char k[64];
        long v, found = -1;
        while (fscanf(f, "%63s %ld", k, &v) == 2)
            if (!strcmp(k, "oom_kill")) found = v;
        fclose(f);
        if (found >= 0) return found;
    }
    return -1;
}

void sl_cengine_finish(sl_cengine *e, pid_t pid, int status, int killed, char *note, size_t n)
{
    size_t i;
    for (i = 0; i < e->nslots; i++)
        if (e->slots[i].busy == pid) break;
    if (i == e->nslots) return;
    sl_cslot *s = &e->slots[i];
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 137 && !killed) {
        long oom = s->id ? oom_kills(s->id) : -1;
        if (s->memory > 0 && (oom < 0 || oom > s->oom_seen))
            note_set(note, n,
                     "killed by SIGKILL inside container %s (exit 137): out of memory, the "
                     "stage's memory limit is %lld MiB%s",
                     s->name, (long long)(s->memory >> 20),
                     oom > s->oom_seen ? " (the kernel's OOM killer fired)" : "");
        else
            note_set(note, n, "killed by SIGKILL inside container %s (exit 137)", s->name);
        if (oom >= 0) s->oom_seen = oom;
    } else if (code == 125) {
        note_set(note, n, "%s could not run the task in container %s (exit 125; see stderr)",
                 e->prog, s->name);
    }
    int discard = killed || !WIFEXITED(status) || code == 125 || code == 137;
    if (s->oneshot) {
        if (killed || !WIFEXITED(status)) /* the client died; the container may not have */
            remove_bg(e, s->name);
        slot_drop(e, i);
        return;
    }
    if (discard) {
        remove_bg(e, s->name);
        slot_drop(e, i);
        return;
    }
    s->busy = 0;
    s->last_used = sl_mono_ms();
    size_t idle = 0, oldest = 0;
    for (size_t k = 0; k < e->nslots; k++)
        if (!e->slots[k].busy && !e->slots[k].oneshot) {
            if (!idle++ || e->slots[k].last_used < e->slots[oldest].last_used) oldest = k;
        }
    if (idle > MAX_IDLE_SLOTS) {
        remove_bg(e, e->slots[oldest].name);
        slot_drop(e, oldest);
    }
}

void sl_cengine_shutdown(sl_cengine *e)
{
    if (e->nslots) {
        sl_argv a = {0};
        rm_argv(e, &a);
        for (size_t i = 0; i < e->nslots; i++)
            sl_argv_add(&a, e->slots[i].name);
        sl_err err = {0};
        sl_runtime_run(a.v, NULL, 0, NULL, 0, &err);
        sl_argv_free(&a);
    }
    for (size_t i = 0; i < e->nremoving; i++) /* may have been reaped by the agent already */
        while (waitpid(e->removing[i], NULL, 0) < 0 && errno == EINTR)
            ;
    for (size_t i = 0; i < e->nslots; i++)
        slot_free(&e->slots[i]);
    free(e->slots);
    e->slots = NULL;
    e->nslots = 0;
    free(e->removing);
    e->removing = NULL;
    e->nremoving = 0;
    for (size_t i = 0; i < e->nimages; i++)
        free(e->images[i]);
    free(e->images);
    e->images = NULL;
    e->nimages = 0;
    if (e->fifo_fd >= 0) close(e->fifo_fd);
    e->fifo_fd = -1;
    if (e->fifo_path) unlink(e->fifo_path);
    free(e->fifo_path);
    e->fifo_path = NULL;
    free(e->init_path);
    e->init_path = NULL;
}

/* ---- the podman runtime ---------------------------------------------------- */

/* Owned by the agent's executor thread, the only caller of runtimes. */
static sl_cengine podman = SL_CENGINE_INIT("podman");

static int podman_start(const sl_run_spec *s, pid_t *pid, int *exit_code, sl_err *err)
{
    return sl_cengine_start(&podman, s, pid, exit_code, err);
}

static void podman_finish(pid_t pid, int status, int killed, char *note, size_t n)
{
    sl_cengine_finish(&podman, pid, status, killed, note, n);
}

static void podman_shutdown(void)
{
    sl_cengine_shutdown(&podman);
}

const sl_runtime sl_runtime_podman = {"podman", podman_start, podman_finish, podman_shutdown};
