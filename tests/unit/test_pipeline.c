/* test_pipeline.c - the pipeline YAML model: every key of a full file, the
 * defaults, variable substitution and its sources, the round trip of
 * recorded variables, and the data-driven tables tests/yaml/good (must
 * parse) and tests/yaml/bad (each file's first line says
 * "# expect: LINE:COL: part of the message"). Paths are relative to
 * $SLUICE_ROOT (the test runner sets it) or the current directory. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pipeline/pipeline.h"
#include "util/buf.h"

static char *root_path(const char *rel)
{
    const char *root = getenv("SLUICE_ROOT");
    return sl_xasprintf("%s/%s", root && *root ? root : ".", rel);
}

static sl_pipeline *parse_ok(const char *text, const sl_varsrc *src)
{
    sl_err e = {0};
    sl_pipeline *p = sl_pipeline_parse("t.yaml", text, strlen(text), src, &e);
    if (!p) fail_msg("parse failed: %s", e.msg);
    return p;
}

static void parse_bad(const char *text, const sl_varsrc *src, const char *want)
{
    sl_err e = {0};
    sl_pipeline *p = sl_pipeline_parse("t.yaml", text, strlen(text), src, &e);
    if (p) {
        sl_pipeline_free(p);
        fail_msg("parse should fail with '%s'", want);
    }
    assert_int_equal(e.code, SL_EINVAL);
    if (!strstr(e.msg, want)) fail_msg("message '%s' lacks '%s'", e.msg, want);
}

/* A canonical text form of a model, to compare two parses. */
static char *dump(const sl_pipeline *p)
{
    sl_buf b = SL_BUF_INIT;
    sl_buf_printf(&b, "name=%s desc=%s ttl=%lld\n", p->name, p->description ? p->description : "-",
                  (long long)p->lease_ttl_ms);
    for (size_t i = 0; i < p->ngroups; i++) {
        sl_buf_printf(&b, "group %s:", p->groups[i].name);
        for (size_t j = 0; j < p->groups[i].nhosts; j++)
            sl_buf_printf(&b, " %s", p->groups[i].hosts[j]);
        sl_buf_putc(&b, '\n');
    }
    for (size_t i = 0; i < p->nagents; i++) {
        sl_buf_printf(&b, "agent %s:", p->agents[i].name);
        for (size_t j = 0; j < p->agents[i].ngroups; j++)
            sl_buf_printf(&b, " %s", p->agents[i].groups[j]);
        sl_buf_putc(&b, '\n');
    }
    for (size_t i = 0; i < p->nstages; i++) {
        const sl_stage *s = &p->stages[i];
        sl_buf_printf(&b,
                      "stage %s rt=%s img=%s slots=%d pl=%s grp=%s/%d to=%lld rd=%d out=%lld "
                      "full=%s cpu=%lld mem=%lld gather=%d cmd:",
                      s->name, s->runtime, s->image ? s->image : "-", s->slots,
                      sl_placement_name(s->placement), s->group ? s->group : "-", s->group_index,
                      (long long)s->timeout_ms, s->retry_default, (long long)s->output_size,
                      s->on_full, (long long)s->cpus_milli, (long long)s->memory, s->gather);
        for (size_t j = 0; j < s->ncommand; j++)
            sl_buf_printf(&b, " [%s]", s->command[j]);
        for (size_t j = 0; j < s->nenv; j++)
            sl_buf_printf(&b, " env %s=%s", s->env[j].key, s->env[j].value);
        for (size_t j = 0; j < s->nretry; j++)
            sl_buf_printf(&b, " retry %d:%d", s->retry[j].exit_code, s->retry[j].retries);
        for (size_t j = 0; j < s->nemits; j++)
            sl_buf_printf(&b, " emit %s/%d %s %d", s->emits[j].to, s->emits[j].to_index,
                          s->emits[j].key, s->emits[j].stream);
        sl_buf_putc(&b, '\n');
    }
    for (size_t i = 0; i < p->nmessages; i++)
        sl_buf_printf(&b, "msg %s/%d %s %s\n", p->messages[i].to, p->messages[i].to_index,
                      p->messages[i].key, p->messages[i].headers ? p->messages[i].headers : "-");
    return sl_buf_steal(&b);
}

static const char *var(const sl_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->nvars; i++)
        if (!strcmp(p->vars[i].key, name)) return p->vars[i].value;
    return NULL;
}

