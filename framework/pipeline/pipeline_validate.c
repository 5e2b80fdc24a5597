/* pipeline_validate.c - rules that span stages, run after the model is built.
 *
 * Emit targets are resolved to indexes, group-bound stages to a group or an
 * agent label, the stage graph is checked for cycles (depth-first, reporting
 * the cycle as a path), and every gather stage must be fed by something.
 * Errors point at the node that holds the bad reference. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline_int.h"

static int unknown_stage(sl_pctx *c, const sl_stage *s, const sl_emit *e)
{
    const sl_pipeline *p = c->p;
    const char **names = sl_xcalloc(p->nstages, sizeof *names);
    for (size_t j = 0; j < p->nstages; j++)
        names[j] = p->stages[j].name;
    const char *sug = sl_pipeline_suggest(e->to, names, p->nstages);
    free(names);
    if (sug)
        return sl_pipeline_errf(c, e->loc,
                                "stage '%s' emits to unknown stage '%s' (did you mean '%s'?)",
                                s->name, e->to, sug);
    return sl_pipeline_errf(c, e->loc, "stage '%s' emits to unknown stage '%s'", s->name, e->to);
}

static int resolve_group(sl_pctx *c, size_t idx)
{
    sl_pipeline *p = c->p;
    sl_stage *s = &p->stages[idx];
    s->group_index = -1;
    if (s->placement != SL_PLACE_GROUP_BOUND) return 0;
    if (!strncmp(s->group, "label:", 6)) {
        s->group += 6;
        if (!*s->group)
            return sl_pipeline_errf(c, c->group_loc[idx],
                                    "group 'label:' of stage '%s' names no label", s->name);
        return 0;
    }
    for (size_t i = 0; i < p->ngroups; i++)
        if (!strcmp(p->groups[i].name, s->group)) {
            s->group_index = (int)i;
            return 0;
        }
    for (size_t i = 0; i < p->nagents; i++)
        for (size_t j = 0; j < p->agents[i].ngroups; j++)
            if (!strcmp(p->agents[i].groups[j], s->group)) return 0;
    return sl_pipeline_errf(c, c->group_loc[idx],
                            "stage '%s' is bound to group '%s', which neither groups: nor "
                            "cluster.agents defines (write label:%s to mean agents started with "
                            "that label)",
                            s->name, s->group, s->group);
}

/* Depth-first search; color 0 new, 1 on the path, 2 done. On a back edge the
 * path from the target to here is the cycle. */
static int dfs(sl_pctx *c, size_t u, int *color, size_t *path, size_t depth)
{
    sl_pipeline *p = c->p;
    color[u] = 1;
    path[depth] = u;
    for (size_t i = 0; i < p->stages[u].nemits; i++) {
        const sl_emit *e = &p->stages[u].emits[i];
        size_t v = (size_t)e->to_index;
        if (color[v] == 1) {
            sl_buf b = SL_BUF_INIT;
            size_t k = 0;
            while (path[k] != v)
                k++;
            for (; k <= depth; k++)
                sl_buf_printf(&b, "%s -> ", p->stages[path[k]].name);
            sl_buf_puts(&b, p->stages[v].name);
            int rc = sl_pipeline_errf(c, e->loc, "stages form a cycle: %s", b.data);
            sl_buf_free(&b);
            return rc;
        }
        if (color[v] == 0 && dfs(c, v, color, path, depth + 1) < 0) return SL_EINVAL;
    }
    color[u] = 2;
    return 0;
}

int sl_pipeline_validate(sl_pctx *c)
{
    sl_pipeline *p = c->p;
    for (size_t i = 0; i < p->nstages; i++) {
        sl_stage *s = &p->stages[i];
        for (size_t j = 0; j < s->nemits; j++) {
            sl_emit *e = &s->emits[j];
            e->to_index = sl_pipeline_stage_index(p, e->to);
            if (e->to_index < 0) return unknown_stage(c, s, e);
        }
        if (resolve_group(c, i) < 0) return SL_EINVAL;
    }
    int *color = sl_xcalloc(p->nstages, sizeof *color);
    size_t *path = sl_xcalloc(p->nstages, sizeof *path);
    int rc = 0;
    for (size_t i = 0; i < p->nstages && rc == 0; i++)
        if (color[i] == 0) rc = dfs(c, i, color, path, 0);
    free(color);
    free(path);
    if (rc < 0) return rc;
    for (size_t i = 0; i < p->nstages; i++) {
        const sl_stage *s = &p->stages[i];
        if (!s->gather) continue;
        int fed = 0;
        for (size_t j = 0; j < p->nstages && !fed; j++)
            for (size_t k = 0; k < p->stages[j].nemits; k++)
                fed |= p->stages[j].emits[k].to_index == (int)i;
        for (size_t j = 0; j < p->nmessages && !fed; j++)
            fed |= p->messages[j].to_index == (int)i;
        if (!fed)
            return sl_pipeline_errf(c, c->gather_loc[i],
                                    "stage '%s' gathers %d messages per task, but no stage emits "
                                    "to it and no message is sent to it",
                                    s->name, s->gather);
    }
    return 0;
}
