/* Frame scores from heat maps and the training-free baselines, on synthetic
 * maps and streams whose answers are known by hand. No Vulkan device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sgad/baselines.h"
#include "sgad/frame_score.h"
#include "sgad/metrics.h"

#define S 32
#define PLANE (S * S)

static bool near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static float score(sg_pool pool, int smooth, float topk, const float *map)
{
    sg_frame_score_config c = {pool, smooth, topk, false};
    float work[PLANE];
    return sg_frame_score(&c, map, S, NULL, NULL, work);
}

/* A 3x3 patch of 1 on 0: the mean dilutes it, max and top-k do not. */
static void test_pooling(void)
{
    float map[PLANE] = {0};
    for (int y = 10; y < 13; y++)
        for (int x = 20; x < 23; x++)
            map[y * S + x] = 1;
    t_check(near(score(SG_POOL_MEAN, 0, 0, map), 9.0 / PLANE, 1e-7), "mean of a 3x3 patch: 9/1024");
    t_check(score(SG_POOL_MAX, 0, 0, map) == 1, "max: 1");
    /* 1% of 1024 pixels is 10 (rounded): the 9 ones and a zero */
    t_check(near(score(SG_POOL_TOPK, 0, 0.01f, map), 0.9, 1e-6), "top 1%%: %g (want 0.9)",
            score(SG_POOL_TOPK, 0, 0.01f, map));
    t_check(near(score(SG_POOL_TOPK, 0, 1e-6f, map), 1, 0), "top-k takes at least one pixel");
    t_check(near(score(SG_POOL_TOPK, 0, 1, map), 9.0 / PLANE, 1e-7), "top 100%% is the mean");
    /* a radius-1 box keeps the patch's centre at 1 and spreads its edges */
    t_check(near(score(SG_POOL_MAX, 1, 0, map), 1, 1e-6), "smoothed max: the patch's centre");
    float dot[PLANE] = {0};
    dot[5 * S + 5] = 1;
    t_check(near(score(SG_POOL_MAX, 1, 0, dot), 1.0 / 9, 1e-6), "smoothing divides a lone pixel by 9");
    dot[0] = 1; /* corner: the clipped window has 4 pixels */
    dot[5 * S + 5] = 0;
    t_check(near(score(SG_POOL_MAX, 1, 0, dot), 0.25, 1e-6), "a corner's window is clipped to 4 pixels");
    /* the smoothed mean equals the mean away from the border */
    t_check(near(score(SG_POOL_MEAN, 1, 0, map), 9.0 / PLANE, 1e-6), "smoothing keeps an inner patch's mass");
    map[7] = NAN;
    t_check(isnan(score(SG_POOL_MAX, 0, 0, map)), "a map with a NaN scores NaN (never normal)");
}

/* Normal maps with one pixel that is always hard (error 5 +- 1) and noise
 * elsewhere; a defect adds 1 over a 4x4 patch. Unstandardised, the hard pixel
 * dominates the maximum and the defect ranks among the normal frames;
 * standardised, every defect frame scores above every normal one. */
static void test_standardise(void)
{
    enum { N = 60, T = 40 };
    float *normal = t_random_array((size_t)N * PLANE, 0, 0.2f, 1), *test = t_random_array((size_t)T * PLANE, 0, 0.2f, 2);
    float *noise = t_random_array(N + T, -1, 1, 3);
    uint8_t truth[T];
    for (int i = 0; i < N; i++)
        normal[(size_t)i * PLANE + 3 * S + 3] = 5 + noise[i];
    for (int i = 0; i < T; i++) {
        float *m = test + (size_t)i * PLANE;
        m[3 * S + 3] = 5 + noise[N + i];
        truth[i] = i % 2;
        if (truth[i])
            for (int y = 16; y < 20; y++)
                for (int x = 8; x < 12; x++)
                    m[y * S + x] += 1;
    }
    float mean[PLANE], std[PLANE], work[PLANE], plain[T], stdz[T];
    t_ok(sg_pixel_stats_fit(normal, N, S, 0, mean, std), "sg_pixel_stats_fit");
    t_check(near(mean[3 * S + 3], 5, 0.3) && near(mean[0], 0.1, 0.03), "per-pixel means: %g at the hard pixel, %g",
            mean[3 * S + 3], mean[0]);
    sg_frame_score_config cp = {SG_POOL_MAX, 0, 0, false}, cz = {SG_POOL_MAX, 0, 0, true};
    for (int i = 0; i < T; i++) {
        plain[i] = sg_frame_score(&cp, test + (size_t)i * PLANE, S, mean, std, work);
        stdz[i] = sg_frame_score(&cz, test + (size_t)i * PLANE, S, mean, std, work);
    }
    sg_metrics a, b;
    t_ok(sg_metrics_compute(plain, truth, T, &a), "metrics");
    t_ok(sg_metrics_compute(stdz, truth, T, &b), "metrics");
    t_check(a.auc < 0.8, "unstandardised max follows the hard pixel: AUC %.3f", a.auc);
    t_check(b.auc == 1, "standardised max separates the defects: AUC %.3f", b.auc);
    float zero[2 * PLANE] = {0}; /* two constant maps */
    t_ok(sg_pixel_stats_fit(zero, 2, S, 0, mean, std), "statistics of constant maps");
    t_check(std[0] > 0 && isfinite(sg_frame_score(&cz, zero, S, mean, std, work)), "a constant pixel gives no 0/0");
    t_check(sg_pixel_stats_fit(zero, 1, S, 0, mean, std) == SG_ERR_ARGUMENT, "one map is refused");
    /* a NaN or an infinity in a normal map: refused, nothing written (the
     * means would be NaN and every standardised score with them) */
    float before = mean[5];
    normal[(size_t)(N - 1) * PLANE + 7] = NAN;
    t_check(sg_pixel_stats_fit(normal, N, S, 0, mean, std) == SG_ERR_NUMERIC && mean[5] == before,
            "a NaN in a normal map is refused, the statistics untouched");
    normal[(size_t)(N - 1) * PLANE + 7] = INFINITY;
    t_check(sg_pixel_stats_fit(normal, N, S, 1, mean, std) == SG_ERR_NUMERIC, "an infinity too");
    free(normal), free(test), free(noise);
}

