/* agent_cache.c - this host's side of the cache: the data server peers pull
 * from, the output directory of each task (SLUICE_OUT, in the tier the
 * controller admitted it to), pulls of inputs held elsewhere before a task
 * starts (in a thread per task, so the executor keeps starting others),
 * pushes for stream edges, and deletions the controller asks for.
 *
 * An object lives at the same relative path p<pipeline>/<stage>/<key> under
 * a tier root on every host that holds a replica, so a pulled or pushed copy
 * is found again by path, and deleting one is a single rm -rf. */
#include "agent/agent_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache/manifest.h"
#include "dataplane/dataplane.h"
#include "util/fsutil.h"

void sl_aobj_clear(sl_aobj *o)
{
    free(o->tier);
    free(o->path);
    free(o->files);
    free(o->host);
    memset(o, 0, sizeof *o);
}

const char *sl_agent_tier_root(const sl_agent *a, const char *tier)
{
    return tier && !strcmp(tier, "ssd") ? a->ssd_root : a->mem_root;
}

/* Removes now-empty parents up to (not including) root. */
static void prune_parents(const char *root, const char *dir)
{
    char *p = sl_xstrdup(dir);
    size_t rl = strlen(root);
    for (;;) {
        char *slash = strrchr(p, '/');
        if (!slash || (size_t)(slash - p) <= rl) break;
        *slash = 0;
        if (rmdir(p) < 0) break;
    }
    free(p);
}

/* ---- the data server ----------------------------------------------------- */

/* The local address this host uses to reach the controller: the address
 * peers on the same network will reach us at. */
static void local_addr_towards(const char *controller, char *out, size_t n)
{
    snprintf(out, n, "127.0.0.1");
    char host[256];
    snprintf(host, sizeof host, "%s", controller);
    char *colon = strrchr(host, ':');
    const char *port = "7470";
    if (colon) {
        *colon = 0;
        port = colon + 1;
    }
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res) return;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
            inet_ntop(AF_INET, &sa.sin_addr, out, (socklen_t)n);
    }
    if (fd >= 0) close(fd);
    freeaddrinfo(res);
}

static void *push_main(void *arg);

int sl_agent_cache_start(sl_agent *a, sl_err *err)
{
    /* copies a killed agent was pulling: never checked, never visible */
    char *incoming = sl_xasprintf("%s/.incoming", a->mem_root);
    sl_rm_rf(incoming);
    free(incoming);
    char ip[64];
    if (a->cfg->advertise && *a->cfg->advertise)
        snprintf(ip, sizeof ip, "%s", a->cfg->advertise);
    else
        local_addr_towards(a->cfg->controller, ip, sizeof ip);
    /* By default the data server listens only on the address peers reach
     * us at (the one we reach the controller from), not on every one. */
    char *listen = a->cfg->data_listen && *a->cfg->data_listen
                       ? sl_xstrdup(a->cfg->data_listen)
                       : sl_xasprintf(strchr(ip, ':') ? "[%s]:0" : "%s:0", ip);
    sl_dp_config c = {0};
    c.listen = listen;
    c.key = a->dp_key;
    c.roots[0] = (sl_dp_root){"mem", a->mem_root};
    c.roots[1] = (sl_dp_root){"ssd", a->ssd_root};
    c.nroots = 2;
    c.tls = (sl_dp_tls){a->cfg->tls_ca, a->cfg->tls_cert, a->cfg->tls_key};
    if (!a->cfg->tls_cert) c.tls.ca_file = NULL; /* no TLS served without our own certificate */
    int port = 0;
    a->dp = sl_dp_server_start(&c, &port, err);
    free(listen);
    if (!a->dp) return sl_err_prefix(err, "agent %s: data server", a->name);
    snprintf(a->data_addr, sizeof a->data_addr, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip, port);
    pthread_cond_init(&a->push_cv, NULL);
    for (int i = 0; i < 4; i++)
        if (pthread_create(&a->push_threads[a->npush_threads], NULL, push_main, a) == 0)
            a->npush_threads++;
    return 0;
}

