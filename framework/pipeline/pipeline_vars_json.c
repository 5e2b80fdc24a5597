/* pipeline_vars_json.c - rebuilding a pipeline model from its YAML text and
 * the variables recorded at submission ({"NAME":"value",...}), as the
 * controller (after a restart) and the agents do. The environment and env
 * files of the machine doing the re-parse are deliberately not consulted:
 * every host must see the model the user submitted. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "util/buf.h"
#include "util/json.h"

typedef struct {
    sl_kv *kv;
    size_t n;
} kv_list;

static int add_var(void *ctx, const char *name, const char *value)
{
    kv_list *l = ctx;
    l->kv = sl_xrealloc(l->kv, (l->n + 1) * sizeof *l->kv);
    l->kv[l->n].key = sl_xstrdup(name);
    l->kv[l->n].value = sl_xstrdup(value);
    l->n++;
    return 0;
}

sl_pipeline *sl_pipeline_parse_with_vars_json(const char *file, const char *yaml,
                                              const char *vars_json, sl_err *err)
{
    kv_list l = {0};
    if (vars_json && *vars_json && sl_json_each_str(vars_json, add_var, &l) < 0) {
        sl_errf(err, SL_EINVAL, "%s: recorded variables are not a JSON object", file);
        return NULL;
    }
    sl_varsrc src = {.vars = l.kv, .nvars = l.n, .no_env_file = 1};
    sl_pipeline *p = sl_pipeline_parse(file, yaml, strlen(yaml), &src, err);
    for (size_t i = 0; i < l.n; i++) {
        free(l.kv[i].key);
        free(l.kv[i].value);
    }
    free(l.kv);
    return p;
}
