/* agent_journal.c - finished work is never lost with its agent.
 *
 * A finished task's report is written to the journal (one file per task,
 * "<task id>.<attempt>", holding its Completion as protobuf) before it joins
 * the report queue, and the file is removed once the controller has
 * acknowledged the report. An agent killed in between finds the files when it
 * starts again and sends them before it leases anything, so the controller
 * records the task as done instead of running it a second time when its
 * lease expires.
 *
 * The journal lives beside the memory tier (MEM.journal, tmpfs): it survives
 * the agent, not the host - and a host that goes down loses the outputs in
 * its memory tier too, which lineage then re-makes. A file is written under a
 * temporary name and renamed, so a crash never leaves half a report. A host
 * the controller declared lost wipes its cache at registration; journaled
 * reports that name outputs are dropped with it (those files are gone). */
#include "agent/agent_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_wire.h"
#include "util/fsutil.h"

int sl_agent_journal_open(sl_agent *a, sl_err *err)
{
    a->journal_dir = sl_xasprintf("%s.journal", a->mem_root);
    if (sl_mkdir_p(a->journal_dir) < 0)
        return sl_errf(err, SL_EIO, "cannot create the journal %s: %s", a->journal_dir,
                       strerror(errno));
    return 0;
}

static char *entry_path(const sl_agent *a, const sl_atask *t, const char *prefix)
{
    return sl_xasprintf("%s/%s%lld.%d", a->journal_dir, prefix, (long long)t->id, t->attempt);
}

void sl_agent_journal_write(sl_agent *a, sl_atask *t)
{
    if (!a->journal_dir) return;
    sl_atask *next = t->next;
    t->next = NULL;
    sl_pb_completions pk;
    sl_pb_completions_pack(&pk, t, 1, a->name);
    t->next = next;
    size_t len = sluice__v1__completion__get_packed_size(pk.cp[0]);
    uint8_t *buf = sl_xmalloc(len ? len : 1);
    sluice__v1__completion__pack(pk.cp[0], buf);
    sl_pb_completions_free(&pk);
    char *tmp = entry_path(a, t, ".");
    char *path = entry_path(a, t, "");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len;
    if (fd >= 0) ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) < 0) {
        /* the report still goes out; only a crash before it does re-runs it */
        fprintf(stderr, "sluice agent %s: cannot journal task %lld: %s\n", a->name,
                (long long)t->id, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(path);
    free(buf);
}

void sl_agent_journal_forget(sl_agent *a, const sl_atask *batch)
{
    if (!a->journal_dir) return;
    for (const sl_atask *t = batch; t; t = t->next) {
        char *path = entry_path(a, t, "");
        unlink(path);
        free(path);
    }
}

/* Oldest first: the order the tasks finished in (close enough by id). */
static int by_number(const void *x, const void *y)
{
    long long a = atoll(*(char *const *)x), b = atoll(*(char *const *)y);
    return a < b ? -1 : a > b;
}

size_t sl_agent_journal_load(sl_agent *a)
{
    DIR *d = a->journal_dir ? opendir(a->journal_dir) : NULL;
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') { /* an entry a crash interrupted: never acknowledged */
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                char *p = sl_xasprintf("%s/%s", a->journal_dir, e->d_name);
                unlink(p);
                free(p);
            }
            continue;
        }
        if (strspn(e->d_name, "0123456789.") != strlen(e->d_name)) continue; /* not a report */
        names = sl_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = sl_xstrdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, by_number);
    size_t loaded = 0;
    sl_atask *tail = a->done_head;
    while (tail && tail->next)
        tail = tail->next;
    for (size_t i = 0; i < n; i++) {
        char *path = sl_xasprintf("%s/%s", a->journal_dir, names[i]);
        sl_atask *t = NULL;
        {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            struct stat st;
            if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20)) {
                uint8_t *buf = sl_xmalloc((size_t)st.st_size);
                if (read(fd, buf, (size_t)st.st_size) == st.st_size) {
                    Sluice__V1__Completion *c =
                        sluice__v1__completion__unpack(NULL, (size_t)st.st_size, buf);
                    if (c) {
                        t = sl_atask_from_pb(c);
                        sluice__v1__completion__free_unpacked(c, NULL);
                    }
                }
                free(buf);
            }
            if (fd >= 0) close(fd);
        }
        if (t) { /* reported again; the file goes when the controller has it */
            if (tail)
                tail->next = t;
            else
                a->done_head = t;
            tail = t;
            a->ndone++;
            loaded++;
        } else {
            fprintf(stderr, "sluice agent %s: journal entry %s is unreadable; dropped\n", a->name,
                    path);
            unlink(path);
        }
        free(path);
        free(names[i]);
    }
    free(names);
    if (loaded)
        fprintf(stderr,
                "sluice agent %s: %zu finished task%s from before a restart reported again "
                "(journal)\n",
                a->name, loaded, loaded == 1 ? "" : "s");
    return loaded;
}

void sl_agent_journal_drop_outputs(sl_agent *a)
{
    size_t dropped = 0;
    for (sl_atask **pp = &a->done_head; *pp;) {
        sl_atask *t = *pp;
        if (!t->output.path && !t->ncopies) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        t->next = NULL;
        sl_agent_journal_forget(a, t);
        sl_agent_task_free(t);
        a->ndone--;
        dropped++;
    }
    if (dropped)
        fprintf(stderr,
                "sluice agent %s: dropped %zu journaled report%s naming outputs: this host was "
                "declared lost and those objects are re-made elsewhere\n",
                a->name, dropped, dropped == 1 ? "" : "s");
}