void sl_agent_cache_stop(sl_agent *a)
{
    if (a->npush_threads) {
        pthread_mutex_lock(&a->mu);
        pthread_cond_broadcast(&a->push_cv);
        pthread_mutex_unlock(&a->mu);
        for (int i = 0; i < a->npush_threads; i++)
            pthread_join(a->push_threads[i], NULL);
        a->npush_threads = 0;
    }
    if (a->dp) sl_dp_server_stop(a->dp);
    a->dp = NULL;
    while (a->push_head) {
        sl_apush *n = a->push_head->next;
        sl_aobj_clear(&a->push_head->obj);
        free(a->push_head->dest_addr);
        free(a->push_head->cap);
        free(a->push_head);
        a->push_head = n;
    }
    for (size_t i = 0; i < a->npushed; i++)
        sl_aobj_clear(&a->pushed[i]);
    free(a->pushed);
    a->pushed = NULL;
    a->npushed = 0;
}

/* ---- inputs --------------------------------------------------------------- */

/* Inputs are read only after they match their manifest (cache/manifest.h):
 * a copy from another host is pulled into a private staging directory
 * (MEM/.incoming), checked file by file, and only then renamed to its place
 * in the memory tier, so no consumer ever sees a partial or corrupt copy.
 * A copy pushed here, or pulled earlier for another task, is checked before
 * its first use by this task; a replica this host made itself is checked
 * only for stages with `verify: local`. A copy that does not match is
 * removed (ours) or reported (another host's): the controller drops it and
 * re-makes the object from its lineage when no good copy is left. */

static void add_ref(sl_aobj **v, size_t *n, const char *path, const char *tier, const char *host,
                    char *files)
{
    *v = sl_xrealloc(*v, (*n + 1) * sizeof **v);
    sl_aobj *u = &(*v)[(*n)++];
    memset(u, 0, sizeof *u);
    u->path = sl_xstrdup(path);
    u->tier = sl_xstrdup(tier);
    u->host = host ? sl_xstrdup(host) : NULL;
    u->files = files ? files : sl_xstrdup("");
}

static void add_unreach(sl_atask *t, const sl_ainput *in, size_t r)
{
    add_ref(&t->unreach, &t->nunreach, in->path, in->tiers[r], in->hosts[r], NULL);
}

/* Records that the copy of `in` in `dir` (on `host`, tier `tier`) did not
 * match: the file that differed with the size and hash found there. */
static void add_corrupt(sl_agent *a, sl_atask *t, const sl_ainput *in, const char *host,
                        const char *tier, const char *dir, const char *bad, const char *why)
{
    sl_buf found = SL_BUF_INIT;
    if (bad) {
        char *f = sl_xasprintf("%s/%s", dir, bad);
        char hex[SL_MANIFEST_HASH_HEX + 1] = "";
        int64_t size = -1;
        sl_manifest_hash_file(f, hex, &size, NULL);
        sl_manifest_add(&found, bad, strlen(bad), size, hex);
        free(f);
    }
    add_ref(&t->corrupt, &t->ncorrupt, in->path, tier, host, sl_buf_steal(&found));
    fprintf(stderr,
            "sluice agent %s: INTEGRITY: copy of %s from %s does not match its manifest (%s); "
            "discarded, task %lld\n",
            a->name, in->path, host, why, (long long)t->id);
}

/* Is dir a complete and correct copy of `in`? On a mismatch the copy is
 * reported (as on this host, tier `tier`) and removed. */
static int verified_here(sl_agent *a, sl_atask *t, const sl_ainput *in, const char *dir,
                         const char *tier)
{
    char *bad = NULL;
    sl_err e = {0};
    if (sl_manifest_verify(dir, in->files, &bad, &e) == 0) return 1;
    add_corrupt(a, t, in, a->name, tier, dir, bad, e.msg);
    free(bad);
    sl_rm_rf(dir);
    return 0;
}

