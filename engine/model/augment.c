/* Augmentation that keeps normal images normal (sgad/fit.h, sg_augment):
 * small shifts with the border pixels repeated (no black edge appears), the
 * flips the scene allows, and a brightness gain. Every choice is a hash of
 * (seed, step, image), so a resumed run augments as the uninterrupted one. */
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "sgad/fit.h"
#include "sgad/util.h"

bool sg_augment_enabled(const sg_augment *a)
{
    return a->shift > 0 || a->hflip || a->vflip || a->brightness > 0;
}

const char *sg_augment_check(const sg_augment *a)
{
    if (a->shift < 0 || a->shift > 64)
        return "augmentation shift must be 0..64 pixels";
    if (!(a->brightness >= 0 && a->brightness < 1))
        return "augmentation brightness must be in [0, 1)";
    return NULL;
}

/* uniform in [0, 1) */
static double uniform(uint64_t *st)
{
    return (double)(sg_splitmix64_next(st) >> 11) * (1.0 / 9007199254740992.0);
}

void sg_augment_images(const sg_augment *a, float *images, size_t count, int channels, int size, uint64_t seed,
                       uint64_t step)
{
    size_t plane = (size_t)size * size, image = (size_t)channels * plane;
    float *copy = malloc(plane * sizeof *copy);
    if (!copy)
        return; /* out of memory: the batch stays as it was, still normal */
    for (size_t i = 0; i < count; i++) {
        uint64_t st = seed ^ (step * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)i * 0xbf58476d1ce4e5b9ull);
        sg_splitmix64_next(&st);
        int dx = a->shift ? (int)(uniform(&st) * (2 * a->shift + 1)) - a->shift : 0;
        int dy = a->shift ? (int)(uniform(&st) * (2 * a->shift + 1)) - a->shift : 0;
        bool hf = a->hflip && uniform(&st) < 0.5, vf = a->vflip && uniform(&st) < 0.5;
        float gain = a->brightness > 0 ? (float)(1.0 + a->brightness * (2 * uniform(&st) - 1)) : 1.0f;
        for (int c = 0; c < channels; c++) {
            float *p = images + i * image + (size_t)c * plane;
            memcpy(copy, p, plane * sizeof *copy);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) {
                    int sx = x - dx, sy = y - dy; /* content moves by (dx, dy) */
                    sx = sx < 0 ? 0 : sx >= size ? size - 1 : sx;
                    sy = sy < 0 ? 0 : sy >= size ? size - 1 : sy;
                    if (hf)
                        sx = size - 1 - sx;
                    if (vf)
                        sy = size - 1 - sy;
                    /* brightness scales the [0, 1] intensity: (x + 1) / 2 */
                    float v = (copy[sy * size + sx] + 1.0f) * gain - 1.0f;
                    p[y * size + x] = v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;
                }
        }
    }
    free(copy);
}
