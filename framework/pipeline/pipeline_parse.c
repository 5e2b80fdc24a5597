/* pipeline_parse.c - the YAML node tree to the sl_pipeline model.
 *
 * One function per section (top level, groups, cluster, stage, emits, retry,
 * messages). Each checks node types, unknown keys (with a "did you mean"),
 * required keys and value syntax, and reports the first problem at the node
 * it is about. Sections are read in a fixed order, whatever their order in
 * the file: env_file first (it feeds variable substitution), stages before
 * messages. Cross-stage rules (emit targets, cycles, groups) live in
 * pipeline_validate.c. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pipeline/pipeline_int.h"
#include "pipeline/template.h"
#include "util/units.h"

#define MAX_SLOTS 4096
#define MAX_GATHER 1000000
#define MAX_AGENTS 256
#define MAX_RETRIES 100
#define MAX_NAME 64

static const char *const top_keys[] = {"version", "name",    "description", "env_file", "lease_ttl",
                                       "groups",  "cluster", "stages",      "messages"};
static const char *const stage_keys[] = {"name",        "command",   "runtime", "image",   "env",
                                         "slots",       "placement", "group",   "timeout", "retry",
                                         "output_size", "on_full",   "cpus",    "memory",  "emits",
                                         "gather",      "gpus",      "keep",    "verify"};
static const char *const emit_keys[] = {"to", "key", "stream"};
static const char *const gather_keys[] = {"count"};
static const char *const cluster_keys[] = {"agents", "slurm"};
static const char *const slurm_keys[] = {"nodes",     "het",           "partition", "time",
                                         "qos",       "reservation",   "account",   "constraint",
                                         "exclusive", "group_by_node", "groups",    "mem_root",
                                         "ssd_root",  "drain",         "sbatch"};
static const char *const agent_keys[] = {"name", "groups"};
static const char *const message_keys[] = {"to", "key", "headers", "batch"};
static const char *const runtimes[] = {"process",     "noop",         "podman",
                                       "docker",      "charliecloud", "apptainer",
                                       "singularity", "bwrap",        "model"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small helpers ---------------------------------------------------- */

static sl_ynode *opt(const sl_ynode *map, const char *key)
{
    sl_ynode *n = sl_ytree_get(map, key);
    return sl_ytree_is_null(n) ? NULL : n;
}

static sl_ynode *key_node(const sl_ynode *map, const char *key)
{
    for (size_t i = 0; map && i < map->n; i++)
        if (!strcmp(map->keys[i]->str, key)) return map->keys[i];
    return NULL;
}

static int check_keys(sl_pctx *c, const sl_ynode *map, const char *const *allowed, size_t n,
                      const char *where)
{
    int top = allowed == top_keys;
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->str;
        if (top && !strncmp(k, "x-", 2))
            continue; /* extension keys: a place for YAML anchors, as in compose files */
        size_t j;
        for (j = 0; j < n; j++)
            if (!strcmp(k, allowed[j])) break;
        if (j < n) continue;
        const char *s = sl_pipeline_suggest(k, allowed, n);
        if (s)
            return sl_pipeline_errf(c, map->keys[i]->loc,
                                    "unknown key '%s' %s (did you mean '%s'?)", k, where, s);
        sl_buf b = SL_BUF_INIT;
        for (j = 0; j < n; j++)
            sl_buf_printf(&b, "%s%s", j ? ", " : "", allowed[j]);
        int rc = sl_pipeline_errf(c, map->keys[i]->loc, "unknown key '%s' %s (known keys: %s)", k,
                                  where, b.data);
        sl_buf_free(&b);
        return rc;
    }
    return 0;
}

static int want(sl_pctx *c, const sl_ynode *n, sl_ykind k, const char *what)
{
    static const char *names[] = {"a string", "a mapping", "a list"};
    if (n->kind == k && !(k == SL_Y_SCALAR && sl_ytree_is_null(n))) return 0;
    return sl_pipeline_errf(c, n->loc, "%s must be %s, not %s%s", what, names[k],
                            sl_ytree_is_null(n) ? "" : "a ", sl_ytree_kind_name(n));
}

static int str_of(sl_pctx *c, const sl_ynode *n, const char *what, char **out)
{
    if (want(c, n, SL_Y_SCALAR, what) < 0) return SL_EINVAL;
    return sl_pipeline_subst(c, n, out);
}

static int parse_int(const char *s, long long *v)
{
    if (!isdigit((unsigned char)*s) || strlen(s) > 18) return -1;
    char *e;
    *v = strtoll(s, &e, 10);
    return *e ? -1 : 0;
}

static int int_of(sl_pctx *c, const sl_ynode *n, const char *what, long long min, long long max,
                  long long *out)
{
    char *s;
    if (str_of(c, n, what, &s) < 0) return SL_EINVAL;
    long long v;
    if (parse_int(s, &v) < 0 || v < min || v > max)
        return sl_pipeline_errf(c, n->loc, "%s must be an integer in %lld..%lld (got '%s')", what,
                                min, max, s);
    *out = v;
    return 0;
}

static int bool_of(sl_pctx *c, const sl_ynode *n, const char *what, int *out)
{
    char *s;
    if (str_of(c, n, what, &s) < 0) return SL_EINVAL;
    static const char *t[] = {"true", "yes", "on"}, *f[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (!strcasecmp(s, t[i])) return *out = 1, 0;
        if (!strcasecmp(s, f[i])) return *out = 0, 0;
    }
    return sl_pipeline_errf(c, n->loc, "%s must be true or false (got '%s')", what, s);
}