/* The local directory of input `in` on this host, or NULL. A replica the
 * catalog places here is taken as it is (re-hashed by the caller only for
 * `verify: local`). With `others`, a copy that arrived otherwise is looked
 * for too and checked against the manifest first: one pushed here (a replica
 * of tier "push", waited for up to wait_ms) or pulled for an earlier task. */
static int publish(sl_agent *a, sl_atask *t, const sl_ainput *in, const char *staged,
                   const char *dir, sl_err *err);

static char *local_copy(sl_agent *a, sl_atask *t, const sl_ainput *in, int others, int wait_ms,
                        const char **tier)
{
    for (size_t r = 0; r < in->nrep; r++) {
        if (strcmp(in->hosts[r], a->name) != 0) continue;
        int incoming = !strcmp(in->tiers[r], "push");
        if (!incoming) {
            *tier = in->tiers[r];
            return sl_xasprintf("%s/%s", sl_agent_tier_root(a, in->tiers[r]), in->path);
        }
        if (!others) return NULL;
        /* a push lands in the staging area; checked, it moves into place */
        char *final = sl_xasprintf("%s/%s", a->mem_root, in->path);
        if (sl_manifest_sizes_match(final, in->files) && verified_here(a, t, in, final, "mem")) {
            *tier = "mem";
            return final;
        }
        char *d = sl_xasprintf("%s/.pushed/%s", a->mem_root, in->path);
        for (int waited = 0;; waited += 20) {
            if (sl_manifest_sizes_match(d, in->files)) break;
            if (waited >= wait_ms) {
                free(d);
                free(final);
                return NULL;
            }
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        *tier = "mem";
        sl_err e = {0};
        if (verified_here(a, t, in, d, "push") && publish(a, t, in, d, final, &e) == 0) {
            free(d);
            return final;
        }
        free(d);
        free(final);
        return NULL;
    }
    if (!others) return NULL;
    char *d = sl_xasprintf("%s/%s", a->mem_root, in->path);
    *tier = "mem";
    if (sl_manifest_sizes_match(d, in->files) && verified_here(a, t, in, d, "mem")) return d;
    free(d);
    return NULL;
}

int sl_agent_inputs_local(sl_agent *a, sl_atask *t)
{
    if (t->ninputs == 0 || t->staged) return 1;
    if (t->verify_local) return 0; /* hashing is the staging thread's work */
    sl_buf dirs = SL_BUF_INIT;
    for (size_t i = 0; i < t->ninputs; i++) {
        const char *tier;
        char *d = local_copy(a, t, &t->inputs[i], 0, 0, &tier);
        if (!d) {
            sl_buf_free(&dirs);
            return 0;
        }
        if (dirs.len) sl_buf_putc(&dirs, ' ');
        sl_buf_puts(&dirs, d);
        free(d);
    }
    free(t->in_dirs);
    t->in_dirs = sl_buf_steal(&dirs);
    t->staged = 1;
    return 1;
}

typedef struct {
    sl_agent *a;
    const sl_ainput *in;
    size_t r;
    const char *stage_dir;
    sl_err *err;
} fetch_ctx;

static int fetch_file(void *ctx, const sl_mfile *f)
{
    fetch_ctx *c = ctx;
    const sl_ainput *in = c->in;
    char *obj = sl_xasprintf("%s/%s/%.*s", in->tiers[c->r], in->path, (int)f->namelen, f->name);
    char *dst = sl_xasprintf("%s/%.*s", c->stage_dir, (int)f->namelen, f->name);
    char *parent = sl_xstrdup(dst);
    *strrchr(parent, '/') = 0;
    sl_mkdir_p(parent);
    sl_dp_opts o = {0};
    const sl_dp_tls tls = {c->a->cfg->tls_ca, c->a->cfg->tls_cert, c->a->cfg->tls_key};
    if (tls.ca_file) o.tls = &tls;
    int rc = sl_dp_fetch(in->addrs[c->r], in->caps[c->r], obj, dst, &o, NULL, c->err);
    /* the second try resumes what the first moved; a refusal stays one */
    if (rc < 0 && rc != SL_EPERM)
        rc = sl_dp_fetch(in->addrs[c->r], in->caps[c->r], obj, dst, &o, NULL, c->err);
    if (rc < 0)
        sl_err_prefix(c->err, "pull %s from %s (%s)", obj, in->hosts[c->r], in->addrs[c->r]);
    free(parent);
    free(obj);
    free(dst);
    return rc < 0 ? rc : 0;
}

/* Moves a checked copy from staging to its place. If a copy is there
 * already (another task pulled it meanwhile) and it is correct, it stays. */
static int publish(sl_agent *a, sl_atask *t, const sl_ainput *in, const char *staged,
                   const char *dir, sl_err *err)
{
    char *parent = sl_xstrdup(dir);
    *strrchr(parent, '/') = 0;
    int rc = -1;
    for (int tries = 0; tries < 10 && rc < 0; tries++) {
        sl_mkdir_p(parent); /* a concurrent prune may remove an empty parent: retry */
        rc = rename(staged, dir);
        if (rc < 0 && (errno == ENOTEMPTY || errno == EEXIST)) {
            if (verified_here(a, t, in, dir, "mem")) rc = 0; /* theirs is as good */
        } else if (rc < 0 && errno != ENOENT) {
            break;
        }
    }
    if (rc < 0) sl_errf(err, SL_EIO, "cannot move %s to %s: %s", staged, dir, strerror(errno));
    free(parent);
    return rc < 0 ? SL_EIO : 0;
}

/* Pulls input `in` (number i of task t) from one of its replicas into the
 * memory tier, through staging; replicas that cannot be read or do not
 * match are recorded and the next one is tried. */
static int pull_one(sl_agent *a, sl_atask *t, size_t i, const sl_ainput *in, sl_err *err)
{
    char *dir = sl_xasprintf("%s/%s", a->mem_root, in->path);
    int rc = SL_ENOTFOUND;
    sl_errf(err, SL_ENOTFOUND, "no live replica of %s to pull from", in->path);
    for (size_t r = 0; r < in->nrep && rc != 0; r++) {
        if (!strcmp(in->hosts[r], a->name)) {
            if (!strcmp(in->tiers[r], "push")) /* the push never arrived */
                add_unreach(t, in, r);
            continue;
        }
        if (!in->addrs[r][0]) continue;
        char *staged =
            sl_xasprintf("%s/.incoming/t%lld.%zu.%zu", a->mem_root, (long long)t->id, i, r);
        sl_rm_rf(staged);
        sl_mkdir_p(staged);
        fetch_ctx fc = {a, in, r, staged, err};
        rc = sl_manifest_each(in->files, fetch_file, &fc);
        if (rc == SL_EPERM) {
            /* refused (an expired capability, clocks apart): the replica is
             * fine; the task is leased again with fresh capabilities */
        } else if (rc < 0) {
            add_unreach(t, in, r);
        } else {
            char *bad = NULL;
            sl_err e = {0};
            if (sl_manifest_verify(staged, in->files, &bad, &e) < 0) {
                add_corrupt(a, t, in, in->hosts[r], in->tiers[r], staged, bad, e.msg);
                sl_errf(err, SL_EIO, "copy from %s does not match its manifest: %s", in->hosts[r],
                        e.msg);
                rc = SL_EIO;
            } else {
                rc = publish(a, t, in, staged, dir, err);
            }
            free(bad);
        }
        sl_rm_rf(staged);
        free(staged);
    }
    free(dir);
    return rc;
}

typedef struct {
    sl_agent *a;
    sl_atask *t;
} stage_job;

static void *stage_main(void *arg)
{
    stage_job *j = arg;
    sl_agent *a = j->a;
    sl_atask *t = j->t;
    free(j);
    sl_buf dirs = SL_BUF_INIT;
    for (size_t i = 0; i < t->ninputs && !t->error; i++) {
        const sl_ainput *in = &t->inputs[i];
        const char *tier = "mem";
        char *d = local_copy(a, t, in, 1, 30000, &tier);
        if (d && t->verify_local && !verified_here(a, t, in, d, tier)) {
            free(d); /* verify: local found it changed since it was made */
            d = NULL;
        }
        if (!d) {
            sl_err e = {0};
            if (pull_one(a, t, i, in, &e) < 0) {
                t->error = sl_xasprintf("input %s could not be fetched: %s", in->path, e.msg);
                break;
            }
            d = sl_xasprintf("%s/%s", a->mem_root, in->path);
            fprintf(stderr, "sluice agent %s: pulled %s (%lld bytes) for task %lld\n", a->name,
                    in->path, (long long)in->size, (long long)t->id);
            /* the copy is a replica now: reported with the completion */
            add_ref(&t->copies, &t->ncopies, in->path, "mem", NULL,
                    sl_xstrdup(in->files ? in->files : ""));
            t->copies[t->ncopies - 1].size = in->size;
        }
        if (dirs.len) sl_buf_putc(&dirs, ' ');
        sl_buf_puts(&dirs, d);
        free(d);
    }
    free(t->in_dirs);
    t->in_dirs = sl_buf_steal(&dirs);
    t->staged = 1;
    pthread_mutex_lock(&a->mu);
    t->next = a->staged_head;
    a->staged_head = t;
    pthread_mutex_unlock(&a->mu);
    uint64_t one = 1;
    if (write(a->evfd, &one, sizeof one) < 0) perror("sluice agent: eventfd");
    return NULL;
}

void sl_agent_stage_async(sl_agent *a, sl_atask *t)
{
    stage_job *j = sl_xmalloc(sizeof *j);
    j->a = a;
    j->t = t;
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &at, stage_main, j) != 0) stage_main(j); /* no thread: do it here */
    pthread_attr_destroy(&at);
}

