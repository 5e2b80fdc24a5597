/* yaml_tree.h - a YAML document as a small tree of nodes with line:col.
 *
 * libyaml's event stream is turned into scalars, mappings and sequences so
 * the pipeline parser can look keys up, report unknown ones and point every
 * error at the node it is about. Duplicate mapping keys, non-scalar keys and
 * several documents are rejected here. Anchors and aliases work (an alias
 * shares the anchored node). The tree lives in the caller's arena. */
#ifndef SL_PIPELINE_YAML_TREE_H
#define SL_PIPELINE_YAML_TREE_H

#include <stddef.h>

#include "pipeline/arena.h"
#include "pipeline/pipeline.h"
#include "util/err.h"

typedef enum sl_ykind { SL_Y_SCALAR, SL_Y_MAP, SL_Y_SEQ } sl_ykind;

typedef struct sl_ynode {
    sl_ykind kind;
    sl_loc loc;
    char *str;               /* scalar text (NUL-terminated) */
    size_t len;              /* scalar length */
    int plain;               /* scalar written without quotes or block style */
    struct sl_ynode **keys;  /* mapping keys (scalars) */
    struct sl_ynode **items; /* mapping values or sequence items */
    size_t n;
} sl_ynode;

/* Parses text into *root (NULL for an empty document). On error fills err
 * with "file:line:col: ..." and returns SL_EINVAL. */
int sl_ytree_parse(sl_arena *a, const char *file, const char *text, size_t len, sl_ynode **root,
                   sl_err *err);

/* The value for key in a mapping, or NULL. */
sl_ynode *sl_ytree_get(const sl_ynode *map, const char *key);
/* A plain null scalar: empty, "~", "null" or "Null"/"NULL". */
int sl_ytree_is_null(const sl_ynode *n);
const char *sl_ytree_kind_name(const sl_ynode *n);

#endif
