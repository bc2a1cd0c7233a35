/* Training augmentation (sg_augment_images): shifts move content by at most
 * the set number of pixels and lose nothing inside, flips mirror about half of
 * the images, brightness stays within its gain and the range, nothing happens
 * when everything is off, and the choices repeat for the same (seed, step).
 * No Vulkan device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/fit.h"

#define S 32
#define N 64

/* Images of -1 with one bright pixel at (x, y). */
static float *dots(int x, int y)
{
    float *im = t_alloc((size_t)N * S * S);
    for (size_t i = 0; i < (size_t)N * S * S; i++)
        im[i] = -1;
    for (int i = 0; i < N; i++)
        im[(size_t)i * S * S + y * S + x] = 1;
    return im;
}

/* Where image i's bright pixel is (the only one above 0), or -1. */
static int find(const float *im, int i)
{
    int at = -1, n = 0;
    for (int p = 0; p < S * S; p++)
        if (im[(size_t)i * S * S + p] > 0)
            at = p, n++;
    return n == 1 ? at : -1;
}

int main(void)
{
    sg_augment a = {0};
    float *im = dots(10, 12), *orig = t_copy_array(im, (size_t)N * S * S);
    sg_augment_images(&a, im, N, 1, S, 7, 0);
    t_check(!sg_augment_enabled(&a) && !memcmp(im, orig, (size_t)N * S * S * sizeof(float)),
            "all off: the images are untouched");

    a.shift = 3;
    sg_augment_images(&a, im, N, 1, S, 7, 0);
    bool within = true, moved = false;
    for (int i = 0; i < N; i++) {
        int p = find(im, i);
        int dx = p % S - 10, dy = p / S - 12;
        within = within && p >= 0 && abs(dx) <= 3 && abs(dy) <= 3;
        moved = moved || dx || dy;
    }
    t_check(within && moved, "shift 3: every dot kept and moved by at most 3 pixels each way (some moved)");
    float *again = t_copy_array(orig, (size_t)N * S * S);
    sg_augment_images(&a, again, N, 1, S, 7, 0);
    t_check(!memcmp(im, again, (size_t)N * S * S * sizeof(float)), "the same (seed, step): the same images");
    memcpy(again, orig, (size_t)N * S * S * sizeof(float));
    sg_augment_images(&a, again, N, 1, S, 7, 1);
    t_check(memcmp(im, again, (size_t)N * S * S * sizeof(float)) != 0, "another step: other shifts");

    sg_augment f = {.hflip = true};
    memcpy(im, orig, (size_t)N * S * S * sizeof(float));
    sg_augment_images(&f, im, N, 1, S, 7, 0);
    int mirrored = 0, kept = 0;
    for (int i = 0; i < N; i++) {
        int p = find(im, i);
        mirrored += p == 12 * S + (S - 1 - 10);
        kept += p == 12 * S + 10;
    }
    t_check(mirrored + kept == N && mirrored >= 16 && kept >= 16, "hflip: %d mirrored, %d kept (about half)",
            mirrored, kept);

    sg_augment b = {.brightness = 0.2f};
    float *grey = t_alloc((size_t)N * S * S);
    for (size_t i = 0; i < (size_t)N * S * S; i++)
        grey[i] = 0.5f; /* intensity 0.75 */
    sg_augment_images(&b, grey, N, 1, S, 7, 0);
    bool ok = true;
    float lo = 2, hi = -2;
    for (int i = 0; i < N; i++) {
        float v = grey[(size_t)i * S * S];
        for (int p = 0; p < S * S; p++)
            ok = ok && grey[(size_t)i * S * S + p] == v; /* a gain per image */
        lo = fminf(lo, v), hi = fmaxf(hi, v);
    }
    /* (0.5 + 1) * [0.8, 1.2] - 1 = [0.2, 0.8] */
    t_check(ok && lo >= 0.2f - 1e-6f && hi <= 0.8f + 1e-6f && hi - lo > 0.2f,
            "brightness 0.2: one gain per image, values %g..%g within 0.2..0.8", lo, hi);
    for (size_t i = 0; i < (size_t)N * S * S; i++)
        grey[i] = 0.95f;
    sg_augment_images(&b, grey, N, 1, S, 7, 0);
    ok = true;
    for (size_t i = 0; i < (size_t)N * S * S; i++)
        ok = ok && grey[i] <= 1.0f;
    t_check(ok, "brightness clips at 1");

    sg_augment bad = {.shift = -1};
    t_check(sg_augment_check(&bad) != NULL, "a negative shift is refused");
    bad = (sg_augment){.brightness = 1};
    t_check(sg_augment_check(&bad) != NULL, "brightness 1 is refused");
    t_check(sg_augment_check(&a) == NULL, "shift 3 is fine");
    free(im), free(orig), free(again), free(grey);
    printf("augment: %d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
