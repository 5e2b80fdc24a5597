/* main.c - the mwa-down command: option parsing, the manifest, the final
 * per-file report and the exit status (0 all files verified and emitted,
 * 1 some file failed, 2 usage error). The transfer work is in fetch.c.
 * Usable by hand and as a sluice module (emits to $SLUICE_WORK/emit). */
#include "emit.h"
#include "fetch.h"
#include "manifest.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: mwa-down [OPTIONS] MANIFEST      (MANIFEST '-' reads stdin)\n"
    "Downloads the files listed in MANIFEST over http(s):// or file:// into a\n"
    "directory, verifies size and checksum, and emits one key per good file.\n"
    "Manifest: one line per file 'URL SIZE CHECKSUM [NAME]'; CHECKSUM is\n"
    "xxh64:HEX16, xxh3:HEX16, a bare HEX16 (xxh64) or '-' (size only).\n"
    "\n"
    "  -d, --dest DIR          destination (default $SLUICE_MEM, else .)\n"
    "  -s, --streams N         parallel ranged connections per file (4)\n"
    "  -j, --jobs N            files downloaded at once (2)\n"
    "      --min-chunk BYTES   smallest range given its own connection (8M)\n"
    "  -r, --retries N         attempts per range without progress (5)\n"
    "      --retry-delay SEC   first backoff, doubled per failure (0.5)\n"
    "      --retry-max-delay SEC  backoff cap (30)\n"
    "      --limit-rate RATE   total bandwidth cap in bytes/s, e.g. 200M (none)\n"
    "      --progress SEC      seconds between progress lines on stderr (2, 0 off)\n"
    "  -q, --quiet             only failures on stderr\n"
    "  -k, --key TEMPLATE      emit key: {name} {stem} {path} {dir} ({name})\n"
    "      --connect-timeout SEC  (15)\n"
    "      --stall-timeout SEC    seconds without data before a retry (30)\n"
    "      --fsync             fsync each file before it is renamed into place\n"
    "  -h, --help\n"
    "\n"
    "mwa-down --sum [--algo xxh64|xxh3] [--url-prefix URL] FILE...\n"
    "  prints 'ALGO:HEX SIZE FILE' per file, or a ready manifest line\n"
    "  'URL/NAME SIZE ALGO:HEX NAME' when --url-prefix is given.\n"
    "Sizes accept K, M, G suffixes (powers of 1024).\n";

static int parse_bytes(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    switch (*end) {
    case 'k':
    case 'K':
        v *= 1024;
        end++;
        break;
    case 'm':
    case 'M':
        v *= 1024 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        v *= 1024.0 * 1024 * 1024;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'i' || *end == 'B') end++;
    if (*end == 'B') end++;
    if (*end) return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* --sum: checksums of local files, to write manifests by hand or in tests. */
static int sum_files(char **files, int n, check_algo algo, const char *prefix)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        int fd = open(files[i], O_RDONLY | O_CLOEXEC);
        struct stat st;
        checksum c = {.algo = algo};
        if (fd < 0 || fstat(fd, &st) || checksum_fd(fd, st.st_size, algo, &c.value)) {
            fprintf(stderr, "mwa-down: %s: %s\n", files[i], strerror(errno));
            rc = 1;
        } else {
            char cb[40];
            const char *base = strrchr(files[i], '/') ? strrchr(files[i], '/') + 1 : files[i];
            checksum_format(&c, cb, sizeof cb);
            if (prefix)
                printf("%s/%s %lld %s %s\n", prefix, base, (long long)st.st_size, cb, base);
            else
                printf("%s %lld %s\n", cb, (long long)st.st_size, files[i]);
        }
        if (fd >= 0) close(fd);
    }
    return rc;
}

