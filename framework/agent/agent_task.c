/* agent_task.c - one task attempt on this host: the module contract.
 *
 * Before: a private work dir, argv (command..., key, headers JSON) and the
 * environment (SLUICE_KEY, SLUICE_HEADERS, SLUICE_STAGE, SLUICE_HOST,
 * SLUICE_ATTEMPT, SLUICE_WORK, SLUICE_MEM, SLUICE_SSD, SLUICE_PIPELINE,
 * SLUICE_TASK_ID, SLUICE_CONTROLLER and the stage's env:). After: the exit
 * code (124 for a timeout, 128+N for signal N), the last 4 KiB of stdout and
 * stderr, and the messages the module wrote to $SLUICE_WORK/emit or
 * sink-tasks.txt (Scalebox's name). */
#include "agent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "util/fsutil.h"
#include "util/clock.h"

#define TAIL_BYTES 4096

extern char **environ;

void sl_agent_task_free(sl_atask *t)
{
    if (!t) return;
    free(t->key);
    free(t->headers);
    free(t->workdir);
    free(t->error);
    free(t->out_tail);
    free(t->err_tail);
    for (size_t i = 0; i < t->nemitted; i++) {
        free(t->emitted[i].stage);
        free(t->emitted[i].key);
        free(t->emitted[i].headers);
    }
    free(t->emitted);
    free(t->tier);
    free(t->out_dir);
    free(t->out_path);
    free(t->in_dirs);
    for (size_t i = 0; i < t->ninputs; i++) {
        sl_ainput *in = &t->inputs[i];
        for (size_t r = 0; r < in->nrep; r++) {
            free(in->hosts[r]);
            free(in->addrs[r]);
            free(in->caps[r]);
            free(in->tiers[r]);
        }
        free(in->hosts);
        free(in->addrs);
        free(in->caps);
        free(in->tiers);
        free(in->path);
        free(in->files);
    }
    free(t->inputs);
    sl_aobj_clear(&t->output);
    for (size_t i = 0; i < t->ncopies; i++)
        sl_aobj_clear(&t->copies[i]);
    free(t->copies);
    for (size_t i = 0; i < t->nunreach; i++)
        sl_aobj_clear(&t->unreach[i]);
    free(t->unreach);
    for (size_t i = 0; i < t->ncorrupt; i++)
        sl_aobj_clear(&t->corrupt[i]);
    free(t->corrupt);
    free(t);
}

static char *tail_of(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sl_xstrdup("");
    struct stat st;
    fstat(fd, &st);
    off_t off = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
    char *buf = sl_xmalloc(TAIL_BYTES + 1);
    ssize_t n = pread(fd, buf, TAIL_BYTES, off);
    close(fd);
    if (n < 0) n = 0;
    buf[n] = 0;
    /* keep the stored text valid UTF-8-ish: drop NULs */
    for (ssize_t i = 0; i < n; i++)
        if (!buf[i]) buf[i] = ' ';
    return buf;
}

static void add_emitted(sl_atask *t, const char *stage, const char *key, const char *headers)
{
    t->emitted = sl_xrealloc(t->emitted, (t->nemitted + 1) * sizeof *t->emitted);
    sl_emitted *e = &t->emitted[t->nemitted++];
    e->stage = sl_xstrdup(stage ? stage : "");
    e->key = sl_xstrdup(key);
    e->headers = sl_xstrdup(headers ? headers : "");
}

/* Lines: "KEY", "KEY {json}", "@STAGE KEY [{json}]"; '#' comments. */
static void read_emit_file(sl_atask *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#') continue;
        char *stage = NULL;
        if (*p == '@') {
            stage = ++p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p) *p++ = 0;
            while (*p == ' ' || *p == '\t')
                p++;
        }
        char *key = p;
        char *headers = NULL;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p) {
            *p++ = 0;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p) headers = p;
        }
        add_emitted(t, stage, key, headers);
    }
    free(line);
    fclose(f);
}

