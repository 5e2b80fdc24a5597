/* fuzz_key_template.c - libFuzzer harness: key templates and their expansion.
 *
 * The input is "TEMPLATE\nINPUT-KEY\nSTART" (later parts optional). The
 * template is checked, counted and expanded against the input key, from the
 * start and from an ordinal taken from the input, a bounded number of keys
 * each time (the count is capped by SL_TEMPLATE_MAX_KEYS; expanding a
 * million keys per input would only make the fuzzer slow). Checked here:
 * check, count and expand agree on whether the template is good; every key
 * produced is valid; a resumed expansion yields exactly the keys of a full
 * one at the same ordinals; sl_template_check_keys (no expansion) accepts
 * exactly the templates whose every key is valid (compared with a full
 * expansion when there are at most 256 keys). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEYS 32

typedef struct {
    char *keys[KEYS];
    size_t n;
} acc;

static int collect(void *ctx, const char *key)
{
    acc *a = ctx;
    sl_err e;
    sl_err_clear(&e);
    if (sl_key_validate(key, &e) != 0) abort();
    if (a->n == KEYS) abort(); /* a limit was not honoured */
    a->keys[a->n++] = strdup(key);
    return 0;
}

static int no_key(void *ctx, const char *key)
{
    (void)ctx;
    (void)key;
    return 0;
}

static void acc_free(acc *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->keys[i]);
    a->n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) return 0;
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *tmpl = buf, *in = NULL, *start_s = NULL;
    char *nl = strchr(buf, '\n');
    if (nl) {
        *nl = 0;
        in = nl + 1;
        char *nl2 = strchr(in, '\n');
        if (nl2) {
            *nl2 = 0;
            start_s = nl2 + 1;
        }
    }
    sl_err e;
    sl_err_clear(&e);
    if (in) {
        sl_key_validate(in, &e);
        sl_err_clear(&e);
    }
    int ok = sl_template_check(tmpl, &e) == 0;
    if (!ok && !e.msg[0]) abort();
    sl_err_clear(&e);
    int64_t n = sl_template_count(tmpl, &e);
    if ((n >= 0) != ok) abort(); /* check and count disagree */
    if (ok && (n < 1 || n > SL_TEMPLATE_MAX_KEYS)) abort();

    acc full = {0}, part = {0};
    sl_err_clear(&e);
    int rc = sl_template_expand_at(tmpl, in, 0, KEYS, collect, &full, &e);
    if (!ok && rc == 0) abort(); /* a template that does not compile expanded */
    if (rc == 0 && (int64_t)full.n != (n < KEYS ? n : KEYS)) abort();
    if (rc == 0 && n > 1) {
        /* resume from an ordinal inside what was produced */
        int64_t st = start_s ? strtoll(start_s, NULL, 10) : 1;
        if (st < 0) st = -st;
        st %= (int64_t)full.n;
        sl_err_clear(&e);
        if (sl_template_expand_at(tmpl, in, st, 4, collect, &part, &e) != 0) abort();
        for (size_t i = 0; i < part.n; i++)
            if ((int64_t)i + st < (int64_t)full.n && strcmp(part.keys[i], full.keys[st + i]))
                abort();
        acc_free(&part);
        /* and the tail of the key space */
        sl_err_clear(&e);
        sl_template_expand_at(tmpl, in, n - 1, 4, collect, &part, &e);
        if (part.n > 1) abort();
        acc_free(&part);
    }
    if (ok && n <= 256) {
        /* the quick check of every key agrees with making them all */
        sl_err_clear(&e);
        int all = sl_template_expand(tmpl, in, no_key, NULL, &e);
        sl_err_clear(&e);
        if ((sl_template_check_keys(tmpl, in, &e) == 0) != (all == 0)) abort();
    }
    acc_free(&full);
    free(buf);
    return 0;
}
