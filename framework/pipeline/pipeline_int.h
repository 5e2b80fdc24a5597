/* pipeline_int.h - what the pipeline parser's files share (not public).
 *
 * pipeline.c drives a parse: YAML text -> node tree (yaml_tree.c) -> model
 * (pipeline_parse.c, which substitutes variables through vars.c) -> cross-
 * checks (pipeline_validate.c). They pass one context that carries the
 * arenas, the variable sources and the first error; the first error stops
 * the parse, so messages never cascade from an earlier mistake. */
#ifndef SL_PIPELINE_INT_H
#define SL_PIPELINE_INT_H

#include "pipeline/arena.h"
#include "pipeline/pipeline.h"
#include "pipeline/yaml_tree.h"
#include "util/buf.h"

typedef struct sl_pctx {
    sl_arena *a;      /* the model's arena (p->arena) */
    sl_arena *ta;     /* the tree's arena, freed after the parse */
    const char *file; /* name used in messages */
    const char *dir;  /* directory of file, for a relative env_file */
    const sl_varsrc *src;
    sl_err *err;
    sl_pipeline *p;
    sl_kv *envf; /* the env file's KEY=VALUE pairs */
    size_t nenvf;
    sl_kv *used; /* variables substituted so far (heap, copied into p->vars) */
    size_t nused, capused;
    sl_loc *gather_loc; /* per stage: the gather value, for validation errors */
    sl_loc *group_loc;  /* per stage: the group value */
} sl_pctx;

/* Edit distance, for "did you mean" hints. */
int sl_pipeline_edit_distance(const char *a, const char *b);
/* The closest of n names to s if it is a plausible typo, else NULL. */
const char *sl_pipeline_suggest(const char *s, const char *const *names, size_t n);

/* "file:line:col: message" at loc into c->err; returns SL_EINVAL. */
int sl_pipeline_errf(sl_pctx *c, sl_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* vars.c */
int sl_pipeline_load_env_file(sl_pctx *c, const char *path, sl_loc loc);
/* Substitutes ${...} in a scalar node's text; *out lives in c->a. */
int sl_pipeline_subst(sl_pctx *c, const sl_ynode *n, char **out);
void sl_pipeline_vars_finish(sl_pctx *c);
void sl_pipeline_vars_release(sl_pctx *c);

/* pipeline_parse.c: fills c->p from the root mapping. */
int sl_pipeline_build(sl_pctx *c, const sl_ynode *root);
/* pipeline_validate.c: references, cycles, gathers, initial keys. */
int sl_pipeline_validate(sl_pctx *c);

#endif
