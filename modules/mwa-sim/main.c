/* main.c - the mwa-sim command: options -> sim_config -> sim_run.
 *
 * Writes a complete synthetic MWA VCS observation (metafits, calibration,
 * pointings, truth, .dat voltages) into one directory; see README.md. */
#include "module_fs.h"
#include "astrometry.h"
#include "sim.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: mwa-sim [options]\n"
                 "Writes a synthetic MWA VCS observation with an injected pulsar, deterministic\n"
                 "for a seed: {obsid}.metafits, {obsid}_solutions.bin (Offringa binary\n"
                 "calibration), pointings.txt, truth.txt and {obsid}_{gps}_ch{NNN}.dat files.\n"
                 "\n"
                 "  -o, --out DIR          output directory (created; default .)\n"
                 "      --obsid N          observation id = GPS start (default 1257010784)\n"
                 "      --begin GPS        first second to write (default: obsid)\n"
                 "  -n, --seconds N        seconds to write (default 1)\n"
                 "  -c, --channels LIST    coarse channels, e.g. 109 or 109,110 or 109-132\n"
                 "                         (default 109)\n"
                 "  -t, --tiles N          tiles (default 128)\n"
                 "  -f, --fine N           fine channels per coarse channel (default 128)\n"
                 "  -s, --samples N        samples per second per fine channel (default 10000)\n"
                 "      --layout L         full | reduced byte order (default: full for 128 tiles\n"
                 "                         x 128 fine channels, reduced otherwise)\n"
                 "      --flagged N        flagged tiles (default tiles/64)\n"
                 "      --period S         pulsar period, s (default 0.05)\n"
                 "      --dm DM            dispersion measure, pc/cm^3 (default 10)\n"
                 "      --duty D           pulse FWHM / period (default 0.1)\n"
                 "      --strength S       peak per-tile signal/noise power ratio (default 0.05;\n"
                 "                         0: noise only)\n"
                 "      --ra HH:MM:SS      pulsar RA (default: 0.8 deg east of the centre)\n"
                 "      --dec DD:MM:SS     pulsar Dec (default: 0.5 deg north of the centre)\n"
                 "      --decoys N         decoy pointings around the pulsar (default 5)\n"
                 "      --decoy-radius D   their distance from the pulsar, deg (default 1.0)\n"
                 "      --sigma S          noise per component, 4-bit levels (default 2)\n"
                 "      --seed N           random seed (default 1)\n"
                 "  -j, --threads N        threads (default: online CPUs)\n"
                 "      --no-data          metadata only (no .dat files)\n"
                 "  -h, --help             this text\n");
}