const sl_pipeline *sl_agent_model(sl_agent *a, int64_t pipeline_id, sl_err *err);

/* The part of every module's environment that does not change: the agent's
 * own (minus SLUICE_*), with the directory of this sluice binary first in
 * PATH so `sluice emit` always works. Built once, at agent start. */
void sl_agent_base_env(sl_agent *a)
{
    char self[4096];
    ssize_t sn = readlink("/proc/self/exe", self, sizeof self - 1);
    self[sn > 0 ? sn : 0] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    size_t n = 0;
    while (environ[n])
        n++;
    a->base_env = sl_xcalloc(n + 2, sizeof *a->base_env);
    int have_path = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "SLUICE_", 7) == 0) continue;
        if (self[0] && strncmp(environ[i], "PATH=", 5) == 0) {
            a->base_env[a->nbase++] = sl_xasprintf("PATH=%s:%s", self, environ[i] + 5);
            have_path = 1;
        } else {
            a->base_env[a->nbase++] = sl_xstrdup(environ[i]);
        }
    }
    if (!have_path && self[0])
        a->base_env[a->nbase++] = sl_xasprintf("PATH=%s:/usr/local/bin:/usr/bin:/bin", self);
}

/* A task's environment: the base (borrowed, see sl_agent_base_env) plus its
 * own SLUICE_* and the stage's env: (owned; free with free_env). */
static char **build_env(sl_agent *a, const sl_stage *st, sl_atask *t, const char *pipeline)
{
    char **env = sl_xcalloc(a->nbase + st->nenv + 20, sizeof *env);
    memcpy(env, a->base_env, a->nbase * sizeof *env);
    size_t k = a->nbase;
    env[k++] = sl_xasprintf("SLUICE_KEY=%s", t->key);
    env[k++] = sl_xasprintf("SLUICE_HEADERS=%s", t->headers[0] ? t->headers : "{}");
    env[k++] = sl_xasprintf("SLUICE_STAGE=%s", st->name);
    env[k++] = sl_xasprintf("SLUICE_PIPELINE=%s", pipeline);
    env[k++] = sl_xasprintf("SLUICE_HOST=%s", a->name);
    env[k++] = sl_xasprintf("SLUICE_ATTEMPT=%d", t->attempt);
    env[k++] = sl_xasprintf("SLUICE_TASK_ID=%lld", (long long)t->id);
    env[k++] = sl_xasprintf("SLUICE_WORK=%s", t->workdir);
    env[k++] = sl_xasprintf("SLUICE_MEM=%s", a->mem_root);
    env[k++] = sl_xasprintf("SLUICE_SSD=%s", a->ssd_root);
    env[k++] = sl_xasprintf("SLUICE_CONTROLLER=%s", a->cfg->controller);
    env[k++] = sl_xasprintf("SLUICE_OUT=%s", t->out_dir ? t->out_dir : "");
    env[k++] = sl_xasprintf("SLUICE_TIER=%s", t->tier ? t->tier : "mem");
    env[k++] = sl_xasprintf("SLUICE_INPUTS=%s", t->in_dirs ? t->in_dirs : "");
    const char *first = t->in_dirs ? t->in_dirs : "";
    env[k++] = sl_xasprintf("SLUICE_IN=%.*s", (int)strcspn(first, " "), first);
    for (size_t i = 0; i < st->nenv; i++)
        env[k++] = sl_xasprintf("%s=%s", st->env[i].key, st->env[i].value);
    env[k] = NULL;
    return env;
}

static void free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static void fail_start(sl_atask *t, const char *msg)
{
    t->exit_code = -1;
    t->error = sl_xstrdup(msg);
    t->started = t->finished = sl_wall();
}

