/* module_emit.h - the module side of sluice's module contract for messages: print
 * the key on stdout (for people and plain shell use) and, when running as a
 * sluice task ($SLUICE_WORK set), append it as a line to $SLUICE_WORK/emit.
 * Modules stay independent of the framework: this is all they need. */
#ifndef MODLIB_EMIT_H
#define MODLIB_EMIT_H

#include <stddef.h>

/* 0 on success, -1 with a sentence in err. */
int module_emit(const char *key, char *err, size_t errlen);

/* Key templates with {placeholders} taken from kv, a NULL-terminated list
 * of name, value pairs. check: every placeholder known (else err lists the
 * known ones); expand: the key into out (len bytes), -1 if it does not fit. */
int module_key_check(const char *tmpl, const char *const *kv, char *err, size_t errlen);
int module_key_expand(const char *tmpl, const char *const *kv, char *out, size_t len);

#endif
