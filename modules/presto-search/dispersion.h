/* dispersion.h - the cold-plasma dispersion delay used by every step.
 *
 * One constant everywhere: K = 4148.808 s MHz^2 cm^3 / pc (MWA.md; PRESTO uses
 * 1/0.000241 = 4149.378, which shifts DMs by 0.014 %). Delays are measured
 * relative to a reference frequency, normally the highest channel, so they are
 * positive for every lower frequency. */
#ifndef DISPERSION_H
#define DISPERSION_H

#define DISPERSION_K 4148.808

/* Delay in seconds of frequency f (MHz) relative to f_ref (MHz) at this DM. */
static inline double dispersion_delay(double dm, double f, double f_ref)
{
    return DISPERSION_K * dm * (1.0 / (f * f) - 1.0 / (f_ref * f_ref));
}

/* Smearing in seconds inside one channel of width bw (MHz) centred on f. */
static inline double dispersion_channel_smear(double dm, double f, double bw)
{
    return 2.0 * DISPERSION_K * dm * bw / (f * f * f);
}

#endif
