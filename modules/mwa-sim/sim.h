/* sim.h - a synthetic MWA VCS observation, deterministic for a seed.
 *
 * sim_run writes into one directory: the metafits, Offringa calibration
 * solutions (random per-tile, per-fine-channel Jones gains), a pointings file
 * (the pulsar's true direction among decoys), a truth file, and one
 * {obsid}_{gps}_ch{NNN}.dat per second per coarse channel. The pulsar signal
 * is complex Gaussian noise modulated by a Gaussian pulse (period, duty cycle
 * = FWHM / period), dispersed per fine channel (t = K DM / f^2, f in MHz,
 * K = 4148.808, reference at infinite frequency), arriving at tile a with
 * phase exp(+2 pi i f_k tau_a) (tau_a geometric + cable delay, MWA.md) and
 * multiplied by the tile's Jones gain; receiver noise is added after the gain
 * and the sum quantised to 4+4 bits. */
#ifndef SIM_H
#define SIM_H

#define SIM_ERR_LEN 512
#define SIM_MAX_CHANNELS 24

typedef struct sim_config {
    const char *out_dir;
    long obsid;
    long begin; /* first GPS second written */
    int seconds;
    int nchannels; /* coarse channels written (all are listed in the metafits) */
    int channels[SIM_MAX_CHANNELS];
    int ntile, nfine, nsamp;
    int reduced;                       /* 1: reduced [s][k][ant][pol] order; 0: full-size order */
    int nflagged;                      /* flagged tiles (noisier, no signal, NaN solutions) */
    double period, dm, duty, strength; /* s, pc/cm^3, FWHM/period, peak S/N per tile */
    double psr_ra, psr_dec;            /* degrees; NaN: offset from the centre */
    int have_psr_pos;
    int ndecoys;
    double decoy_radius; /* degrees */
    double sigma;        /* noise per real component, quantisation levels */
    unsigned long long seed;
    int threads;
    int write_data; /* 0: metadata only */
} sim_config;

void sim_defaults(sim_config *c);
/* Writes the whole observation; prints nothing. */
int sim_run(const sim_config *c, char *err);

#endif
