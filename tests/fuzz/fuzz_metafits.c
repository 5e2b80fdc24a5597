/* fuzz_metafits.c - libFuzzer harness: the metafits reader (modules/lib/metafits.c).
 *
 * Each input is a whole FITS file handed to metafits_read through a memfd.
 * A file it accepts must describe a usable observation: a VCS shape that
 * vcs_shape_check accepts, 1..METAFITS_MAX_COARSE coarse channels and one
 * readable tile entry per row pair; every tile and fine frequency is touched
 * so ASan sees any short allocation. A refusal must say why. */
#include <stdint.h>
#include <stdlib.h>

#include <fitsio.h>

#include "memfile.h"
#include "metafits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = memfile_put(data, size);
    metafits m;
    char err[METAFITS_ERR_LEN] = "";
    if (metafits_read(path, &m, err) != 0) {
        fuzz_note("metafits_read", err);
        if (!err[0]) abort(); /* a refusal always says why */
        if (m.tiles) abort(); /* and leaves nothing to free */
        fits_clear_errmsg();
        return 0;
    }
    char verr[VCS_ERR_LEN];
    if (vcs_shape_check(&m.shape, verr) != 0) abort();
    if (m.ncoarse < 1 || m.ncoarse > METAFITS_MAX_COARSE || !m.tiles) abort();
    volatile double sink = 0;
    for (int a = 0; a < m.shape.ntile; a++) {
        const metafits_tile *t = &m.tiles[a];
        if (t->name[sizeof t->name - 1]) abort(); /* names are terminated */
        sink += t->north + t->east + t->height + t->length + t->antenna + t->flag;
    }
    for (int i = 0; i < m.ncoarse; i++) {
        if (metafits_coarse_index(&m, m.coarse[i]) < 0) abort();
        sink += metafits_fine_freq_hz(&m, m.coarse[i], m.shape.nfine - 1);
    }
    (void)sink;
    metafits_free(&m);
    return 0;
}
