/* arena.c - chunked bump allocator (see arena.h). Big requests get a chunk
 * of their own so a large array never wastes the rest of a small chunk. */
#include "pipeline/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define CHUNK 16384

typedef struct chunk {
    struct chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} chunk;

struct sl_arena {
    chunk *head;
};

sl_arena *sl_arena_new(void)
{
    return sl_xcalloc(1, sizeof(sl_arena));
}

void sl_arena_free(sl_arena *a)
{
    if (!a) return;
    for (chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *sl_arena_alloc(sl_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK / 4 ? n : CHUNK;
        c = sl_xmalloc(sizeof(chunk) + cap);
        c->used = 0;
        c->cap = cap;
        if (n > CHUNK / 4 && a->head) { /* keep the current small chunk in front */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *sl_arena_array(sl_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) abort();
    return sl_arena_alloc(a, n * size);
}

char *sl_arena_strndup(sl_arena *a, const char *s, size_t n)
{
    char *p = sl_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *sl_arena_strdup(sl_arena *a, const char *s)
{
    return s ? sl_arena_strndup(a, s, strlen(s)) : NULL;
}
