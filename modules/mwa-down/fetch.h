/* fetch.h - the download engine of mwa-down: one libcurl multi handle drives
 * every connection from a single thread. Each file is cut into byte ranges
 * (at most `streams` in flight per file, none smaller than `min_chunk`), each
 * range is fetched with its own HTTP Range request, written in place with
 * pwrite into NAME.part, and retried with exponential backoff when a server
 * answers 5xx/408/429 or a connection drops. A file whose ranges are all
 * complete is size- and checksum-verified, renamed to NAME and emitted; a file
 * that fails keeps its .part and ranges sidecar for the next run, unless its
 * content is known bad (checksum or size mismatch), which is deleted. */
#ifndef MWA_DOWN_FETCH_H
#define MWA_DOWN_FETCH_H

#include "manifest.h"

#include <stdint.h>

typedef struct fetch_opts {
    const char *dest;         /* destination directory */
    const char *key_tmpl;     /* emit key template (emit.h) */
    int streams;              /* connections per file */
    int jobs;                 /* files in flight */
    int64_t min_chunk;        /* smallest range worth its own connection */
    int retries;              /* attempts per range without progress */
    double retry_delay;       /* first backoff, seconds; doubles per failure */
    double retry_max_delay;   /* backoff cap */
    int64_t limit_rate;       /* bytes/s over all connections, 0 = none */
    double progress_interval; /* seconds between progress lines, 0 = none */
    int quiet;                /* only failures on stderr */
    long connect_timeout;     /* seconds */
    long stall_timeout;       /* seconds without a byte before a retry */
    int do_fsync;             /* fsync before rename (disk caches) */
} fetch_opts;

enum { FETCH_OK = 0, FETCH_PRESENT = 1, FETCH_FAILED = 2 };

typedef struct fetch_result {
    int status;
    char msg[512];   /* why it failed */
    int64_t fetched; /* bytes transferred by this run */
    double seconds;
} fetch_result;

/* Fetches every entry; res has m->n slots. Returns the number of failures,
 * or -1 if the engine itself could not start (message on stderr). */
int fetch_run(const manifest *m, const fetch_opts *o, fetch_result *res);

#endif