static void test_full_file(void **state)
{
    (void)state;
    char *path = root_path("tests/yaml/good/full.yaml");
    sl_err e = {0};
    unsetenv("DL_TOOL");
    sl_varsrc src = {.use_environ = 0};
    sl_pipeline *p = sl_pipeline_load(path, &src, &e);
    if (!p) fail_msg("%s", e.msg);
    assert_string_equal(p->name, "full-demo.v1");
    assert_string_equal(p->description, "a pipeline that uses every key");
    assert_int_equal(p->lease_ttl_ms, 45000);
    assert_int_equal(p->ngroups, 2);
    assert_string_equal(p->groups[0].name, "east");
    assert_int_equal(p->groups[0].nhosts, 2);
    assert_string_equal(p->groups[0].hosts[1], "host-b");
    assert_string_equal(p->groups[1].hosts[0], "host-c");
    assert_int_equal(p->nagents, 3);
    assert_string_equal(p->agents[1].name, "a2");
    assert_int_equal(p->agents[1].ngroups, 2);
    assert_string_equal(p->agents[1].groups[1], "gpu");
    assert_string_equal(p->agents[2].name, "a3");
    assert_int_equal(p->nstages, 5);

    const sl_stage *d = &p->stages[0];
    assert_string_equal(d->name, "download");
    assert_int_equal(d->ncommand, 4);
    assert_string_equal(d->command[1], "curl"); /* ${DL_TOOL:-curl} */
    assert_string_equal(d->runtime, "process");
    assert_null(d->image);
    assert_int_equal(d->nenv, 3);
    assert_string_equal(d->env[1].key, "EMPTY");
    assert_string_equal(d->env[1].value, "");
    assert_string_equal(d->env[2].value, "/data/x"); /* from full.env, quotes removed */
    assert_int_equal(d->slots, 2);
    assert_int_equal(d->placement, SL_PLACE_ANY);
    assert_int_equal(d->timeout_ms, 5400000);
    assert_int_equal(d->retry_default, 2);
    assert_int_equal(sl_stage_retries_for(d, 137), 5);
    assert_int_equal(sl_stage_retries_for(d, 124), 1);
    assert_int_equal(sl_stage_retries_for(d, 1), 2);
    assert_int_equal(d->output_size, 300LL << 20);
    assert_string_equal(d->on_full, "wait");
    assert_int_equal(d->nemits, 1);
    assert_string_equal(d->emits[0].to, "unpack");
    assert_int_equal(d->emits[0].to_index, 1);
    assert_string_equal(d->emits[0].key, "{key}/raw");
    assert_int_equal(d->emits[0].stream, 1);
    assert_true(d->emits[0].loc.line > 0);

    const sl_stage *u = &p->stages[1];
    assert_string_equal(u->runtime, "podman");
    assert_string_equal(u->image, "sluice/unpack:1.0");
    assert_int_equal(u->cpus_milli, 1500);
    assert_int_equal(u->memory, 512LL << 20);
    assert_int_equal(u->placement, SL_PLACE_HOST_BOUND);
    assert_string_equal(u->on_full, "drop-oldest");
    assert_string_equal(u->emits[0].key, "{key}"); /* bare-string shorthand */
    assert_int_equal(u->emits[0].stream, 0);

    const sl_stage *b = &p->stages[2];
    assert_string_equal(b->image, "sluice/beam:2.1"); /* env file */
    assert_int_equal(b->placement, SL_PLACE_GROUP_BOUND);
    assert_string_equal(b->group, "east");
    assert_int_equal(b->group_index, 0);
    assert_int_equal(b->retry_default, 3);
    assert_int_equal(sl_stage_retries_for(b, 137), 3);

    const sl_stage *m = &p->stages[3];
    assert_string_equal(m->runtime, "noop");
    assert_int_equal(m->ncommand, 0);
    assert_int_equal(m->gather, 2);
    assert_string_equal(m->group, "gpu"); /* a cluster.agents group: an agent label */
    assert_int_equal(m->group_index, -1);

    const sl_stage *s = &p->stages[4];
    assert_int_equal(s->gather, 3);
    assert_string_equal(s->group, "bigmem"); /* "label:bigmem" */
    assert_int_equal(s->group_index, -1);
    assert_int_equal(s->timeout_ms, 250);
    assert_string_equal(s->env[0].value, "$5 and $HOME");

    assert_int_equal(p->nmessages, 2);
    assert_string_equal(p->messages[0].to, "download");
    assert_int_equal(p->messages[0].to_index, 0);
    assert_string_equal(p->messages[0].key, "obs1/ch{109..110}");
    assert_string_equal(p->messages[0].headers,
                        "{\"k\":\"v\",\"n\":3,\"f\":1.5,\"b\":true,\"q\":\"7\","
                        "\"nested\":{\"a\":[1,\"x\"]},\"z\":null}");
    assert_null(p->messages[1].headers);
    assert_int_equal(p->messages[1].to_index, 2);

    assert_int_equal(p->nvars, 2);
    assert_string_equal(var(p, "DATA_DIR"), "/data/x");
    assert_string_equal(var(p, "BEAM_TAG"), "2.1");
    assert_null(var(p, "DL_TOOL")); /* unset: the default was used */
    assert_string_equal(p->file, path);
    sl_pipeline_free(p);
    free(path);
}