/* Rewrites "bad duration 'x': why" from units.c as "bad duration 'x' for what: why". */
static int unit_err(sl_pctx *c, const sl_ynode *n, const char *kind, const char *s,
                    const char *what, const sl_err *ue)
{
    const char *why = ue->msg;
    char pre[600];
    snprintf(pre, sizeof pre, "bad %s '%s': ", kind, s);
    if (!strncmp(why, pre, strlen(pre))) why += strlen(pre);
    return sl_pipeline_errf(c, n->loc, "bad %s '%s' for %s: %s", kind, s, what, why);
}

static int duration_of(sl_pctx *c, const sl_ynode *n, const char *what, int64_t *ms)
{
    char *s;
    sl_err ue = {0};
    if (str_of(c, n, what, &s) < 0) return SL_EINVAL;
    if (sl_parse_duration_ms(s, ms, &ue) < 0) return unit_err(c, n, "duration", s, what, &ue);
    return 0;
}

static int size_of(sl_pctx *c, const sl_ynode *n, const char *what, int64_t *bytes)
{
    char *s;
    sl_err ue = {0};
    if (str_of(c, n, what, &s) < 0) return SL_EINVAL;
    if (sl_parse_size(s, bytes, &ue) < 0) return unit_err(c, n, "size", s, what, &ue);
    return 0;
}

static int match_name(const char *s, int lower_only, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        int ok = isdigit(ch) || (lower_only ? islower(ch) : isalpha(ch));
        if (!ok && i > 0 && strchr(extra, ch)) ok = 1;
        if (!ok) return 0;
    }
    return 1;
}

/* ---- sections ----------------------------------------------------------- */

static int parse_groups(sl_pctx *c, const sl_ynode *n)
{
    sl_pipeline *p = c->p;
    if (want(c, n, SL_Y_MAP, "groups") < 0) return SL_EINVAL;
    p->ngroups = n->n;
    p->groups = sl_arena_array(c->a, n->n, sizeof *p->groups);
    for (size_t i = 0; i < n->n; i++) {
        sl_group *g = &p->groups[i];
        const sl_ynode *k = n->keys[i], *v = n->items[i];
        if (!match_name(k->str, 0, "_.-"))
            return sl_pipeline_errf(c, k->loc,
                                    "group name '%s' must match [A-Za-z0-9][A-Za-z0-9_.-]* (at "
                                    "most %d characters)",
                                    k->str, MAX_NAME);
        g->name = sl_arena_strdup(c->a, k->str);
        g->loc = k->loc;
        char what[128];
        snprintf(what, sizeof what, "group '%s'", g->name);
        if (want(c, v, SL_Y_SEQ, what) < 0) return SL_EINVAL;
        if (v->n == 0) return sl_pipeline_errf(c, v->loc, "group '%s' has no hosts", g->name);
        g->nhosts = v->n;
        g->hosts = sl_arena_array(c->a, v->n, sizeof *g->hosts);
        for (size_t j = 0; j < v->n; j++) {
            snprintf(what, sizeof what, "a host of group '%s'", g->name);
            if (str_of(c, v->items[j], what, &g->hosts[j]) < 0) return SL_EINVAL;
            if (!match_name(g->hosts[j], 0, "_.-"))
                return sl_pipeline_errf(c, v->items[j]->loc,
                                        "host name '%s' in group '%s' must match "
                                        "[A-Za-z0-9][A-Za-z0-9_.-]*",
                                        g->hosts[j], g->name);
            for (size_t k2 = 0; k2 < j; k2++)
                if (!strcmp(g->hosts[k2], g->hosts[j]))
                    return sl_pipeline_errf(c, v->items[j]->loc,
                                            "host '%s' is listed twice in group '%s'", g->hosts[j],
                                            g->name);
        }
    }
    return 0;
}

/* A value that goes into an #SBATCH line: one word, no quotes. */
static int slurm_word_of(sl_pctx *c, const sl_ynode *n, const char *what, char **out)
{
    if (str_of(c, n, what, out) < 0) return SL_EINVAL;
    for (const char *q = *out; *q; q++)
        if ((unsigned char)*q <= ' ' || strchr("\"'`\\", *q))
            return sl_pipeline_errf(c, n->loc, "%s '%s' must be one word without quotes", what,
                                    *out);
    if (!**out) return sl_pipeline_errf(c, n->loc, "%s must not be empty", what);
    return 0;
}

