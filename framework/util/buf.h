/* buf.h - growable byte/string buffer (the sds of sluice).
 *
 * Always NUL-terminated so it can be used as a C string; len excludes the NUL.
 * Allocation failure aborts: an agent or controller that cannot allocate a
 * few bytes cannot do anything useful, and checking every append would hide
 * the real logic. */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sl_buf {
    char *data;
    size_t len;
    size_t cap;
} sl_buf;

#define SL_BUF_INIT                                                                                \
    {                                                                                              \
        0                                                                                          \
    }

void sl_buf_reserve(sl_buf *b, size_t extra);
void sl_buf_append(sl_buf *b, const void *p, size_t n);
void sl_buf_puts(sl_buf *b, const char *s);
void sl_buf_putc(sl_buf *b, char c);
void sl_buf_printf(sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_buf_vprintf(sl_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes and escapes included). */
void sl_buf_json_str(sl_buf *b, const char *s);
void sl_buf_reset(sl_buf *b);
void sl_buf_free(sl_buf *b);
/* Hands the heap string to the caller and leaves b empty. */
char *sl_buf_steal(sl_buf *b);

/* Small allocation helpers that abort on failure. */
void *sl_xmalloc(size_t n);
void *sl_xcalloc(size_t n, size_t size);
void *sl_xrealloc(void *p, size_t n);
char *sl_xstrdup(const char *s);
char *sl_xstrndup(const char *s, size_t n);
char *sl_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
