/* Detectors that need no training, to measure a model against on the same
 * frames (the images of sgad/model.h: C x S x S floats each, `dim` floats).
 * Every score is a mean squared pixel difference, higher = more anomalous:
 *
 *   mean frame:   to the mean of the normal reference frames;
 *   nearest:      to the nearest normal reference frame (1-NN);
 *   frame difference: to the previous frame of the stream itself (no reference:
 *                 what a stream offers with no normal frames at all). */
#ifndef SGAD_BASELINES_H
#define SGAD_BASELINES_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean squared difference of two images of dim floats. */
float sg_image_msd(const float *a, const float *b, size_t dim);

/* scores[i] = msd(images[i], mean of normals[0..n_normal)). */
sg_status sg_baseline_mean_frame(const float *normals, size_t n_normal, const float *images, size_t count,
                                 size_t dim, float *scores);

/* scores[i] = min over normals of msd(images[i], normal). */
sg_status sg_baseline_nearest(const float *normals, size_t n_normal, const float *images, size_t count, size_t dim,
                              float *scores);

/* scores[i] = msd(images[i], images[i-1]); the first frame is compared with
 * `before` (the stream's frame before the first one). */
sg_status sg_baseline_frame_difference(const float *before, const float *images, size_t count, size_t dim,
                                       float *scores);

#ifdef __cplusplus
}
#endif
#endif