static int parse_cluster_slurm(sl_pctx *c, const sl_ynode *n)
{
    sl_cluster_slurm *y = &c->p->slurm;
    if (want(c, n, SL_Y_MAP, "cluster.slurm") < 0 ||
        check_keys(c, n, slurm_keys, N(slurm_keys), "in cluster.slurm") < 0)
        return SL_EINVAL;
    y->present = 1;
    y->drain_ms = -1;
    y->exclusive = -1;
    const sl_ynode *v;
    long long cnt;
    if ((v = opt(n, "nodes"))) {
        if (int_of(c, v, "cluster.slurm.nodes", 1, 100000, &cnt) < 0) return SL_EINVAL;
        y->nodes = (int)cnt;
    }
    if ((v = opt(n, "het"))) {
        char *s, *e1, *e2 = NULL;
        if (str_of(c, v, "cluster.slurm.het", &s) < 0) return SL_EINVAL;
        long a = strtol(s, &e1, 10), b = *e1 == ':' ? strtol(e1 + 1, &e2, 10) : 0;
        if (!isdigit((unsigned char)*s) || *e1 != ':' || !isdigit((unsigned char)e1[1]) || *e2 ||
            a < 1 || b < 1 || a > 100000 || b > 100000)
            return sl_pipeline_errf(c, v->loc,
                                    "cluster.slurm.het must be \"INGEST:COMPUTE\" node counts, "
                                    "e.g. \"1:4\" (got '%s')",
                                    s);
        if (opt(n, "nodes"))
            return sl_pipeline_errf(c, v->loc, "cluster.slurm: give either nodes or het, not both");
        y->het_ingest = (int)a;
        y->nodes = (int)b;
    }
    struct {
        const char *key;
        char **dst;
    } words[] = {{"partition", &y->partition},     {"qos", &y->qos},
                 {"reservation", &y->reservation}, {"account", &y->account},
                 {"constraint", &y->constraint},   {"mem_root", &y->mem_root},
                 {"ssd_root", &y->ssd_root},       {"time", &y->time}};
    for (size_t i = 0; i < N(words); i++) {
        char what[64];
        snprintf(what, sizeof what, "cluster.slurm.%s", words[i].key);
        if ((v = opt(n, words[i].key)) && slurm_word_of(c, v, what, words[i].dst) < 0)
            return SL_EINVAL;
    }
    if (y->time && strspn(y->time, "0123456789:-") != strlen(y->time) &&
        strcmp(y->time, "infinite") && strcmp(y->time, "unlimited"))
        return sl_pipeline_errf(c, opt(n, "time")->loc,
                                "cluster.slurm.time '%s' is not a Slurm time limit (MM, "
                                "HH:MM:SS, D-HH:MM, ...)",
                                y->time);
    if ((v = opt(n, "exclusive")) && bool_of(c, v, "cluster.slurm.exclusive", &y->exclusive) < 0)
        return SL_EINVAL;
    if ((v = opt(n, "group_by_node")) &&
        bool_of(c, v, "cluster.slurm.group_by_node", &y->group_by_node) < 0)
        return SL_EINVAL;
    if ((v = opt(n, "drain")) && duration_of(c, v, "cluster.slurm.drain", &y->drain_ms) < 0)
        return SL_EINVAL;
    if ((v = opt(n, "groups"))) {
        if (want(c, v, SL_Y_SEQ, "cluster.slurm.groups") < 0) return SL_EINVAL;
        y->ngroups = v->n;
        y->groups = sl_arena_array(c->a, v->n ? v->n : 1, sizeof *y->groups);
        for (size_t j = 0; j < v->n; j++) {
            if (str_of(c, v->items[j], "a group of cluster.slurm", &y->groups[j]) < 0)
                return SL_EINVAL;
            if (!match_name(y->groups[j], 0, "_.-"))
                return sl_pipeline_errf(c, v->items[j]->loc,
                                        "group name '%s' must match [A-Za-z0-9][A-Za-z0-9_.-]*",
                                        y->groups[j]);
        }
    }
    if ((v = opt(n, "sbatch"))) {
        if (want(c, v, SL_Y_SEQ, "cluster.slurm.sbatch") < 0) return SL_EINVAL;
        y->nsbatch = v->n;
        y->sbatch = sl_arena_array(c->a, v->n ? v->n : 1, sizeof *y->sbatch);
        for (size_t j = 0; j < v->n; j++) {
            if (slurm_word_of(c, v->items[j], "an sbatch option", &y->sbatch[j]) < 0)
                return SL_EINVAL;
            if (y->sbatch[j][0] != '-')
                return sl_pipeline_errf(c, v->items[j]->loc,
                                        "sbatch option '%s' must start with '-' (e.g. --mem=0)",
                                        y->sbatch[j]);
        }
    }
    return 0;
}