/* ---- outputs ---------------------------------------------------------------- */

int sl_agent_out_prepare(sl_agent *a, sl_atask *t, const char *stage_name, sl_err *err)
{
    free(t->out_path);
    free(t->out_dir);
    t->out_path = sl_xasprintf("p%lld/%s/%s", (long long)t->pipeline_id, stage_name, t->key);
    t->out_dir = sl_xasprintf("%s/%s", sl_agent_tier_root(a, t->tier), t->out_path);
    sl_rm_rf(t->out_dir); /* what a failed attempt left */
    /* another thread may prune a shared empty parent (prune_parents) between
     * our mkdir of it and of the child: ENOENT, try again */
    int rc, tries = 0;
    while ((rc = sl_mkdir_p(t->out_dir)) < 0 && errno == ENOENT && ++tries < 10)
        ;
    if (rc < 0)
        return sl_errf(err, SL_EIO, "cannot create output directory %s: %s", t->out_dir,
                       strerror(errno));
    return 0;
}

void sl_agent_out_collect(sl_agent *a, sl_atask *t)
{
    if (!t->out_dir) return;
    const char *root = sl_agent_tier_root(a, t->tier);
    if (t->exit_code != 0) {
        sl_rm_rf(t->out_dir);
        prune_parents(root, t->out_dir);
        return;
    }
    /* the manifest: what every later copy is checked against */
    sl_buf files = SL_BUF_INIT;
    int64_t total = 0;
    sl_err e = {0};
    if (sl_manifest_make(t->out_dir, &files, &total, &e) < 0) {
        sl_buf_free(&files);
        t->exit_code = SL_EXIT_OUTPUT_UNREADABLE;
        if (!t->error) t->error = sl_xasprintf("output could not be collected: %s", e.msg);
        sl_rm_rf(t->out_dir);
        prune_parents(root, t->out_dir);
        return;
    }
    if (!files.len) { /* wrote nothing: no object */
        rmdir(t->out_dir);
        prune_parents(root, t->out_dir);
        sl_buf_free(&files);
        return;
    }
    t->output.tier = sl_xstrdup(t->tier ? t->tier : "mem");
    t->output.path = sl_xstrdup(t->out_path);
    t->output.files = sl_buf_steal(&files);
    t->output.size = total;
}

