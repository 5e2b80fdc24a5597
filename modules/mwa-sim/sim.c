/* sim.c - writes a synthetic MWA VCS observation (see sim.h).
 *
 * Speed: a full-size second is 327,680,000 samples. Noise comes from a
 * xoshiro256** stream per (second, coarse channel, fine channel) through a
 * 65536-entry inverse-CDF table (16 random bits -> one Gaussian deviate), so
 * the result does not depend on the thread count. Samples off the pulse take
 * a pure table path; only on-pulse samples do complex arithmetic. Threads
 * split the fine channels of each second. */
#include "sim.h"

#include "astrometry.h"
#include "calib.h"
#include "metafits.h"
#include "vcs.h"

#include <complex.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SPEED_OF_LIGHT 299792458.0
#define DISPERSION_K 4148.808

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double rng_uniform(rng *r)
{
    return (rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_gauss(rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2 * log(u1 + 1e-300)) * cos(2 * M_PI * u2);
}

/* Inverse normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
static double inv_normal(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) return -inv_normal(1 - p);
    q = p - 0.5;
    r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

void sim_defaults(sim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->out_dir = ".";
    c->obsid = 1257010784;
    c->begin = 0;
    c->seconds = 1;
    c->nchannels = 1;
    c->channels[0] = 109;
    c->ntile = 128;
    c->nfine = 128;
    c->nsamp = 10000;
    c->reduced = -1; /* decided from the shape */
    c->nflagged = -1;
    c->period = 0.05;
    c->dm = 10.0;
    c->duty = 0.1;
    c->strength = 0.05;
    c->ndecoys = 5;
    c->decoy_radius = 1.0;
    c->sigma = 2.0;
    c->seed = 1;
    c->threads = 2;
    c->write_data = 1;
}

/* Everything the per-channel workers share for one second (read-only). */
typedef struct sim_state {
    const sim_config *c;
    metafits m;
    calib cal;
    float gauss[65536];        /* inverse-CDF table of N(0,1) */
    uint8_t nibble[65536];     /* noise-only component: 4-bit code of round(sigma*g) */
    uint8_t nibble_bad[65536]; /* flagged tiles: twice the noise */
    double *tau;               /* [ntile] delay (s) toward the pulsar this second */
    long gps;
    int coarse, coarse_idx;
    uint8_t *buf;
    int nthreads;
} sim_state;

typedef struct worker_arg {
    sim_state *st;
    int tid;
    char err[SIM_ERR_LEN];
    int rc;
} worker_arg;