static void test_defaults(void **state)
{
    (void)state;
    sl_pipeline *p = parse_ok("name: d\nstages:\n  - name: a\n    command: /bin/true\n", NULL);
    assert_null(p->description);
    assert_int_equal(p->lease_ttl_ms, 0); /* the controller's */
    assert_int_equal(p->ngroups, 0);
    assert_int_equal(p->nagents, 0);
    assert_int_equal(p->nmessages, 0);
    assert_int_equal(p->nvars, 0);
    const sl_stage *s = &p->stages[0];
    assert_int_equal(s->ncommand, 1);
    assert_string_equal(s->command[0], "/bin/true");
    assert_string_equal(s->runtime, "process");
    assert_int_equal(s->slots, 1);
    assert_int_equal(s->placement, SL_PLACE_ANY);
    assert_null(s->group);
    assert_int_equal(s->group_index, -1);
    assert_int_equal(s->timeout_ms, 0);
    assert_int_equal(s->retry_default, 0);
    assert_int_equal(sl_stage_retries_for(s, 1), 0);
    assert_int_equal(s->output_size, 0);
    assert_string_equal(s->on_full, "wait");
    assert_int_equal(s->cpus_milli, 0);
    assert_int_equal(s->memory, 0);
    assert_int_equal(s->gather, 0);
    assert_int_equal(s->nemits, 0);
    assert_int_equal(s->loc.line, 3);
    assert_int_equal(s->loc.col, 5);
    assert_int_equal(sl_pipeline_stage_index(p, "a"), 0);
    assert_int_equal(sl_pipeline_stage_index(p, "b"), -1);
    sl_pipeline_free(p);
    sl_pipeline_free(NULL);
}

static void test_agents_count_and_helpers(void **state)
{
    (void)state;
    sl_pipeline *p =
        parse_ok("name: d\ncluster: {agents: 3}\nstages:\n  - {name: a, runtime: noop}\n", NULL);
    assert_int_equal(p->nagents, 3);
    assert_string_equal(p->agents[0].name, "local-1");
    assert_string_equal(p->agents[2].name, "local-3");
    assert_int_equal(p->agents[2].ngroups, 0);
    sl_pipeline_free(p);
    assert_string_equal(sl_placement_name(SL_PLACE_ANY), "any");
    assert_string_equal(sl_placement_name(SL_PLACE_HOST_BOUND), "host-bound");
    assert_string_equal(sl_placement_name(SL_PLACE_GROUP_BOUND), "group-bound");
}

/* cluster.slurm: the defaults of `sluice slurm up --from FILE`. */
static void test_cluster_slurm(void **state)
{
    (void)state;
    sl_pipeline *p = parse_ok("name: s\ncluster:\n  slurm: {het: \"1:8\", partition: work, time: "
                              "\"2:00:00\", drain: 90s,\n    groups: [a], sbatch: [--mem=0]}\n"
                              "stages:\n  - {name: a, runtime: noop}\n",
                              NULL);
    const sl_cluster_slurm *y = &p->slurm;
    assert_true(y->present);
    assert_int_equal(y->het_ingest, 1);
    assert_int_equal(y->nodes, 8);
    assert_string_equal(y->partition, "work");
    assert_string_equal(y->time, "2:00:00");
    assert_int_equal(y->drain_ms, 90000);
    assert_int_equal(y->exclusive, -1);
    assert_int_equal(y->ngroups, 1);
    assert_string_equal(y->sbatch[0], "--mem=0");
    assert_null(y->qos);
    sl_pipeline_free(p);
    p = parse_ok("name: s\nstages:\n  - {name: a, runtime: noop}\n", NULL);
    assert_false(p->slurm.present);
    sl_pipeline_free(p);
    parse_bad("name: s\ncluster: {slurm: {nodes: 0}}\nstages:\n  - {name: a, runtime: noop}\n",
              NULL, "cluster.slurm.nodes must be an integer");
    parse_bad("name: s\ncluster: {slurm: {het: 4}}\nstages:\n  - {name: a, runtime: noop}\n", NULL,
              "INGEST:COMPUTE");
    parse_bad("name: s\ncluster: {slurm: {sbatch: [mem=0]}}\nstages:\n  - {name: a, runtime: "
              "noop}\n",
              NULL, "must start with '-'");
    parse_bad("name: s\ncluster: {slurm: {time: 2h}}\nstages:\n  - {name: a, runtime: noop}\n",
              NULL, "not a Slurm time limit");
}

