/* fuzz_calib.c - libFuzzer harness: Offringa binary calibration solutions
 * (modules/lib/calib.c).
 *
 * Each input is a whole solutions file handed to calib_read through a memfd.
 * A file it accepts must hold every Jones term its header promises (the last
 * one is read so ASan sees a short buffer), and the lookups the beamformer
 * makes (calib_jones over a few observation shapes, calib_invert) must stay
 * inside it. A refusal must say why and leave nothing allocated. */
#include <complex.h>
#include <stdint.h>
#include <stdlib.h>

#include "calib.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = memfile_put(data, size);
    calib c;
    char err[CALIB_ERR_LEN] = "";
    if (calib_read(path, &c, err) != 0) {
        fuzz_note("calib_read", err);
        if (!err[0] || c.jones) abort();
        return 0;
    }
    if (c.nintervals < 1 || c.nantennas < 1 || c.nchannels < 1 || !c.jones) abort();
    size_t n = (size_t)c.nintervals * c.nantennas * c.nchannels * 4;
    /* the reader refuses files shorter than their header says */
    if (size < 48 + n * sizeof(double complex)) abort();
    volatile double sink = creal(c.jones[n - 1]);
    /* (ncoarse, nfine) as the beam-maker would pass them from a metafits */
    static const int shapes[][2] = {{1, 1}, {1, 16}, {2, 16}, {24, 128}, {3, 7}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ncoarse = shapes[s][0], nfine = shapes[s][1];
        int ants[] = {0, c.nantennas - 1, c.nantennas, -1};
        for (int ai = 0; ai < 4; ai++)
            for (int ci = 0; ci<ncoarse; ci += ncoarse> 1 ? ncoarse - 1 : 1)
                for (int k = 0; k<nfine; k += nfine> 1 ? nfine - 1 : 1) {
                    double complex j[4], inv[4];
                    if (calib_jones(&c, ants[ai], ci, ncoarse, nfine, k, j, err) == 0) {
                        if (ants[ai] < 0 || ants[ai] >= c.nantennas) abort();
                        if (calib_invert(j, inv) == 0) sink += creal(inv[0]);
                    } else if (!err[0]) {
                        abort();
                    }
                }
    }
    (void)sink;
    calib_free(&c);
    return 0;
}
