/* manifest.c - content manifests of cache objects (see manifest.h): the
 * text form, hashing a file with XXH3-128, making the manifest of an output
 * directory and checking a directory against one.
 *
 * Files are hashed through read-only mappings taken a window at a time with
 * MAP_POPULATE: on tmpfs that maps the page cache the producer wrote without
 * copying it, so hashing runs at memory bandwidth (bench/hash.c measures it
 * beside memcpy). */
#include "cache/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#define WINDOW ((size_t)64 << 20)

/* A name becomes DIR/NAME on whichever host reads the manifest, so it must
 * stay inside DIR: relative, no empty, "." or ".." segment, no control
 * bytes. */
static int name_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '/') return 0;
    for (size_t i = 0, st = 0; i <= n; i++) {
        if (i < n && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)) return 0;
        if (i < n && s[i] != '/') continue;
        size_t len = i - st;
        if (len == 0 || (len == 1 && s[st] == '.') ||
            (len == 2 && s[st] == '.' && s[st + 1] == '.'))
            return 0;
        st = i + 1;
    }
    return 1;
}

/* A decimal byte count of at most 18 digits, all inside the field ("-1"
 * stands for a missing file in a corrupt-copy report). */
static int size_ok(const char *s, size_t n, int64_t *v)
{
    size_t neg = n > 0 && s[0] == '-';
    if (n - neg == 0 || n - neg > 18) return 0;
    int64_t x = 0;
    for (size_t i = neg; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = neg ? -x : x;
    return 1;
}

int sl_manifest_each(const char *text, sl_manifest_fn fn, void *ctx)
{
    for (const char *p = text ? text : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *tab = memchr(p, '\t', len), *end = p + len;
        if (tab) {
            sl_mfile f = {p, (size_t)(tab - p), 0, ""};
            const char *tab2 = memchr(tab + 1, '\t', (size_t)(end - tab - 1));
            const char *send = tab2 ? tab2 : end;
            size_t hl = tab2 ? (size_t)(end - tab2 - 1) : 0;
            if (!name_ok(f.name, f.namelen) || !size_ok(tab + 1, (size_t)(send - tab - 1), &f.size))
                return SL_EINVAL;
            if (hl) {
                if (hl != SL_MANIFEST_HASH_HEX || strspn(tab2 + 1, "0123456789abcdef") < hl)
                    return SL_EINVAL;
                memcpy(f.hash, tab2 + 1, hl);
                f.hash[hl] = 0;
            }
            int rc = fn(ctx, &f);
            if (rc) return rc;
        }
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

void sl_manifest_add(sl_buf *b, const char *name, size_t namelen, int64_t size, const char *hash)
{
    if (hash && *hash)
        sl_buf_printf(b, "%.*s\t%lld\t%s\n", (int)namelen, name, (long long)size, hash);
    else
        sl_buf_printf(b, "%.*s\t%lld\n", (int)namelen, name, (long long)size);
}

static int hash_fd(int fd, uint64_t size, XXH128_hash_t *out)
{
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    for (uint64_t off = 0; off < size;) {
        size_t n = size - off < WINDOW ? (size_t)(size - off) : WINDOW;
        void *m = mmap(NULL, n, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, (off_t)off);
        if (m == MAP_FAILED) { /* e.g. a file system without mmap: read it */
            enum { BUF = 1 << 20 };
            unsigned char *buf = malloc(BUF);
            if (!buf) return -1;
            for (size_t done = 0; done < n;) {
                size_t want = n - done < BUF ? n - done : BUF;
                ssize_t r = pread(fd, buf, want, (off_t)(off + done));
                if (r <= 0) {
                    free(buf);
                    return -1;
                }
                XXH3_128bits_update(&st, buf, (size_t)r);
                done += (size_t)r;
            }
            free(buf);
        } else {
            madvise(m, n, MADV_SEQUENTIAL);
            XXH3_128bits_update(&st, m, n);
            munmap(m, n);
        }
        off += n;
    }
    *out = XXH3_128bits_digest(&st);
    return 0;
}

int sl_manifest_hash_file(const char *path, char hex[SL_MANIFEST_HASH_HEX + 1], int64_t *size,
                          sl_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return sl_errf(err, e == ENOENT ? SL_ENOTFOUND : SL_EIO, "cannot read %s: %s", path,
                       strerror(e));
    }
    XXH128_hash_t h;
    int rc = S_ISREG(st.st_mode) ? hash_fd(fd, (uint64_t)st.st_size, &h) : -1;
    int e = errno;
    close(fd);
    if (rc < 0)
        return sl_errf(err, SL_EIO, "cannot hash %s: %s", path,
                       S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
    snprintf(hex, SL_MANIFEST_HASH_HEX + 1, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
    if (size) *size = st.st_size;
    return 0;
}

/* ---- making a manifest ---------------------------------------------------- */

typedef struct {
    char **v;
    size_t n;
} names;

static void list_files(const char *root, const char *rel, names *out)
{
    char *dir = rel[0] ? sl_xasprintf("%s/%s", root, rel) : sl_xstrdup(root);
    DIR *d = opendir(dir);
    free(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *r = rel[0] ? sl_xasprintf("%s/%s", rel, e->d_name) : sl_xstrdup(e->d_name);
        char *full = sl_xasprintf("%s/%s", root, r);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            list_files(root, r, out);
            free(r);
        } else if (lstat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            out->v = sl_xrealloc(out->v, (out->n + 1) * sizeof *out->v);
            out->v[out->n++] = r;
        } else {
            free(r);
        }
        free(full);
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int sl_manifest_make(const char *dir, sl_buf *out, int64_t *total, sl_err *err)
{
    names l = {0};
    list_files(dir, "", &l);
    if (l.n) qsort(l.v, l.n, sizeof *l.v, by_name);
    int rc = 0;
    *total = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (rc == 0) {
            char *full = sl_xasprintf("%s/%s", dir, l.v[i]);
            char hex[SL_MANIFEST_HASH_HEX + 1];
            int64_t size = 0;
            rc = sl_manifest_hash_file(full, hex, &size, err);
            free(full);
            if (rc == 0) {
                sl_manifest_add(out, l.v[i], strlen(l.v[i]), size, hex);
                *total += size;
            }
        }
        free(l.v[i]);
    }
    free(l.v);
    return rc < 0 ? rc : (int)l.n;
}

/* ---- checking a directory ------------------------------------------------- */

typedef struct {
    const char *dir;
    int sizes_only;
    char *bad;
    sl_err *err;
} verify_ctx;

static int verify_one(void *ctx, const sl_mfile *f)
{
    verify_ctx *c = ctx;
    char *full = sl_xasprintf("%s/%.*s", c->dir, (int)f->namelen, f->name);
    struct stat st;
    int rc = 0;
    if (lstat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = c->sizes_only ? 1
                           : sl_errf(c->err, SL_EIO, "%.*s is missing", (int)f->namelen, f->name);
    } else if (st.st_size != f->size) {
        rc = c->sizes_only
                 ? 1
                 : sl_errf(c->err, SL_EIO, "%.*s has %lld bytes, the manifest %lld",
                           (int)f->namelen, f->name, (long long)st.st_size, (long long)f->size);
    } else if (!c->sizes_only && f->hash[0]) {
        char hex[SL_MANIFEST_HASH_HEX + 1];
        sl_err e = {0};
        if (sl_manifest_hash_file(full, hex, NULL, &e) < 0)
            rc = sl_errf(c->err, SL_EIO, "%s", e.msg);
        else if (strcmp(hex, f->hash) != 0)
            rc = sl_errf(c->err, SL_EIO, "%.*s has XXH3-128 %s, the manifest %s", (int)f->namelen,
                         f->name, hex, f->hash);
    }
    if (rc && !c->bad) c->bad = sl_xstrndup(f->name, f->namelen);
    free(full);
    return rc;
}

int sl_manifest_verify(const char *dir, const char *manifest, char **bad_file, sl_err *err)
{
    verify_ctx c = {dir, 0, NULL, err};
    int rc = sl_manifest_each(manifest, verify_one, &c);
    if (rc == SL_EINVAL)
        sl_errf(err, SL_EIO,
                "the manifest has a malformed line (a name outside the object, or a "
                "bad size or hash)");
    if (bad_file)
        *bad_file = c.bad;
    else
        free(c.bad);
    return rc ? SL_EIO : 0;
}

int sl_manifest_sizes_match(const char *dir, const char *manifest)
{
    verify_ctx c = {dir, 1, NULL, NULL};
    int rc = sl_manifest_each(manifest, verify_one, &c);
    free(c.bad);
    return rc == 0;
}
