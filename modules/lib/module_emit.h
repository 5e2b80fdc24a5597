/* module_emit.h - the module side of sluice's module contract for messages: print
 * the key on stdout (for people and plain shell use) and, when running as a
 * sluice task ($SLUICE_WORK set), append it as a line to $SLUICE_WORK/emit.
 * Modules stay independent of the framework: this is all they need. */
#ifndef MODLIB_EMIT_H
#define MODLIB_EMIT_H

#include <stddef.h>

/* 0 on success, -1 with a sentence in err. */
int module_emit(const char *key, char *err, size_t errlen);

#endif
