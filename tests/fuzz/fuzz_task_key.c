/* fuzz_task_key.c - libFuzzer harness: task-key validation.
 *
 * Any byte string is offered as a key. A key that passes must be safe as a
 * relative path (no "..", no leading '/', no control bytes): checked here
 * independently of the validator, so a validator that lets a bad key through
 * is a crash, not just a sanitizer finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *key = malloc(size + 1);
    if (!key) return 0;
    memcpy(key, data, size);
    key[size] = 0;
    sl_err err;
    sl_err_clear(&err);
    if (sl_key_validate(key, &err) == 0) {
        if (key[0] == '/') abort();
        for (const char *p = key; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) abort();
        for (const char *c = key; c;) {
            const char *slash = strchr(c, '/');
            size_t n = slash ? (size_t)(slash - c) : strlen(c);
            if (n == 2 && c[0] == '.' && c[1] == '.') abort();
            c = slash ? slash + 1 : NULL;
        }
    } else if (!err.msg[0]) {
        abort(); /* a refusal always says why */
    }
    free(key);
    return 0;
}
