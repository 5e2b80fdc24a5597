/* unpack_cli.c - the `unpack` and `pull-unpack` commands (one code path:
 * source -> optional zstd -> tar -> temp files -> rename all).
 * unpack splits per-second product tars into channel files; pull-unpack
 * streams a repacked `{t0}_{t1}_ch{NNN}.dat.tar.zst` (path or URL) into the
 * memory cache and, from its name, checks channel, seconds and member count. */
#include "unpack_cli.h"

#include "extract.h"
#include "names.h"
#include "source.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char usage_unpack[] =
    "usage: unpack [OPTIONS] TAR...\n"
    "Splits per-second product tars (plain or .zst) holding {obsid}_{gps}_ch{NNN}.dat\n"
    "members into channel files. Each tar is all or nothing: members go to hidden\n"
    "temp names and are renamed into place only after the whole tar checked out.\n"
    "  -o, --out DIR       output directory (default $SLUICE_MEM, else .)\n"
    "      --by-channel    write into DIR/chNNN/\n"
    "      --size BYTES    size every member must have (327680000; 0 = any)\n"
    "      --members N     members every tar must hold (0 = any; 24 for MWA)\n"
    "  -k, --key TEMPLATE  emitted per member (default {name});\n"
    "                      placeholders {name} {obsid} {gps} {ch} {path}\n"
    "  -q, --quiet\n"
    "  -h, --help\n";

static const char usage_pull[] =
    "usage: pull-unpack [OPTIONS] SOURCE...\n"
    "Streams repacked archives {t0}_{t1}_ch{NNN}.dat.tar.zst (a path, or an http(s)://\n"
    "or file:// URL) into a directory: download, zstd decode and untar in one pass,\n"
    "no temporary files except each member's hidden temp name before its rename.\n"
    "The archive name fixes the channel, the seconds and the member count expected.\n"
    "  -o, --out DIR       output directory (default $SLUICE_MEM, else .)\n"
    "      --size BYTES    size every member must have (327680000; 0 = any)\n"
    "  -k, --key TEMPLATE  emitted once per archive (default {t0}_{t1}_ch{ch});\n"
    "                      placeholders {name} {t0} {t1} {ch} {dir}\n"
    "      --per-member    emit per member instead; placeholders {name} {obsid} {gps}\n"
    "                      {ch} {path} (default {name})\n"
    "      --any-name      accept sources not named like a repacked archive\n"
    "  -q, --quiet\n"
    "  -h, --help\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_i64(const char *s, int64_t *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < 0) return -1;
    *v = x;
    return 0;
}

static int emit_member(const char *tmpl, const extracted *x, char *err, size_t errlen)
{
    char obs[24], gps[24], ch[8], key[4096];
    snprintf(obs, sizeof obs, "%" PRId64, x->cf.obsid);
    snprintf(gps, sizeof gps, "%" PRId64, x->cf.gps);
    snprintf(ch, sizeof ch, "%03d", x->cf.ch);
    const char *kv[] = {"name", x->name, "obsid", obs,      "gps", gps,
                        "ch",   ch,      "path",  x->final, NULL};
    if (key_expand(tmpl, kv, key, sizeof key)) {
        snprintf(err, errlen, "emit key too long");
        return -1;
    }
    return key_emit(key, err, errlen);
}

static int emit_archive(const char *tmpl, const char *name, const repack_name *rn, const char *dir,
                        char *err, size_t errlen)
{
    char t0[24], t1[24], ch[8], key[4096];
    snprintf(t0, sizeof t0, "%" PRId64, rn->t0);
    snprintf(t1, sizeof t1, "%" PRId64, rn->t1);
    snprintf(ch, sizeof ch, "%03d", rn->ch);
    const char *kv[] = {"name", name, "t0", t0, "t1", t1, "ch", ch, "dir", dir, NULL};
    if (key_expand(tmpl, kv, key, sizeof key)) {
        snprintf(err, errlen, "emit key too long");
        return -1;
    }
    return key_emit(key, err, errlen);
}

