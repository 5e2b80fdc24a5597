/* dp_proto.c - the data plane's wire format, with no I/O at all.
 *
 * Everything a peer sends is parsed here with bounds checked on every field,
 * so the parsers can be unit-tested with hostile bytes and the server and
 * client never index a payload themselves. Object names are checked here
 * too: they are part of what a frame means (capabilities: dp_cap.c). */
#include "dataplane/dp_internal.h"

#include <string.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

void dp_hdr_encode(uint8_t h[DP_HDR], uint8_t type, uint32_t len)
{
    h[0] = type;
    h[1] = h[2] = h[3] = 0;
    h[4] = (uint8_t)(len >> 24);
    h[5] = (uint8_t)(len >> 16);
    h[6] = (uint8_t)(len >> 8);
    h[7] = (uint8_t)len;
}

static int type_known(uint8_t t)
{
    switch (t) {
    case DP_HELLO:
    case DP_WELCOME:
    case DP_REFUSED:
    case DP_ERROR:
    case DP_STAT:
    case DP_STAT_OK:
    case DP_GET:
    case DP_DATA:
    case DP_PUT_OPEN:
    case DP_PUT_DATA:
    case DP_PUT_COMMIT:
    case DP_PUT_OK:
        return 1;
    }
    return 0;
}

int dp_hdr_decode(const uint8_t h[DP_HDR], uint8_t *type, uint32_t *len)
{
    uint32_t n = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
    if (!type_known(h[0]) || h[1] || h[2] || h[3] || n > DP_MAX_PAYLOAD) return -1;
    *type = h[0];
    *len = n;
    return 0;
}

static int wr_room(dp_wr *w, size_t n)
{
    if (w->bad || w->cap - w->len < n) {
        w->bad = 1;
        return 0;
    }
    return 1;
}

void dp_put16(dp_wr *w, uint16_t v)
{
    if (!wr_room(w, 2)) return;
    w->p[w->len++] = (uint8_t)(v >> 8);
    w->p[w->len++] = (uint8_t)v;
}

void dp_put32(dp_wr *w, uint32_t v)
{
    dp_put16(w, (uint16_t)(v >> 16));
    dp_put16(w, (uint16_t)v);
}

void dp_put64(dp_wr *w, uint64_t v)
{
    dp_put32(w, (uint32_t)(v >> 32));
    dp_put32(w, (uint32_t)v);
}

void dp_putb(dp_wr *w, const void *b, size_t n)
{
    if (!wr_room(w, n)) return;
    if (n) memcpy(w->p + w->len, b, n);
    w->len += n;
}

