/* vcs.h - MWA legacy VCS voltage files: one coarse channel, one second.
 *
 * Each byte is one complex sample, real part in the low nibble, imaginary in
 * the high nibble, both two's complement -8..7, decoded by a 256-entry table.
 * Full-size files (128 tiles, 128 fine channels) use the exact legacy order
 *   index(s,k,ant,pol) = s*32768 + k*256 + pfb*64 + rec*4 + inc
 *   pfb = ant>>5, rec = (2*ant+pol)&15, inc = (ant>>3)&3.
 * Small test observations may use the reduced order [s][k][ant][pol]; the
 * metafits keyword VCSORDER ('FULL' or 'REDUCED') says which (see metafits.h).
 *
 * Errors: functions return 0 on success, -1 with a sentence in err. */
#ifndef VCS_H
#define VCS_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

#define VCS_ERR_LEN 512
#define VCS_FULL_NTILE 128
#define VCS_FULL_NFINE 128
#define VCS_FULL_NSAMP 10000
/* Sanity bounds on a shape read from a metafits: each dimension, and the
 * bytes of one second (4 GiB, ~13x a full-size second). A larger header value
 * is corruption, and would overflow or exhaust memory when sized. */
#define VCS_MAX_DIM 65536
#define VCS_MAX_NSAMP 10000000
#define VCS_MAX_SECOND_BYTES ((size_t)1 << 32)

typedef enum { VCS_LAYOUT_FULL = 0, VCS_LAYOUT_REDUCED = 1 } vcs_layout;

typedef struct vcs_shape {
    int ntile;         /* tiles (2 inputs each) */
    int nfine;         /* fine channels per coarse channel */
    int nsamp;         /* samples per fine channel per second */
    vcs_layout layout; /* FULL requires ntile == nfine == 128 */
} vcs_shape;

/* Pfb/rec/inc decomposition of a tile/pol in the full-size order. */
static inline int vcs_pfb(int ant)
{
    return ant >> 5;
}
static inline int vcs_rec(int ant, int pol)
{
    return (2 * ant + pol) & 15;
}
static inline int vcs_inc(int ant)
{
    return (ant >> 3) & 3;
}

/* Byte offset of (s, k, ant, pol) in a full-size second. */
static inline size_t vcs_full_index(int s, int k, int ant, int pol)
{
    return (size_t)s * (128 * 256) + (size_t)k * 256 + (size_t)vcs_pfb(ant) * 64 +
           (size_t)vcs_rec(ant, pol) * 4 + (size_t)vcs_inc(ant);
}

/* Byte offset of (s, k, ant, pol) for any shape and layout. */
size_t vcs_index(const vcs_shape *sh, int s, int k, int ant, int pol);
/* Offset of (ant, pol) inside the block of one (s, k): 0 .. 2*ntile-1. */
int vcs_input_offset(const vcs_shape *sh, int ant, int pol);
/* Bytes in one second's file. */
size_t vcs_second_bytes(const vcs_shape *sh);
/* Checks the shape (positive sizes within the bounds above, a second of at
 * most VCS_MAX_SECOND_BYTES; FULL only for 128 x 128). */
int vcs_shape_check(const vcs_shape *sh, char *err);

/* Fills the 256-entry decode table: table[b] = re + i*im of byte b. */
void vcs_decode_table(float complex table[256]);
/* Encodes re, im (clamped to -8..7) into one byte. */
static inline uint8_t vcs_encode(int re, int im)
{
    re = re < -8 ? -8 : re > 7 ? 7 : re;
    im = im < -8 ? -8 : im > 7 ? 7 : im;
    return (uint8_t)((re & 15) | ((im & 15) << 4));
}

/* File name of one second: "{dir}/{obsid}_{gps}_ch{NNN}.dat". */
void vcs_file_name(char *out, size_t len, const char *dir, long obsid, long gps, int coarse);
/* Reads a whole second into buf (vcs_second_bytes bytes). A missing file or
 * one whose size differs from the shape is an error naming both sizes. */
int vcs_read_second(const char *path, const vcs_shape *sh, uint8_t *buf, char *err);

#endif
