/* accel.c - f-fdot plane by correlation with drift templates (see accel.h).
 *
 * A signal starting at bin r0 and drifting z bins puts amplitude proportional
 * to A(r0 - k, z) into bin k. The matched filter for a trial (r, z) is
 * sum_k F_k conj(A(r - k, z)); for all r at once that is a convolution, done
 * with FFTs of length M >= nb + template width (overlap-free, zero padded).
 * The templates' FFTs are computed once per (z, half-bin offset) and shared
 * read-only by the threads. A is exact, from Fresnel integrals, so the
 * templates have unit energy and the plane keeps unit mean noise power. */
#include "accel.h" /* before complex.h: keeps fftwf_complex a float[2] */

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct accel_plan {
    int64_t nb;
    int zmax, nz, nthreads;
    int M;
    fftwf_plan fwd, inv;
    fftwf_complex **kern; /* [iz * 2 + half] -> M values (FFT of the template) */
    fftwf_complex **buf, **prod;
};

/* Fresnel integrals C(x) = int_0^x cos(pi t^2 / 2), S(x) likewise with sin
 * (series for small x, continued fraction otherwise: Numerical Recipes). */
static void fresnel(double x, double *c, double *s)
{
    const double eps = 1e-15, fpmin = 1e-300, xmin = 1.5;
    double ax = fabs(x);
    if (ax < 1e-150) {
        *c = ax;
        *s = 0;
    } else if (ax <= xmin) {
        double sum = 0, sums = 0, sumc = ax, sign = 1, fact = M_PI_2 * ax * ax, term = ax;
        int odd = 1, n = 3;
        for (int k = 1; k < 200; k++) {
            term *= fact / k;
            sum += sign * term / n;
            double test = fabs(sum) * eps;
            if (odd) {
                sign = -sign;
                sums = sum;
                sum = sumc;
            } else {
                sumc = sum;
                sum = sums;
            }
            if (term < test) break;
            odd = !odd;
            n += 2;
        }
        *s = sums;
        *c = sumc;
    } else {
        double pix2 = M_PI * ax * ax;
        double complex b = 1.0 - I * pix2, cc = 1.0 / fpmin, d = 1.0 / b, h = d;
        int n = -1;
        for (int k = 2; k < 400; k++) {
            n += 2;
            double a = -(double)n * (n + 1);
            b += 4.0;
            d = 1.0 / (a * d + b);
            cc = b + a / cc;
            double complex del = cc * d;
            h *= del;
            if (fabs(creal(del) - 1.0) + fabs(cimag(del)) < eps) break;
        }
        h *= ax - I * ax;
        double complex cs = (0.5 + 0.5 * I) * (1.0 - cexp(I * 0.5 * pix2) * h);
        *c = creal(cs);
        *s = cimag(cs);
    }
    if (x < 0) {
        *c = -*c;
        *s = -*s;
    }
}

static double complex response(double q, double z)
{
    if (fabs(z) < 1e-4) {
        if (fabs(q) < 1e-9) return 1.0;
        return (cexp(2.0 * M_PI * I * q) - 1.0) / (2.0 * M_PI * I * q);
    }
    if (z < 0) return conj(response(-q, -z));
    double sq = sqrt(2.0 * z);
    double s1 = sq * (q / z), s2 = sq * (1.0 + q / z);
    double c1, si1, c2, si2;
    fresnel(s1, &c1, &si1);
    fresnel(s2, &c2, &si2);
    double complex integral = (c2 - c1) + I * (si2 - si1);
    return cexp(-I * M_PI * q * q / z) * integral / sq;
}

void accel_response(double q, double z, double *re, double *im)
{
    double complex a = response(q, z);
    *re = creal(a);
    *im = cimag(a);
}

static int good_size(int n)
{
    for (;; n++) {
        int m = n;
        while (m % 2 == 0)
            m /= 2;
        while (m % 3 == 0)
            m /= 3;
        while (m % 5 == 0)
            m /= 5;
        if (m == 1) return n;
    }
}

int accel_nz(const accel_plan *a)
{
    return a->nz;
}

