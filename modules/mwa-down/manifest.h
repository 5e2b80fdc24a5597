/* manifest.h - the list of files mwa-down fetches.
 * Text, one file per line: URL SIZE CHECKSUM [NAME]. Blank lines and lines
 * starting with '#' are ignored; fields are separated by spaces or tabs. SIZE
 * is in bytes, CHECKSUM as in checksum.h, NAME defaults to the last path
 * component of the URL (query string removed) and must be a plain file name. */
#ifndef MWA_DOWN_MANIFEST_H
#define MWA_DOWN_MANIFEST_H

#include "checksum.h"

#include <stddef.h>
#include <stdint.h>

typedef struct manifest_entry {
    char *url;
    char *name;
    int64_t size;
    checksum check;
    int line;
} manifest_entry;

typedef struct manifest {
    manifest_entry *v;
    size_t n;
} manifest;

/* Reads path ("-" for stdin). 0, or -1 with "FILE:LINE: problem" in err. */
int manifest_load(const char *path, manifest *m, char *err, size_t errlen);
void manifest_free(manifest *m);

#endif
