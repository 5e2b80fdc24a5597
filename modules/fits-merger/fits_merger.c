/* fits_merger.c - `fits-merger`: joins single-coarse-channel PSRFITS
 * search-mode files of one pointing and time range into one file holding the
 * union of their channels.
 *
 * Inputs are sorted by frequency and must lie on one channel grid; a gap of
 * whole channels (a missing coarse channel) becomes zero-weight channels with
 * DATA=0, DAT_OFFS=0, DAT_SCL=1. Each output row is the inputs' rows side by
 * side per sample, [file0 chans | pad | file1 chans | ...], with every byte and
 * every scale copied unchanged, so the merge is lossless. Inputs that differ
 * in rows, NSBLK, TBIN, start time, source or pointing are refused before
 * anything is written. Output goes to a temporary name, renamed on success. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "psrfits.h"

static const char usage[] =
    "usage: fits-merger -o OUT IN1.fits IN2.fits ... INn.fits\n"
    "\n"
    "Joins PSRFITS search-mode files that each hold some channels (one MWA coarse\n"
    "channel each) of one pointing and time range into one file with all channels,\n"
    "in ascending frequency order. A gap of whole channels between inputs is filled\n"
    "with zero-weight channels. OBSFREQ, OBSBW, OBSNCHAN and NCHAN are recomputed;\n"
    "every other keyword comes from the lowest-frequency input.\n"
    "\n"
    "Refuses inputs whose row count, NSBLK, TBIN, start time (STT_IMJD/SMJD/OFFS),\n"
    "channel width, source name or pointing (RA/DEC) differ, or whose channels overlap\n"
    "or are off the channel grid.\n"
    "\n"
    "  -o, --output OUT   output file (required); written to a temporary name\n"
    "                     beside OUT and renamed on success\n"
    "  -q, --quiet        no notes on stderr (errors are still printed)\n"
    "  -h, --help         this text\n"
    "\n"
    "Exit status: 0 success, 1 failure (message on stderr), 2 usage error.\n";

struct input {
    const char *path;
    psrfits *f;
    psrfits_hdr h;
    double *freq;
    float *wts, *offs, *scl;
    uint8_t *data;
    int out_chan0; /* first output channel of this input */
};

static int by_frequency_sign = 1;

static int cmp_input(const void *a, const void *b)
{
    const struct input *x = a, *y = b;
    double d = (x->freq[0] - y->freq[0]) * by_frequency_sign;
    return d < 0 ? -1 : d > 0;
}

static int alloc_input(struct input *in)
{
    size_t n = in->h.nchan;
    in->freq = malloc(sizeof *in->freq * n);
    in->wts = malloc(sizeof *in->wts * n);
    in->offs = malloc(sizeof *in->offs * n);
    in->scl = malloc(sizeof *in->scl * n);
    in->data = malloc((size_t)in->h.nsblk * n);
    return in->freq && in->wts && in->offs && in->scl && in->data ? 0 : -1;
}

static void free_input(struct input *in)
{
    char err[PSRFITS_ERR_LEN];
    if (in->f) psrfits_close(in->f, err);
    free(in->freq);
    free(in->wts);
    free(in->offs);
    free(in->scl);
    free(in->data);
}

/* Everything that must agree between inputs; names the file and the field. */
static int check_same(const struct input *a, const struct input *b)
{
    const psrfits_hdr *x = &a->h, *y = &b->h;
    char what[256] = "";
    if (y->nrows != x->nrows)
        snprintf(what, sizeof what, "has %lld rows, %s has %lld", (long long)y->nrows, a->path,
                 (long long)x->nrows);
    else if (y->nsblk != x->nsblk)
        snprintf(what, sizeof what, "has NSBLK=%d, %s has %d", y->nsblk, a->path, x->nsblk);
    else if (fabs(y->tbin - x->tbin) > 1e-9 * fabs(x->tbin))
        snprintf(what, sizeof what, "has TBIN=%.9g s, %s has %.9g s", y->tbin, a->path, x->tbin);
    else if (y->stt_imjd != x->stt_imjd || y->stt_smjd != x->stt_smjd ||
             fabs(y->stt_offs - x->stt_offs) > 1e-9)
        snprintf(what, sizeof what,
                 "starts at MJD %d + %d s + %.9f s, %s at MJD %d + %d s + %.9f s", y->stt_imjd,
                 y->stt_smjd, y->stt_offs, a->path, x->stt_imjd, x->stt_smjd, x->stt_offs);
    else if (fabs(y->chan_bw - x->chan_bw) > 1e-6 * fabs(x->chan_bw))
        snprintf(what, sizeof what, "has CHAN_BW=%.9g MHz, %s has %.9g MHz", y->chan_bw, a->path,
                 x->chan_bw);
    else if (strcmp(y->src_name, x->src_name) != 0)
        snprintf(what, sizeof what, "has SRC_NAME='%s', %s has '%s'", y->src_name, a->path,
                 x->src_name);
    else if (fabs(y->ra_deg - x->ra_deg) > 1e-6 || fabs(y->dec_deg - x->dec_deg) > 1e-6)
        snprintf(what, sizeof what, "points at RA=%s DEC=%s, %s at RA=%s DEC=%s", y->ra_str,
                 y->dec_str, a->path, x->ra_str, x->dec_str);
    if (!what[0]) return 0;
    fprintf(stderr, "fits-merger: %s %s; all inputs must be one pointing and time range\n", b->path,
            what);
    return -1;
}

