/* names.h - the MWA file names the unpack tools read and write:
 * per-second channel files `{obsid}_{gps}_ch{NNN}.dat` and repacked archives
 * `{t0}_{t1}_ch{NNN}.dat.tar.zst` (t0, t1 the first and last GPS second,
 * inclusive). Parsing is strict so that a stray file never becomes a member. */
#ifndef UNPACK_NAMES_H
#define UNPACK_NAMES_H

#include <stddef.h>
#include <stdint.h>

typedef struct chan_file {
    int64_t obsid, gps;
    int ch;
} chan_file;

typedef struct repack_name {
    int64_t t0, t1;
    int ch;
} repack_name;

/* 0 if name (a base name) is a channel file, else -1. */
int chan_file_parse(const char *name, chan_file *out);
/* 0 if name (a base name) is a repacked archive name, else -1. */
int repack_name_parse(const char *name, repack_name *out);
/* Last path component of p. */
const char *base_name(const char *p);

/* Key templates: "{key}" is replaced by the value of the matching pair in
 * kv (NULL-terminated list of key, value, key, value ...). */
int key_check(const char *tmpl, const char *const *kv, char *err, size_t errlen);
int key_expand(const char *tmpl, const char *const *kv, char *out, size_t len);
/* Prints key on stdout and appends it to $SLUICE_WORK/emit if SLUICE_WORK is
 * set (one write on an O_APPEND descriptor). 0 or -1 with a message. */
int key_emit(const char *key, char *err, size_t errlen);

#endif
