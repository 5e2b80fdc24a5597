/* emit.h - how mwa-down tells the pipeline a file is ready (module contract):
 * one line KEY appended to $SLUICE_WORK/emit when SLUICE_WORK is set, and the
 * same key on stdout. The key comes from a template: {name} (file name),
 * {stem} (name up to its first '.'), {path} (final path), {dir} (destination).
 * An unknown placeholder is an error at start-up, not at the first emit. */
#ifndef MWA_DOWN_EMIT_H
#define MWA_DOWN_EMIT_H

#include <stddef.h>

/* 0 if the template only uses known placeholders, else -1 and a message. */
int emit_check_template(const char *tmpl, char *err, size_t errlen);
/* Expands the template for one file into out. -1 if it does not fit. */
int emit_expand(const char *tmpl, const char *dir, const char *name, char *out, size_t len);
/* Appends key to $SLUICE_WORK/emit (if set) and prints it on stdout.
 * 0 or -1 with a message. */
int emit_key(const char *key, char *err, size_t errlen);

#endif