static const char *var_yaml = "name: v\n"
                              "stages:\n"
                              "  - name: a\n"
                              "    command: [\"${PROG}\", \"${ARG:-dflt}\", \"$${NOT}\", \"a$b\"]\n"
                              "    env: {E: \"${EMPTY:-was-empty}\", K: \"x${SLOTS}y\"}\n"
                              "    slots: ${SLOTS}\n";

static void test_vars_sources(void **state)
{
    (void)state;
    sl_kv vars[] = {{"PROG", "/bin/explicit"}, {"SLOTS", "4"}, {"EMPTY", ""}};
    sl_varsrc src = {.vars = vars, .nvars = 3};
    sl_pipeline *p = parse_ok(var_yaml, &src);
    const sl_stage *s = &p->stages[0];
    assert_string_equal(s->command[0], "/bin/explicit");
    assert_string_equal(s->command[1], "dflt");
    assert_string_equal(s->command[2], "${NOT}");
    assert_string_equal(s->command[3], "a$b");
    assert_string_equal(s->env[0].value, "was-empty"); /* :- also replaces an empty value */
    assert_string_equal(s->env[1].value, "x4y");
    assert_int_equal(s->slots, 4);
    assert_int_equal(p->nvars, 3);
    assert_string_equal(var(p, "PROG"), "/bin/explicit");
    assert_string_equal(var(p, "EMPTY"), "");
    assert_null(var(p, "ARG"));
    sl_pipeline_free(p);

    /* explicit values win over the environment, which wins over the env file */
    setenv("PROG", "/bin/from-env", 1);
    setenv("ARG", "env-arg", 1);
    char *envf = root_path("build/test-tmp-vars.env");
    FILE *f = fopen(envf, "w");
    assert_non_null(f);
    fputs("# comment\n\nPROG=/bin/from-file\nexport SLOTS='7'\nARG=file-arg\nSLOTS=8\n", f);
    fclose(f);
    sl_varsrc both = {.use_environ = 1, .env_file = envf, .vars = vars, .nvars = 1};
    p = parse_ok(var_yaml, &both);
    assert_string_equal(p->stages[0].command[0], "/bin/explicit");
    assert_string_equal(p->stages[0].command[1], "env-arg");
    assert_int_equal(p->stages[0].slots, 8); /* a later line overrides */
    sl_pipeline_free(p);
    sl_varsrc envonly = {.use_environ = 1, .env_file = envf};
    p = parse_ok(var_yaml, &envonly);
    assert_string_equal(p->stages[0].command[0], "/bin/from-env");
    sl_pipeline_free(p);
    sl_varsrc fileonly = {.env_file = envf};
    p = parse_ok(var_yaml, &fileonly);
    assert_string_equal(p->stages[0].command[0], "/bin/from-file");
    assert_string_equal(p->stages[0].command[1], "file-arg");
    sl_pipeline_free(p);
    unsetenv("PROG");
    unsetenv("ARG");

    /* a bad env file line is reported with the env file's own line */
    f = fopen(envf, "w");
    fputs("OK=1\nthis is not a pair\n", f);
    fclose(f);
    sl_err e = {0};
    p = sl_pipeline_parse("t.yaml", var_yaml, strlen(var_yaml), &fileonly, &e);
    assert_null(p);
    assert_non_null(strstr(e.msg, "test-tmp-vars.env:2:1: expected NAME=VALUE"));
    remove(envf);
    free(envf);

    /* substitution is for values, not for keys */
    parse_bad("name: v\nstages:\n  - name: a\n    command: x\n    env: {\"${K}\": 1}\n", NULL,
              "env name '${K}'");
    parse_bad(var_yaml, NULL, "t.yaml:4:15: variable PROG is not set (use ${PROG:-default}");
}

