/* json.h - just enough JSON for task headers.
 *
 * Headers are small JSON objects carried verbatim through the store and the
 * API. The framework only needs to check that a text is an object, read a
 * few string fields (to_host, from_host) and add one; it never needs a DOM.
 * Anything that is not a well-formed object is rejected with the byte offset
 * of the problem. */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* 0 if text is a well-formed JSON object (whitespace around allowed),
 * nested at most 64 deep. */
int sl_json_check_object(const char *text, sl_err *err);
/* The same with arrays and objects nested at most max_depth deep (the
 * object itself is depth 1); deeper is refused naming the limit. */
int sl_json_check_object_depth(const char *text, int max_depth, sl_err *err);
/* Copies the string value of top-level field `name` into out (unescaped).
 * Returns 1 if found and a string, 0 if absent or not a string. */
int sl_json_get_str(const char *obj, const char *name, sl_buf *out);
/* Writes obj with top-level field name set to the string value (replacing an
 * existing field of that name). obj may be NULL, empty or blank ("{}" is
 * assumed, as for any text that does not start with '{'). */
void sl_json_set_str(sl_buf *out, const char *obj, const char *name, const char *value);

/* Calls fn(ctx, name, value) for each top-level member whose value is a
 * string, in order; stops early when fn returns non-zero. Returns the number
 * of members visited, or -1 if obj is not an object. */
typedef int (*sl_json_str_fn)(void *ctx, const char *name, const char *value);
int sl_json_each_str(const char *obj, sl_json_str_fn fn, void *ctx);

#endif
