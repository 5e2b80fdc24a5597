/* fuzz_filterbank.c - libFuzzer harness: SIGPROC filterbank reading
 * (fil_read in modules/presto-search/filterbank.c).
 *
 * Each input is a whole .fil file handed over through a memfd. A file
 * fil_read accepts must give at least 16 samples of nchan channels, positive
 * finite channel frequencies, a positive sample time and finite samples (32-
 * bit NaN/Inf are refused), and no more samples than the data part holds;
 * every sample is touched so ASan sees a short buffer. A refusal must say
 * why and leave nothing allocated. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "filterbank.h"
#include "memfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = memfile_put(data, size);
    fb_data fb;
    char err[FB_ERR_LEN] = "";
    if (fil_read(&fb, path, 0, err) != 0) {
        fuzz_note("fil_read", err);
        if (!err[0] || fb.data || fb.freq) abort();
        return 0;
    }
    if (fb.nchan < 1 || fb.nsamp < 16 || !(fb.tsamp > 0)) abort();
    /* at least one byte per sample per channel must have been in the file */
    if ((uint64_t)fb.nchan * (uint64_t)fb.nsamp > size) abort();
    for (int c = 0; c < fb.nchan; c++)
        if (!(fb.freq[c] > 0) || !isfinite(fb.freq[c]) || fb.weight[c] != 1.0f) abort();
    for (size_t i = 0; i < (size_t)fb.nchan * (size_t)fb.nsamp; i++)
        if (!isfinite(fb.data[i])) abort();
    double lo, hi, bw;
    fb_band(&fb, &lo, &hi, &bw);
    if (lo > hi || !(bw > 0)) abort();
    fb_free(&fb);
    return 0;
}
