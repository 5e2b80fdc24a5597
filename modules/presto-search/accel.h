/* accel.h - the Fourier-domain acceleration search of accelsearch: the
 * spectrum is correlated with the response of a signal whose frequency drifts
 * by z bins over the observation (z = fdot T^2), for z = -zmax..zmax in steps
 * of 2, at half-bin resolution in frequency, giving an f-fdot power plane. */
#ifndef ACCEL_H
#define ACCEL_H

#include <fftw3.h>
#include <stdint.h>

#define ACCEL_DZ 2
#define ACCEL_HALFWIDTH 16 /* response bins kept either side of the drift */

typedef struct accel_plan accel_plan;

/* nb: spectrum bins; zmax: even, > 0. */
accel_plan *accel_plan_new(int64_t nb, int zmax, int nthreads, char *err);
void accel_plan_free(accel_plan *a);
int accel_nz(const accel_plan *a);
/* Fills plane (nz rows of 2*nb half-bin powers, row iz <-> z = -zmax + 2 iz)
 * from nb complex amplitudes normalised to unit mean power. */
void accel_plane(accel_plan *a, int thread, const fftwf_complex *spec, float *plane);
/* Fourier response A(q, z) = integral_0^1 exp(2 pi i (q u + z u^2 / 2)) du of
 * a signal starting q bins above the bin and drifting z bins. */
void accel_response(double q, double z, double *re, double *im);

#endif
