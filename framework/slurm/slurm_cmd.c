/* slurm_cmd.c - running Slurm's client commands and reading their output.
 *
 * sbatch, squeue and scancel are the interface Slurm guarantees across sites
 * and versions (no libslurm ABI to chase). They are spawned with posix_spawn
 * (the caller may be a big process), fed through a pipe, and their
 * machine-readable output (--parsable, squeue -o with '|') parsed here. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurm/slurm.h"

extern char **environ;

int sl_slurm_exec(char *const argv[], const char *input, sl_buf *out, sl_err *err)
{
    int in[2] = {-1, -1}, outp[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (in[i] >= 0) close(in[i]);
            if (outp[i] >= 0) close(outp[i]);
        }
        return sl_errf(err, SL_EIO, "pipe: %s", strerror(e));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (input)
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(outp[1]);
    if (rc != 0) {
        close(in[1]);
        close(outp[0]);
        return sl_errf(err, SL_EIO, "cannot run %s: %s%s", argv[0], strerror(rc),
                       rc == ENOENT ? " (are the Slurm client commands installed and on PATH?)"
                                    : "");
    }
    /* the script is far below a pipe buffer, so writing first cannot deadlock
     * in practice; write errors (the child exited early) show in its status */
    if (input) {
        size_t n = strlen(input), off = 0;
        while (off < n) {
            ssize_t w = write(in[1], input + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += (size_t)w;
        }
    }
    close(in[1]);
    char tmp[4096];
    for (;;) {
        ssize_t r = read(outp[0], tmp, sizeof tmp);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (out) sl_buf_append(out, tmp, (size_t)r);
    }
    close(outp[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return sl_errf(err, SL_EIO, "waitpid %s: %s", argv[0], strerror(errno));
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return sl_errf(err, SL_EIO, "%s was killed by signal %d", argv[0], WTERMSIG(st));
}

int sl_slurm_parse_sbatch(const char *text, int64_t *job_id, sl_err *err)
{
    /* the last non-empty line: sbatch may print warnings before the id */
    const char *line = NULL;
    for (const char *p = text; p && *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && strspn(p, " \t\r") < n) line = p;
        p = e ? e + 1 : NULL;
    }
    if (!line) return sl_errf(err, SL_EINVAL, "sbatch printed no job id");
    char *end;
    long long v = strtoll(line, &end, 10);
    if (end == line || v <= 0 || (*end && *end != ';' && *end != '\n' && *end != '\r'))
        return sl_errf(err, SL_EINVAL, "cannot read a job id from sbatch output '%.*s'",
                       (int)strcspn(line, "\n"), line);
    *job_id = v;
    return 0;
}

static void job_fields_free(sl_slurm_job *j)
{
    free(j->id);
    free(j->name);
    free(j->state);
    free(j->elapsed);
    free(j->limit);
    free(j->partition);
    free(j->comment);
    free(j->nodelist);
}

static char *field(char **p)
{
    char *s = *p, *bar = strchr(s, '|');
    if (bar) {
        *bar = 0;
        *p = bar + 1;
    } else {
        *p = s + strlen(s);
    }
    return sl_xstrdup(s);
}

int sl_slurm_parse_squeue(const char *text, const char *name_prefix, const char *comment,
                          sl_slurm_job **jobs, sl_err *err)
{
    *jobs = NULL;
    int n = 0;
    char *copy = sl_xstrdup(text ? text : ""), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = 0;
        if (!len) continue;
        int bars = 0;
        for (char *q = line; *q; q++)
            bars += *q == '|';
        if (bars < 8) {
            sl_slurm_jobs_free(*jobs, n);
            *jobs = NULL;
            int rc = sl_errf(err, SL_EINVAL, "unexpected squeue line '%s'", line);
            free(copy);
            return rc;
        }
        char *p = line;
        sl_slurm_job j = {0};
        j.id = field(&p);
        j.name = field(&p);
        j.state = field(&p);
        char *nodes = field(&p);
        j.nodes = atoi(nodes);
        free(nodes);
        j.elapsed = field(&p);
        j.limit = field(&p);
        j.partition = field(&p);
        /* sluice's comments never hold '|'; the node list is the last field */
        j.comment = field(&p);
        j.nodelist = sl_xstrdup(p);
        j.job_id = strtoll(j.id, NULL, 10);
        int keep = j.job_id > 0 &&
                   (!name_prefix || !strncmp(j.name, name_prefix, strlen(name_prefix))) &&
                   (!comment || !strcmp(j.comment, comment));
        if (!keep) {
            job_fields_free(&j);
            continue;
        }
        *jobs = sl_xrealloc(*jobs, (size_t)(n + 1) * sizeof **jobs);
        (*jobs)[n++] = j;
    }
    free(copy);
    return n;
}

void sl_slurm_jobs_free(sl_slurm_job *jobs, int n)
{
    if (!jobs) return;
    for (int i = 0; i < n; i++)
        job_fields_free(&jobs[i]);
    free(jobs);
}