static void test_config(void)
{
    sg_frame_score_config c = sg_frame_score_config_spec();
    t_check(c.pool == SG_POOL_MEAN && !c.smooth && !c.standardise && !sg_frame_score_config_check(&c),
            "the spec's setting: the mean, nothing else");
    c.pool = SG_POOL_TOPK, c.topk = 0;
    t_check(sg_frame_score_config_check(&c) != NULL, "top-k with k = 0 is refused");
    c.topk = 0.01f, c.smooth = 17;
    t_check(sg_frame_score_config_check(&c) != NULL, "a radius over 16 is refused");
    sg_pool p;
    t_check(sg_pool_parse("topk", &p) && p == SG_POOL_TOPK && !sg_pool_parse("median", &p), "pool names");
}

static void test_quantile(void)
{
    const float v[] = {5, 1, 4, 2, 3};
    t_check(sg_quantile(v, 5, 0.5) == 3, "median of 1..5");
    t_check(near(sg_quantile(v, 5, 0.9), 4.6, 1e-6), "0.9 quantile of 1..5 interpolates: %g",
            sg_quantile(v, 5, 0.9));
    t_check(sg_quantile(v, 5, 1) == 5 && sg_quantile(v, 5, 0) == 1, "the ends");
    const float w[] = {1, NAN};
    t_check(isnan(sg_quantile(w, 2, 0.5)) && isnan(sg_quantile(v, 0, 0.5)), "NaN in, or nothing: NaN");
}

/* Images of 4 floats: normals 0000 and 1111 (mean 0.5 each). */
static void test_baselines(void)
{
    const float normals[] = {0, 0, 0, 0, 1, 1, 1, 1};
    const float images[] = {0.5f, 0.5f, 0.5f, 0.5f, 1, 1, 1, 0, 0, 0, 0, 0};
    float s[3];
    t_ok(sg_baseline_mean_frame(normals, 2, images, 3, 4, s), "mean frame");
    t_check(s[0] == 0 && near(s[1], 0.25, 1e-7) && near(s[2], 0.25, 1e-7), "mean frame: %g %g %g", s[0], s[1], s[2]);
    t_ok(sg_baseline_nearest(normals, 2, images, 3, 4, s), "nearest");
    t_check(near(s[0], 0.25, 1e-7) && near(s[1], 0.25, 1e-7) && s[2] == 0, "nearest: %g %g %g", s[0], s[1], s[2]);
    const float before[] = {0.5f, 0.5f, 0.5f, 0.5f};
    t_ok(sg_baseline_frame_difference(before, images, 3, 4, s), "frame difference");
    t_check(s[0] == 0 && near(s[1], 0.25, 1e-7) && near(s[2], 0.75, 1e-7), "frame difference: %g %g %g", s[0], s[1],
            s[2]);
    t_check(sg_baseline_mean_frame(normals, 0, images, 3, 4, s) == SG_ERR_ARGUMENT &&
                sg_baseline_frame_difference(NULL, images, 3, 4, s) == SG_ERR_ARGUMENT,
            "no normals or no frame before: refused");
}

/* A stream: a bright square moving over a dark frame (every frame differs from
 * the last), one frame in five with a bright patch below it. The mean and
 * nearest frames know the normal look: AUC 1. */
static void test_stream(void)
{
    enum { N = 16, T = 50, D = 16 * 16 };
    float *normals = t_alloc((size_t)N * D), *frames = t_alloc((size_t)T * D), before[D] = {0}, s[T];
    uint8_t truth[T];
    for (int i = 0; i < N + T; i++) {
        float *f = i < N ? normals + (size_t)i * D : frames + (size_t)(i - N) * D;
        int x0 = i % 12;
        for (int y = 4; y < 8; y++)
            for (int x = x0; x < x0 + 4; x++)
                f[y * 16 + x] = 1;
        if (i >= N) {
            truth[i - N] = (i - N) % 5 == 2;
            if (truth[i - N])
                for (int y = 10; y < 14; y++)
                    for (int x = 2; x < 8; x++)
                        f[y * 16 + x] = 1;
        }
    }
    sg_metrics m;
    t_ok(sg_baseline_nearest(normals, N, frames, T, D, s), "nearest on the stream");
    t_ok(sg_metrics_compute(s, truth, T, &m), "metrics");
    t_check(m.auc == 1, "nearest normal frame: AUC %.3f", m.auc);
    t_ok(sg_baseline_mean_frame(normals, N, frames, T, D, s), "mean frame on the stream");
    t_ok(sg_metrics_compute(s, truth, T, &m), "metrics");
    t_check(m.auc == 1, "mean frame: AUC %.3f", m.auc);
    t_ok(sg_baseline_frame_difference(before, frames, T, D, s), "frame difference on the stream");
    t_ok(sg_metrics_compute(s, truth, T, &m), "metrics");
    /* the frame after a defect differs as much as the defect: good frames rank with them */
    t_check(m.auc > 0.5 && m.auc < 1, "frame difference: AUC %.3f, between chance and perfect", m.auc);
    free(normals), free(frames);
}

int main(void)
{
    test_pooling();
    test_standardise();
    test_config();
    test_quantile();
    test_baselines();
    test_stream();
    printf("frame_score: %d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
