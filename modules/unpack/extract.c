/* extract.c - libarchive tar reading into temp files (policy in extract.h).
 * Data is copied with archive_read_data_block straight from libarchive's
 * buffer to pwrite, so a member costs one copy after decompression. We read
 * members ourselves (no archive_write_disk), so the secure-extraction rules
 * are explicit checks here: no absolute or `..` paths, no links. */
#include "extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

static la_ssize_t on_read(struct archive *a, void *ud, const void **buf)
{
    ssize_t n = source_read(ud, buf);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", source_error(ud));
        return -1;
    }
    return n;
}

/* Removes the directories this run created (rmdir: only if empty). */
static void drop_dirs(extract_set *set)
{
    for (size_t i = set->ndirs; i-- > 0;)
        rmdir(set->dirs[i]);
}

void extract_rollback(extract_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->v[i].tmp) unlink(set->v[i].tmp);
    drop_dirs(set);
}

void extract_free(extract_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->v[i].final);
        free(set->v[i].tmp);
    }
    for (size_t i = 0; i < set->ndirs; i++)
        free(set->dirs[i]);
    free(set->dirs);
    free(set->v);
    memset(set, 0, sizeof *set);
}

int extract_commit(extract_set *set, char *err, size_t errlen)
{
    for (size_t i = 0; i < set->n; i++) {
        if (rename(set->v[i].tmp, set->v[i].final) == 0) continue;
        int e = errno;
        for (size_t k = 0; k < i; k++)
            unlink(set->v[k].final);
        for (size_t k = i; k < set->n; k++)
            unlink(set->v[k].tmp);
        drop_dirs(set);
        return fail(err, errlen, "rename %s -> %s: %s (nothing kept)", set->v[i].tmp,
                    set->v[i].final, strerror(e));
    }
    for (size_t i = 0; i < set->n; i++) {
        free(set->v[i].tmp);
        set->v[i].tmp = NULL;
    }
    return 0;
}

/* Reads one member's data into a new temp file. */
static int write_member(struct archive *a, const char *label, extracted *x, int64_t declared,
                        char *err, size_t errlen)
{
    int fd = open(x->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, errlen, "%s: member %s: cannot create %s: %s", label, x->name, x->tmp,
                    strerror(errno));
    int64_t got = 0, end = 0;
    for (;;) {
        const void *buf;
        size_t len;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            close(fd);
            return fail(err, errlen, "%s: member %s: %s after %" PRId64 " of %" PRId64 " bytes",
                        label, x->name, archive_error_string(a), got, declared);
        }
        for (size_t o = 0; o < len;) {
            ssize_t w = pwrite(fd, (const char *)buf + o, len - o, off + (int64_t)o);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) {
                int e = errno;
                close(fd);
                return fail(err, errlen, "%s: member %s: writing %s: %s", label, x->name, x->tmp,
                            strerror(e));
            }
            o += (size_t)w;
        }
        got += (int64_t)len;
        if (off + (int64_t)len > end) end = off + (int64_t)len;
    }
    if (end < declared && ftruncate(fd, declared)) { /* sparse tail */
        close(fd);
        return fail(err, errlen, "%s: member %s: %s", label, x->name, strerror(errno));
    }
    if (close(fd))
        return fail(err, errlen, "%s: member %s: closing %s: %s", label, x->name, x->tmp,
                    strerror(errno));
    if (got > declared || (got < declared && end < declared))
        return fail(err, errlen, "%s: member %s: %" PRId64 " bytes of data, header says %" PRId64,
                    label, x->name, got, declared);
    return 0;
}

/* Why a member path could escape the output directory, or NULL. We only
 * ever use a member's base name, but an archive that names `../x` or `/x`
 * was made to write outside the directory it is unpacked in: refuse it
 * rather than quietly flatten it (what libarchive's
 * ARCHIVE_EXTRACT_SECURE_NODOTDOT and _NOABSOLUTEPATHS do when extracting). */
static const char *unsafe_path(const char *path)
{
    if (path[0] == '/') return "absolute path";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') return "path has a '..' component";
        p += n;
        while (*p == '/')
            p++;
    }
    return NULL;
}

/* Checks one member's header before anything of it is written: a safe path,
 * no link of either kind (channel files are never links; a link could point
 * anywhere, so none is followed or recreated, as with
 * ARCHIVE_EXTRACT_SECURE_SYMLINKS), a regular file, not sparse, of at most
 * EXTRACT_MAX_MEMBER bytes. 0, 1 to skip (a
 * directory), or -1 with err naming the member and the archive. */