static int sync_and_rename(const char *tmp, const char *final)
{
    int fd = open(tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        fprintf(stderr, "fits-merger: %s: cannot sync: %s\n", tmp, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    close(fd);
    if (rename(tmp, final) != 0) {
        fprintf(stderr, "fits-merger: cannot rename %s to %s: %s\n", tmp, final, strerror(errno));
        return -1;
    }
    return 0;
}

static int merge(struct input *in, int n, const char *tmp, int quiet)
{
    char err[PSRFITS_ERR_LEN];
    int rc = -1;
    psrfits *out = NULL;
    double *freq = NULL;
    float *wts = NULL, *offs = NULL, *scl = NULL;
    uint8_t *data = NULL;

    for (int i = 0; i < n; i++) {
        if (psrfits_open(&in[i].f, in[i].path, &in[i].h, err)) {
            fprintf(stderr, "fits-merger: %s\n", err);
            return -1;
        }
        if (in[i].h.nrows < 1) {
            fprintf(stderr, "fits-merger: %s has no rows; nothing to merge\n", in[i].path);
            return -1;
        }
        if (alloc_input(&in[i])) {
            fprintf(stderr, "fits-merger: out of memory\n");
            return -1;
        }
        if (i > 0 && check_same(&in[0], &in[i])) return -1;
        if (psrfits_read_row(in[i].f, 0, in[i].freq, NULL, NULL, NULL, NULL, NULL, err)) {
            fprintf(stderr, "fits-merger: %s\n", err);
            return -1;
        }
    }
    double bw = in[0].h.chan_bw;
    if (!(fabs(bw) > 0)) {
        fprintf(stderr, "fits-merger: %s: CHAN_BW is 0\n", in[0].path);
        return -1;
    }
    by_frequency_sign = bw > 0 ? 1 : -1;
    qsort(in, n, sizeof *in, cmp_input);

    /* Place each input on the channel grid of the first. */
    int total = in[0].h.nchan;
    in[0].out_chan0 = 0;
    for (int i = 1; i < n; i++) {
        const struct input *p = &in[i - 1];
        double expect = p->freq[p->h.nchan - 1] + bw;
        double k = (in[i].freq[0] - expect) / bw;
        long kr = lround(k);
        if (k < -0.5) {
            fprintf(stderr,
                    "fits-merger: %s (from %.6f MHz) overlaps %s (up to %.6f MHz); each channel "
                    "must come from one input\n",
                    in[i].path, in[i].freq[0], p->path, p->freq[p->h.nchan - 1]);
            return -1;
        }
        /* DAT_FREQ is float32: about 1e-5 MHz at 150 MHz, 0.1 % of a 10 kHz channel. */
        if (fabs(k - kr) > 0.02) {
            fprintf(stderr,
                    "fits-merger: %s starts at %.6f MHz, which is not on the channel grid of %s "
                    "(next channel %.6f MHz, width %.6f MHz)\n",
                    in[i].path, in[i].freq[0], p->path, expect, bw);
            return -1;
        }
        if (kr > 0) {
            if (total + kr > 1 << 20) {
                fprintf(stderr, "fits-merger: a gap of %ld channels before %s is implausible\n", kr,
                        in[i].path);
                return -1;
            }
            if (!quiet)
                fprintf(stderr,
                        "fits-merger: note: %ld missing channels (%.6f-%.6f MHz) between %s and "
                        "%s are padded with zero weights\n",
                        kr, expect, expect + (kr - 1) * bw, p->path, in[i].path);
        }
        in[i].out_chan0 = total + (int)kr;
        total = in[i].out_chan0 + in[i].h.nchan;
    }

    psrfits_hdr oh = in[0].h;
    int nsblk = oh.nsblk;
    oh.nchan = total;
    oh.obsnchan = total;
    oh.obsbw = total * bw;
    oh.obsfreq = in[0].freq[0] + (total - 1) * bw / 2.0;
    freq = malloc(sizeof *freq * total);
    wts = malloc(sizeof *wts * total);
    offs = malloc(sizeof *offs * total);
    scl = malloc(sizeof *scl * total);
    data = calloc((size_t)nsblk, total); /* pad channels stay 0 */
    if (!freq || !wts || !offs || !scl || !data) {
        fprintf(stderr, "fits-merger: out of memory (%d x %d samples)\n", nsblk, total);
        goto done;
    }
    for (int c = 0; c < total; c++) {
        wts[c] = 0.0f;
        offs[c] = 0.0f;
        scl[c] = 1.0f;
    }
    if (psrfits_create(&out, tmp, &oh, err) || psrfits_copy_keys(out, in[0].f, err)) {
        fprintf(stderr, "fits-merger: %s\n", err);
        goto done;
    }
    char hist[80];
    snprintf(hist, sizeof hist, "fits-merger: %d inputs, %d channels", n, total);
    if (psrfits_add_history(out, hist, err)) {
        fprintf(stderr, "fits-merger: %s\n", err);
        goto done;
    }
    for (int64_t r = 0; r < oh.nrows; r++) {
        double offs_sub0 = 0;
        for (int i = 0; i < n; i++) {
            struct input *p = &in[i];
            int c0 = p->out_chan0, nc = p->h.nchan;
            double offs_sub;
            if (psrfits_read_row(p->f, r, freq + c0, wts + c0, offs + c0, scl + c0, p->data,
                                 &offs_sub, err)) {
                fprintf(stderr, "fits-merger: %s\n", err);
                goto done;
            }
            if (i == 0) {
                offs_sub0 = offs_sub;
            } else if (fabs(offs_sub - offs_sub0) > 1e-6) {
                fprintf(stderr,
                        "fits-merger: %s row %lld is at OFFS_SUB=%.6f s, %s at %.6f s; inputs "
                        "must cover the same times\n",
                        p->path, (long long)r, offs_sub, in[0].path, offs_sub0);
                goto done;
            }
            /* Zero-weight padding after this input up to the next one. */
            int next = i + 1 < n ? in[i + 1].out_chan0 : total;
            for (int c = c0 + nc; c < next; c++)
                freq[c] = freq[c0 + nc - 1] + (c - c0 - nc + 1) * bw;
            for (int s = 0; s < nsblk; s++)
                memcpy(data + (size_t)s * total + c0, p->data + (size_t)s * nc, nc);
        }
        if (psrfits_write_row(out, freq, wts, offs, scl, data, offs_sub0, err)) {
            fprintf(stderr, "fits-merger: %s\n", err);
            goto done;
        }
    }
    psrfits *o2 = out;
    out = NULL;
    if (psrfits_close(o2, err)) {
        fprintf(stderr, "fits-merger: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    if (out) psrfits_close(out, err);
    free(freq);
    free(wts);
    free(offs);
    free(scl);
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, 0, 'o'},
                                             {"quiet", no_argument, 0, 'q'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *outpath = NULL;
    int quiet = 0, c;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            outpath = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    int n = argc - optind;
    if (!outpath || n < 1) {
        fprintf(stderr, "fits-merger: %s\n\n%s", !outpath ? "-o OUT is required" : "no inputs",
                usage);
        return 2;
    }
    struct input *in = calloc(n, sizeof *in);
    if (!in) {
        fprintf(stderr, "fits-merger: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        in[i].path = argv[optind + i];
        if (strcmp(in[i].path, outpath) == 0) {
            fprintf(stderr, "fits-merger: the output %s is also an input\n", outpath);
            free(in);
            return 2;
        }
    }
    size_t tl = strlen(outpath) + 32;
    char *tmp = malloc(tl);
    if (!tmp) return 1;
    snprintf(tmp, tl, "%s.tmp.%ld", outpath, (long)getpid());
    int rc = merge(in, n, tmp, quiet);
    for (int i = 0; i < n; i++)
        free_input(&in[i]);
    free(in);
    if (rc == 0) rc = sync_and_rename(tmp, outpath);
    if (rc != 0) unlink(tmp);
    free(tmp);
    return rc == 0 ? 0 : 1;
}