static void gen_channel(sim_state *st, int k, char *err, int *rc)
{
    const sim_config *c = st->c;
    const vcs_shape *sh = &st->m.shape;
    int nt = sh->ntile, ninp = 2 * nt;
    uint64_t seed = c->seed * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)st->gps << 20) ^
                    ((uint64_t)st->coarse << 8) ^ (uint64_t)k;
    rng r;
    rng_seed(&r, seed);
    double f_hz = metafits_fine_freq_hz(&st->m, st->coarse, k);
    double f_mhz = f_hz / 1e6;
    double delay = DISPERSION_K * c->dm / (f_mhz * f_mhz);
    /* Per tile: signal mixing matrix M = J * exp(+2 pi i frac(f tau)). */
    float complex *mix = malloc(sizeof(float complex) * 4 * nt);
    int *off = malloc(sizeof(int) * ninp);
    int *bad = malloc(sizeof(int) * nt);
    for (int a = 0; a < nt; a++) {
        bad[a] = st->m.tiles[a].flag;
        off[2 * a] = vcs_input_offset(sh, a, 0);
        off[2 * a + 1] = vcs_input_offset(sh, a, 1);
        if (bad[a]) continue;
        double complex j[4];
        if (calib_jones(&st->cal, st->m.tiles[a].antenna, st->coarse_idx, st->m.ncoarse, sh->nfine,
                        k, j, err)) {
            *rc = -1;
            goto out;
        }
        double x = f_hz * st->tau[a];
        double complex ph = cexp(2 * M_PI * I * (x - floor(x)));
        for (int i = 0; i < 4; i++)
            mix[4 * a + i] = (float complex)(j[i] * ph);
    }
    double sigma_phase = c->duty / (2 * sqrt(2 * log(2)));
    float sig = (float)c->sigma;
    size_t block = (size_t)ninp;
    for (int s = 0; s < sh->nsamp; s++) {
        uint8_t *blk =
            st->buf + (sh->layout == VCS_LAYOUT_FULL ? (size_t)s * 32768 + (size_t)k * 256
                                                     : ((size_t)s * sh->nfine + k) * block);
        double t = (double)(st->gps - c->obsid) + (double)s / sh->nsamp - delay;
        double ph = t / c->period;
        ph -= floor(ph);
        if (ph > 0.5) ph -= 1;
        double prof = exp(-0.5 * (ph / sigma_phase) * (ph / sigma_phase));
        if (c->strength <= 0 || prof < 1e-4) {
            for (int i = 0; i < ninp; i += 2) {
                uint64_t u = rng_next(&r);
                const uint8_t *tab = bad[i >> 1] ? st->nibble_bad : st->nibble;
                blk[off[i]] = (uint8_t)(tab[u & 0xffff] | tab[(u >> 16) & 0xffff] << 4);
                blk[off[i + 1]] = (uint8_t)(tab[(u >> 32) & 0xffff] | tab[u >> 48] << 4);
            }
            continue;
        }
        float amp = sig * (float)sqrt(c->strength * prof);
        uint64_t u = rng_next(&r);
        float complex sx = amp * (st->gauss[u & 0xffff] + I * st->gauss[(u >> 16) & 0xffff]);
        float complex sy = amp * (st->gauss[(u >> 32) & 0xffff] + I * st->gauss[u >> 48]);
        for (int a = 0; a < nt; a++) {
            u = rng_next(&r);
            if (bad[a]) {
                blk[off[2 * a]] =
                    (uint8_t)(st->nibble_bad[u & 0xffff] | st->nibble_bad[(u >> 16) & 0xffff] << 4);
                blk[off[2 * a + 1]] =
                    (uint8_t)(st->nibble_bad[(u >> 32) & 0xffff] | st->nibble_bad[u >> 48] << 4);
                continue;
            }
            const float complex *M = mix + 4 * a;
            float complex vx = M[0] * sx + M[1] * sy +
                               sig * (st->gauss[u & 0xffff] + I * st->gauss[(u >> 16) & 0xffff]);
            float complex vy = M[2] * sx + M[3] * sy +
                               sig * (st->gauss[(u >> 32) & 0xffff] + I * st->gauss[u >> 48]);
            blk[off[2 * a]] = vcs_encode((int)lrintf(crealf(vx)), (int)lrintf(cimagf(vx)));
            blk[off[2 * a + 1]] = vcs_encode((int)lrintf(crealf(vy)), (int)lrintf(cimagf(vy)));
        }
    }
out:
    free(mix);
    free(off);
    free(bad);
}

static void *worker(void *p)
{
    worker_arg *w = p;
    for (int k = w->tid; k < w->st->m.shape.nfine && !w->rc; k += w->st->nthreads)
        gen_channel(w->st, k, w->err, &w->rc);
    return NULL;
}