void sl_agent_cache_delete(sl_agent *a, const char *tier_path)
{
    const char *slash = strchr(tier_path, '/');
    if (!slash || strstr(tier_path, "..")) /* names come from our controller, still check */
        return;
    char tier[16];
    snprintf(tier, sizeof tier, "%.*s", (int)(slash - tier_path), tier_path);
    const char *root = sl_agent_tier_root(a, tier);
    char *dir = sl_xasprintf("%s/%s", root, slash + 1);
    /* Unlinking only: a file of this object may be hard-linked into a live
     * one (same-host hand-off), so its pages are never reused here. */
    sl_rm_rf(dir);
    prune_parents(root, dir);
    free(dir);
    if (!strcmp(tier, "push")) { /* a push that was never used sits in staging */
        char *staged = sl_xasprintf("%s/.pushed", a->mem_root);
        dir = sl_xasprintf("%s/%s", staged, slash + 1);
        sl_rm_rf(dir);
        prune_parents(staged, dir);
        free(dir);
        free(staged);
    }
}

/* ---- pushes (stream: true) ---------------------------------------------------- */

void sl_agent_push_enqueue(sl_agent *a, const char *tier, const char *path, const char *files,
                           const char *dest_host, const char *dest_addr, const char *cap)
{
    sl_apush *p = sl_xcalloc(1, sizeof *p);
    p->obj.tier = sl_xstrdup(tier && *tier ? tier : "mem");
    p->obj.path = sl_xstrdup(path);
    p->obj.files = sl_xstrdup(files ? files : "");
    p->obj.host = sl_xstrdup(dest_host);
    p->dest_addr = sl_xstrdup(dest_addr);
    p->cap = sl_xstrdup(cap ? cap : "");
    pthread_mutex_lock(&a->mu);
    sl_apush **tail = &a->push_head; /* first come, first pushed */
    while (*tail)
        tail = &(*tail)->next;
    *tail = p;
    pthread_cond_signal(&a->push_cv);
    pthread_mutex_unlock(&a->mu);
}

