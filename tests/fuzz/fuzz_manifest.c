/* fuzz_manifest.c - libFuzzer harness: the text form of object manifests
 * (cache/manifest.c), which reaches an agent from other hosts through the
 * controller and names the files it fetches and writes.
 *
 * Every line sl_manifest_each hands out must lie inside the text and its
 * line, name a safe relative path (it becomes stage_dir/NAME on the
 * fetching host) and carry either no hash or 32 hex digits. The text is
 * also converted to protobuf ObjectFiles and back (manifest_pb.c, as the
 * controller and agents do), and the result must parse to the same files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/manifest.h"
#include "cache/manifest_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const char *text;
    size_t size;
    sl_buf again; /* the lines re-added with sl_manifest_add */
    size_t n;
} ctx;

static int each_cb(void *vc, const sl_mfile *f)
{
    ctx *c = vc;
    if (f->name < c->text || f->name + f->namelen > c->text + c->size) abort();
    if (f->namelen == 0 || f->name[0] == '/') abort();
    for (size_t i = 0; i < f->namelen; i++)
        if ((unsigned char)f->name[i] < 0x20 || f->name[i] == 0x7f) abort();
    for (size_t i = 0, st = 0; i <= f->namelen; i++)
        if (i == f->namelen || f->name[i] == '/') {
            size_t n = i - st;
            const char *s = f->name + st;
            if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                abort();
            st = i + 1;
        }
    size_t hl = strlen(f->hash);
    if (hl != 0 && hl != SL_MANIFEST_HASH_HEX) abort();
    if (hl && strspn(f->hash, "0123456789abcdef") != hl) abort();
    sl_manifest_add(&c->again, f->name, f->namelen, f->size, f->hash);
    c->n++;
    return 0;
}

static void *alloc_cb(void *arena, size_t n)
{
    /* a list of blocks: each block's first word links the previous one */
    void **head = arena;
    void **blk = calloc(1, sizeof(void *) + n + 16);
    blk[0] = *head;
    *head = blk;
    return (char *)blk + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    size_t len = strlen(text);

    ctx c = {text, len, SL_BUF_INIT, 0};
    sl_manifest_each(text, each_cb, &c);

    /* wire form and back: the same lines as re-adding them */
    void *arena = NULL;
    size_t nf = 0;
    Sluice__V1__ObjectFile **files = sl_manifest_to_pb(text, &nf, alloc_cb, &arena);
    if (nf != c.n) abort();
    char *back = sl_manifest_from_pb(files, nf);
    if (strcmp(back, c.again.data ? c.again.data : "")) abort();
    /* and a manifest in canonical form parses to itself */
    ctx c2 = {back, strlen(back), SL_BUF_INIT, 0};
    sl_manifest_each(back, each_cb, &c2);
    if (c2.n != c.n || strcmp(c2.again.data ? c2.again.data : "", back)) abort();

    free(back);
    sl_buf_free(&c.again);
    sl_buf_free(&c2.again);
    for (void **b = arena; b;) {
        void **next = b[0];
        free(b);
        b = next;
    }
    free(text);
    return 0;
}
