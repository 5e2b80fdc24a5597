/* stats.c - medians and tail probabilities for candidate significance.
 *
 * A normalised power P of one Fourier bin of Gaussian noise is exponential
 * with mean 1; a sum of n of them is Gamma(n, 1), so its false-alarm
 * probability is Q(n, P). With N independent trials the chance of a noise
 * peak this high is about N*Q (1 - (1-Q)^N when that is not small); the
 * sigma reported is the Gaussian x with the same upper-tail probability.
 * Everything is done with logarithms because bright pulsars give Q < 1e-300. */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Quickselect: k-th smallest of x[0..n). */
static float select_kth(float *x, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (hi > lo) {
        if (hi - lo < 16) {
            qsort(x + lo, hi - lo + 1, sizeof(float), cmp_float);
            return x[k];
        }
        float pivot = x[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (x[i] < pivot)
                i++;
            while (x[j] > pivot)
                j--;
            if (i <= j) {
                float t = x[i];
                x[i] = x[j];
                x[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return x[k];
    }
    return x[k];
}

float stats_median(const float *x, size_t n, float *scratch)
{
    if (n == 0) return 0.0f;
    memcpy(scratch, x, n * sizeof(float));
    return select_kth(scratch, n, n / 2);
}

void stats_median_mad(const float *x, size_t n, float *scratch, float *median, float *sigma)
{
    float m = stats_median(x, n, scratch);
    for (size_t i = 0; i < n; i++)
        scratch[i] = fabsf(x[i] - m);
    *median = m;
    *sigma = n ? 1.4826f * select_kth(scratch, n, n / 2) : 0.0f;
}

double stats_log_normal_sf(double x)
{
    if (x < 25.0) return log(0.5 * erfc(x / M_SQRT2));
    /* Asymptotic series of the Mills ratio. */
    double x2 = x * x;
    double series = 1.0 - 1.0 / x2 + 3.0 / (x2 * x2) - 15.0 / (x2 * x2 * x2);
    return -0.5 * x2 - log(x * sqrt(2.0 * M_PI)) + log(series);
}

double stats_normal_isf_log(double logp)
{
    if (logp >= 0.0) return -40.0;
    /* log sf is monotonically decreasing: bisection is simple and exact enough. */
    double lo = -40.0, hi = 40.0;
    while (stats_log_normal_sf(hi) > logp)
        hi *= 2.0;
    for (int i = 0; i < 200 && hi - lo > 1e-10; i++) {
        double mid = 0.5 * (lo + hi);
        if (stats_log_normal_sf(mid) > logp)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double stats_log_gamma_q(double a, double x)
{
    if (x <= 0.0) return 0.0;
    double lpre = -x + a * log(x) - lgamma(a);
    if (x < a + 1.0) {
        /* Series for P, then Q = 1 - P. */
        double ap = a, sum = 1.0 / a, del = sum;
        for (int n = 0; n < 1000; n++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-15) break;
        }
        double p = exp(lpre) * sum;
        return p < 1.0 ? log1p(-p) : -745.0;
    }
    /* Continued fraction for Q (modified Lentz). */
    double b = x + 1.0 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < 1e-300) d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300) c = 1e-300;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15) break;
    }
    return lpre + log(h);
}

double stats_power_sigma(double power, int numharm, double numindep)
{
    double logq = stats_log_gamma_q((double)numharm, power);
    if (numindep < 1.0) numindep = 1.0;
    double logp;
    /* 1 - (1-q)^N, in log space; N*q when q is small. */
    if (logq < -20.0)
        logp = logq + log(numindep);
    else
        logp = log(-expm1(numindep * log1p(-exp(logq))));
    if (logp > -1e-12) logp = -1e-12;
    return stats_normal_isf_log(logp);
}
