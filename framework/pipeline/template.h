/* template.h - task keys and key templates.
 *
 * A task key is a short relative-path-like string, e.g.
 * "1257010784/p00001_00024/t1257010986_1257011185/ch109". It must be safe to
 * use as a relative path: 1..SL_KEY_MAX (512) bytes of letters, digits and . _ - + = , @
 * : % ~ # /, no leading '/', no empty, "." or ".." segment.
 *
 * Templates build downstream keys from an upstream key:
 *   {key}        the whole input key
 *   {1} {2} ...  the n-th '/'-separated segment (1-based); {-1} the last
 *   {A..B}       a range of integers, expanded to one key per value; the
 *   {A..B..S}    width of A sets zero padding ({001..024}); S is the step
 *   {A..B..S:F}  a range with an output format F: %d the value, %e the last
 *                value of its step (value+S-1, at most B), %% a '%', with an
 *                optional zero-padded width: {1..12960..24:p%05d_%05e} ->
 *                p00001_00024 p00025_00048 ... p12937_12960
 *   {{ and }}    literal braces
 * Several ranges in one template expand as a cartesian product.
 * Expansion is bounded (SL_TEMPLATE_MAX_KEYS keys) to keep typos harmless. */
#ifndef SL_TEMPLATE_H
#define SL_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/limits.h"
#include "util/err.h"

/* 0 if key is valid, else SL_EINVAL with a message naming the problem. */
int sl_key_validate(const char *key, sl_err *err);

/* 0 if headers (NULL or "" for none) are a JSON object of at most
 * SL_HEADERS_MAX_BYTES nested at most SL_HEADERS_MAX_DEPTH deep, else
 * SL_EINVAL with a message naming the limit. */
int sl_headers_validate(const char *headers, sl_err *err);

/* Checks a template's syntax (not the keys it makes). */
int sl_template_check(const char *tmpl, sl_err *err);

/* Expands tmpl for input key `in` (may be NULL when the template does not use
 * it) and calls fn for each resulting key, in order. Stops and returns fn's
 * value if it is non-zero. Each key is validated; an invalid one is an error. */
typedef int (*sl_template_fn)(void *ctx, const char *key);
int sl_template_expand(const char *tmpl, const char *in, sl_template_fn fn, void *ctx, sl_err *err);

/* The keys of a template are an ordered sequence (ordinals 0..count-1, the
 * order sl_template_expand produces). sl_template_expand_at produces only
 * ordinals [start, start + limit) (limit < 0: to the end), so a long
 * expansion can be resumed from a stored ordinal after a restart. */
int sl_template_expand_at(const char *tmpl, const char *in, int64_t start, int64_t limit,
                          sl_template_fn fn, void *ctx, sl_err *err);
/* Number of keys the template makes (no input needed), or negative. */
int64_t sl_template_count(const char *tmpl, sl_err *err);
/* 0 if every key the template makes for input `in` is valid, checked
 * without making them all (time independent of the number of keys), else
 * the error sl_template_expand would stop with. */
int sl_template_check_keys(const char *tmpl, const char *in, sl_err *err);

#endif
