/* fuzz_pipeline_yaml.c - libFuzzer harness: the pipeline YAML loader.
 *
 * The input is a pipeline file given to sl_pipeline_parse() from memory. An
 * optional first line "#vars NAME=VALUE NAME=VALUE ..." (a YAML comment, so
 * the file stays the same YAML) supplies explicit ${NAME} values; the
 * environment and env files are never read, so a run is deterministic. A
 * model that parses (and so passed validation) is checked: its recorded
 * variables must rebuild an equivalent model through
 * sl_pipeline_parse_with_vars_json(), as the controller and agents do, and
 * the key templates of its messages and emits are expanded (a bounded
 * number of keys each) and every key must validate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/pipeline.h"
#include "pipeline/template.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VARS 16
#define KEYS_PER_TEMPLATE 64

static int check_key(void *ctx, const char *key)
{
    (void)ctx;
    sl_err e;
    sl_err_clear(&e);
    if (sl_key_validate(key, &e) != 0) abort(); /* expansion validates every key */
    return 0;
}

/* Expands at most KEYS_PER_TEMPLATE keys of tmpl from the start and from
 * the end of its key space. */
static void expand_some(const char *tmpl, const char *in)
{
    sl_err e;
    sl_err_clear(&e);
    int64_t n = sl_template_count(tmpl, &e);
    if (n < 0) abort(); /* the parser accepted this template */
    sl_template_expand_at(tmpl, in, 0, KEYS_PER_TEMPLATE, check_key, NULL, &e);
    if (n > KEYS_PER_TEMPLATE)
        sl_template_expand_at(tmpl, in, n - KEYS_PER_TEMPLATE, -1, check_key, NULL, &e);
}

static int same_str(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

/* The model rebuilt from the recorded variables must be the same model. */
static void check_rebuild(const sl_pipeline *p, const char *yaml)
{
    sl_buf j = SL_BUF_INIT;
    sl_buf_putc(&j, '{');
    for (size_t i = 0; i < p->nvars; i++) {
        if (i) sl_buf_putc(&j, ',');
        sl_buf_json_str(&j, p->vars[i].key);
        sl_buf_putc(&j, ':');
        sl_buf_json_str(&j, p->vars[i].value);
    }
    sl_buf_putc(&j, '}');
    sl_err e;
    sl_err_clear(&e);
    sl_pipeline *q = sl_pipeline_parse_with_vars_json("fuzz.yaml", yaml, j.data, &e);
    sl_buf_free(&j);
    if (!q) abort(); /* what parsed once must parse again from its own record */
    if (!same_str(p->name, q->name) || p->nstages != q->nstages || p->nmessages != q->nmessages ||
        p->nvars != q->nvars)
        abort();
    for (size_t i = 0; i < p->nstages; i++) {
        const sl_stage *a = &p->stages[i], *b = &q->stages[i];
        if (!same_str(a->name, b->name) || a->nemits != b->nemits || a->ncommand != b->ncommand)
            abort();
        for (size_t k = 0; k < a->ncommand; k++)
            if (!same_str(a->command[k], b->command[k])) abort();
        for (size_t k = 0; k < a->nemits; k++)
            if (!same_str(a->emits[k].key, b->emits[k].key) ||
                a->emits[k].to_index != b->emits[k].to_index)
                abort();
    }
    for (size_t i = 0; i < p->nmessages; i++)
        if (!same_str(p->messages[i].key, q->messages[i].key) ||
            !same_str(p->messages[i].headers, q->messages[i].headers))
            abort();
    sl_pipeline_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;

    /* "#vars A=1 B=2" on the first line: explicit variable values. */
    sl_kv vars[MAX_VARS];
    char *varline = NULL;
    size_t nvars = 0;
    if (size > 6 && !memcmp(text, "#vars ", 6)) {
        char *nl = memchr(text, '\n', size);
        size_t n = nl ? (size_t)(nl - text) : size;
        varline = malloc(n + 1);
        memcpy(varline, text, n);
        varline[n] = 0;
        for (char *save = NULL, *w = strtok_r(varline + 6, " ", &save); w && nvars < MAX_VARS;
             w = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(w, '=');
            if (!eq) continue;
            *eq = 0;
            vars[nvars++] = (sl_kv){w, eq + 1};
        }
    }
    sl_varsrc src = {.vars = vars, .nvars = nvars, .no_env_file = 1};
    sl_err err;
    sl_err_clear(&err);
    sl_pipeline *p = sl_pipeline_parse("fuzz.yaml", text, size, &src, &err);
    if (!p) {
        if (!err.msg[0]) abort(); /* a refusal always says why */
    } else if (strlen(text) == size) {
        for (size_t i = 0; i < p->nmessages; i++)
            expand_some(p->messages[i].key, NULL);
        for (size_t i = 0; i < p->nstages; i++)
            for (size_t k = 0; k < p->stages[i].nemits; k++)
                expand_some(p->stages[i].emits[k].key, "obs1/p00001_00024/t1_2/ch109");
        check_rebuild(p, text);
    }
    sl_pipeline_free(p);
    free(varline);
    free(text);
    return 0;
}
