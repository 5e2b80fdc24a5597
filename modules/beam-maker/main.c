/* main.c - the beam-maker command: options -> beam_config -> one pass over
 * the seconds, in the spirit of vcstools make_beam.
 *
 * Writes one PSRFITS file per pointing (and the incoherent beam with
 * --incoherent) for one coarse channel; see README.md. */
#include "module_fs.h"
#include "beam.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: beam-maker -o OBSID -b BEGIN -e END -P POINTINGS -z CHANNEL -m METAFITS\n"
                 "                  -C CALIBRATION [-d DATA_DIR] [-O OUT_DIR] [-t THREADS] [-i]\n"
                 "Forms tied-array beams toward many pointings at once from MWA legacy VCS\n"
                 "voltages of one coarse channel, reading each second's file once. Output: one\n"
                 "PSRFITS search-mode file per pointing,\n"
                 "  OUT_DIR/{obsid}_{RA}_{DEC}_ch{NNN}_{begin}_{end}.fits\n"
                 "and with -i also OUT_DIR/{obsid}_incoherent_ch{NNN}_{begin}_{end}.fits.\n"
                 "\n"
                 "  -o, --obsid N          observation id (GPS start second)\n"
                 "  -b, --begin GPS        first second to process\n"
                 "  -e, --end GPS          last second to process (inclusive)\n"
                 "  -P, --pointings SPEC   file of 'RA DEC' lines (hh:mm:ss.s +dd:mm:ss.s), or a\n"
                 "                         list 'hh:mm:ss.s_+dd:mm:ss.s,...'\n"
                 "  -d, --data-dir DIR     where {obsid}_{gps}_ch{NNN}.dat are (default .)\n"
                 "  -z, --channel N        coarse channel number (e.g. 109)\n"
                 "  -m, --metafits FILE    observation metafits\n"
                 "  -C, --calibration FILE Offringa binary calibration solutions (MWAOCAL)\n"
                 "  -O, --out-dir DIR      output directory (created; default .)\n"
                 "  -t, --threads N        worker threads (default: online CPUs)\n"
                 "  -i, --incoherent       also write the incoherent beam\n"
                 "  -v, --verbose          print timings per second to stderr\n"
                 "  -h, --help             this text\n");
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"obsid", 1, 0, 'o'},      {"begin", 1, 0, 'b'},
                                         {"end", 1, 0, 'e'},        {"pointings", 1, 0, 'P'},
                                         {"data-dir", 1, 0, 'd'},   {"channel", 1, 0, 'z'},
                                         {"metafits", 1, 0, 'm'},   {"calibration", 1, 0, 'C'},
                                         {"out-dir", 1, 0, 'O'},    {"threads", 1, 0, 't'},
                                         {"incoherent", 0, 0, 'i'}, {"verbose", 0, 0, 'v'},
                                         {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    beam_config c;
    memset(&c, 0, sizeof(c));
    c.data_dir = ".";
    c.out_dir = ".";
    c.obsid = c.begin = c.end = -1;
    c.coarse = -1;
    const char *pspec = NULL;
    int verbose = 0, o;
    long v;
    while ((o = getopt_long(argc, argv, "o:b:e:P:d:z:m:C:O:t:ivh", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 'o':
            bad = parse_long(optarg, &c.obsid);
            break;
        case 'b':
            bad = parse_long(optarg, &c.begin);
            break;
        case 'e':
            bad = parse_long(optarg, &c.end);
            break;
        case 'P':
            pspec = optarg;
            break;
        case 'd':
            c.data_dir = optarg;
            break;
        case 'z':
            bad = parse_long(optarg, &v) || v > 255;
            c.coarse = (int)v;
            break;
        case 'm':
            c.metafits_path = optarg;
            break;
        case 'C':
            c.calib_path = optarg;
            break;
        case 'O':
            c.out_dir = optarg;
            break;
        case 't':
            bad = parse_long(optarg, &v) || v < 1 || v > 256;
            c.threads = (int)v;
            break;
        case 'i':
            c.incoherent = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "beam-maker: bad value '%s' for %s (see --help)\n", optarg,
                    argv[optind - 1]);
            return 2;
        }
    }
    const char *missing = c.obsid < 0        ? "--obsid"
                          : c.begin < 0      ? "--begin"
                          : c.end < 0        ? "--end"
                          : !pspec           ? "--pointings"
                          : c.coarse < 0     ? "--channel"
                          : !c.metafits_path ? "--metafits"
                          : !c.calib_path    ? "--calibration"
                                             : NULL;
    if (missing || optind < argc) {
        if (missing)
            fprintf(stderr, "beam-maker: %s is required (see --help)\n", missing);
        else
            fprintf(stderr, "beam-maker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (c.end < c.begin) {
        fprintf(stderr, "beam-maker: --end %ld is before --begin %ld\n", c.end, c.begin);
        return 2;
    }
    char err[BEAM_ERR_LEN];
    beam_pointing *pts = NULL;
    if (beam_parse_pointings(pspec, &pts, &c.npointings, err)) {
        fprintf(stderr, "beam-maker: %s\n", err);
        return 2;
    }
    c.pointings = pts;
    if (module_mkdir_p(c.out_dir) != 0) {
        fprintf(stderr, "beam-maker: cannot create %s: %s\n", c.out_dir, strerror(errno));
        free(pts);
        return 1;
    }
    beam_ctx *ctx;
    if (beam_open(&ctx, &c, err)) {
        fprintf(stderr, "beam-maker: %s\n", err);
        free(pts);
        return 1;
    }
    int ok = 1;
    for (long g = c.begin; g <= c.end && ok; g++) {
        beam_timing t = {0};
        if (beam_process_second(ctx, g, &t, err)) {
            fprintf(stderr, "beam-maker: %s\n", err);
            ok = 0;
            break;
        }
        if (verbose)
            fprintf(stderr,
                    "beam-maker: %ld: read %.3f s, beams %.3f s (gemm %.3f thread-s, %.1f "
                    "GFLOP/s), output %.3f s\n",
                    g, t.read_s, t.channels_s, t.gemm_s, t.gemm_flops / t.channels_s / 1e9,
                    t.output_s);
    }
    if (beam_close(ctx, ok, err)) {
        if (ok) fprintf(stderr, "beam-maker: %s\n", err);
        ok = 0;
    }
    free(pts);
    return ok ? 0 : 1;
}