int sl_agent_task_start(sl_agent *a, sl_atask *t)
{
    sl_err err = {0};
    const sl_pipeline *p = sl_agent_model(a, t->pipeline_id, &err);
    if (!p) {
        fail_start(t, err.msg);
        return -1;
    }
    if (t->stage < 0 || (size_t)t->stage >= p->nstages) {
        fail_start(t, "the task names a stage its pipeline does not have");
        return -1;
    }
    const sl_stage *st = &p->stages[t->stage];
    const sl_runtime *rt = sl_runtime_find(st->runtime);
    if (!rt) {
        char msg[256];
        snprintf(msg, sizeof msg, "runtime '%s' is not available on agent %s", st->runtime,
                 a->name);
        fail_start(t, msg);
        return -1;
    }
    t->started = sl_wall();
    t->deadline_ms = st->timeout_ms > 0 ? sl_mono_ms() + st->timeout_ms : 0;
    if (strcmp(rt->name, "noop") == 0) { /* no work dir, no process */
        t->exit_code = 0;
        t->finished = t->started;
        t->pid = 0;
        return 1;
    }
    t->workdir = sl_xasprintf("%s/%lld.%d", a->work_root, (long long)t->id, t->attempt);
    if (mkdir(t->workdir, 0755) < 0 && errno != EEXIST) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot create work dir %s: %s", t->workdir, strerror(errno));
        fail_start(t, msg);
        return -1;
    }
    if (sl_agent_out_prepare(a, t, st->name, &err) < 0) {
        fail_start(t, err.msg);
        return -1;
    }
    char **argv = sl_xcalloc(st->ncommand + 3, sizeof *argv);
    size_t k = 0;
    for (size_t i = 0; i < st->ncommand; i++)
        argv[k++] = sl_xstrdup(st->command[i]);
    argv[k++] = sl_xstrdup(t->key);
    argv[k++] = sl_xstrdup(t->headers[0] ? t->headers : "{}");
    char **envp = build_env(a, st, t, p->name);
    char *out = sl_xasprintf("%s/stdout", t->workdir);
    char *er = sl_xasprintf("%s/stderr", t->workdir);
    sl_run_spec spec = {st, argv, envp, t->workdir, out, er, a->mem_root, a->ssd_root};
    int code = 0;
    int rc = rt->start(&spec, &t->pid, &code, &err);
    free_strv(argv);
    for (size_t i = a->nbase; envp[i]; i++)
        free(envp[i]);
    free(envp);
    free(out);
    free(er);
    if (rc < 0) {
        fail_start(t, err.msg);
        return -1;
    }
    if (t->pid == 0) { /* finished at once: collect outputs, emits, tails */
        sl_agent_task_finish(a, t, (code & 0xff) << 8);
        return 1;
    }
    return 0;
}

void sl_agent_task_finish(sl_agent *a, sl_atask *t, int status)
{
    t->finished = sl_wall();
    if (t->timed_out) {
        t->exit_code = 124;
        char msg[128];
        snprintf(msg, sizeof msg, "timed out after %.1f s; process group killed",
                 t->finished - t->started);
        t->error = sl_xstrdup(msg);
    } else if (WIFEXITED(status)) {
        t->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        t->exit_code = 128 + WTERMSIG(status);
        char msg[128];
        snprintf(msg, sizeof msg, "killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), t->cancelled ? " on cancellation" : "");
        t->error = sl_xstrdup(msg);
    }
    sl_agent_out_collect(a, t);
    if (!t->workdir) return;
    char *p = sl_xasprintf("%s/stdout", t->workdir);
    t->out_tail = tail_of(p);
    free(p);
    p = sl_xasprintf("%s/stderr", t->workdir);
    t->err_tail = tail_of(p);
    free(p);
    if (t->exit_code == 0) {
        p = sl_xasprintf("%s/emit", t->workdir);
        read_emit_file(t, p);
        free(p);
        p = sl_xasprintf("%s/sink-tasks.txt", t->workdir);
        read_emit_file(t, p);
        free(p);
        if (!a->cfg->keep_workdirs) sl_rm_rf(t->workdir);
    }
}
