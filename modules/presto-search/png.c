/* png.c - canvas drawing and PNG encoding (see png.h).
 *
 * PNG is a signature and chunks (length, type, data, CRC-32 of type+data);
 * the image is one IDAT chunk holding the zlib stream of the rows, each row
 * preceded by filter byte 0 (none). The font is the classic 5x7 matrix, one
 * byte per row with bit 4 the leftmost pixel. */
#include "png.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int canvas_init(canvas *c, int w, int h, rgb bg)
{
    c->w = w;
    c->h = h;
    c->rgb = malloc((size_t)w * h * 3);
    if (!c->rgb) return -1;
    for (int i = 0; i < w * h; i++) {
        c->rgb[3 * i] = bg.r;
        c->rgb[3 * i + 1] = bg.g;
        c->rgb[3 * i + 2] = bg.b;
    }
    return 0;
}

void canvas_free(canvas *c)
{
    free(c->rgb);
    c->rgb = NULL;
}

static void put(canvas *c, int x, int y, rgb col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    uint8_t *p = c->rgb + 3 * ((size_t)y * c->w + x);
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

void canvas_rect(canvas *c, int x0, int y0, int x1, int y1, rgb col)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            put(c, x, y, col);
}

void canvas_frame(canvas *c, int x0, int y0, int x1, int y1, rgb col)
{
    canvas_line(c, x0, y0, x1, y0, col);
    canvas_line(c, x0, y1, x1, y1, col);
    canvas_line(c, x0, y0, x0, y1, col);
    canvas_line(c, x1, y0, x1, y1, col);
}

void canvas_line(canvas *c, int x0, int y0, int x1, int y1, rgb col)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        put(c, x0, y0, col);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

static const struct {
    char ch;
    uint8_t row[7];
} font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}},
    {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
};

void canvas_text(canvas *c, int x, int y, int scale, rgb col, const char *s)
{
    if (scale < 1) scale = 1;
    for (; *s; s++, x += 6 * scale) {
        char ch = (char)toupper((unsigned char)*s);
        for (size_t g = 0; g < sizeof font / sizeof font[0]; g++) {
            if (font[g].ch != ch) continue;
            for (int r = 0; r < 7; r++)
                for (int b = 0; b < 5; b++)
                    if (font[g].row[r] & (0x10 >> b))
                        canvas_rect(c, x + b * scale, y + r * scale, x + (b + 1) * scale - 1,
                                    y + (r + 1) * scale - 1, col);
            break;
        }
    }
}

void canvas_image(canvas *c, int x0, int y0, int x1, int y1, const float *v, int rows, int cols)
{
    float lo = v[0], hi = v[0];
    for (int i = 0; i < rows * cols; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
    }
    float span = hi > lo ? hi - lo : 1.0f;
    for (int y = y0; y <= y1; y++) {
        int r = (int)((long)(y - y0) * rows / (y1 - y0 + 1));
        for (int x = x0; x <= x1; x++) {
            int k = (int)((long)(x - x0) * cols / (x1 - x0 + 1));
            float f = (v[(size_t)r * cols + k] - lo) / span;
            uint8_t g = (uint8_t)(255.0f * (1.0f - f));
            put(c, x, y, (rgb){g, g, g});
        }
    }
}

static int put_chunk(FILE *fp, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t hdr[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                      (uint8_t)len,         (uint8_t)type[0],     (uint8_t)type[1],
                      (uint8_t)type[2],     (uint8_t)type[3]};
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len) crc = crc32(crc, data, len);
    uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                       (uint8_t)crc};
    return fwrite(hdr, 1, 8, fp) == 8 && (len == 0 || fwrite(data, 1, len, fp) == len) &&
                   fwrite(tail, 1, 4, fp) == 4
               ? 0
               : -1;
}

int png_write(const canvas *c, const char *path, char *err)
{
    size_t rowlen = (size_t)c->w * 3 + 1;
    size_t rawlen = rowlen * c->h;
    uint8_t *raw = malloc(rawlen);
    for (int y = 0; y < c->h; y++) {
        raw[y * rowlen] = 0;
        memcpy(raw + y * rowlen + 1, c->rgb + (size_t)y * c->w * 3, (size_t)c->w * 3);
    }
    uLongf zlen = compressBound(rawlen);
    uint8_t *z = malloc(zlen);
    if (compress2(z, &zlen, raw, rawlen, 6) != Z_OK) {
        snprintf(err, 512, "%.300s: zlib compression failed", path);
        free(raw);
        free(z);
        return -1;
    }
    free(raw);
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        snprintf(err, 512, "%.300s: cannot create: %s", tmp, strerror(errno));
        free(z);
        return -1;
    }
    static const uint8_t sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    uint8_t ihdr[13] = {(uint8_t)(c->w >> 24),
                        (uint8_t)(c->w >> 16),
                        (uint8_t)(c->w >> 8),
                        (uint8_t)c->w,
                        (uint8_t)(c->h >> 24),
                        (uint8_t)(c->h >> 16),
                        (uint8_t)(c->h >> 8),
                        (uint8_t)c->h,
                        8,
                        2,
                        0,
                        0,
                        0};
    int rc = fwrite(sig, 1, 8, fp) == 8 ? 0 : -1;
    rc |= put_chunk(fp, "IHDR", ihdr, 13);
    rc |= put_chunk(fp, "IDAT", z, (uint32_t)zlen);
    rc |= put_chunk(fp, "IEND", NULL, 0);
    free(z);
    if (fclose(fp) != 0) rc = -1;
    if (rc != 0 || rename(tmp, path) != 0) {
        snprintf(err, 512, "%.300s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