static int parse_cluster(sl_pctx *c, const sl_ynode *n)
{
    sl_pipeline *p = c->p;
    if (want(c, n, SL_Y_MAP, "cluster") < 0 ||
        check_keys(c, n, cluster_keys, N(cluster_keys), "in cluster") < 0)
        return SL_EINVAL;
    const sl_ynode *sy = opt(n, "slurm");
    if (sy && parse_cluster_slurm(c, sy) < 0) return SL_EINVAL;
    const sl_ynode *ag = opt(n, "agents");
    if (!ag) return 0;
    if (ag->kind == SL_Y_SCALAR) {
        long long cnt;
        if (int_of(c, ag, "cluster.agents", 1, MAX_AGENTS, &cnt) < 0) return SL_EINVAL;
        p->nagents = (size_t)cnt;
        p->agents = sl_arena_array(c->a, p->nagents, sizeof *p->agents);
        for (size_t i = 0; i < p->nagents; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "local-%zu", i + 1);
            p->agents[i].name = sl_arena_strdup(c->a, nm);
        }
        return 0;
    }
    if (ag->kind != SL_Y_SEQ)
        return sl_pipeline_errf(c, ag->loc,
                                "cluster.agents must be a count or a list of agents, not a %s",
                                sl_ytree_kind_name(ag));
    if (ag->n == 0 || ag->n > MAX_AGENTS)
        return sl_pipeline_errf(c, ag->loc, "cluster.agents must list 1..%d agents", MAX_AGENTS);
    p->nagents = ag->n;
    p->agents = sl_arena_array(c->a, ag->n, sizeof *p->agents);
    for (size_t i = 0; i < ag->n; i++) {
        sl_local_agent *la = &p->agents[i];
        const sl_ynode *e = ag->items[i], *nm = e;
        if (e->kind == SL_Y_MAP) {
            if (check_keys(c, e, agent_keys, N(agent_keys), "in an agent of cluster.agents") < 0)
                return SL_EINVAL;
            nm = opt(e, "name");
            if (!nm)
                return sl_pipeline_errf(c, e->loc, "agent #%zu of cluster.agents has no 'name'",
                                        i + 1);
        }
        if (str_of(c, nm, "an agent name", &la->name) < 0) return SL_EINVAL;
        if (!match_name(la->name, 0, "_.-"))
            return sl_pipeline_errf(
                c, nm->loc, "agent name '%s' must match [A-Za-z0-9][A-Za-z0-9_.-]*", la->name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->agents[j].name, la->name))
                return sl_pipeline_errf(c, nm->loc, "duplicate agent name '%s'", la->name);
        const sl_ynode *gs = e->kind == SL_Y_MAP ? opt(e, "groups") : NULL;
        if (!gs) continue;
        if (want(c, gs, SL_Y_SEQ, "agent groups") < 0) return SL_EINVAL;
        la->ngroups = gs->n;
        la->groups = sl_arena_array(c->a, gs->n, sizeof *la->groups);
        for (size_t j = 0; j < gs->n; j++) {
            if (str_of(c, gs->items[j], "an agent group", &la->groups[j]) < 0) return SL_EINVAL;
            if (!match_name(la->groups[j], 0, "_.-"))
                return sl_pipeline_errf(c, gs->items[j]->loc,
                                        "group name '%s' must match [A-Za-z0-9][A-Za-z0-9_.-]*",
                                        la->groups[j]);
        }
    }
    return 0;
}

static int parse_retry(sl_pctx *c, sl_stage *s, const sl_ynode *n)
{
    long long v;
    if (n->kind == SL_Y_SCALAR) {
        if (int_of(c, n, "retry", 0, MAX_RETRIES, &v) < 0) return SL_EINVAL;
        s->retry_default = (int)v;
        return 0;
    }
    if (n->kind != SL_Y_MAP)
        return sl_pipeline_errf(
            c, n->loc,
            "retry must be a count or a mapping such as {default: 2, \"137\": 5}, "
            "not a %s",
            sl_ytree_kind_name(n));
    s->retry = sl_arena_array(c->a, n->n, sizeof *s->retry);
    for (size_t i = 0; i < n->n; i++) {
        const sl_ynode *k = n->keys[i];
        long long code;
        if (strcmp(k->str, "default") && (parse_int(k->str, &code) < 0 || code < 1 || code > 255))
            return sl_pipeline_errf(c, k->loc,
                                    "retry: exit code '%s' is not in 1..255 (keys are 'default' or "
                                    "exit codes)",
                                    k->str);
        char what[64];
        snprintf(what, sizeof what, "retry for %s", k->str);
        if (int_of(c, n->items[i], what, 0, MAX_RETRIES, &v) < 0) return SL_EINVAL;
        if (!strcmp(k->str, "default")) {
            s->retry_default = (int)v;
        } else {
            s->retry[s->nretry++] = (sl_retry_rule){(int)code, (int)v};
        }
    }
    return 0;
}

static int parse_emits(sl_pctx *c, sl_stage *s, const sl_ynode *n)
{
    char where[128];
    snprintf(where, sizeof where, "emits of stage '%s'", s->name);
    if (want(c, n, SL_Y_SEQ, where) < 0) return SL_EINVAL;
    s->nemits = n->n;
    s->emits = sl_arena_array(c->a, n->n, sizeof *s->emits);
    for (size_t i = 0; i < n->n; i++) {
        sl_emit *e = &s->emits[i];
        const sl_ynode *it = n->items[i], *to = it, *key = NULL, *st = NULL;
        e->to_index = -1;
        if (it->kind == SL_Y_MAP) {
            snprintf(where, sizeof where, "in an emits entry of stage '%s'", s->name);
            if (check_keys(c, it, emit_keys, N(emit_keys), where) < 0) return SL_EINVAL;
            to = opt(it, "to");
            if (!to)
                return sl_pipeline_errf(c, it->loc, "an emits entry of stage '%s' has no 'to'",
                                        s->name);
            key = opt(it, "key");
            st = opt(it, "stream");
        } else if (it->kind != SL_Y_SCALAR || sl_ytree_is_null(it)) {
            return sl_pipeline_errf(c, it->loc,
                                    "an emits entry of stage '%s' must be a stage name or a "
                                    "mapping {to, key, stream}, not a %s",
                                    s->name, sl_ytree_kind_name(it));
        }
        snprintf(where, sizeof where, "emits 'to' of stage '%s'", s->name);
        if (str_of(c, to, where, &e->to) < 0) return SL_EINVAL;
        e->loc = to->loc;
        e->key = sl_arena_strdup(c->a, "{key}");
        if (key) {
            if (str_of(c, key, "an emits key template", &e->key) < 0) return SL_EINVAL;
            sl_err te = {0};
            if (sl_template_check(e->key, &te) < 0)
                return sl_pipeline_errf(c, key->loc,
                                        "bad key template in stage '%s' emits to '%s': %s", s->name,
                                        e->to, te.msg);
        }
        if (st && bool_of(c, st, "stream", &e->stream) < 0) return SL_EINVAL;
    }
    return 0;
}