/* A default is a template of its own: ${A:-${B:-z}/tail} nests. */
static void test_vars_nested_default(void **state)
{
    (void)state;
    const char *y = "name: n\n"
                    "stages:\n"
                    "  - name: a\n"
                    "    command: x\n"
                    "    env: {X: \"${A:-${B:-z}/tail}\", Y: \"${A:-${B:-${C:-deep}}}!\","
                    " Z: \"${A:-$${lit}}\", W: \"pre${A:-{${B:-b}}}post\"}\n";
    /* A and B unset: the innermost default, then the rest of the outer one. */
    sl_pipeline *p = parse_ok(y, NULL);
    const sl_stage *s = &p->stages[0];
    assert_string_equal(s->env[0].value, "z/tail");
    assert_string_equal(s->env[1].value, "deep!");
    assert_string_equal(s->env[2].value, "${lit}");
    assert_string_equal(s->env[3].value, "pre{b}post");
    assert_int_equal(p->nvars, 0);
    sl_pipeline_free(p);
    /* B set: it replaces the inner default; A set: the defaults are unused. */
    sl_kv vb[] = {{"B", "/b"}};
    sl_varsrc sb = {.vars = vb, .nvars = 1};
    p = parse_ok(y, &sb);
    s = &p->stages[0];
    assert_string_equal(s->env[0].value, "/b/tail");
    assert_string_equal(s->env[1].value, "/b!");
    assert_string_equal(s->env[3].value, "pre{/b}post");
    assert_string_equal(var(p, "B"), "/b");
    sl_pipeline_free(p);
    sl_kv va[] = {{"A", "a"}, {"B", "/b"}};
    sl_varsrc sa = {.vars = va, .nvars = 1};
    p = parse_ok(y, &sa);
    s = &p->stages[0];
    assert_string_equal(s->env[0].value, "a");
    assert_string_equal(s->env[1].value, "a!");
    assert_string_equal(s->env[2].value, "a");
    assert_string_equal(s->env[3].value, "prea}post"); /* a bare { does not pair, as in sh */
    assert_null(var(p, "B")); /* a default that is not used reads nothing */
    sl_pipeline_free(p);
    /* An empty A takes the default, as with a plain one. */
    sl_kv ve[] = {{"A", ""}, {"B", "/b"}};
    sl_varsrc se = {.vars = ve, .nvars = 2};
    p = parse_ok(y, &se);
    assert_string_equal(p->stages[0].env[0].value, "/b/tail");
    sl_pipeline_free(p);

    /* Errors inside a default, used or not, name the value's position. */
    const char *pre = "name: n\nstages:\n  - name: a\n    command: x\n    env: {X: ";
    char *t = sl_xasprintf("%s\"${A:-${B:-z}\"}\n", pre);
    parse_bad(t, NULL, "t.yaml:5:14: unterminated '${' in '${A:-${B:-z}'");
    free(t);
    t = sl_xasprintf("%s\"${A:-${1B}}\"}\n", pre);
    parse_bad(t, &sa, "t.yaml:5:14: bad variable reference '${1B}'");
    free(t);
    t = sl_xasprintf("%s\"${A:-${NOPE}/x}\"}\n", pre);
    parse_bad(t, NULL, "t.yaml:5:14: variable NOPE is not set");
    free(t);
    t = sl_xasprintf("%s\"${A:-${NOPE}/x}\"}\n", pre);
    p = parse_ok(t, &sa); /* an unused default may name an unset variable */
    assert_string_equal(p->stages[0].env[0].value, "a");
    sl_pipeline_free(p);
    free(t);
    t = sl_xasprintf("%s\"${A:-${B}\"}\n", pre);
    parse_bad(t, NULL, "unterminated '${'");
    free(t);
    /* Bounded depth: 8 levels parse, 9 do not. */
    char deep[256] = "", tail[64] = "";
    for (int i = 0; i < 8; i++) {
        strcat(deep, "${V:-");
        strcat(tail, "}");
    }
    t = sl_xasprintf("%s\"%sx%s\"}\n", pre, deep, tail);
    parse_bad(t, NULL, "defaults nested more than 8 deep");
    free(t);
    deep[strlen(deep) - 5] = 0;
    tail[strlen(tail) - 1] = 0;
    t = sl_xasprintf("%s\"%sx%s\"}\n", pre, deep, tail);
    p = parse_ok(t, NULL);
    assert_string_equal(p->stages[0].env[0].value, "x");
    sl_pipeline_free(p);
    free(t);
}

