/* Frame scores from heat maps: smoothing, per-pixel standardisation, pooling. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "sgad/frame_score.h"

sg_frame_score_config sg_frame_score_config_spec(void)
{
    sg_frame_score_config c = {SG_POOL_MEAN, 0, 0.01f, false};
    return c;
}

sg_frame_score_config sg_frame_score_config_default(void)
{
    sg_frame_score_config c = {SG_POOL_MAX, 0, 0.01f, true};
    return c;
}

const char *sg_frame_score_config_check(const sg_frame_score_config *c)
{
    if (c->pool != SG_POOL_MEAN && c->pool != SG_POOL_MAX && c->pool != SG_POOL_TOPK)
        return "the frame score's pooling must be mean, max or topk";
    if (c->smooth < 0 || c->smooth > 16)
        return "the frame score's smoothing radius must be 0..16 pixels";
    if (c->pool == SG_POOL_TOPK && !(c->topk > 0 && c->topk <= 1))
        return "the frame score's top-k fraction must be in (0, 1]";
    return NULL;
}

const char *sg_pool_name(sg_pool p)
{
    switch (p) {
    case SG_POOL_MEAN: return "mean";
    case SG_POOL_MAX: return "max";
    case SG_POOL_TOPK: return "topk";
    }
    return "?";
}

bool sg_pool_parse(const char *name, sg_pool *out)
{
    for (int p = SG_POOL_MEAN; p <= SG_POOL_TOPK; p++)
        if (!strcmp(name, sg_pool_name((sg_pool)p))) {
            *out = (sg_pool)p;
            return true;
        }
    return false;
}

bool sg_frame_score_config_is_spec(const sg_frame_score_config *c)
{
    return c->pool == SG_POOL_MEAN && c->smooth == 0 && !c->standardise;
}

void sg_frame_score_config_describe(const sg_frame_score_config *c, char *out, size_t size)
{
    int n = c->pool == SG_POOL_TOPK ? snprintf(out, size, "topk=%g", (double)c->topk)
                                    : snprintf(out, size, "%s", sg_pool_name(c->pool));
    if (n >= 0 && (size_t)n < size && c->smooth)
        n += snprintf(out + n, size - (size_t)n, ",smooth=%d", c->smooth);
    if (n >= 0 && (size_t)n < size && c->standardise)
        snprintf(out + n, size - (size_t)n, ",std");
}

const char *sg_frame_score_config_parse(const char *text, sg_frame_score_config *out)
{
    static const char *const USAGE =
        "a frame score is mean, max or topk=F, then optionally ,smooth=R and ,std (e.g. topk=0.01,smooth=1,std)";
    char buf[128];
    if (!text || strlen(text) >= sizeof buf)
        return USAGE;
    strcpy(buf, text);
    sg_frame_score_config c = sg_frame_score_config_spec();
    bool first = true;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = false) {
        char *end;
        if (first && !strcmp(tok, "mean"))
            c.pool = SG_POOL_MEAN;
        else if (first && !strcmp(tok, "max"))
            c.pool = SG_POOL_MAX;
        else if (first && !strncmp(tok, "topk=", 5)) {
            c.pool = SG_POOL_TOPK;
            c.topk = strtof(tok + 5, &end);
            if (end == tok + 5 || *end)
                return USAGE;
        } else if (!first && !strncmp(tok, "smooth=", 7)) {
            long r = strtol(tok + 7, &end, 10);
            if (end == tok + 7 || *end || r < 0 || r > 16)
                return "a frame score's smooth=R takes a radius of 0..16 pixels";
            c.smooth = (int)r;
        } else if (!first && !strcmp(tok, "std"))
            c.standardise = true;
        else
            return USAGE;
    }
    if (first)
        return USAGE;
    const char *bad = sg_frame_score_config_check(&c);
    if (bad)
        return bad;
    *out = c;
    return NULL;
}

/* Box filter of radius r, clipped at the border (each output averages the
 * window's pixels inside the map), separable: rows into tmp, then columns. */
static void box_smooth(const float *in, int size, int r, float *tmp, float *out)
{
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            int x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= size ? size - 1 : x + r;
            double s = 0;
            for (int k = x0; k <= x1; k++)
                s += in[y * size + k];
            tmp[y * size + x] = (float)(s / (x1 - x0 + 1));
        }
    for (int y = 0; y < size; y++) {
        int y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= size ? size - 1 : y + r;
        for (int x = 0; x < size; x++) {
            double s = 0;
            for (int k = y0; k <= y1; k++)
                s += tmp[k * size + x];
            out[y * size + x] = (float)(s / (y1 - y0 + 1));
        }
    }
}

