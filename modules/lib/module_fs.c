/* module_fs.c - file-system helpers for the tools (see module_fs.h). */
#include "module_fs.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int module_mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}
