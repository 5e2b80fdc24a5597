/* agent_wire.c - finished tasks on the wire (see agent_wire.h). */
#include "agent/agent_wire.h"

#include <stdlib.h>
#include <string.h>

#include "cache/manifest_pb.h"

void *sl_pb_alloc(sl_pb_completions *pk, size_t n)
{
    void *p = sl_xcalloc(1, n);
    pk->allocs = sl_xrealloc(pk->allocs, (pk->nallocs + 1) * sizeof *pk->allocs);
    pk->allocs[pk->nallocs++] = p;
    return p;
}

static void *pk_alloc_cb(void *pk, size_t n)
{
    return sl_pb_alloc(pk, n);
}

/* An ObjectRef for an object of ours: files from its manifest, one
 * replica naming the host it is on (us, or a push destination). */
Sluice__V1__ObjectRef *sl_pb_object(sl_pb_completions *pk, const sl_aobj *o, const char *host)
{
    Sluice__V1__ObjectRef *x = sl_pb_alloc(pk, sizeof *x);
    sluice__v1__object_ref__init(x);
    x->path = o->path;
    x->size = o->size;
    x->files = sl_manifest_to_pb(o->files, &x->n_files, pk_alloc_cb, pk);
    Sluice__V1__Replica *r = sl_pb_alloc(pk, sizeof *r);
    sluice__v1__replica__init(r);
    r->host = (char *)host;
    r->tier = o->tier ? o->tier : (char *)"mem";
    x->replicas = sl_pb_alloc(pk, sizeof *x->replicas);
    x->replicas[0] = r;
    x->n_replicas = 1;
    return x;
}

void sl_pb_completions_pack(sl_pb_completions *pk, sl_atask *batch, size_t n, const char *host)
{
    size_t nm = 0, i = 0, m = 0;
    pk->allocs = NULL;
    pk->nallocs = 0;
    for (sl_atask *t = batch; t; t = t->next)
        nm += t->nemitted;
    pk->cs = sl_xcalloc(n ? n : 1, sizeof *pk->cs);
    pk->cp = sl_xcalloc(n ? n : 1, sizeof *pk->cp);
    pk->ms = sl_xcalloc(nm ? nm : 1, sizeof *pk->ms);
    pk->mp = sl_xcalloc(nm ? nm : 1, sizeof *pk->mp);
    for (sl_atask *t = batch; t && i < n; t = t->next, i++) {
        Sluice__V1__Completion *c = &pk->cs[i];
        sluice__v1__completion__init(c);
        c->task_id = t->id;
        c->attempt = t->attempt;
        c->exit_code = t->exit_code;
        c->started = t->started;
        c->finished = t->finished;
        c->stdout_tail = t->out_tail ? t->out_tail : (char *)"";
        c->stderr_tail = t->err_tail ? t->err_tail : (char *)"";
        c->error = t->error ? t->error : (char *)"";
        c->emitted = pk->mp + m;
        c->n_emitted = t->nemitted;
        for (size_t k = 0; k < t->nemitted; k++, m++) {
            sluice__v1__message__init(&pk->ms[m]);
            pk->ms[m].stage = t->emitted[k].stage;
            pk->ms[m].key = t->emitted[k].key;
            pk->ms[m].headers = t->emitted[k].headers;
            pk->mp[m] = &pk->ms[m];
        }
        if (t->output.path) {
            c->outputs = sl_pb_alloc(pk, sizeof *c->outputs);
            c->outputs[0] = sl_pb_object(pk, &t->output, host);
            c->n_outputs = 1;
        }
        if (t->nunreach) {
            c->unreachable = sl_pb_alloc(pk, t->nunreach * sizeof *c->unreachable);
            for (size_t k = 0; k < t->nunreach; k++)
                c->unreachable[k] = sl_pb_object(pk, &t->unreach[k], t->unreach[k].host);
            c->n_unreachable = t->nunreach;
        }
        if (t->ncorrupt) {
            c->corrupt = sl_pb_alloc(pk, t->ncorrupt * sizeof *c->corrupt);
            for (size_t k = 0; k < t->ncorrupt; k++)
                c->corrupt[k] = sl_pb_object(pk, &t->corrupt[k], t->corrupt[k].host);
            c->n_corrupt = t->ncorrupt;
        }
        if (t->ncopies) {
            c->copies = sl_pb_alloc(pk, t->ncopies * sizeof *c->copies);
            for (size_t k = 0; k < t->ncopies; k++)
                c->copies[k] = sl_pb_object(pk, &t->copies[k], host);
            c->n_copies = t->ncopies;
        }
        pk->cp[i] = c;
    }
}

void sl_pb_completions_free(sl_pb_completions *pk)
{
    for (size_t i = 0; i < pk->nallocs; i++)
        free(pk->allocs[i]);
    free(pk->allocs);
    free(pk->cs);
    free(pk->cp);
    free(pk->ms);
    free(pk->mp);
}

static void objs_from_pb(sl_aobj **v, size_t *n, Sluice__V1__ObjectRef *const *refs, size_t nrefs,
                         int with_host)
{
    if (!nrefs) return;
    *v = sl_xcalloc(nrefs, sizeof **v);
    *n = nrefs;
    for (size_t i = 0; i < nrefs; i++) {
        const Sluice__V1__ObjectRef *r = refs[i];
        sl_aobj *o = &(*v)[i];
        o->path = sl_xstrdup(r->path);
        o->size = r->size;
        o->files = sl_manifest_from_pb(r->files, r->n_files);
        o->tier =
            sl_xstrdup(r->n_replicas && r->replicas[0]->tier[0] ? r->replicas[0]->tier : "mem");
        if (with_host && r->n_replicas) o->host = sl_xstrdup(r->replicas[0]->host);
    }
}

sl_atask *sl_atask_from_pb(const Sluice__V1__Completion *c)
{
    sl_atask *t = sl_xcalloc(1, sizeof *t);
    t->id = c->task_id;
    t->attempt = c->attempt;
    t->exit_code = c->exit_code;
    t->started = c->started;
    t->finished = c->finished;
    t->out_tail = sl_xstrdup(c->stdout_tail);
    t->err_tail = sl_xstrdup(c->stderr_tail);
    if (c->error[0]) t->error = sl_xstrdup(c->error);
    if (c->n_emitted) {
        t->emitted = sl_xcalloc(c->n_emitted, sizeof *t->emitted);
        t->nemitted = c->n_emitted;
        for (size_t i = 0; i < c->n_emitted; i++) {
            t->emitted[i].stage = sl_xstrdup(c->emitted[i]->stage);
            t->emitted[i].key = sl_xstrdup(c->emitted[i]->key);
            t->emitted[i].headers = sl_xstrdup(c->emitted[i]->headers);
        }
    }
    if (c->n_outputs) {
        sl_aobj *o = NULL;
        size_t n = 0;
        objs_from_pb(&o, &n, c->outputs, 1, 0);
        t->output = o[0];
        free(o);
    }
    objs_from_pb(&t->copies, &t->ncopies, c->copies, c->n_copies, 0);
    objs_from_pb(&t->unreach, &t->nunreach, c->unreachable, c->n_unreachable, 1);
    objs_from_pb(&t->corrupt, &t->ncorrupt, c->corrupt, c->n_corrupt, 1);
    return t;
}