/* The map smoothed into out (work: size*size floats of scratch). */
static void prepare(const float *heat, int size, int smooth, float *work, float *out)
{
    if (smooth > 0)
        box_smooth(heat, size, smooth, work, out);
    else
        memcpy(out, heat, (size_t)size * size * sizeof(float));
}

sg_status sg_pixel_stats_fit(const float *heat, size_t count, int size, int smooth, float *mean, float *std)
{
    if (count < 2 || size < 1)
        return sg_fail(SG_ERR_ARGUMENT, "per-pixel statistics need at least 2 normal maps, got %zu", count);
    size_t plane = (size_t)size * size;
    double *sum = calloc(plane, sizeof *sum), *sq = calloc(plane, sizeof *sq);
    float *work = malloc(plane * sizeof *work), *map = malloc(plane * sizeof *map);
    if (!sum || !sq || !work || !map) {
        free(sum), free(sq), free(work), free(map);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory for per-pixel statistics");
    }
    for (size_t i = 0; i < count * plane; i++)
        if (!isfinite(heat[i])) {
            free(sum), free(sq), free(work), free(map);
            return sg_fail(SG_ERR_NUMERIC, "per-pixel statistics: normal map %zu of %zu holds a value that is not a "
                           "finite number (%g); nothing measured", i / plane, count, (double)heat[i]);
        }
    for (size_t i = 0; i < count; i++) {
        prepare(heat + i * plane, size, smooth, work, map);
        for (size_t p = 0; p < plane; p++) {
            sum[p] += map[p];
            sq[p] += (double)map[p] * map[p];
        }
    }
    double std_sum = 0;
    for (size_t p = 0; p < plane; p++) {
        double m = sum[p] / count, v = (sq[p] - count * m * m) / (double)(count - 1);
        mean[p] = (float)m;
        std[p] = (float)sqrt(v > 0 ? v : 0);
        std_sum += std[p];
    }
    float floor_std = (float)(0.1 * std_sum / plane);
    if (!(floor_std > 0))
        floor_std = 1e-12f;
    for (size_t p = 0; p < plane; p++)
        if (!(std[p] >= floor_std))
            std[p] = floor_std;
    free(sum), free(sq), free(work), free(map);
    return SG_OK;
}

static int desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

void sg_frame_score_map(const sg_frame_score_config *c, const float *heat, int size, const float *mean,
                        const float *std, float *work, float *out)
{
    size_t plane = (size_t)size * size;
    prepare(heat, size, c->smooth, work, out);
    if (c->standardise)
        for (size_t p = 0; p < plane; p++)
            out[p] = (out[p] - mean[p]) / std[p];
}

float sg_frame_score(const sg_frame_score_config *c, const float *heat, int size, const float *mean,
                     const float *std, float *work)
{
    size_t plane = (size_t)size * size;
    for (size_t p = 0; p < plane; p++)
        if (isnan(heat[p]))
            return NAN;
    float *map = malloc(plane * sizeof *map);
    if (!map)
        return NAN;
    sg_frame_score_map(c, heat, size, mean, std, work, map);
    double score = 0;
    if (c->pool == SG_POOL_MEAN) {
        for (size_t p = 0; p < plane; p++)
            score += map[p];
        score /= (double)plane;
    } else if (c->pool == SG_POOL_MAX) {
        score = map[0];
        for (size_t p = 1; p < plane; p++)
            if (map[p] > score)
                score = map[p];
    } else {
        size_t k = (size_t)lround(c->topk * (double)plane);
        if (k < 1)
            k = 1;
        if (k > plane)
            k = plane;
        qsort(map, plane, sizeof *map, desc);
        for (size_t i = 0; i < k; i++)
            score += map[i];
        score /= (double)k;
    }
    free(map);
    return (float)score;
}

static int asc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float sg_quantile(const float *scores, size_t n, double q)
{
    if (n == 0)
        return NAN;
    float *v = malloc(n * sizeof *v);
    if (!v)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i])) {
            free(v);
            return NAN;
        }
        v[i] = scores[i];
    }
    qsort(v, n, sizeof *v, asc);
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
    float out = (float)(v[lo] + (pos - (double)lo) * (v[hi] - v[lo]));
    free(v);
    return out;
}