static int push_one(sl_agent *a, sl_apush *p, sl_err *err)
{
    int rc = 0;
    const char *root = sl_agent_tier_root(a, p->obj.tier);
    /* what leaves this host matches what its producer wrote: the transfer
     * itself is checked block by block against the bytes read here */
    char *dir = sl_xasprintf("%s/%s", root, p->obj.path);
    rc = sl_manifest_verify(dir, p->obj.files, NULL, err);
    free(dir);
    if (rc < 0)
        return sl_err_prefix(err, "not pushed: the object here does not match its manifest");
    for (const char *s = p->obj.files; *s && rc == 0;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        const char *tab = memchr(s, '\t', len);
        if (tab) {
            char *name = sl_xstrndup(s, (size_t)(tab - s));
            char *local = sl_xasprintf("%s/%s/%s", root, p->obj.path, name);
            /* lands in the staging area of the destination's memory tier
             * (.pushed/PATH), which its agent checks and moves into place */
            char *obj = sl_xasprintf("mem/%s/%s", p->obj.path, name);
            sl_dp_opts o = {0};
            const sl_dp_tls tls = {a->cfg->tls_ca, a->cfg->tls_cert, a->cfg->tls_key};
            if (tls.ca_file) o.tls = &tls;
            rc = sl_dp_push(p->dest_addr, p->cap, local, obj, &o, NULL, err);
            free(name);
            free(local);
            free(obj);
        }
        s += len + (nl ? 1 : 0);
    }
    return rc;
}