accel_plan *accel_plan_new(int64_t nb, int zmax, int nthreads, char *err)
{
    if (zmax <= 0 || zmax % 2 || zmax > 1200 || nb < 64) {
        snprintf(err, 512, "accel: zmax must be even and in 2..1200 (got %d)", zmax);
        return NULL;
    }
    accel_plan *a = calloc(1, sizeof *a);
    a->nb = nb;
    a->zmax = zmax;
    a->nz = zmax / ACCEL_DZ * 2 + 1;
    a->nthreads = nthreads < 1 ? 1 : nthreads;
    int width = 2 * ACCEL_HALFWIDTH + zmax + 2;
    a->M = good_size((int)nb + width);
    int M = a->M;
    a->buf = calloc((size_t)a->nthreads, sizeof *a->buf);
    a->prod = calloc((size_t)a->nthreads, sizeof *a->prod);
    for (int t = 0; t < a->nthreads; t++) {
        a->buf[t] = fftwf_malloc(sizeof(fftwf_complex) * M);
        a->prod[t] = fftwf_malloc(sizeof(fftwf_complex) * M);
    }
    a->fwd = fftwf_plan_dft_1d(M, a->buf[0], a->prod[0], FFTW_FORWARD, FFTW_ESTIMATE);
    a->inv = fftwf_plan_dft_1d(M, a->prod[0], a->buf[0], FFTW_BACKWARD, FFTW_ESTIMATE);
    a->kern = calloc((size_t)a->nz * 2, sizeof *a->kern);
    fftwf_complex *tmp = fftwf_malloc(sizeof(fftwf_complex) * M);
    for (int iz = 0; iz < a->nz; iz++) {
        double z = -zmax + ACCEL_DZ * iz;
        int dlo = (z < 0 ? (int)floor(z) : 0) - ACCEL_HALFWIDTH;
        int dhi = (z > 0 ? (int)ceil(z) : 0) + ACCEL_HALFWIDTH;
        for (int half = 0; half < 2; half++) {
            memset(tmp, 0, sizeof(fftwf_complex) * M);
            /* C(m + delta) = sum_d F[m + d] g(d), g(d) = conj(A(delta - d, z)),
             * as a circular convolution with K[(-d) mod M] = g(d). */
            for (int dd = dlo; dd <= dhi; dd++) {
                double complex g = conj(response(0.5 * half - dd, z));
                int idx = ((-dd) % M + M) % M;
                tmp[idx][0] = (float)(creal(g) / M);
                tmp[idx][1] = (float)(cimag(g) / M);
            }
            fftwf_complex *k = fftwf_malloc(sizeof(fftwf_complex) * M);
            fftwf_execute_dft(a->fwd, tmp, k);
            a->kern[iz * 2 + half] = k;
        }
    }
    fftwf_free(tmp);
    return a;
}

void accel_plan_free(accel_plan *a)
{
    if (!a) return;
    for (int i = 0; i < a->nz * 2; i++)
        fftwf_free(a->kern[i]);
    for (int t = 0; t < a->nthreads; t++) {
        fftwf_free(a->buf[t]);
        fftwf_free(a->prod[t]);
    }
    free(a->kern);
    free(a->buf);
    free(a->prod);
    fftwf_destroy_plan(a->fwd);
    fftwf_destroy_plan(a->inv);
    free(a);
}

void accel_plane(accel_plan *a, int thread, const fftwf_complex *spec, float *plane)
{
    int M = a->M;
    int64_t nb = a->nb;
    fftwf_complex *buf = a->buf[thread], *prod = a->prod[thread];
    memset(buf, 0, sizeof(fftwf_complex) * M);
    memcpy(buf, spec, sizeof(fftwf_complex) * nb);
    fftwf_complex *specf = fftwf_malloc(sizeof(fftwf_complex) * M);
    fftwf_execute_dft(a->fwd, buf, specf);
    for (int iz = 0; iz < a->nz; iz++) {
        float *row = plane + (size_t)iz * 2 * nb;
        for (int half = 0; half < 2; half++) {
            const fftwf_complex *k = a->kern[iz * 2 + half];
            for (int i = 0; i < M; i++) {
                float re = specf[i][0] * k[i][0] - specf[i][1] * k[i][1];
                float im = specf[i][0] * k[i][1] + specf[i][1] * k[i][0];
                prod[i][0] = re;
                prod[i][1] = im;
            }
            fftwf_execute_dft(a->inv, prod, buf);
            for (int64_t m = 0; m < nb; m++)
                row[2 * m + half] = buf[m][0] * buf[m][0] + buf[m][1] * buf[m][1];
        }
    }
    fftwf_free(specf);
}
