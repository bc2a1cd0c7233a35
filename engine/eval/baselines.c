/* Training-free detectors (sgad/baselines.h). */
#include <stdlib.h>

#include "../core/error.h"
#include "sgad/baselines.h"

float sg_image_msd(const float *a, const float *b, size_t dim)
{
    double s = 0;
    for (size_t k = 0; k < dim; k++) {
        double d = (double)a[k] - b[k];
        s += d * d;
    }
    return (float)(s / (double)dim);
}

sg_status sg_baseline_mean_frame(const float *normals, size_t n_normal, const float *images, size_t count,
                                 size_t dim, float *scores)
{
    if (n_normal == 0 || dim == 0)
        return sg_fail(SG_ERR_ARGUMENT, "the mean-frame baseline needs normal frames");
    double *sum = calloc(dim, sizeof *sum);
    float *mean = malloc(dim * sizeof *mean);
    if (!sum || !mean) {
        free(sum), free(mean);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory for the mean frame");
    }
    for (size_t i = 0; i < n_normal; i++)
        for (size_t k = 0; k < dim; k++)
            sum[k] += normals[i * dim + k];
    for (size_t k = 0; k < dim; k++)
        mean[k] = (float)(sum[k] / (double)n_normal);
    for (size_t i = 0; i < count; i++)
        scores[i] = sg_image_msd(images + i * dim, mean, dim);
    free(sum), free(mean);
    return SG_OK;
}

sg_status sg_baseline_nearest(const float *normals, size_t n_normal, const float *images, size_t count, size_t dim,
                              float *scores)
{
    if (n_normal == 0 || dim == 0)
        return sg_fail(SG_ERR_ARGUMENT, "the nearest-frame baseline needs normal frames");
    for (size_t i = 0; i < count; i++) {
        float best = sg_image_msd(images + i * dim, normals, dim);
        for (size_t j = 1; j < n_normal; j++) {
            float d = sg_image_msd(images + i * dim, normals + j * dim, dim);
            if (d < best)
                best = d;
        }
        scores[i] = best;
    }
    return SG_OK;
}

sg_status sg_baseline_frame_difference(const float *before, const float *images, size_t count, size_t dim,
                                       float *scores)
{
    if (!before || dim == 0)
        return sg_fail(SG_ERR_ARGUMENT, "the frame-difference baseline needs the frame before the first");
    for (size_t i = 0; i < count; i++)
        scores[i] = sg_image_msd(images + i * dim, i ? images + (i - 1) * dim : before, dim);
    return SG_OK;
}
