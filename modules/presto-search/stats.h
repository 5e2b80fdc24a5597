/* stats.h - small statistics helpers for the search: medians, the Gaussian
 * and chi-square tails in log space (powers of strong pulsars overflow plain
 * doubles), and the conversion of a harmonic-summed power into an equivalent
 * Gaussian significance that accounts for the number of independent trials,
 * as PRESTO's candidate_sigma() does. */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>

/* Median of n floats; reorders a copy kept in scratch (n floats). */
float stats_median(const float *x, size_t n, float *scratch);
/* Median and robust sigma (1.4826 * MAD) of n floats; scratch holds n floats. */
void stats_median_mad(const float *x, size_t n, float *scratch, float *median, float *sigma);
/* log of the upper tail of the standard normal, P(X > x), accurate for large x. */
double stats_log_normal_sf(double x);
/* x such that P(X > x) = exp(logp). */
double stats_normal_isf_log(double logp);
/* log of the regularised upper incomplete gamma Q(a, x). */
double stats_log_gamma_q(double a, double x);
/* Gaussian-equivalent sigma of a sum of numharm normalised powers (each
 * exponential with mean 1) after numindep independent trials. */
double stats_power_sigma(double power, int numharm, double numindep);

#endif