static void test_env_file_from_yaml(void **state)
{
    (void)state;
    /* env_file: is relative to the YAML file's directory */
    char *dir = root_path("build/test-tmp-envdir");
    char *cmd = sl_xasprintf("mkdir -p '%s'", dir);
    assert_int_equal(system(cmd), 0);
    char *envf = sl_xasprintf("%s/my.env", dir);
    char *yml = sl_xasprintf("%s/p.yaml", dir);
    FILE *f = fopen(envf, "w");
    fputs("TOOL=/opt/tool\n", f);
    fclose(f);
    f = fopen(yml, "w");
    fputs("name: e\nenv_file: ${ENVNAME:-my}.env\nstages:\n  - {name: a, command: \"${TOOL}\"}\n",
          f);
    fclose(f);
    sl_err e = {0};
    sl_pipeline *p = sl_pipeline_load(yml, NULL, &e);
    if (!p) fail_msg("%s", e.msg);
    assert_string_equal(p->stages[0].command[0], "/opt/tool");
    assert_string_equal(var(p, "TOOL"), "/opt/tool");
    /* Re-parsing from p->vars alone needs neither the file nor the environment. */
    sl_kv *saved = p->vars;
    sl_varsrc again = {.vars = saved, .nvars = p->nvars, .no_env_file = 1};
    remove(envf);
    sl_pipeline *q = sl_pipeline_load(yml, &again, &e);
    if (!q) fail_msg("%s", e.msg);
    assert_string_equal(q->stages[0].command[0], "/opt/tool");
    sl_pipeline_free(q);
    sl_pipeline_free(p);
    /* now the file is gone: a plain load says so at the env_file node */
    p = sl_pipeline_load(yml, NULL, &e);
    assert_null(p);
    assert_non_null(strstr(e.msg, "p.yaml:2:11: cannot read env_file"));
    remove(yml);
    rmdir(dir);
    p = sl_pipeline_load(yml, NULL, &e);
    assert_null(p);
    assert_int_equal(e.code, SL_EIO);
    free(dir);
    free(cmd);
    free(envf);
    free(yml);
}

static void test_vars_round_trip(void **state)
{
    (void)state;
    char *path = root_path("tests/yaml/good/full.yaml");
    setenv("DL_TOOL", "wget", 1);
    setenv("BEAM_TAG", "from-environ", 1);
    setenv("DATA_DIR", "", 1); /* set but empty: recorded as empty */
    sl_varsrc src = {.use_environ = 1};
    sl_err e = {0};
    sl_pipeline *p = sl_pipeline_load(path, &src, &e);
    if (!p) fail_msg("%s", e.msg);
    assert_string_equal(p->stages[0].command[1], "wget");
    assert_string_equal(p->stages[2].image, "sluice/beam:from-environ");
    assert_string_equal(var(p, "DATA_DIR"), "");
    char *d1 = dump(p);
    unsetenv("DL_TOOL");
    unsetenv("BEAM_TAG");
    unsetenv("DATA_DIR");
    sl_varsrc again = {.vars = p->vars, .nvars = p->nvars, .no_env_file = 1};
    sl_pipeline *q = sl_pipeline_load(path, &again, &e);
    if (!q) fail_msg("%s", e.msg);
    char *d2 = dump(q);
    assert_string_equal(d1, d2);
    assert_int_equal(q->nvars, p->nvars);
    for (size_t i = 0; i < p->nvars; i++) {
        assert_string_equal(q->vars[i].key, p->vars[i].key);
        assert_string_equal(q->vars[i].value, p->vars[i].value);
    }
    /* without the recorded values the model differs: the test can fail */
    sl_pipeline *r = sl_pipeline_load(path, NULL, &e);
    assert_non_null(r);
    char *d3 = dump(r);
    assert_string_not_equal(d1, d3);
    free(d1);
    free(d2);
    free(d3);
    sl_pipeline_free(p);
    sl_pipeline_free(q);
    sl_pipeline_free(r);
    free(path);
}