/* Runtimes that run an image. process, noop and bwrap ignore `image:`, so
 * one file can say `runtime: ${RUNTIME:-process}` beside a fixed image. */
static int is_container(const char *rt)
{
    return strcmp(rt, "process") && strcmp(rt, "noop") && strcmp(rt, "bwrap") &&
           strcmp(rt, "model");
}

static int parse_stage(sl_pctx *c, size_t idx, const sl_ynode *n)
{
    sl_pipeline *p = c->p;
    sl_stage *s = &p->stages[idx];
    char where[160], what[160];
    s->loc = n->loc;
    if (n->kind != SL_Y_MAP)
        return sl_pipeline_errf(c, n->loc,
                                "stage #%zu must be a mapping with at least name and "
                                "command, not a %s",
                                idx + 1, sl_ytree_kind_name(n));
    const sl_ynode *v = opt(n, "name");
    if (!v) return sl_pipeline_errf(c, n->loc, "stage #%zu has no 'name'", idx + 1);
    if (str_of(c, v, "a stage name", &s->name) < 0) return SL_EINVAL;
    if (!match_name(s->name, 1, "_-"))
        return sl_pipeline_errf(c, v->loc,
                                "stage name '%s' must match [a-z0-9][a-z0-9_-]* (at most %d "
                                "characters)",
                                s->name, MAX_NAME);
    for (size_t j = 0; j < idx; j++)
        if (!strcmp(p->stages[j].name, s->name))
            return sl_pipeline_errf(c, v->loc, "duplicate stage name '%s' (first at line %d)",
                                    s->name, p->stages[j].loc.line);
    snprintf(where, sizeof where, "in stage '%s'", s->name);
    if (check_keys(c, n, stage_keys, N(stage_keys), where) < 0) return SL_EINVAL;

    s->runtime = sl_arena_strdup(c->a, "process");
    if ((v = opt(n, "runtime"))) {
        if (str_of(c, v, "runtime", &s->runtime) < 0) return SL_EINVAL;
        size_t i;
        for (i = 0; i < N(runtimes); i++)
            if (!strcmp(s->runtime, runtimes[i])) break;
        if (i == N(runtimes))
            return sl_pipeline_errf(c, v->loc,
                                    "runtime must be one of process, noop, model, podman, docker, "
                                    "charliecloud, apptainer, singularity, bwrap (got '%s')",
                                    s->runtime);
    }
    if ((v = opt(n, "command"))) {
        snprintf(what, sizeof what, "command of stage '%s'", s->name);
        if (v->kind == SL_Y_SCALAR) {
            s->ncommand = 1;
            s->command = sl_arena_array(c->a, 1, sizeof *s->command);
            if (str_of(c, v, what, &s->command[0]) < 0) return SL_EINVAL;
        } else if (v->kind == SL_Y_SEQ) {
            if (v->n == 0)
                return sl_pipeline_errf(c, v->loc, "command of stage '%s' is an empty list",
                                        s->name);
            s->ncommand = v->n;
            s->command = sl_arena_array(c->a, v->n, sizeof *s->command);
            for (size_t i = 0; i < v->n; i++) {
                snprintf(what, sizeof what, "an argument of the command of stage '%s'", s->name);
                if (str_of(c, v->items[i], what, &s->command[i]) < 0) return SL_EINVAL;
            }
        } else {
            return sl_pipeline_errf(c, v->loc,
                                    "command of stage '%s' must be a program path or a list "
                                    "[program, arg, ...], not a mapping",
                                    s->name);
        }
        s->command_loc = v->kind == SL_Y_SEQ ? v->items[0]->loc : v->loc;
        if (!s->command[0][0])
            return sl_pipeline_errf(c, v->loc, "command of stage '%s' has an empty program",
                                    s->name);
    } else if (strcmp(s->runtime, "noop") && strcmp(s->runtime, "model")) {
        return sl_pipeline_errf(c, n->loc,
                                "stage '%s' has no 'command' (only runtime: noop and model run "
                                "without one)",
                                s->name);
    }
    if ((v = opt(n, "image"))) {
        if (str_of(c, v, "image", &s->image) < 0) return SL_EINVAL;
        if (!s->image[0])
            return sl_pipeline_errf(c, v->loc, "image of stage '%s' is empty", s->name);
    } else if (is_container(s->runtime)) {
        return sl_pipeline_errf(c, n->loc, "stage '%s' has runtime %s but no 'image'", s->name,
                                s->runtime);
    }
    if ((v = opt(n, "env"))) {
        snprintf(what, sizeof what, "env of stage '%s'", s->name);
        if (want(c, v, SL_Y_MAP, what) < 0) return SL_EINVAL;
        s->nenv = v->n;
        s->env = sl_arena_array(c->a, v->n, sizeof *s->env);
        for (size_t i = 0; i < v->n; i++) {
            const char *k = v->keys[i]->str;
            int ok = *k && (isalpha((unsigned char)*k) || *k == '_');
            for (const char *q = k; ok && *q; q++)
                ok = isalnum((unsigned char)*q) || *q == '_';
            if (!ok)
                return sl_pipeline_errf(
                    c, v->keys[i]->loc,
                    "env name '%s' in stage '%s' must match [A-Za-z_][A-Za-z0-9_]*", k, s->name);
            s->env[i].key = sl_arena_strdup(c->a, k);
            snprintf(what, sizeof what, "env %s of stage '%s'", k, s->name);
            if (sl_ytree_is_null(v->items[i]))
                s->env[i].value = sl_arena_strdup(c->a, "");
            else if (str_of(c, v->items[i], what, &s->env[i].value) < 0)
                return SL_EINVAL;
        }
    }
    long long iv;
    s->slots = 1;
    if ((v = opt(n, "slots"))) {
        if (int_of(c, v, "slots", 1, MAX_SLOTS, &iv) < 0) return SL_EINVAL;
        s->slots = (int)iv;
    }
    s->placement = SL_PLACE_ANY;
    if ((v = opt(n, "placement"))) {
        char *pl;
        if (str_of(c, v, "placement", &pl) < 0) return SL_EINVAL;
        if (!strcmp(pl, "any"))
            s->placement = SL_PLACE_ANY;
        else if (!strcmp(pl, "host-bound"))
            s->placement = SL_PLACE_HOST_BOUND;
        else if (!strcmp(pl, "group-bound"))
            s->placement = SL_PLACE_GROUP_BOUND;
        else
            return sl_pipeline_errf(
                c, v->loc, "placement must be one of any, host-bound, group-bound (got '%s')", pl);
    }
    s->group_index = -1;
    if ((v = opt(n, "group"))) {
        if (s->placement != SL_PLACE_GROUP_BOUND)
            return sl_pipeline_errf(c, key_node(n, "group")->loc,
                                    "stage '%s' has a group but placement is %s (group is only for "
                                    "placement: group-bound)",
                                    s->name, sl_placement_name(s->placement));
        if (str_of(c, v, "group", &s->group) < 0) return SL_EINVAL;
        c->group_loc[idx] = v->loc;
    } else if (s->placement == SL_PLACE_GROUP_BOUND) {
        return sl_pipeline_errf(c, opt(n, "placement")->loc,
                                "stage '%s' is group-bound but has no 'group'", s->name);
    }
    if ((v = opt(n, "timeout")) && duration_of(c, v, "timeout", &s->timeout_ms) < 0)
        return SL_EINVAL;
    if ((v = opt(n, "retry")) && parse_retry(c, s, v) < 0) return SL_EINVAL;
    if ((v = opt(n, "output_size")) && size_of(c, v, "output_size", &s->output_size) < 0)
        return SL_EINVAL;
    if ((v = opt(n, "memory")) && size_of(c, v, "memory", &s->memory) < 0) return SL_EINVAL;
    s->on_full = sl_arena_strdup(c->a, "wait");
    if ((v = opt(n, "on_full"))) {
        if (str_of(c, v, "on_full", &s->on_full) < 0) return SL_EINVAL;
        if (strcmp(s->on_full, "wait") && strcmp(s->on_full, "drop-oldest"))
            return sl_pipeline_errf(
                c, v->loc, "on_full must be one of wait, drop-oldest (got '%s')", s->on_full);
    }
    if ((v = opt(n, "verify"))) {
        char *vv;
        if (str_of(c, v, "verify", &vv) < 0) return SL_EINVAL;
        if (strcmp(vv, "local") && strcmp(vv, "copies"))
            return sl_pipeline_errf(c, v->loc, "verify must be one of copies, local (got '%s')",
                                    vv);
        s->verify_local = !strcmp(vv, "local");
    }
    s->keep = -1; /* default decided after emits are read: keep final products */
    if ((v = opt(n, "keep")) && bool_of(c, v, "keep", &s->keep) < 0) return SL_EINVAL;
    if ((v = opt(n, "cpus"))) {
        char *cs, *e;
        if (str_of(c, v, "cpus", &cs) < 0) return SL_EINVAL;
        double d = (isdigit((unsigned char)cs[0]) || cs[0] == '.') ? strtod(cs, &e) : -1;
        if (d <= 0 || *e || !isfinite(d) || d > MAX_SLOTS || llround(d * 1000) < 1)
            return sl_pipeline_errf(c, v->loc,
                                    "cpus must be a number > 0 such as 1 or 1.5 (got '%s')", cs);
        s->cpus_milli = llround(d * 1000);
    }
    if ((v = opt(n, "gpus"))) {
        const sl_ynode *const *items =
            v->kind == SL_Y_SEQ ? (const sl_ynode *const *)v->items : NULL;
        size_t ng = items ? v->n : 1;
        s->ngpus = ng;
        s->gpus = sl_arena_array(c->a, ng ? ng : 1, sizeof *s->gpus);
        for (size_t i = 0; i < ng; i++) {
            const sl_ynode *g = items ? items[i] : v;
            snprintf(what, sizeof what, "a device in gpus of stage '%s'", s->name);
            if (str_of(c, g, what, &s->gpus[i]) < 0) return SL_EINVAL;
            const char *d = s->gpus[i];
            int cdi = strchr(d, '=') && strchr(d, '/') && d[0] != '/';
            if (!(d[0] == '/' && !strncmp(d, "/dev/", 5)) && !cdi)
                return sl_pipeline_errf(c, g->loc,
                                        "gpus of stage '%s': '%s' is neither a device path "
                                        "(/dev/...) nor a CDI name (vendor.com/class=name)",
                                        s->name, d);
        }
    }
    if ((v = opt(n, "emits")) && parse_emits(c, s, v) < 0) return SL_EINVAL;
    if ((v = opt(n, "gather"))) {
        const sl_ynode *cnt = v;
        if (v->kind == SL_Y_MAP) {
            snprintf(where, sizeof where, "in gather of stage '%s'", s->name);
            if (check_keys(c, v, gather_keys, N(gather_keys), where) < 0) return SL_EINVAL;
            if (!(cnt = opt(v, "count")))
                return sl_pipeline_errf(c, v->loc, "gather of stage '%s' has no 'count'", s->name);
        }
        if (int_of(c, cnt, "gather", 2, MAX_GATHER, &iv) < 0) return SL_EINVAL;
        s->gather = (int)iv;
        c->gather_loc[idx] = key_node(n, "gather")->loc;
    }
    return 0;
}

