/* fuzz_headers_json.c - libFuzzer harness: the JSON scanner for task headers
 * (util/json.c).
 *
 * Any text is offered to sl_json_check_object, sl_json_each_str,
 * sl_json_get_str and sl_json_set_str, as the scheduler does with headers
 * from modules and users. Checked: a refusal says why; setting a field on
 * a valid object gives a valid object in which the field reads back as
 * set; each_str and get_str agree on the first field's value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int n;
    char *first_name, *first_value;
} first;

static int each_cb(void *ctx, const char *name, const char *value)
{
    first *f = ctx;
    if (!name || !value) abort();
    if (f->n++ == 0) {
        f->first_name = strdup(name);
        f->first_value = strdup(value);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;

    sl_err e;
    sl_err_clear(&e);
    int valid = sl_json_check_object(text, &e) == 0;
    if (!valid && !e.msg[0]) abort();

    first f = {0};
    int n = sl_json_each_str(text, each_cb, &f);
    if (n != f.n && n >= 0) abort();

    sl_buf v = SL_BUF_INIT, out = SL_BUF_INIT;
    sl_json_get_str(text, "to_host", &v);
    /* A field name that is not plain text is compared by its unescaped
     * bytes, which may hold a NUL: only compare names without one. */
    if (valid && f.first_name && strlen(f.first_name) && !strchr(f.first_name, '\\')) {
        sl_buf_reset(&v);
        if (sl_json_get_str(text, f.first_name, &v) != 1) abort();
        if (strcmp(v.data, f.first_value) && !memchr(v.data, 0, v.len)) abort();
    }

    sl_json_set_str(&out, text, "from_host", "node-1");
    if (valid) {
        sl_err_clear(&e);
        if (sl_json_check_object(out.data, &e) != 0) abort();
        sl_buf_reset(&v);
        if (sl_json_get_str(out.data, "from_host", &v) != 1 || strcmp(v.data, "node-1")) abort();
    }
    free(f.first_name);
    free(f.first_value);
    sl_buf_free(&v);
    sl_buf_free(&out);
    free(text);
    return 0;
}
