/* manifest_pb.c - manifest text <-> protobuf ObjectFile (see manifest_pb.h). */
#include "cache/manifest_pb.h"

#include <string.h>

#include "cache/manifest.h"

typedef struct {
    Sluice__V1__ObjectFile **v;
    size_t n;
    sl_pb_alloc_fn alloc;
    void *arena;
} to_pb;

static int count_cb(void *ctx, const sl_mfile *f)
{
    (void)f;
    ((to_pb *)ctx)->n++;
    return 0;
}

static int add_cb(void *ctx, const sl_mfile *f)
{
    to_pb *c = ctx;
    Sluice__V1__ObjectFile *x = c->alloc(c->arena, sizeof *x);
    sluice__v1__object_file__init(x);
    char *name = c->alloc(c->arena, f->namelen + 1);
    memcpy(name, f->name, f->namelen);
    x->name = name;
    x->size = f->size;
    if (f->hash[0]) {
        char *h = c->alloc(c->arena, sizeof f->hash);
        memcpy(h, f->hash, sizeof f->hash);
        x->xxh3_128 = h;
    }
    c->v[c->n++] = x;
    return 0;
}

Sluice__V1__ObjectFile **sl_manifest_to_pb(const char *text, size_t *n, sl_pb_alloc_fn alloc,
                                           void *arena)
{
    to_pb c = {NULL, 0, alloc, arena};
    sl_manifest_each(text, count_cb, &c);
    c.v = alloc(arena, (c.n ? c.n : 1) * sizeof *c.v);
    c.n = 0;
    sl_manifest_each(text, add_cb, &c);
    *n = c.n;
    return c.v;
}

char *sl_manifest_from_pb(Sluice__V1__ObjectFile *const *files, size_t n)
{
    sl_buf b = SL_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        sl_manifest_add(&b, files[i]->name, strlen(files[i]->name), files[i]->size,
                        files[i]->xxh3_128);
    if (!b.data) sl_buf_puts(&b, "");
    return sl_buf_steal(&b);
}
