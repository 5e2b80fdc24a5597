/* yaml_tree.c - libyaml events to a node tree (see yaml_tree.h).
 *
 * A small explicit stack of open containers replaces recursion, so a deeply
 * nested file cannot overflow the C stack; children are collected in heap
 * vectors and copied into the arena when their container closes. */
#include "pipeline/yaml_tree.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pipeline/limits.h"
#include "util/buf.h"

#define MAX_DEPTH SL_PIPE_MAX_DEPTH

typedef struct open_node {
    sl_ynode *node;
    sl_ynode **kids; /* map: key, value, key, value ...; seq: items */
    size_t n, cap;
} open_node;

typedef struct anchor {
    char *name;
    sl_ynode *node;
} anchor;

static void push_kid(open_node *o, sl_ynode *k)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->kids = sl_xrealloc(o->kids, o->cap * sizeof *o->kids);
    }
    o->kids[o->n++] = k;
}

static sl_loc mark_loc(yaml_mark_t m)
{
    return (sl_loc){(int)m.line + 1, (int)m.column + 1};
}

/* Closes a container: copies kids into the arena, checks mapping keys. */
static int close_node(sl_arena *a, const char *file, open_node *o, sl_err *err)
{
    sl_ynode *nd = o->node;
    if (nd->kind == SL_Y_MAP) {
        nd->n = o->n / 2;
        nd->keys = sl_arena_array(a, nd->n, sizeof *nd->keys);
        nd->items = sl_arena_array(a, nd->n, sizeof *nd->items);
        for (size_t i = 0; i < nd->n; i++) {
            sl_ynode *k = o->kids[2 * i];
            if (k->kind != SL_Y_SCALAR) {
                sl_errf(err, SL_EINVAL, "%s:%d:%d: mapping keys must be plain strings, not a %s",
                        file, k->loc.line, k->loc.col, sl_ytree_kind_name(k));
                goto fail;
            }
            for (size_t j = 0; j < i; j++)
                if (!strcmp(nd->keys[j]->str, k->str)) {
                    sl_errf(err, SL_EINVAL, "%s:%d:%d: duplicate key '%s' (first at line %d)", file,
                            k->loc.line, k->loc.col, k->str, nd->keys[j]->loc.line);
                    goto fail;
                }
            nd->keys[i] = k;
            nd->items[i] = o->kids[2 * i + 1];
        }
    } else {
        nd->n = o->n;
        nd->items = sl_arena_array(a, nd->n, sizeof *nd->items);
        if (o->n) memcpy(nd->items, o->kids, o->n * sizeof *nd->items);
    }
    free(o->kids);
    o->kids = NULL;
    return 0;
fail:
    free(o->kids);
    o->kids = NULL;
    return SL_EINVAL;
}

