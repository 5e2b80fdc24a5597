/* extract.h - tar stream -> channel files, all or nothing.
 * Every member is written to a hidden temp name (`.NAME.tmp.PID`) in its
 * final directory and checked (name pattern, declared and actual size,
 * duplicates, channel/time range); only when the whole archive has been read
 * to its end (including the zstd frame checksum) are the temps renamed into
 * place. Any error removes every temp of the run (and the --by-channel
 * directories it created), so a truncated, corrupt or hostile archive (a
 * member with an absolute or `..` path, or a link) leaves nothing behind. A crash between the first
 * and last rename can leave a subset of final files; they are complete files, and a re-run rewrites
 * them (idempotent). */
#ifndef UNPACK_EXTRACT_H
#define UNPACK_EXTRACT_H

#include "names.h"
#include "source.h"

#include <stddef.h>
#include <stdint.h>

/* Largest member accepted whatever --size says: a channel file is 327,680,000
 * bytes; a header claiming more than 4 GiB is hostile or corrupt. */
#define EXTRACT_MAX_MEMBER ((int64_t)1 << 32)

typedef struct extract_opts {
    const char *outdir;
    int by_channel;         /* write into outdir/chNNN/ */
    int64_t member_size;    /* every member must have this size; 0 = any */
    int want_ch;            /* members must be this channel; -1 = any */
    int64_t gps_lo, gps_hi; /* members must lie in [lo, hi]; -1 = any */
    int64_t expect_members; /* exact member count; 0 = any */
} extract_opts;

typedef struct extracted {
    char *final, *tmp;
    chan_file cf;
    char name[256];
} extracted;

typedef struct extract_set {
    extracted *v;
    size_t n, cap;
    int64_t bytes;
    char **dirs; /* chNNN/ directories this run created (removed on rollback) */
    size_t ndirs;
} extract_set;

/* Reads the whole archive; 0, or -1 with err (temps already removed). */
int extract_tar(source *src, const char *label, const extract_opts *o, extract_set *set, char *err,
                size_t errlen);
/* Renames every temp into place; on failure removes temps and finals. */
int extract_commit(extract_set *set, char *err, size_t errlen);
void extract_rollback(extract_set *set);
void extract_free(extract_set *set);

#endif