/* Headers: YAML to compact JSON. Plain scalars that read as JSON numbers,
 * booleans or null stay typed; everything else becomes a string. */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-') p++;
    if (!isdigit((unsigned char)*p)) return 0;
    if (*p == '0' && isdigit((unsigned char)p[1])) return 0;
    while (isdigit((unsigned char)*p))
        p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == 0;
}

static int to_json(sl_pctx *c, const sl_ynode *n, sl_buf *b)
{
    if (b->len > SL_HEADERS_MAX_BYTES)
        return sl_pipeline_errf(c, n->loc, "headers exceed the limit of %d bytes",
                                SL_HEADERS_MAX_BYTES);
    if (n->kind == SL_Y_MAP) {
        sl_buf_putc(b, '{');
        for (size_t i = 0; i < n->n; i++) {
            if (i) sl_buf_putc(b, ',');
            sl_buf_json_str(b, n->keys[i]->str);
            sl_buf_putc(b, ':');
            if (to_json(c, n->items[i], b) < 0) return SL_EINVAL;
        }
        sl_buf_putc(b, '}');
    } else if (n->kind == SL_Y_SEQ) {
        sl_buf_putc(b, '[');
        for (size_t i = 0; i < n->n; i++) {
            if (i) sl_buf_putc(b, ',');
            if (to_json(c, n->items[i], b) < 0) return SL_EINVAL;
        }
        sl_buf_putc(b, ']');
    } else if (sl_ytree_is_null(n)) {
        sl_buf_puts(b, "null");
    } else {
        char *s;
        if (sl_pipeline_subst(c, n, &s) < 0) return SL_EINVAL;
        if (n->plain && (is_json_number(s) || !strcmp(s, "true") || !strcmp(s, "false")))
            sl_buf_puts(b, s);
        else
            sl_buf_json_str(b, s);
    }
    return 0;
}