static int check_member(struct archive_entry *ent, const char *label, size_t index, char *err,
                        size_t errlen)
{
    const char *path = archive_entry_pathname(ent);
    if (!path || !*path) return fail(err, errlen, "%s: member %zu has no name", label, index);
    const char *why = unsafe_path(path);
    if (why)
        return fail(err, errlen,
                    "%s: member %s: %s, which could write outside the output directory "
                    "(hostile archive refused)",
                    label, path, why);
    const char *target = archive_entry_hardlink(ent);
    if (target)
        return fail(err, errlen, "%s: member %s is a hard link to %s (links are refused)", label,
                    path, target);
    target = archive_entry_symlink(ent);
    if (target || archive_entry_filetype(ent) == AE_IFLNK)
        return fail(err, errlen, "%s: member %s is a symbolic link to %s (links are refused)",
                    label, path, target ? target : "?");
    if (archive_entry_filetype(ent) == AE_IFDIR) return 1;
    if (archive_entry_filetype(ent) != AE_IFREG)
        return fail(err, errlen, "%s: member %s is not a regular file", label, path);
    /* The size is only a header field: a sparse member can declare a
     * terabyte that the archive never holds (written as one hole). */
    int64_t size = archive_entry_size(ent);
    if (size < 0 || size > EXTRACT_MAX_MEMBER)
        return fail(err, errlen,
                    "%s: member %s declares %" PRId64 " bytes, more than the %" PRId64
                    " a member may have (hostile or corrupt archive refused)",
                    label, path, size, (int64_t)EXTRACT_MAX_MEMBER);
    if (archive_entry_sparse_count(ent) > 0)
        return fail(err, errlen,
                    "%s: member %s is a sparse file (channel files never are; its holes would be "
                    "data the archive does not hold)",
                    label, path);
    return 0;
}

/* Remembers a directory this run created, so a rollback can remove it. */
static int note_dir(extract_set *set, const char *dir)
{
    char **v = realloc(set->dirs, (set->ndirs + 1) * sizeof *v);
    if (!v) return -1;
    set->dirs = v;
    if (!(v[set->ndirs] = strdup(dir))) return -1;
    set->ndirs++;
    return 0;
}

static int read_all(struct archive *a, source *src, const char *label, const extract_opts *o,
                    extract_set *set, char *err, size_t errlen)
{
    struct archive_entry *ent;
    int r;
    while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK) {
        int c = check_member(ent, label, set->n + 1, err, errlen);
        if (c < 0) return -1;
        if (c > 0) continue;
        const char *path = archive_entry_pathname(ent);
        const char *name = base_name(path);
        chan_file cf;
        if (chan_file_parse(name, &cf))
            return fail(err, errlen, "%s: member %s is not named {obsid}_{gps}_ch{NNN}.dat", label,
                        path);
        int64_t declared = archive_entry_size(ent);
        if (o->member_size && declared != o->member_size)
            return fail(err, errlen, "%s: member %s has %" PRId64 " bytes, expected %" PRId64,
                        label, name, declared, o->member_size);
        if (o->want_ch >= 0 && cf.ch != o->want_ch)
            return fail(err, errlen, "%s: member %s is channel %03d, the archive is channel %03d",
                        label, name, cf.ch, o->want_ch);
        if (o->gps_lo >= 0 && (cf.gps < o->gps_lo || cf.gps > o->gps_hi))
            return fail(err, errlen,
                        "%s: member %s lies outside the archive's seconds %" PRId64 "-%" PRId64,
                        label, name, o->gps_lo, o->gps_hi);
        for (size_t i = 0; i < set->n; i++)
            if (!strcmp(set->v[i].name, name))
                return fail(err, errlen, "%s: member %s appears twice", label, name);
        if (set->n == set->cap) {
            set->cap = set->cap ? 2 * set->cap : 32;
            set->v = realloc(set->v, set->cap * sizeof *set->v);
        }
        extracted *x = &set->v[set->n];
        memset(x, 0, sizeof *x);
        snprintf(x->name, sizeof x->name, "%s", name);
        x->cf = cf;
        char dir[4096];
        if (o->by_channel) {
            snprintf(dir, sizeof dir, "%s/ch%03d", o->outdir, cf.ch);
            if (mkdir(dir, 0755) == 0) {
                if (note_dir(set, dir)) {
                    rmdir(dir);
                    return fail(err, errlen, "out of memory");
                }
            } else if (errno != EEXIST) {
                return fail(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            }
        } else {
            snprintf(dir, sizeof dir, "%s", o->outdir);
        }
        if (asprintf(&x->final, "%s/%s", dir, name) < 0 ||
            asprintf(&x->tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid()) < 0)
            return fail(err, errlen, "out of memory");
        set->n++;
        if (write_member(a, label, x, declared, err, errlen)) return -1;
        set->bytes += declared;
    }
    if (r != ARCHIVE_EOF)
        return fail(err, errlen, "%s: bad tar data after %zu member%s%s%s: %s", label, set->n,
                    set->n == 1 ? "" : "s", set->n ? ", the last being " : "",
                    set->n ? set->v[set->n - 1].name : "", archive_error_string(a));
    /* libarchive stops at the end-of-archive blocks: read the rest so a
     * truncated or corrupt zstd tail (and its checksum) is still checked */
    const void *buf;
    ssize_t n;
    while ((n = source_read(src, &buf)) > 0) {
    }
    if (n < 0) return fail(err, errlen, "%s: after the last member: %s", label, source_error(src));
    if (o->expect_members && (int64_t)set->n != o->expect_members)
        return fail(err, errlen, "%s: %zu members, expected %" PRId64 " (archive truncated?)",
                    label, set->n, o->expect_members);
    return 0;
}

int extract_tar(source *src, const char *label, const extract_opts *o, extract_set *set, char *err,
                size_t errlen)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    int rc;
    if (archive_read_open(a, src, NULL, on_read, NULL) != ARCHIVE_OK)
        rc = fail(err, errlen, "%s: %s", label, archive_error_string(a));
    else
        rc = read_all(a, src, label, o, set, err, errlen);
    archive_read_free(a);
    if (rc) extract_rollback(set);
    return rc;
}