static void test_misc_rules(void **state)
{
    (void)state;
    /* x- keys at top level hold anchors; aliases share the anchored node; a
     * gather stage fed only by initial messages is fed */
    sl_pipeline *p =
        parse_ok("name: a\n"
                 "x-common: &cmd [/bin/tool, --fast]\n"
                 "stages:\n"
                 "  - {name: a, command: *cmd, emits: [{to: b, key: \"{1}/{2..3}\"}]}\n"
                 "  - {name: b, command: *cmd}\n"
                 "  - {name: g, command: *cmd, gather: 2}\n"
                 "messages:\n"
                 "  - {to: g, key: k}\n",
                 NULL);
    assert_int_equal(p->stages[1].ncommand, 2);
    assert_string_equal(p->stages[2].command[1], "--fast");
    assert_int_equal(p->stages[2].gather, 2);
    sl_pipeline_free(p);
    /* a diamond is not a cycle */
    p = parse_ok("name: a\nstages:\n"
                 "  - {name: a, command: x, emits: [b, c]}\n"
                 "  - {name: b, command: x, emits: [d]}\n"
                 "  - {name: c, command: x, emits: [d]}\n"
                 "  - {name: d, command: x}\n",
                 NULL);
    assert_int_equal(p->stages[2].emits[0].to_index, 3);
    sl_pipeline_free(p);
    parse_bad(
        "name: a\nstages:\n  - {name: a, command: x, placement: group-bound, group: \"label:\"}\n",
        NULL, "t.yaml:3:58: group 'label:' of stage 'a' names no label");
    parse_bad("name: a\nstages:\n  - name: a\n    command: x\n    emits: b\n", NULL,
              "t.yaml:5:12: emits of stage 'a' must be a list, not a scalar");
    parse_bad("name: a\nstages:\n  - {name: a, command: x}\n  - just-a-string\n", NULL,
              "t.yaml:4:5: stage #2 must be a mapping");
    parse_bad("name: a\nstages:\n  - {name: a, command: [x, [y]]}\n", NULL,
              "an argument of the command of stage 'a' must be a string, not a list");
    parse_bad("name: a\nstages:\n  - {name: a, command: x, env: {A: [1]}}\n", NULL,
              "env A of stage 'a' must be a string, not a list");
    parse_bad("name: a\nstages:\n  - {name: a, command: x}\n  - {name: b, command: x, gather: 3}\n"
              "messages:\n  - {to: a, key: k}\n",
              NULL, "t.yaml:4:27: stage 'b' gathers 3");
    parse_bad("name: a\n&x y: 1\n", NULL, "unknown key 'y' at top level");
    parse_bad("name: a\nstages:\n  - {name: a, command: x, retry: {default: 1, 0: 2}}\n", NULL,
              "retry: exit code '0' is not in 1..255");
    parse_bad("name: a\nstages:\n  - {name: a, command: x, retry: {\"137\": 1, 137: 2}}\n", NULL,
              "duplicate key '137'");
    parse_bad("name: a\nstages:\n  - {name: a, command: x, slots: 4097}\n", NULL,
              "slots must be an integer in 1..4096 (got '4097')");
    parse_bad("name: a\nstages:\n  - {name: a, command: \"\"}\n", NULL, "has an empty program");
    parse_bad("name: a\nstages:\n  - {name: a, command: x, cpus: 1e999}\n", NULL, "cpus must be");
    parse_bad("name: a\nlease_ttl: 500ms\nstages:\n  - {name: a, command: x}\n", NULL,
              "lease_ttl must be at least 1s");
    parse_bad("a: &x [*x]\n", NULL, "refers to a node that contains it");
    parse_bad("name: \"\\0\"\n", NULL, "NUL byte");
    /* deep nesting is refused, not a stack overflow */
    sl_buf deep = SL_BUF_INIT;
    sl_buf_puts(&deep, "name: a\nx-deep: ");
    for (int i = 0; i < 200; i++)
        sl_buf_putc(&deep, '[');
    parse_bad(deep.data, NULL, "nesting deeper than 64 levels");
    sl_buf_free(&deep);
    /* a NULL err is allowed */
    assert_null(sl_pipeline_parse("t.yaml", "", 0, NULL, NULL));
}

/* Runs every file of tests/yaml/bad and checks its "# expect:" line. */
/* Container keys: gpus as a list or one string; image beside a runtime
 * chosen by a variable (process and bwrap ignore it). */