static int parse_messages(sl_pctx *c, const sl_ynode *n)
{
    sl_pipeline *p = c->p;
    if (want(c, n, SL_Y_SEQ, "messages") < 0) return SL_EINVAL;
    p->nmessages = n->n;
    p->messages = sl_arena_array(c->a, n->n, sizeof *p->messages);
    for (size_t i = 0; i < n->n; i++) {
        sl_message *m = &p->messages[i];
        const sl_ynode *e = n->items[i], *v;
        m->loc = e->loc;
        m->to_index = -1;
        if (e->kind != SL_Y_MAP)
            return sl_pipeline_errf(c, e->loc,
                                    "message #%zu must be a mapping {to, key, headers}, not a %s",
                                    i + 1, sl_ytree_kind_name(e));
        if (check_keys(c, e, message_keys, N(message_keys), "in a message") < 0) return SL_EINVAL;
        if (!(v = opt(e, "to")))
            return sl_pipeline_errf(c, e->loc, "message #%zu has no 'to'", i + 1);
        if (str_of(c, v, "message 'to'", &m->to) < 0) return SL_EINVAL;
        m->to_index = sl_pipeline_stage_index(p, m->to);
        if (m->to_index < 0) {
            const char **names = sl_xcalloc(p->nstages, sizeof *names);
            for (size_t j = 0; j < p->nstages; j++)
                names[j] = p->stages[j].name;
            const char *sug = sl_pipeline_suggest(m->to, names, p->nstages);
            free(names);
            if (sug)
                return sl_pipeline_errf(c, v->loc,
                                        "message #%zu is sent to unknown stage '%s' (did you mean "
                                        "'%s'?)",
                                        i + 1, m->to, sug);
            return sl_pipeline_errf(c, v->loc, "message #%zu is sent to unknown stage '%s'", i + 1,
                                    m->to);
        }
        if (!(v = opt(e, "key")))
            return sl_pipeline_errf(c, e->loc, "message #%zu has no 'key'", i + 1);
        if (str_of(c, v, "message key", &m->key) < 0) return SL_EINVAL;
        sl_err te = {0};
        /* Not by making every key: a file of many million-key messages
         * would take minutes to parse. */
        if (sl_template_check_keys(m->key, NULL, &te) < 0)
            return sl_pipeline_errf(c, v->loc, "bad key in message #%zu: %s", i + 1, te.msg);
        if ((v = opt(e, "batch"))) { /* keys per batch: the next waits for the last */
            long long bv;
            if (int_of(c, v, "message batch", 1, SL_TEMPLATE_MAX_KEYS, &bv) < 0) return SL_EINVAL;
            m->batch = bv;
        }
        if ((v = opt(e, "headers"))) {
            if (want(c, v, SL_Y_MAP, "headers") < 0) return SL_EINVAL;
            sl_buf b = SL_BUF_INIT;
            int rc = to_json(c, v, &b);
            sl_err he;
            if (rc == 0 && sl_headers_validate(b.data, &he) < 0)
                rc = sl_pipeline_errf(c, v->loc, "headers of message #%zu: %s", i + 1, he.msg);
            if (rc == 0) m->headers = sl_arena_strndup(c->a, b.data, b.len);
            sl_buf_free(&b);
            if (rc < 0) return rc;
        }
    }
    return 0;
}

