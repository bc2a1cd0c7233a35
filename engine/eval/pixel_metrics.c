/* Pixel-level metrics (pixel_metrics.h): the ROC AUC through metrics.c, and the
 * per-region overlap curve from one walk down the pixels in decreasing score. */
#include <math.h>
#include <stdlib.h>

#include "../core/error.h"
#include "sgad/metrics.h"
#include "sgad/pixel_metrics.h"

typedef struct ranked_pixel {
    float score;
    int32_t region; /* -1: a normal pixel */
} ranked_pixel;

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const ranked_pixel *)a)->score, y = ((const ranked_pixel *)b)->score;
    return (x < y) - (x > y);
}

/* Labels the 8-connected regions of one width x height mask into region[]
 * (-1 outside), numbering from *next and counting their pixels into size[];
 * stack holds width*height indices. */
static void label_regions(const uint8_t *mask, int width, int height, int32_t *region, size_t *size,
                          int32_t *next, size_t *stack)
{
    size_t plane = (size_t)width * height;
    for (size_t p = 0; p < plane; p++)
        region[p] = -1;
    for (size_t seed = 0; seed < plane; seed++) {
        if (!mask[seed] || region[seed] >= 0)
            continue;
        int32_t id = (*next)++;
        size_t top = 0;
        region[seed] = id;
        stack[top++] = seed;
        size[id] = 0;
        while (top > 0) {
            size_t p = stack[--top];
            size[id]++;
            int x = (int)(p % (size_t)width), y = (int)(p / (size_t)width);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = x + dx, ny = y + dy;
                    if (nx < 0 || ny < 0 || nx >= width || ny >= height)
                        continue;
                    size_t q = (size_t)ny * width + nx;
                    if (mask[q] && region[q] < 0) {
                        region[q] = id;
                        stack[top++] = q;
                    }
                }
        }
    }
}

sg_status sg_pixel_metrics_compute(const float *maps, const uint8_t *masks, size_t count, int width, int height,
                                   double fpr_limit, sg_pixel_metrics *out)
{
    if (!maps || !masks || !out || count == 0 || width < 1 || height < 1)
        return sg_fail(SG_ERR_ARGUMENT, "pixel metrics: no maps given");
    if (!(fpr_limit > 0 && fpr_limit <= 1))
        return sg_fail(SG_ERR_ARGUMENT, "pixel metrics: the false-positive limit must be in (0, 1], got %g",
                       fpr_limit);
    size_t plane = (size_t)width * height;
    if (count > SIZE_MAX / plane || count * plane > INT32_MAX)
        return sg_fail(SG_ERR_ARGUMENT, "pixel metrics: %zu maps of %dx%d are too many pixels", count, width, height);
    size_t n = count * plane;

    sg_metrics roc;
    sg_status st = sg_metrics_compute(maps, masks, n, &roc); /* refuses NaN and a missing class */
    if (st != SG_OK)
        return st;

    ranked_pixel *v = malloc(n * sizeof *v);
    int32_t *region = malloc(plane * sizeof *region);
    size_t *stack = malloc(plane * sizeof *stack);
    size_t *size = malloc(roc.positives * sizeof *size); /* at most one region per defect pixel */
    if (!v || !region || !stack || !size) {
        free(v), free(region), free(stack), free(size);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "pixel metrics: out of host memory for %zu pixels", n);
    }
    int32_t regions = 0;
    for (size_t i = 0; i < count; i++) {
        label_regions(masks + i * plane, width, height, region, size, &regions, stack);
        for (size_t p = 0; p < plane; p++)
            v[i * plane + p] = (ranked_pixel){maps[i * plane + p], region[p]};
    }
    qsort(v, n, sizeof *v, by_score_desc);

    /* The curve's points are the thresholds between groups of equal scores;
     * the area is taken by trapezoids, the last one cut at fpr_limit. */
    double negatives = (double)roc.negatives, overlap_sum = 0, area = 0, fpr0 = 0, pro0 = 0;
    size_t fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        for (; j < n && v[j].score == v[i].score; j++) {
            if (v[j].region < 0)
                fp++;
            else
                overlap_sum += 1.0 / (double)size[v[j].region];
        }
        i = j;
        double fpr = (double)fp / negatives, pro = overlap_sum / (double)regions;
        if (fpr >= fpr_limit) {
            double cut = fpr > fpr0 ? pro0 + (pro - pro0) * (fpr_limit - fpr0) / (fpr - fpr0) : pro;
            area += (fpr_limit - fpr0) * (pro0 + cut) / 2;
            fpr0 = fpr_limit;
            break;
        }
        area += (fpr - fpr0) * (pro0 + pro) / 2;
        fpr0 = fpr, pro0 = pro;
    }
    out->positives = roc.positives;
    out->negatives = roc.negatives;
    out->regions = (size_t)regions;
    out->auc = roc.auc;
    out->aupro = area / fpr_limit;
    free(v), free(region), free(stack), free(size);
    return SG_OK;
}
