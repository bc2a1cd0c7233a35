/* Image files written by eval and score: colour-mapped heat maps and the grid
 * of inputs, reconstructions and heat maps. Plain PNGs through the engine's
 * writer; pixels are magnified by whole factors so 32x32 tiles stay visible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A black-red-yellow-white ramp (like "hot"): dark for small errors, bright and
 * warm for large ones; readable in grey print too (monotone in brightness). */
static void heat_colour(float v, uint8_t rgb[3])
{
    if (!(v > 0)) /* also NaN */
        v = 0;
    if (v > 1)
        v = 1;
    float r = fminf(1.0f, v * 3.0f), g = fminf(1.0f, fmaxf(0.0f, v * 3.0f - 1.0f)),
          b = fminf(1.0f, fmaxf(0.0f, v * 3.0f - 2.0f));
    rgb[0] = (uint8_t)lrintf(r * 255.0f);
    rgb[1] = (uint8_t)lrintf(g * 255.0f);
    rgb[2] = (uint8_t)lrintf(b * 255.0f);
}

float cli_heat_scale(const sg_calibration *cal, const float *heat, size_t n)
{
    if (cal && cal->valid && cal->threshold > 0)
        return 2.0f * cal->threshold;
    float m = 0;
    for (size_t i = 0; i < n; i++)
        if (heat[i] > m)
            m = heat[i];
    return m > 0 ? m : 1.0f;
}

static int magnification(int size)
{
    return size >= 64 ? 1 : (64 + size - 1) / size;
}

static bool write_png(const char *path, int w, int h, const uint8_t *rgb)
{
    sg_status s = sg_image_write_png(path, w, h, 3, rgb);
    if (s != SG_OK) {
        cli_fail(s, "cannot write %s", path);
        return false;
    }
    return true;
}

bool cli_write_heatmap(const char *path, const float *heat, int size, float scale)
{
    uint8_t *rgb = malloc((size_t)size * size * 3);
    if (!rgb) {
        cli_fail(SG_OK, "out of memory writing %s", path);
        return false;
    }
    for (size_t i = 0; i < (size_t)size * size; i++)
        heat_colour(heat[i] / scale, rgb + 3 * i);
    bool ok = write_png(path, size, size, rgb);
    free(rgb);
    return ok;
}

/* Pixel (x, y) of an image CHW in [-1, 1] as RGB (gray repeated). */
static void image_rgb(const float *img, int channels, int size, int x, int y, uint8_t rgb[3])
{
    for (int k = 0; k < 3; k++) {
        int c = channels == 1 ? 0 : k;
        float v = (img[((size_t)c * size + y) * size + x] + 1.0f) * 127.5f;
        rgb[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrintf(v));
    }
}

bool cli_write_grid(const char *path, int channels, int size, size_t count, const float *inputs,
                    const float *reconstructions, const float *heatmaps, const uint8_t *truth, float heat_scale)
{
    enum { GAP = 2, BAND = 6 };
    int mag = magnification(size), tile = size * mag;
    int w = (int)count * (tile + GAP) + GAP, h = BAND + 3 * (tile + GAP) + GAP;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) {
        cli_fail(SG_OK, "out of memory writing %s", path);
        return false;
    }
    memset(rgb, 64, (size_t)w * h * 3); /* gray gaps between tiles */
    /* a band over each column in the histogram's colours: blue normal, red abnormal */
    for (size_t i = 0; i < count; i++)
        for (int y = 0; y < BAND - GAP; y++)
            for (int x = 0; x < tile; x++) {
                uint8_t *px = rgb + 3 * ((size_t)(GAP + y) * w + (size_t)(GAP + (int)i * (tile + GAP) + x));
                px[0] = truth[i] ? 214 : 31;
                px[1] = truth[i] ? 39 : 119;
                px[2] = truth[i] ? 40 : 180;
            }
    size_t image = (size_t)channels * size * size, plane = (size_t)size * size;
    for (size_t i = 0; i < count; i++)
        for (int row = 0; row < 3; row++)
            for (int y = 0; y < tile; y++)
                for (int x = 0; x < tile; x++) {
                    uint8_t *px = rgb + 3 * ((size_t)(BAND + GAP + row * (tile + GAP) + y) * w +
                                             (size_t)(GAP + (int)i * (tile + GAP) + x));
                    int sx = x / mag, sy = y / mag;
                    if (row == 0)
                        image_rgb(inputs + i * image, channels, size, sx, sy, px);
                    else if (row == 1)
                        image_rgb(reconstructions + i * image, channels, size, sx, sy, px);
                    else
                        heat_colour(heatmaps[i * plane + (size_t)sy * size + sx] / heat_scale, px);
                }
    bool ok = write_png(path, w, h, rgb);
    free(rgb);
    return ok;
}
