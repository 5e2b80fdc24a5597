/* png.h - a minimal RGB canvas with lines, filled rectangles, heat maps and
 * a built-in 5x7 bitmap font, and a PNG encoder on zlib: enough for the
 * candidate plots, with no plotting library. */
#ifndef PNG_H
#define PNG_H

#include <stdint.h>

typedef struct canvas {
    int w, h;
    uint8_t *rgb; /* w * h * 3 */
} canvas;

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

int canvas_init(canvas *c, int w, int h, rgb bg);
void canvas_free(canvas *c);
void canvas_rect(canvas *c, int x0, int y0, int x1, int y1, rgb col);  /* filled */
void canvas_frame(canvas *c, int x0, int y0, int x1, int y1, rgb col); /* outline */
void canvas_line(canvas *c, int x0, int y0, int x1, int y1, rgb col);
/* Text in the built-in font (upper case, digits, . - + = : / ( ) , % _);
 * scale 1 = 6 pixels per character. */
void canvas_text(canvas *c, int x, int y, int scale, rgb col, const char *s);
/* Heat map of rows x cols values into the box, min..max -> white..black. */
void canvas_image(canvas *c, int x0, int y0, int x1, int y1, const float *v, int rows, int cols);
/* Writes an 8-bit RGB PNG; returns 0 or -1 with err filled. */
int png_write(const canvas *c, const char *path, char *err);

#endif