int sl_pipeline_build(sl_pctx *c, const sl_ynode *root)
{
    sl_pipeline *p = c->p;
    const sl_ynode *v;
    if (!root)
        return sl_errf(c->err, SL_EINVAL,
                       "%s:1:1: the file is empty (a pipeline needs at least "
                       "name and stages)",
                       c->file);
    if (root->kind != SL_Y_MAP)
        return sl_pipeline_errf(c, root->loc,
                                "the top level must be a mapping with name and stages, not a %s",
                                sl_ytree_kind_name(root));
    if (check_keys(c, root, top_keys, N(top_keys), "at top level") < 0) return SL_EINVAL;

    /* env_file first: it is a source for every later substitution. */
    v = opt(root, "env_file");
    if (c->src && c->src->env_file) {
        sl_loc l = v ? v->loc : (sl_loc){1, 1};
        if (sl_pipeline_load_env_file(c, c->src->env_file, l) < 0) return SL_EINVAL;
    } else if (v && !(c->src && c->src->no_env_file)) {
        char *ef;
        if (str_of(c, v, "env_file", &ef) < 0) return SL_EINVAL;
        char *path = ef[0] == '/' || !c->dir ? ef : sl_xasprintf("%s/%s", c->dir, ef);
        int rc = sl_pipeline_load_env_file(c, path, v->loc);
        if (path != ef) free(path);
        if (rc < 0) return rc;
    }
    if ((v = opt(root, "version"))) {
        char *s;
        if (str_of(c, v, "version", &s) < 0) return SL_EINVAL;
        if (strcmp(s, "1")) return sl_pipeline_errf(c, v->loc, "version must be 1 (got '%s')", s);
    }
    if (!(v = opt(root, "name")))
        return sl_pipeline_errf(c, root->loc, "the pipeline has no 'name'");
    if (str_of(c, v, "name", &p->name) < 0) return SL_EINVAL;
    if (!match_name(p->name, 0, "_.-"))
        return sl_pipeline_errf(c, v->loc,
                                "pipeline name '%s' must match [A-Za-z0-9][A-Za-z0-9_.-]* (at most "
                                "%d characters)",
                                p->name, MAX_NAME);
    if ((v = opt(root, "description")) && str_of(c, v, "description", &p->description) < 0)
        return SL_EINVAL;
    p->lease_ttl_ms = 0; /* the controller's --lease-ttl */
    if ((v = opt(root, "lease_ttl"))) {
        if (duration_of(c, v, "lease_ttl", &p->lease_ttl_ms) < 0) return SL_EINVAL;
        if (p->lease_ttl_ms < 1000)
            return sl_pipeline_errf(c, v->loc, "lease_ttl must be at least 1s");
    }
    if ((v = opt(root, "groups")) && parse_groups(c, v) < 0) return SL_EINVAL;
    if ((v = opt(root, "cluster")) && parse_cluster(c, v) < 0) return SL_EINVAL;
    if (!(v = opt(root, "stages")))
        return sl_pipeline_errf(c, root->loc, "the pipeline has no 'stages'");
    if (want(c, v, SL_Y_SEQ, "stages") < 0) return SL_EINVAL;
    if (v->n == 0)
        return sl_pipeline_errf(c, v->loc, "stages is empty (a pipeline needs at least one stage)");
    if (v->n > SL_PIPE_MAX_STAGES)
        return sl_pipeline_errf(c, v->loc, "%zu stages exceed the limit of %d stages", v->n,
                                SL_PIPE_MAX_STAGES);
    p->nstages = v->n;
    p->stages = sl_arena_array(c->a, v->n, sizeof *p->stages);
    c->gather_loc = sl_arena_array(c->ta, v->n, sizeof *c->gather_loc);
    c->group_loc = sl_arena_array(c->ta, v->n, sizeof *c->group_loc);
    for (size_t i = 0; i < v->n; i++) {
        /* Stages not yet parsed must not be seen by the duplicate check. */
        p->nstages = i + 1;
        if (parse_stage(c, i, v->items[i]) < 0) return SL_EINVAL;
    }
    if ((v = opt(root, "messages")) && parse_messages(c, v) < 0) return SL_EINVAL;
    return 0;
}
