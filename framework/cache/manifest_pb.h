/* manifest_pb.h - manifests on the wire: the text form of manifest.h to and
 * from the repeated ObjectFile of the control API (sluice.proto), shared by
 * the controller and the agent so both read and write every field. */
#ifndef SL_MANIFEST_PB_H
#define SL_MANIFEST_PB_H

#include <stddef.h>

#include "sluice.pb-c.h"

/* Allocator of the caller's arena: zeroed memory freed with the arena. */
typedef void *(*sl_pb_alloc_fn)(void *arena, size_t n);

/* ObjectFile array (and its strings) for the manifest text, from `alloc`. */
Sluice__V1__ObjectFile **sl_manifest_to_pb(const char *text, size_t *n, sl_pb_alloc_fn alloc,
                                           void *arena);

/* The manifest text of an ObjectFile array (malloc'd). */
char *sl_manifest_from_pb(Sluice__V1__ObjectFile *const *files, size_t n);

#endif
