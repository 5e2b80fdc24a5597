/* fsutil.h - the two file-system chores every daemon needs: make a
 * directory with its parents, and remove a tree. Symlinks are removed, never
 * followed. */
#ifndef SL_FSUTIL_H
#define SL_FSUTIL_H

/* mkdir -p; 0 on success (also if it exists), -1 with errno set. */
int sl_mkdir_p(const char *path);
/* rm -rf; removes what it can, returns 0 if path is gone afterwards. */
int sl_rm_rf(const char *path);

#endif
