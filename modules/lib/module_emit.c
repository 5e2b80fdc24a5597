/* module_emit.c - append a downstream message for sluice (see emit.h). */
#include "module_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int module_emit(const char *key, char *err, size_t errlen)
{
    printf("%s\n", key);
    fflush(stdout);
    const char *work = getenv("SLUICE_WORK");
    if (!work || !*work)
        return 0;
    char path[4096], line[4200];
    snprintf(path, sizeof path, "%s/emit", work);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int n = snprintf(line, sizeof line, "%s\n", key);
    ssize_t w = write(fd, line, (size_t)n); /* one write: lines never interleave */
    int e = errno;
    close(fd);
    if (w != n) {
        snprintf(err, errlen, "cannot append to %s: %s", path, w < 0 ? strerror(e) : "short write");
        return -1;
    }
    return 0;
}