int unpack_cli(int argc, char **argv, int pull)
{
    const char *prog = pull ? "pull-unpack" : "unpack";
    const char *usage = pull ? usage_pull : usage_unpack;
    const char *mem = getenv("SLUICE_MEM");
    extract_opts o = {.outdir = mem && *mem ? mem : ".",
                      .member_size = 327680000,
                      .want_ch = -1,
                      .gps_lo = -1,
                      .gps_hi = -1};
    const char *tmpl = NULL;
    int per_member = !pull, any_name = 0, quiet = 0;
    enum { OPT_BYCH = 256, OPT_SIZE, OPT_MEMBERS, OPT_PER, OPT_ANY };
    static const struct option lo[] = {
        {"out", 1, 0, 'o'},          {"by-channel", 0, 0, OPT_BYCH},
        {"size", 1, 0, OPT_SIZE},    {"members", 1, 0, OPT_MEMBERS},
        {"key", 1, 0, 'k'},          {"per-member", 0, 0, OPT_PER},
        {"any-name", 0, 0, OPT_ANY}, {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'},         {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:k:qh", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'o':
            o.outdir = optarg;
            break;
        case 'k':
            tmpl = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case OPT_BYCH:
            o.by_channel = 1;
            bad = pull;
            break;
        case OPT_SIZE:
            bad = parse_i64(optarg, &o.member_size);
            break;
        case OPT_MEMBERS:
            bad = parse_i64(optarg, &o.expect_members) || pull;
            break;
        case OPT_PER:
            per_member = 1;
            bad = !pull;
            break;
        case OPT_ANY:
            any_name = 1;
            bad = !pull;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "%s: option %s not valid here\n%s", prog, argv[optind - 1], usage);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: nothing to read\n%s", prog, usage);
        return 2;
    }
    if (!tmpl) tmpl = per_member ? "{name}" : "{t0}_{t1}_ch{ch}";
    char err[1024];
    static const char *const member_keys[] = {"name", "", "obsid", "", "gps", "",
                                              "ch",   "", "path",  "", NULL};
    static const char *const archive_keys[] = {"name", "", "t0",  "", "t1", "",
                                               "ch",   "", "dir", "", NULL};
    if (key_check(tmpl, per_member ? member_keys : archive_keys, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 2;
    }
    struct stat st;
    if (stat(o.outdir, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: output directory '%s' does not exist\n", prog, o.outdir);
        return 2;
    }
    int failed = 0;
    for (int i = optind; i < argc; i++) {
        const char *where = argv[i];
        const char *name = base_name(where);
        char clean[512];
        snprintf(clean, sizeof clean, "%.*s", (int)strcspn(name, "?#"), name);
        repack_name rn = {0};
        extract_opts oi = o;
        if (pull && !any_name) {
            if (repack_name_parse(clean, &rn)) {
                fprintf(stderr,
                        "%s: %s: not named {t0}_{t1}_ch{NNN}.dat.tar.zst (use --any-name)\n", prog,
                        where);
                failed++;
                continue;
            }
            oi.want_ch = rn.ch;
            oi.gps_lo = rn.t0;
            oi.gps_hi = rn.t1;
            oi.expect_members = rn.t1 - rn.t0 + 1;
        }
        double t0 = now_s();
        source *src = source_open(where, err, sizeof err);
        extract_set set = {0};
        int rc = src ? extract_tar(src, where, &oi, &set, err, sizeof err) : -1;
        if (!rc) rc = extract_commit(&set, err, sizeof err);
        if (rc) {
            fprintf(stderr, "%s: FAILED: %s (no output kept)\n", prog, err);
            failed++;
        } else {
            double dt = now_s() - t0;
            if (!quiet)
                fprintf(stderr, "%s: %s: %zu members, %.1f MB in %.2f s (%.0f MB/s)%s\n", prog,
                        where, set.n, (double)set.bytes / 1e6, dt,
                        (double)set.bytes / 1e6 / (dt > 1e-6 ? dt : 1e-6),
                        source_is_zstd(src) ? ", zstd" : "");
            for (size_t k = 0; k < set.n && per_member && !rc; k++)
                rc = emit_member(tmpl, &set.v[k], err, sizeof err);
            if (!per_member) {
                if (any_name) { /* derive what we can from the members */
                    rn.ch = set.n ? set.v[0].cf.ch : 0;
                    rn.t0 = rn.t1 = set.n ? set.v[0].cf.gps : 0;
                    for (size_t k = 0; k < set.n; k++) {
                        if (set.v[k].cf.gps < rn.t0) rn.t0 = set.v[k].cf.gps;
                        if (set.v[k].cf.gps > rn.t1) rn.t1 = set.v[k].cf.gps;
                    }
                }
                rc = emit_archive(tmpl, clean, &rn, o.outdir, err, sizeof err);
            }
            if (rc) {
                fprintf(stderr, "%s: %s: stored but not emitted: %s\n", prog, where, err);
                failed++;
            }
        }
        extract_free(&set);
        source_close(src);
    }
    if (failed && argc - optind > 1)
        fprintf(stderr, "%s: %d of %d inputs FAILED\n", prog, failed, argc - optind);
    return failed ? 1 : 0;
}