int main(int argc, char **argv)
{
    int sum_mode = 0;
    check_algo sum_algo = CHECK_XXH64;
    const char *url_prefix = NULL;
    const char *mem = getenv("SLUICE_MEM");
    fetch_opts o = {
        .dest = mem && *mem ? mem : ".",
        .key_tmpl = "{name}",
        .streams = 4,
        .jobs = 2,
        .min_chunk = 8 << 20,
        .retries = 5,
        .retry_delay = 0.5,
        .retry_max_delay = 30,
        .progress_interval = 2,
        .connect_timeout = 15,
        .stall_timeout = 30,
    };
    enum {
        OPT_MINCHUNK = 256,
        OPT_RDELAY,
        OPT_RMAX,
        OPT_RATE,
        OPT_PROG,
        OPT_CT,
        OPT_ST,
        OPT_FSYNC,
        OPT_SUM,
        OPT_ALGO,
        OPT_PREFIX
    };
    static const struct option lo[] = {
        {"dest", 1, 0, 'd'},
        {"streams", 1, 0, 's'},
        {"jobs", 1, 0, 'j'},
        {"min-chunk", 1, 0, OPT_MINCHUNK},
        {"retries", 1, 0, 'r'},
        {"retry-delay", 1, 0, OPT_RDELAY},
        {"retry-max-delay", 1, 0, OPT_RMAX},
        {"limit-rate", 1, 0, OPT_RATE},
        {"progress", 1, 0, OPT_PROG},
        {"quiet", 0, 0, 'q'},
        {"key", 1, 0, 'k'},
        {"connect-timeout", 1, 0, OPT_CT},
        {"stall-timeout", 1, 0, OPT_ST},
        {"fsync", 0, 0, OPT_FSYNC},
        {"sum", 0, 0, OPT_SUM},
        {"algo", 1, 0, OPT_ALGO},
        {"url-prefix", 1, 0, OPT_PREFIX},
        {"help", 0, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "d:s:j:r:qk:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'd':
            o.dest = optarg;
            break;
        case 's':
            bad = parse_num(optarg, 1, 64, &v);
            o.streams = (int)v;
            break;
        case 'j':
            bad = parse_num(optarg, 1, 256, &v);
            o.jobs = (int)v;
            break;
        case 'r':
            bad = parse_num(optarg, 0, 100, &v);
            o.retries = (int)v;
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'k':
            o.key_tmpl = optarg;
            break;
        case OPT_MINCHUNK:
            bad = parse_bytes(optarg, &o.min_chunk) || o.min_chunk < 1;
            break;
        case OPT_RDELAY:
            bad = parse_num(optarg, 0, 3600, &o.retry_delay);
            break;
        case OPT_RMAX:
            bad = parse_num(optarg, 0, 86400, &o.retry_max_delay);
            break;
        case OPT_RATE:
            bad = parse_bytes(optarg, &o.limit_rate);
            break;
        case OPT_PROG:
            bad = parse_num(optarg, 0, 86400, &o.progress_interval);
            break;
        case OPT_CT:
            bad = parse_num(optarg, 1, 3600, &v);
            o.connect_timeout = (long)v;
            break;
        case OPT_ST:
            bad = parse_num(optarg, 1, 86400, &v);
            o.stall_timeout = (long)v;
            break;
        case OPT_FSYNC:
            o.do_fsync = 1;
            break;
        case OPT_SUM:
            sum_mode = 1;
            break;
        case OPT_ALGO:
            bad = strcmp(optarg, "xxh64") && strcmp(optarg, "xxh3");
            sum_algo = strcmp(optarg, "xxh3") ? CHECK_XXH64 : CHECK_XXH3;
            break;
        case OPT_PREFIX:
            url_prefix = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "mwa-down: bad value '%s' for option %s\n", optarg, argv[optind - 1]);
            return 2;
        }
    }
    if (sum_mode) return sum_files(argv + optind, argc - optind, sum_algo, url_prefix);
    if (optind != argc - 1) {
        fprintf(stderr, "mwa-down: expected one MANIFEST argument\n%s", usage);
        return 2;
    }
    char err[600];
    if (emit_check_template(o.key_tmpl, err, sizeof err)) {
        fprintf(stderr, "mwa-down: %s\n", err);
        return 2;
    }
    struct stat st;
    if (stat(o.dest, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "mwa-down: destination '%s' is not a directory\n", o.dest);
        return 2;
    }
    manifest m;
    if (manifest_load(argv[optind], &m, err, sizeof err)) {
        fprintf(stderr, "mwa-down: %s\n", err);
        return 2;
    }
    fetch_result *res = calloc(m.n ? m.n : 1, sizeof *res);
    int failed = fetch_run(&m, &o, res);
    if (failed < 0) return 1;
    size_t ok = 0, present = 0;
    for (size_t i = 0; i < m.n; i++) {
        if (res[i].status == FETCH_OK) ok++;
        if (res[i].status == FETCH_PRESENT) present++;
    }
    if (failed) {
        fprintf(stderr, "mwa-down: %d of %zu files FAILED (nothing emitted for them):\n", failed,
                m.n);
        for (size_t i = 0; i < m.n; i++)
            if (res[i].status == FETCH_FAILED)
                fprintf(stderr, "mwa-down:   %s  (%s, line %d): %s\n", m.v[i].name, m.v[i].url,
                        m.v[i].line, res[i].msg);
    }
    if (!o.quiet || failed)
        fprintf(stderr, "mwa-down: %zu downloaded, %zu already present, %d failed\n", ok, present,
                failed);
    manifest_free(&m);
    free(res);
    return failed ? 1 : 0;
}