static void test_container_keys(void **state)
{
    (void)state;
    const char *y = "name: c\nstages:\n"
                    "  - {name: a, runtime: podman, image: 'sluice/x:1', command: x, cpus: 0.5,\n"
                    "     memory: 64m, gpus: [/dev/nvidia0, nvidia.com/gpu=all]}\n"
                    "  - {name: b, runtime: bwrap, command: x, gpus: /dev/dri/card0}\n"
                    "  - {name: c, image: 'sluice/x:1', command: x}\n";
    sl_varsrc src = {0};
    sl_pipeline *p = parse_ok(y, &src);
    assert_int_equal(p->stages[0].ngpus, 2);
    assert_string_equal(p->stages[0].gpus[1], "nvidia.com/gpu=all");
    assert_int_equal(p->stages[0].memory, 64 << 20);
    assert_int_equal(p->stages[0].cpus_milli, 500);
    assert_int_equal(p->stages[1].ngpus, 1);
    assert_string_equal(p->stages[1].gpus[0], "/dev/dri/card0");
    assert_null(p->stages[1].image);
    assert_string_equal(p->stages[2].runtime, "process");
    assert_string_equal(p->stages[2].image, "sluice/x:1");
    assert_int_equal(p->stages[2].ngpus, 0);
    sl_pipeline_free(p);
    parse_bad(
        "name: c\nstages:\n  - {name: a, runtime: podman, image: x, command: x, gpus: [gpu0]}\n",
        &src, "neither a device path");
    parse_bad("name: c\nstages:\n  - {name: a, runtime: bwrap, command: x, gpus: {a: b}}\n", &src,
              "gpus");
    parse_bad("name: c\nstages:\n  - {name: a, runtime: charliecloud, command: x}\n", &src,
              "has runtime charliecloud but no 'image'");
}

static void test_bad_table(void **state)
{
    (void)state;
    char *dir = root_path("tests/yaml/bad");
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s (run from the repo root or set SLUICE_ROOT)", dir);
    struct dirent *de;
    int n = 0, failed = 0;
    sl_varsrc src = {0}; /* no environment: results must not depend on it */
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".yaml")) continue;
        char *path = sl_xasprintf("%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        char first[512] = "";
        if (!f || !fgets(first, sizeof first, f)) fail_msg("cannot read %s", path);
        fclose(f);
        first[strcspn(first, "\n")] = 0;
        int line, col, off = 0;
        if (sscanf(first, "# expect: %d:%d: %n", &line, &col, &off) != 2 || !off || !first[off])
            fail_msg("%s: first line must be '# expect: LINE:COL: message part'", path);
        const char *want = first + off;
        sl_err e = {0};
        sl_pipeline *p = sl_pipeline_load(path, &src, &e);
        char *prefix = sl_xasprintf("%s:%d:%d: ", path, line, col);
        if (p) {
            print_message("not ok: %s parsed, expected '%s'\n", de->d_name, want);
            sl_pipeline_free(p);
            failed++;
        } else if (strncmp(e.msg, prefix, strlen(prefix)) || !strstr(e.msg, want)) {
            print_message("not ok: %s\n  want: %s%s\n  got:  %s\n", de->d_name, prefix, want,
                          e.msg);
            failed++;
        }
        free(prefix);
        free(path);
        n++;
    }
    closedir(d);
    free(dir);
    assert_int_equal(failed, 0);
    assert_true(n >= 25);
}

/* Every file in tests/yaml/good parses with no environment. */
static void test_good_table(void **state)
{
    (void)state;
    char *dir = root_path("tests/yaml/good");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".yaml")) continue;
        char *path = sl_xasprintf("%s/%s", dir, de->d_name);
        sl_err e = {0};
        sl_varsrc src = {0};
        sl_pipeline *p = sl_pipeline_load(path, &src, &e);
        if (!p) fail_msg("%s", e.msg);
        sl_pipeline_free(p);
        free(path);
        n++;
    }
    closedir(d);
    free(dir);
    assert_true(n >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_agents_count_and_helpers),
        cmocka_unit_test(test_cluster_slurm),
        cmocka_unit_test(test_vars_sources),
        cmocka_unit_test(test_vars_nested_default),
        cmocka_unit_test(test_env_file_from_yaml),
        cmocka_unit_test(test_vars_round_trip),
        cmocka_unit_test(test_misc_rules),
        cmocka_unit_test(test_container_keys),
        cmocka_unit_test(test_bad_table),
        cmocka_unit_test(test_good_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
