/* module_fs.h - small file-system helpers the command-line tools share
 * (science code does not use the framework's util). */
#ifndef MODLIB_FS_H
#define MODLIB_FS_H

/* mkdir -p: creates dir and its missing parents; 0 or -1 with errno. */
int module_mkdir_p(const char *dir);

#endif