static int parse_channels(const char *s, sim_config *c)
{
    c->nchannels = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s) return -1;
        b = a;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1) return -1;
            s = end;
        }
        for (long v = a; v <= b; v++) {
            if (c->nchannels >= SIM_MAX_CHANNELS || v < 1 || v > 255) return -1;
            c->channels[c->nchannels++] = (int)v;
        }
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return c->nchannels ? 0 : -1;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    sim_config c;
    sim_defaults(&c);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    c.threads = ncpu > 0 ? (int)ncpu : 1;
    const char *layout = NULL;
    static const struct option opts[] = {
        {"out", 1, 0, 'o'},     {"obsid", 1, 0, 1},      {"begin", 1, 0, 2},
        {"seconds", 1, 0, 'n'}, {"channels", 1, 0, 'c'}, {"tiles", 1, 0, 't'},
        {"fine", 1, 0, 'f'},    {"samples", 1, 0, 's'},  {"layout", 1, 0, 3},
        {"flagged", 1, 0, 4},   {"period", 1, 0, 5},     {"dm", 1, 0, 6},
        {"duty", 1, 0, 7},      {"strength", 1, 0, 8},   {"ra", 1, 0, 9},
        {"dec", 1, 0, 10},      {"decoys", 1, 0, 11},    {"decoy-radius", 1, 0, 12},
        {"sigma", 1, 0, 13},    {"seed", 1, 0, 14},      {"threads", 1, 0, 'j'},
        {"no-data", 0, 0, 15},  {"help", 0, 0, 'h'},     {0, 0, 0, 0}};
    int o, have_ra = 0, have_dec = 0;
    long v;
    while ((o = getopt_long(argc, argv, "o:n:c:t:f:s:j:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 'o':
            c.out_dir = optarg;
            break;
        case 1:
            bad = parse_long(optarg, 1, 4000000000L, &c.obsid);
            break;
        case 2:
            bad = parse_long(optarg, 1, 4000000000L, &c.begin);
            break;
        case 'n':
            bad = parse_long(optarg, 1, 100000, &v);
            c.seconds = (int)v;
            break;
        case 'c':
            bad = parse_channels(optarg, &c);
            break;
        case 't':
            bad = parse_long(optarg, 1, 4096, &v);
            c.ntile = (int)v;
            break;
        case 'f':
            bad = parse_long(optarg, 1, 4096, &v);
            c.nfine = (int)v;
            break;
        case 's':
            bad = parse_long(optarg, 1, 1000000, &v);
            c.nsamp = (int)v;
            break;
        case 3:
            layout = optarg;
            bad = strcmp(optarg, "full") && strcmp(optarg, "reduced");
            break;
        case 4:
            bad = parse_long(optarg, 0, 4096, &v);
            c.nflagged = (int)v;
            break;
        case 5:
            bad = parse_double(optarg, &c.period) || c.period <= 0;
            break;
        case 6:
            bad = parse_double(optarg, &c.dm) || c.dm < 0;
            break;
        case 7:
            bad = parse_double(optarg, &c.duty) || c.duty <= 0 || c.duty >= 1;
            break;
        case 8:
            bad = parse_double(optarg, &c.strength) || c.strength < 0;
            break;
        case 9:
            bad = astro_parse_ra(optarg, &c.psr_ra);
            have_ra = 1;
            break;
        case 10:
            bad = astro_parse_dec(optarg, &c.psr_dec);
            have_dec = 1;
            break;
        case 11:
            bad = parse_long(optarg, 0, 1000, &v);
            c.ndecoys = (int)v;
            break;
        case 12:
            bad = parse_double(optarg, &c.decoy_radius);
            break;
        case 13:
            bad = parse_double(optarg, &c.sigma) || c.sigma <= 0;
            break;
        case 14:
            bad = parse_long(optarg, 0, 0x7fffffffffffffffL, &v);
            c.seed = (unsigned long long)v;
            break;
        case 'j':
            bad = parse_long(optarg, 1, 64, &v);
            c.threads = (int)v;
            break;
        case 15:
            c.write_data = 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "mwa-sim: bad value '%s' for option %s (see --help)\n", optarg,
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mwa-sim: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (have_ra != have_dec) {
        fprintf(stderr, "mwa-sim: give both --ra and --dec, or neither\n");
        return 2;
    }
    c.have_psr_pos = have_ra;
    if (!c.begin) c.begin = c.obsid;
    if (c.begin < c.obsid) {
        fprintf(stderr, "mwa-sim: --begin %ld is before the obsid %ld\n", c.begin, c.obsid);
        return 2;
    }
    if (c.nflagged < 0) c.nflagged = c.ntile / 64;
    if (c.nflagged >= c.ntile) {
        fprintf(stderr, "mwa-sim: --flagged %d leaves no tile\n", c.nflagged);
        return 2;
    }
    if (layout)
        c.reduced = strcmp(layout, "reduced") == 0;
    else
        c.reduced = !(c.ntile == 128 && c.nfine == 128);
    if (module_mkdir_p(c.out_dir) != 0) {
        fprintf(stderr, "mwa-sim: cannot create %s: %s\n", c.out_dir, strerror(errno));
        return 1;
    }
    char err[SIM_ERR_LEN];
    if (sim_run(&c, err)) {
        fprintf(stderr, "mwa-sim: %s\n", err);
        return 1;
    }
    return 0;
}