int sl_ytree_parse(sl_arena *a, const char *file, const char *text, size_t len, sl_ynode **root,
                   sl_err *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    open_node stack[MAX_DEPTH];
    int depth = 0, docs = 0, rc = 0, done = 0;
    anchor *anchors = NULL;
    size_t nanchors = 0;
    *root = NULL;

    if (!yaml_parser_initialize(&parser))
        return sl_errf(err, SL_ENOMEM, "%s: cannot initialise the YAML parser", file);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            sl_loc l = mark_loc(parser.problem_mark);
            if (parser.context)
                rc = sl_errf(err, SL_EINVAL, "%s:%d:%d: YAML syntax error: %s %s", file, l.line,
                             l.col, parser.problem ? parser.problem : "error", parser.context);
            else
                rc = sl_errf(err, SL_EINVAL, "%s:%d:%d: YAML syntax error: %s", file, l.line, l.col,
                             parser.problem ? parser.problem : "error");
            break;
        }
        sl_ynode *nd = NULL;
        const unsigned char *anc = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                sl_loc l = mark_loc(ev.start_mark);
                rc = sl_errf(err, SL_EINVAL,
                             "%s:%d:%d: a pipeline file holds one YAML document; found a second",
                             file, l.line, l.col);
                done = 1;
            }
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.length > SL_PIPE_MAX_SCALAR_BYTES) {
                sl_loc l = mark_loc(ev.start_mark);
                rc =
                    sl_errf(err, SL_EINVAL, "%s:%d:%d: scalar of %zu bytes exceeds the limit of %d",
                            file, l.line, l.col, ev.data.scalar.length, SL_PIPE_MAX_SCALAR_BYTES);
                done = 1;
                break;
            }
            nd = sl_arena_alloc(a, sizeof *nd);
            nd->kind = SL_Y_SCALAR;
            nd->str =
                sl_arena_strndup(a, (const char *)ev.data.scalar.value, ev.data.scalar.length);
            nd->len = ev.data.scalar.length;
            nd->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (strlen(nd->str) != nd->len) {
                sl_loc l = mark_loc(ev.start_mark);
                rc = sl_errf(err, SL_EINVAL, "%s:%d:%d: NUL byte in a scalar", file, l.line, l.col);
                done = 1;
            }
            anc = ev.data.scalar.anchor;
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            nd = sl_arena_alloc(a, sizeof *nd);
            nd->kind = ev.type == YAML_MAPPING_START_EVENT ? SL_Y_MAP : SL_Y_SEQ;
            anc = ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                      : ev.data.sequence_start.anchor;
            break;
        case YAML_ALIAS_EVENT:
            for (size_t i = 0; i < nanchors; i++)
                if (!strcmp(anchors[i].name, (const char *)ev.data.alias.anchor))
                    nd = anchors[i].node;
            for (int i = 0; nd && i < depth; i++)
                if (stack[i].node == nd) {
                    sl_loc l = mark_loc(ev.start_mark);
                    rc = sl_errf(err, SL_EINVAL,
                                 "%s:%d:%d: alias *%s refers to a node that contains it", file,
                                 l.line, l.col, ev.data.alias.anchor);
                    nd = NULL;
                    done = 1;
                }
            if (!nd && !done) {
                sl_loc l = mark_loc(ev.start_mark);
                rc = sl_errf(err, SL_EINVAL, "%s:%d:%d: unknown alias *%s", file, l.line, l.col,
                             ev.data.alias.anchor);
                done = 1;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (close_node(a, file, &stack[--depth], err) < 0) {
                rc = SL_EINVAL;
                done = 1;
                break;
            }
            nd = stack[depth].node;
            if (depth == 0)
                *root = nd;
            else
                push_kid(&stack[depth - 1], nd);
            nd = NULL;
            break;
        default:
            break;
        }
        if (nd) {
            if (ev.type != YAML_ALIAS_EVENT) nd->loc = mark_loc(ev.start_mark);
            if (anc) {
                anchors = sl_xrealloc(anchors, (nanchors + 1) * sizeof *anchors);
                anchors[nanchors++] = (anchor){sl_xstrdup((const char *)anc), nd};
            }
            if (nd->kind != SL_Y_SCALAR && ev.type != YAML_ALIAS_EVENT) {
                if (depth == MAX_DEPTH) {
                    rc = sl_errf(err, SL_EINVAL,
                                 "%s:%d:%d: nesting deeper than %d levels (the limit)", file,
                                 nd->loc.line, nd->loc.col, MAX_DEPTH);
                    done = 1;
                } else {
                    stack[depth++] = (open_node){.node = nd};
                }
            } else if (depth == 0) {
                *root = nd;
            } else {
                push_kid(&stack[depth - 1], nd);
            }
        }
        yaml_event_delete(&ev);
    }
    while (depth > 0)
        free(stack[--depth].kids);
    for (size_t i = 0; i < nanchors; i++)
        free(anchors[i].name);
    free(anchors);
    yaml_parser_delete(&parser);
    if (rc < 0) *root = NULL;
    return rc;
}

sl_ynode *sl_ytree_get(const sl_ynode *map, const char *key)
{
    if (!map || map->kind != SL_Y_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i]->str, key)) return map->items[i];
    return NULL;
}

int sl_ytree_is_null(const sl_ynode *n)
{
    if (!n || n->kind != SL_Y_SCALAR || !n->plain) return 0;
    return n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
           !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const char *sl_ytree_kind_name(const sl_ynode *n)
{
    if (!n) return "nothing";
    if (sl_ytree_is_null(n)) return "null";
    switch (n->kind) {
    case SL_Y_MAP:
        return "mapping";
    case SL_Y_SEQ:
        return "list";
    default:
        return "scalar";
    }
}