static void *push_main(void *arg)
{
    sl_agent *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stopping) {
        sl_apush *p = a->push_head;
        if (!p) {
            pthread_cond_wait(&a->push_cv, &a->mu);
            continue;
        }
        a->push_head = p->next;
        pthread_mutex_unlock(&a->mu);
        sl_err e = {0};
        int rc = push_one(a, p, &e);
        pthread_mutex_lock(&a->mu);
        if (rc == 0) { /* a replica on the destination: told at the next heartbeat */
            fprintf(stderr, "sluice agent %s: pushed %s to %s\n", a->name, p->obj.path,
                    p->obj.host);
            a->pushed = sl_xrealloc(a->pushed, (a->npushed + 1) * sizeof *a->pushed);
            a->pushed[a->npushed++] = p->obj;
            memset(&p->obj, 0, sizeof p->obj);
        } else {
            /* the consumer will pull it instead: slower, not wrong */
            fprintf(stderr, "sluice agent %s: push of %s to %s failed: %s\n", a->name, p->obj.path,
                    p->obj.host, e.msg);
        }
        sl_aobj_clear(&p->obj);
        free(p->dest_addr);
        free(p->cap);
        free(p);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* 2 if rel (under tier) is the directory of an object a journaled report
 * names, 1 if it is a parent of one, else 0. */
static int kept(const sl_agent *a, const char *tier, const char *rel)
{
    size_t n = strlen(rel);
    int best = 0;
    for (const sl_atask *t = a->done_head; t && best < 2; t = t->next) {
        for (size_t i = 0; i <= t->ncopies && best < 2; i++) {
            const sl_aobj *o = i < t->ncopies ? &t->copies[i] : &t->output;
            if (!o->path || strcmp(o->tier ? o->tier : "mem", tier) != 0) continue;
            if (!strcmp(o->path, rel))
                best = 2;
            else if (!strncmp(o->path, rel, n) && o->path[n] == '/')
                best = 1;
        }
    }
    return best;
}

static void wipe_tree(const sl_agent *a, const char *tier, const char *root, const char *rel)
{
    char *dir = sl_xasprintf("%s/%s", root, rel);
    DIR *d = opendir(dir);
    free(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *r = sl_xasprintf("%s/%s", rel, e->d_name);
        int k = kept(a, tier, r);
        if (k == 1) {
            wipe_tree(a, tier, root, r);
        } else if (k == 0) {
            char *p = sl_xasprintf("%s/%s", root, r);
            sl_rm_rf(p);
            free(p);
        }
        free(r);
    }
    closedir(d);
}

void sl_agent_cache_wipe(sl_agent *a)
{
    const char *roots[2] = {a->mem_root, a->ssd_root}, *tiers[2] = {"mem", "ssd"};
    int n = 0;
    for (int r = 0; r < 2; r++) {
        DIR *d = opendir(roots[r]);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            /* only what sluice puts there: p<digits> object trees */
            const char *q = e->d_name;
            if (*q++ != 'p' || !*q || strspn(q, "0123456789") != strlen(q)) continue;
            int k = kept(a, tiers[r], e->d_name);
            if (k) { /* outputs of reports about to be sent stay */
                wipe_tree(a, tiers[r], roots[r], e->d_name);
                continue;
            }
            char *p = sl_xasprintf("%s/%s", roots[r], e->d_name);
            sl_rm_rf(p);
            free(p);
            n++;
        }
        closedir(d);
    }
    if (n)
        fprintf(stderr,
                "sluice agent %s: the controller holds no objects here (the host was declared "
                "lost, or is new to this cluster); removed %d orphaned pipeline director%s\n",
                a->name, n, n == 1 ? "y" : "ies");
}
