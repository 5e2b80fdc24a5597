/* units.h - human durations and byte sizes as written in pipeline YAML.
 *
 * Durations: "250ms", "10s", "5m", "1h30m", "2d", "1.5s"; a plain number is
 * seconds. Sizes: "512" (bytes), "10k", "64m"/"64M" (docker style, powers of
 * 1024), "300MiB" (1024), "1.5GB" (1000). Parsing is strict: no signs, no
 * spaces, no unknown units, no overflow of int64. The formatters print the
 * shortest exact-or-close form that the parsers accept again. */
#ifndef SL_UNITS_H
#define SL_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* 0 and *ms on success; SL_EINVAL with a message otherwise. */
int sl_parse_duration_ms(const char *s, int64_t *ms, sl_err *err);
int sl_parse_size(const char *s, int64_t *bytes, sl_err *err);

/* Writes e.g. "313MiB", "1.5GiB", "512B" into buf (n >= 16 is enough); returns buf. */
char *sl_format_size(int64_t bytes, char *buf, size_t n);
/* Writes e.g. "1h30m", "250ms", "2d", "0s" into buf (n >= 32 is enough); returns buf. */
char *sl_format_duration(int64_t ms, char *buf, size_t n);

#endif