static const uint8_t *rd_take(dp_rd *r, size_t n)
{
    if (r->bad || r->len - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

uint16_t dp_get16(dp_rd *r)
{
    const uint8_t *p = rd_take(r, 2);
    return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t dp_get32(dp_rd *r)
{
    uint32_t hi = dp_get16(r);
    return hi << 16 | dp_get16(r);
}

uint64_t dp_get64(dp_rd *r)
{
    uint64_t hi = dp_get32(r);
    return hi << 32 | dp_get32(r);
}

void dp_get_str(dp_rd *r, char *out, size_t max)
{
    size_t n = r->bad ? 0 : r->len - r->off;
    const uint8_t *p = rd_take(r, n);
    if (!p || n >= max || memchr(p, 0, n)) {
        r->bad = 1;
        if (max) out[0] = 0;
        return;
    }
    memcpy(out, p, n);
    out[n] = 0;
}

size_t dp_enc_hello(uint8_t *buf, size_t cap, const char *capability)
{
    size_t cl = strlen(capability);
    dp_wr w = {buf, 0, cap, cl > SL_DP_MAX_CAP};
    dp_put32(&w, DP_MAGIC);
    dp_put16(&w, SL_DP_PROTO_VERSION);
    dp_put16(&w, (uint16_t)cl);
    dp_putb(&w, capability, cl);
    return w.bad ? 0 : w.len;
}

int dp_dec_hello(const uint8_t *p, size_t n, uint16_t *version, char *capability, size_t *caplen)
{
    dp_rd r = {p, n, 0, 0};
    uint32_t magic = dp_get32(&r);
    *version = dp_get16(&r);
    uint16_t cl = dp_get16(&r);
    if (r.bad || magic != DP_MAGIC || cl > SL_DP_MAX_CAP || r.len - r.off != cl ||
        memchr(p + r.off, 0, cl))
        return -1;
    memcpy(capability, p + r.off, cl);
    capability[cl] = 0;
    *caplen = cl;
    return 0;
}

size_t dp_enc_msg(uint8_t *buf, size_t cap, uint32_t code, const char *msg)
{
    dp_wr w = {buf, 0, cap, 0};
    size_t n = strlen(msg);
    if (n > 1000) n = 1000; /* a message is a sentence, never a payload */
    dp_put32(&w, code);
    dp_putb(&w, msg, n);
    return w.bad ? 0 : w.len;
}

int dp_dec_msg(const uint8_t *p, size_t n, uint32_t *code, char *msg, size_t max)
{
    dp_rd r = {p, n, 0, 0};
    *code = dp_get32(&r);
    size_t rest = r.bad ? 0 : n - r.off;
    if (r.bad || !max) return -1;
    if (rest >= max) rest = max - 1; /* truncating a peer's message is harmless */
    for (size_t i = 0; i < rest; i++) {
        uint8_t c = p[r.off + i];
        msg[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    msg[rest] = 0;
    return 0;
}

size_t dp_enc_geom(uint8_t *buf, size_t cap, const dp_geom *g, int with_mtime, const char *name)
{
    dp_wr w = {buf, 0, cap, g->nblocks > SL_DP_MAX_BLOCKS};
    dp_put64(&w, g->size);
    if (with_mtime) dp_put64(&w, g->mtime_ns);
    dp_put64(&w, g->checksum);
    dp_put32(&w, g->block_size);
    dp_put32(&w, g->nblocks);
    for (uint32_t i = 0; i < g->nblocks && !w.bad; i++)
        dp_put64(&w, g->hashes[i]);
    if (name) dp_putb(&w, name, strlen(name));
    return w.bad ? 0 : w.len;
}

int dp_dec_geom(const uint8_t *p, size_t n, dp_geom *g, int with_mtime, char *name, size_t max)
{
    dp_rd r = {p, n, 0, 0};
    g->size = dp_get64(&r);
    g->mtime_ns = with_mtime ? dp_get64(&r) : 0;
    g->checksum = dp_get64(&r);
    g->block_size = dp_get32(&r);
    g->nblocks = dp_get32(&r);
    if (r.bad || dp_geom_check(g->size, g->block_size, g->nblocks)) return -1;
    for (uint32_t i = 0; i < g->nblocks; i++)
        g->hashes[i] = dp_get64(&r);
    if (name)
        dp_get_str(&r, name, max);
    else if (r.off != r.len)
        return -1;
    if (r.bad || g->checksum != dp_hash_list(g->hashes, g->nblocks)) return -1;
    return 0;
}

size_t dp_enc_get(uint8_t *buf, size_t cap, const dp_range *rg, const char *name)
{
    dp_wr w = {buf, 0, cap, 0};
    dp_put64(&w, rg->offset);
    dp_put64(&w, rg->length);
    dp_put64(&w, rg->size);
    dp_put64(&w, rg->mtime_ns);
    dp_putb(&w, name, strlen(name));
    return w.bad ? 0 : w.len;
}

int dp_dec_get(const uint8_t *p, size_t n, dp_range *rg, char *name, size_t max)
{
    dp_rd r = {p, n, 0, 0};
    rg->offset = dp_get64(&r);
    rg->length = dp_get64(&r);
    rg->size = dp_get64(&r);
    rg->mtime_ns = dp_get64(&r);
    dp_get_str(&r, name, max);
    if (r.bad || rg->offset > rg->size || rg->length > rg->size - rg->offset) return -1;
    return 0;
}

int dp_root_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DP_MAX_ROOTNAME) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int dp_name_split(const char *name, char root[DP_MAX_ROOTNAME + 1], const char **rel,
                  const char **why)
{
    size_t n = strlen(name);
    const char *slash = strchr(name, '/');
    if (n == 0 || n > SL_DP_MAX_NAME) return *why = "object name is empty or too long", -1;
    if (!slash || slash == name || (size_t)(slash - name) > DP_MAX_ROOTNAME)
        return *why = "object name must be ROOT/relative/path", -1;
    memcpy(root, name, (size_t)(slash - name));
    root[slash - name] = 0;
    if (!dp_root_name_ok(root))
        return *why = "root name may only hold letters, digits, '_' and '-'", -1;
    const char *r = slash + 1;
    if (*r == 0) return *why = "object name has no path after the root", -1;
    if (dp_rel_ok(r, why)) return -1;
    *rel = r;
    return 0;
}

int dp_rel_ok(const char *r, const char **why)
{
    for (const char *c = r; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return *why = "object name contains a control character", -1;
    /* Walk components: none empty (catches "//" and a leading or trailing
     * '/'), none "." or "..", so the path can only go downward. */
    const char *c = r;
    for (;;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0) return *why = "object name has an empty path component", -1;
        if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return *why = "object name may not contain '.' or '..' components", -1;
        if (len > 255) return *why = "object name has a component longer than 255 bytes", -1;
        if (!e) break;
        c = e + 1;
    }
    return 0;
}

uint32_t dp_nblocks(uint64_t size, uint32_t block_size)
{
    return (uint32_t)((size + block_size - 1) / block_size);
}

int dp_geom_check(uint64_t size, uint32_t block_size, uint32_t nblocks)
{
    if (block_size < SL_DP_MIN_BLOCK || block_size > (1u << 30) || (block_size & (block_size - 1)))
        return -1;
    if (nblocks > SL_DP_MAX_BLOCKS || size > (uint64_t)block_size * SL_DP_MAX_BLOCKS) return -1;
    return dp_nblocks(size, block_size) == nblocks ? 0 : -1;
}

uint32_t sl_dp_block_size(uint64_t size, uint32_t preferred)
{
    uint64_t bs = preferred ? preferred : SL_DP_DEFAULT_BLOCK;
    if (bs < SL_DP_MIN_BLOCK) bs = SL_DP_MIN_BLOCK;
    if (bs & (bs - 1)) { /* round up to a power of two */
        uint64_t p = SL_DP_MIN_BLOCK;
        while (p < bs)
            p <<= 1;
        bs = p;
    }
    while (bs < (1u << 30) && (size + bs - 1) / bs > SL_DP_MAX_BLOCKS)
        bs <<= 1;
    return (uint32_t)bs;
}

uint64_t dp_hash_list(const uint64_t *hashes, uint32_t n)
{
    /* Hash the little-endian encoding so the checksum is the same on every
     * host regardless of byte order. */
    uint8_t buf[8 * 256];
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    for (uint32_t i = 0; i < n;) {
        uint32_t k = 0;
        for (; k < 256 && i < n; k++, i++)
            for (int b = 0; b < 8; b++)
                buf[8 * k + b] = (uint8_t)(hashes[i] >> (8 * b));
        XXH3_64bits_update(&st, buf, 8 * (size_t)k);
    }
    return XXH3_64bits_digest(&st);
}
