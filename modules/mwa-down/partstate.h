/* partstate.h - what part of a NAME.part file is already good.
 * The sidecar NAME.part.ranges is a small text file:
 *   mwa-down-ranges 1
 *   size 1048576
 *   check xxh64:0123456789abcdef
 *   done 0 524288           (half-open byte ranges, sorted, disjoint)
 * It is rewritten (temp + rename) while the download runs, always after the
 * bytes it claims were written, so a crash loses at most the latest progress.
 * A .part without a sidecar is taken as a good prefix of its own length (the
 * `curl -C -` convention); a sidecar for another size or checksum is ignored. */
#ifndef MWA_DOWN_PARTSTATE_H
#define MWA_DOWN_PARTSTATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct byte_range {
    int64_t start, end; /* [start, end) */
} byte_range;

typedef struct partstate {
    byte_range *v;
    size_t n, cap;
} partstate;

void partstate_add(partstate *s, int64_t start, int64_t end);
/* Sorts and merges touching ranges. */
void partstate_normalise(partstate *s);
int64_t partstate_bytes(const partstate *s);
/* Loads the sidecar at path if it matches size and check; 1 loaded, 0 absent
 * or not matching (s left empty), -1 unreadable. */
int partstate_load(const char *path, int64_t size, const char *check, partstate *s);
/* Writes the sidecar via path.tmp + rename. 0 or -1 (errno). */
int partstate_save(const char *path, int64_t size, const char *check, const partstate *s);
void partstate_free(partstate *s);

#endif
