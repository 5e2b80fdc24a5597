/* arena.h - a bump allocator that owns everything of one parsed pipeline.
 *
 * A pipeline model is hundreds of small strings and arrays that live and die
 * together; one arena makes sl_pipeline_free() a single walk over a few big
 * chunks and removes every per-field free path. Allocation failure aborts,
 * like sl_xmalloc. Memory is zeroed. */
#ifndef SL_PIPELINE_ARENA_H
#define SL_PIPELINE_ARENA_H

#include <stddef.h>

typedef struct sl_arena sl_arena;

sl_arena *sl_arena_new(void);
void sl_arena_free(sl_arena *a);
void *sl_arena_alloc(sl_arena *a, size_t n); /* zeroed, 16-byte aligned */
void *sl_arena_array(sl_arena *a, size_t n, size_t size);
char *sl_arena_strdup(sl_arena *a, const char *s);
char *sl_arena_strndup(sl_arena *a, const char *s, size_t n);

#endif