static int write_file(const char *path, const void *data, size_t len, char *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        snprintf(err, SIM_ERR_LEN, "cannot create %.300s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, (const char *)data + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(err, SIM_ERR_LEN, "writing %.300s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        done += (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, SIM_ERR_LEN, "cannot finish %.300s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void make_tiles(const sim_config *c, metafits *m, rng *r)
{
    m->tiles = calloc((size_t)c->ntile, sizeof(*m->tiles));
    for (int a = 0; a < c->ntile; a++) {
        metafits_tile *t = &m->tiles[a];
        /* Half the tiles in a 100 m core, the rest out to 750 m (1.5 km
         * longest baseline), as in the MWA Phase I layout. */
        double u = rng_uniform(r);
        double rad = (a % 2 == 0) ? 100 * sqrt(u) : 100 + 650 * pow(u, 1.5);
        double ang = 2 * M_PI * rng_uniform(r);
        t->antenna = a;
        t->tile_id = (a / 8 + 1) * 10 + a % 8 + 1;
        snprintf(t->name, sizeof(t->name), "Tile%03d", t->tile_id);
        t->east = rad * sin(ang);
        t->north = rad * cos(ang);
        t->height = MWA_HEIGHT_M + 4 * (rng_uniform(r) - 0.5);
        t->length = 90 + 0.9 * rad + 60 * rng_uniform(r);
        t->length = round(t->length * 100) / 100; /* as written in EL_%.2f */
    }
    int nflag = c->nflagged;
    for (int i = 0; i < nflag; i++) {
        int a;
        do
            a = (int)(rng_uniform(r) * c->ntile);
        while (m->tiles[a].flag);
        m->tiles[a].flag = 1;
    }
    for (int a = 0; a < c->ntile; a++) {
        /* Stored as float in the metafits: keep the simulator on the same grid. */
        m->tiles[a].east = (float)m->tiles[a].east;
        m->tiles[a].north = (float)m->tiles[a].north;
        m->tiles[a].height = (float)m->tiles[a].height;
    }
}

static void make_gains(const sim_config *c, const metafits *m, calib *cal, rng *r)
{
    cal->nintervals = 1;
    cal->nantennas = c->ntile;
    cal->nchannels = c->nchannels * c->nfine;
    cal->start_time = cal->end_time = 0;
    cal->jones = calloc((size_t)cal->nantennas * cal->nchannels * 4, sizeof(double complex));
    for (int a = 0; a < c->ntile; a++) {
        double ax = 0.8 + 0.45 * rng_uniform(r), ay = 0.8 + 0.45 * rng_uniform(r);
        double px = 2 * M_PI * rng_uniform(r), py = 2 * M_PI * rng_uniform(r);
        double slope = rng_uniform(r) - 0.5; /* turns across a coarse channel */
        double complex lxy = 0.05 * (rng_gauss(r) + I * rng_gauss(r));
        double complex lyx = 0.05 * (rng_gauss(r) + I * rng_gauss(r));
        for (int ch = 0; ch < cal->nchannels; ch++) {
            double complex *j = cal->jones + ((size_t)a * cal->nchannels + ch) * 4;
            if (m->tiles[a].flag) {
                for (int i = 0; i < 4; i++)
                    j[i] = NAN + I * NAN;
                continue;
            }
            double complex ramp = cexp(2 * M_PI * I * slope * (ch % c->nfine) / c->nfine);
            j[0] = ax * cexp(I * px) * ramp;
            j[1] = lxy;
            j[2] = lyx;
            j[3] = ay * cexp(I * py) * ramp;
        }
    }
}

static int write_text(const char *dir, const char *name, const char *text, char *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return write_file(path, text, strlen(text), err);
}

int sim_run(const sim_config *c, char *err)
{
    sim_state *st = calloc(1, sizeof(*st));
    int rc = -1;
    st->c = c;
    metafits *m = &st->m;
    rng r;
    rng_seed(&r, c->seed);
    m->obsid = c->obsid;
    snprintf(m->project, sizeof(m->project), "SIM");
    m->ncoarse = c->nchannels;
    memcpy(m->coarse, c->channels, sizeof(int) * (size_t)c->nchannels);
    m->fine_khz = 10.0;
    m->shape.ntile = c->ntile;
    m->shape.nfine = c->nfine;
    m->shape.nsamp = c->nsamp;
    m->shape.layout = c->reduced ? VCS_LAYOUT_REDUCED : VCS_LAYOUT_FULL;
    char verr[VCS_ERR_LEN];
    if (vcs_shape_check(&m->shape, verr)) {
        snprintf(err, SIM_ERR_LEN, "%s", verr);
        goto done;
    }
    /* Pointing centre: the zenith at the start of the observation. */
    m->az_deg = 0;
    m->alt_deg = 90;
    astro_azel_to_radec(0, 90, (double)c->obsid, &m->ra_deg, &m->dec_deg);
    make_tiles(c, m, &r);
    make_gains(c, m, &st->cal, &r);

    double psr_ra = c->psr_ra, psr_dec = c->psr_dec;
    if (!c->have_psr_pos) {
        psr_dec = m->dec_deg + 0.5;
        psr_ra = m->ra_deg + 0.8 / cos(psr_dec * M_PI / 180);
    }
    char path[4096], ra_s[32], dec_s[32];
    snprintf(path, sizeof(path), "%s/%ld.metafits", c->out_dir, c->obsid);
    if (metafits_write(path, m, err)) goto done;
    char cerr[CALIB_ERR_LEN];
    snprintf(path, sizeof(path), "%s/%ld_solutions.bin", c->out_dir, c->obsid);
    if (calib_write(path, &st->cal, cerr)) {
        snprintf(err, SIM_ERR_LEN, "%s", cerr);
        goto done;
    }
    /* Pointings: the truth at a random line among decoys on a ring. The
     * strings written are what the beamformer will parse, so the simulated
     * direction is taken from them (round-tripped) for exact agreement. */
    int truth_line = (int)(rng_uniform(&r) * (c->ndecoys + 1));
    size_t plen = (size_t)(c->ndecoys + 1) * 64 + 1;
    char *pts = calloc(1, plen);
    for (int i = 0, d = 0; i <= c->ndecoys; i++) {
        double ra = psr_ra, dec = psr_dec;
        if (i != truth_line) {
            double ang = 2 * M_PI * d++ / (c->ndecoys ? c->ndecoys : 1);
            dec = psr_dec + c->decoy_radius * cos(ang);
            ra = psr_ra + c->decoy_radius * sin(ang) / cos(psr_dec * M_PI / 180);
        }
        astro_format_ra(ra, ra_s, sizeof(ra_s));
        astro_format_dec(dec, dec_s, sizeof(dec_s));
        snprintf(pts + strlen(pts), plen - strlen(pts), "%s %s\n", ra_s, dec_s);
        if (i == truth_line) {
            astro_parse_ra(ra_s, &psr_ra);
            astro_parse_dec(dec_s, &psr_dec);
        }
    }
    rc = write_text(c->out_dir, "pointings.txt", pts, err);
    free(pts);
    if (rc) goto done;
    rc = -1;
    astro_format_ra(psr_ra, ra_s, sizeof(ra_s));
    astro_format_dec(psr_dec, dec_s, sizeof(dec_s));
    char truth[2048], flags[1024] = "";
    for (int a = 0; a < c->ntile; a++)
        if (m->tiles[a].flag)
            snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags), "%s%d",
                     flags[0] ? "," : "", a);
    snprintf(truth, sizeof(truth),
             "obsid=%ld\nbegin=%ld\nseconds=%d\nntile=%d\nnfine=%d\nnsamp=%d\nlayout=%s\n"
             "psr_ra=%s\npsr_dec=%s\nperiod=%.9f\ndm=%.6f\nduty=%.6f\nstrength=%.6f\n"
             "epoch_gps=%ld\ntrue_pointing_line=%d\nflagged_tiles=%s\nseed=%llu\n",
             c->obsid, c->begin, c->seconds, c->ntile, c->nfine, c->nsamp,
             c->reduced ? "REDUCED" : "FULL", ra_s, dec_s, c->period, c->dm, c->duty, c->strength,
             c->obsid, truth_line + 1, flags, c->seed);
    if (write_text(c->out_dir, "truth.txt", truth, err)) goto done;
    if (!c->write_data) {
        rc = 0;
        goto done;
    }

    for (int i = 0; i < 65536; i++) {
        double g = inv_normal((i + 0.5) / 65536.0);
        st->gauss[i] = (float)g;
        st->nibble[i] = vcs_encode((int)lrint(c->sigma * g), 0) & 15;
        st->nibble_bad[i] = vcs_encode((int)lrint(2 * c->sigma * g), 0) & 15;
    }
    size_t bytes = vcs_second_bytes(&m->shape);
    st->buf = malloc(bytes);
    st->tau = calloc((size_t)c->ntile, sizeof(double));
    st->nthreads = c->threads > 0 ? c->threads : 1;
    if (!st->buf) {
        snprintf(err, SIM_ERR_LEN, "out of memory for a %zu-byte second", bytes);
        goto done;
    }
    for (int sec = 0; sec < c->seconds; sec++) {
        st->gps = c->begin + sec;
        double az, el, u[3];
        astro_radec_to_azel(psr_ra, psr_dec, st->gps + 0.5, &az, &el);
        astro_enu(az, el, u);
        const metafits_tile *t0 = &m->tiles[0];
        for (int a = 0; a < c->ntile; a++) {
            const metafits_tile *t = &m->tiles[a];
            st->tau[a] = ((t->east - t0->east) * u[0] + (t->north - t0->north) * u[1] +
                          (t->height - t0->height) * u[2] - (t->length - t0->length)) /
                         SPEED_OF_LIGHT;
        }
        for (int ci = 0; ci < c->nchannels; ci++) {
            st->coarse = c->channels[ci];
            st->coarse_idx = ci;
            pthread_t th[64];
            worker_arg wa[64];
            int n = st->nthreads > 64 ? 64 : st->nthreads;
            for (int i = 0; i < n; i++) {
                wa[i] = (worker_arg){.st = st, .tid = i, .rc = 0};
                wa[i].err[0] = 0;
            }
            st->nthreads = n;
            for (int i = 1; i < n; i++)
                pthread_create(&th[i], NULL, worker, &wa[i]);
            worker(&wa[0]);
            for (int i = 1; i < n; i++)
                pthread_join(th[i], NULL);
            for (int i = 0; i < n; i++)
                if (wa[i].rc) {
                    snprintf(err, SIM_ERR_LEN, "%s", wa[i].err);
                    goto done;
                }
            vcs_file_name(path, sizeof(path), c->out_dir, c->obsid, st->gps, st->coarse);
            if (write_file(path, st->buf, bytes, err)) goto done;
        }
    }
    rc = 0;
done:
    free(st->buf);
    free(st->tau);
    calib_free(&st->cal);
    metafits_free(&st->m);
    free(st);
    return rc;
}
