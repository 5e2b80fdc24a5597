/* fuzz_vcs.c - libFuzzer harness: legacy VCS voltage seconds (modules/lib/vcs.c).
 *
 * A .dat file has no header of its own: its shape (tiles, fine channels,
 * samples, byte order) comes from the metafits. So an input is a 13-byte
 * shape header (int32 LE ntile, nfine, nsamp; uint8 layout, bit 0 =
 * REDUCED) followed by the file's bytes. For a shape vcs_shape_check
 * accepts, the byte count must not overflow and must stay within
 * VCS_MAX_SECOND_BYTES; vcs_read_second must accept the file exactly when
 * its size matches (and never touch the buffer otherwise); and vcs_index must
 * map every (sample, fine channel, tile, pol) to a distinct byte inside the
 * second, each (s, k) block holding 2*ntile inputs. */
#include <complex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memfile.h"
#include "vcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int32_t le32(const uint8_t *p)
{
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 13) return 0;
    vcs_shape sh = {.ntile = le32(data),
                    .nfine = le32(data + 4),
                    .nsamp = le32(data + 8),
                    .layout = (data[12] & 1) ? VCS_LAYOUT_REDUCED : VCS_LAYOUT_FULL};
    const uint8_t *body = data + 13;
    size_t nbody = size - 13;
    char err[VCS_ERR_LEN] = "";
    if (vcs_shape_check(&sh, err) != 0) {
        fuzz_note("vcs_shape_check", err);
        if (!err[0]) abort();
        return 0;
    }
    unsigned __int128 exact = (unsigned __int128)sh.nsamp * sh.nfine * sh.ntile * 2;
    size_t bytes = vcs_second_bytes(&sh);
    if ((unsigned __int128)bytes != exact) abort(); /* size_t overflow */
    if (bytes > VCS_MAX_SECOND_BYTES) abort();      /* an accepted shape is a sane size */
    for (int a = 0; a < sh.ntile; a++)
        for (int p = 0; p < 2; p++) {
            int off = vcs_input_offset(&sh, a, p);
            if (off < 0 || off >= 2 * sh.ntile) abort();
        }

    const char *path = memfile_put(body, nbody);
    if (nbody != bytes) {
        /* wrong size: refused before the (absent) buffer is touched */
        err[0] = 0;
        if (vcs_read_second(path, &sh, NULL, err) == 0 || !err[0]) abort();
        return 0;
    }
    uint8_t *buf = malloc(bytes);
    uint8_t *seen = calloc(bytes, 1);
    if (!buf || !seen) abort();
    if (vcs_read_second(path, &sh, buf, err) != 0) abort();
    if (memcmp(buf, body, bytes) != 0) abort();
    float complex lut[256];
    vcs_decode_table(lut);
    float complex sum = 0;
    for (int s = 0; s < sh.nsamp; s++)
        for (int k = 0; k < sh.nfine; k++)
            for (int a = 0; a < sh.ntile; a++)
                for (int p = 0; p < 2; p++) {
                    size_t i = vcs_index(&sh, s, k, a, p);
                    if (i >= bytes || seen[i]) abort(); /* outside, or two inputs on one byte */
                    seen[i] = 1;
                    if (i - ((size_t)s * sh.nfine + k) * 2 * sh.ntile !=
                        (size_t)vcs_input_offset(&sh, a, p))
                        abort();
                    float complex v = lut[buf[i]];
                    if (crealf(v) < -8 || crealf(v) > 7 || cimagf(v) < -8 || cimagf(v) > 7) abort();
                    if (vcs_encode((int)crealf(v), (int)cimagf(v)) != buf[i]) abort();
                    sum += v;
                }
    volatile float sink = crealf(sum);
    (void)sink;
    free(seen);
    free(buf);
    return 0;
}
