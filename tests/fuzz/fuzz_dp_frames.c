/* fuzz_dp_frames.c - libFuzzer harness: the data plane's frame and message
 * decoders (dataplane/dp_proto.c), which read whatever a peer sends.
 *
 * The first byte picks the decoder, the rest is its input: a frame header,
 * HELLO, a WELCOME/REFUSED/ERROR message, a STAT_OK or PUT_OPEN geometry
 * (with and without mtime and name), a GET range, or an object name. What a
 * decoder accepts must make sense (lengths in bounds, names that
 * dp_name_split accepts only go downward) and, where an encoder exists,
 * must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/dp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t hashes[SL_DP_MAX_BLOCKS];
static uint8_t out[DP_MAX_PAYLOAD + 64];

static void check_name(const char *name)
{
    char root[DP_MAX_ROOTNAME + 1];
    const char *rel = NULL, *why = NULL;
    if (dp_name_split(name, root, &rel, &why) != 0) {
        if (!why) abort();
        return;
    }
    if (!dp_root_name_ok(root) || !rel || !*rel || rel[0] == '/') abort();
    if (strlen(rel) >= strlen(name)) abort();
    for (const char *c = rel; c;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) abort();
        c = e ? e + 1 : NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > DP_MAX_PAYLOAD + 1) return 0;
    uint8_t which = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    /* the decoders get an exact-size copy so ASan sees any overread */
    uint8_t *b = malloc(n ? n : 1);
    if (n) memcpy(b, p, n);
    switch (which % 10) {
    case 0: { /* frame header */
        if (n < DP_HDR) break;
        uint8_t t;
        uint32_t len;
        if (dp_hdr_decode(b, &t, &len) == 0) {
            if (len > DP_MAX_PAYLOAD) abort();
            uint8_t h[DP_HDR];
            dp_hdr_encode(h, t, len);
            if (memcmp(h, b, DP_HDR)) abort();
        }
        break;
    }
    case 1: { /* HELLO */
        uint16_t ver;
        char tok[SL_DP_MAX_CAP + 1];
        size_t tl;
        if (dp_dec_hello(b, n, &ver, tok, &tl) == 0) {
            if (tl > SL_DP_MAX_CAP) abort();
            if (strlen(tok) == tl && ver == SL_DP_PROTO_VERSION) {
                size_t m = dp_enc_hello(out, sizeof out, tok);
                if (m != n || memcmp(out, b, n)) abort();
            }
        }
        break;
    }
    case 2: { /* WELCOME / REFUSED / ERROR */
        uint32_t code;
        char msg[256];
        size_t max = 1 + (which >> 3) * 8; /* 1..249: small buffers too */
        if (dp_dec_msg(b, n, &code, msg, max) == 0) {
            if (strlen(msg) >= max) abort();
            for (const char *c = msg; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f) abort();
        }
        break;
    }
    case 3:
    case 4: { /* STAT_OK (mtime, no name) / PUT_OPEN (name) */
        dp_geom g = {.hashes = hashes};
        int with_mtime = which & 8 ? 1 : 0;
        int named = which % 8 == 4;
        char name[SL_DP_MAX_NAME + 1];
        if (dp_dec_geom(b, n, &g, with_mtime, named ? name : NULL, sizeof name) == 0) {
            if (dp_geom_check(g.size, g.block_size, g.nblocks)) abort();
            if (named) check_name(name);
            size_t m = dp_enc_geom(out, sizeof out, &g, with_mtime, named ? name : NULL);
            if (m != n || memcmp(out, b, n)) abort();
        }
        break;
    }
    case 5: { /* GET */
        dp_range rg;
        char name[SL_DP_MAX_NAME + 1];
        if (dp_dec_get(b, n, &rg, name, sizeof name) == 0) {
            if (rg.offset > rg.size || rg.length > rg.size - rg.offset) abort();
            check_name(name);
            size_t m = dp_enc_get(out, sizeof out, &rg, name);
            if (m != n || memcmp(out, b, n)) abort();
        }
        break;
    }
    case 8: { /* a capability from the wire: refused or parsed, never a crash */
        static const uint8_t key[32] = {7};
        dp_cap c;
        char why[256];
        char *s = malloc(n + 1);
        memcpy(s, b, n);
        s[n] = 0;
        if (dp_cap_verify(key, s, n, 0, &c, why, sizeof why) == 0) abort(); /* no forged MAC */
        free(s);
        break;
    }
    case 9: { /* fields -> capability -> verify: round trip, and one flipped byte fails */
        static const char key_hex[] =
            "0707070707070707070707070707070707070707070707070707070707070707";
        uint8_t key[32];
        if (dp_key_parse(key_hex, key) < 0) abort();
        const uint8_t *nl = memchr(b, '\n', n);
        size_t rl = nl ? (size_t)(nl - b) : n;
        char *reader = strndup((const char *)b, rl);
        char *path = nl ? strndup((const char *)nl + 1, n - rl - 1) : strdup("p1/a/k");
        static char cap[SL_DP_MAX_CAP + 1];
        sl_err e;
        int len = sl_dp_cap_make(key_hex, n & 1 ? SL_DP_CAP_READ : SL_DP_CAP_PUSH, path, reader,
                                 1000, cap, sizeof cap, &e);
        if (len > 0) {
            dp_cap c;
            char why[256];
            if (dp_cap_verify(key, cap, (size_t)len, 999, &c, why, sizeof why) != 0) abort();
            if (strcmp(c.path, path) || strcmp(c.reader, reader) || c.expires_ms != 1000) abort();
            if (dp_cap_verify(key, cap, (size_t)len, 1001, &c, why, sizeof why) == 0) abort();
            cap[n % (size_t)len] ^= 1;
            if (dp_cap_verify(key, cap, (size_t)len, 999, &c, why, sizeof why) == 0) abort();
        }
        free(reader);
        free(path);
        break;
    }
    default: { /* object names */
        char *s = malloc(n + 1);
        memcpy(s, b, n);
        s[n] = 0;
        check_name(s);
        free(s);
        break;
    }
    }
    free(b);
    return 0;
}
