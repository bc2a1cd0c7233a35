/* A frame's anomaly score from its heat map (per-pixel reconstruction error,
 * S x S floats), and the quantile threshold of normal scores.
 *
 * The spec's score is the mean of the error map (at lambda 1), which dilutes a
 * defect covering a few percent of the frame in the noise of all the others.
 * The alternatives here, measured in docs/training.md ("Frame scores"):
 *
 *   1. smooth: a box filter of radius r (a (2r+1)^2 window, clipped at the
 *      border) so that one noisy pixel weighs less than a patch of error;
 *   2. standardise: each pixel's (smoothed) error as z = (e - mean_p) / std_p
 *      with the per-pixel statistics of normal frames, so that a pixel that is
 *      always hard to reconstruct (an edge, a texture) stops dominating;
 *   3. pool: the mean (the spec), the maximum, or the mean of the top k
 *      fraction of pixels.
 *
 * All of it runs on the CPU on maps the scorer already returns. */
#ifndef SGAD_FRAME_SCORE_H
#define SGAD_FRAME_SCORE_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_pool {
    SG_POOL_MEAN = 0, /* the spec's score */
    SG_POOL_MAX,
    SG_POOL_TOPK,     /* mean of the top `topk` fraction of pixels (at least one) */
} sg_pool;

typedef struct sg_frame_score_config {
    sg_pool pool;
    int smooth;       /* box filter radius in pixels, 0 = none */
    float topk;       /* fraction of pixels for SG_POOL_TOPK, (0, 1] */
    bool standardise; /* needs per-pixel statistics (sg_pixel_stats_fit) */
} sg_frame_score_config;

/* The spec's frame score: mean of the map, no smoothing, no standardisation
 * (what sg_model_create gives a model). */
sg_frame_score_config sg_frame_score_config_spec(void);
/* The frame score `sgad train` and the skipganomaly element give a model they
 * train unless told otherwise: max,std, which measured best on the generated
 * line, at lambda 1 and at the spec's 0.9 (docs/training.md, "The frame
 * score"); the spec's mean is one option away. */
sg_frame_score_config sg_frame_score_config_default(void);
/* NULL if valid, else a sentence saying what is wrong. */
const char *sg_frame_score_config_check(const sg_frame_score_config *c);
/* "mean", "max", "topk"; and back (false if unknown). */
const char *sg_pool_name(sg_pool p);
bool sg_pool_parse(const char *name, sg_pool *out);
/* Whether it is the spec's score (the mean of the raw map). */
bool sg_frame_score_config_is_spec(const sg_frame_score_config *c);
/* The setting as text, as checkpoints store it and options take it: the pooling
 * ("mean", "max" or "topk=F"), then ",smooth=R" and ",std" when set; e.g.
 * "topk=0.01,smooth=1,std". Parsing returns NULL, or a sentence saying what is
 * wrong (*out untouched). */
void sg_frame_score_config_describe(const sg_frame_score_config *c, char *out, size_t size);
const char *sg_frame_score_config_parse(const char *text, sg_frame_score_config *out);

/* Per-pixel mean and standard deviation (size*size each) of the smoothed maps
 * of `count` normal frames (at least 2). The standard deviation is floored at
 * a tenth of its mean over the map, so a pixel that never varies cannot turn a
 * tiny error into a huge z. A map value that is not a finite number refuses
 * them (SG_ERR_NUMERIC), nothing written. */
sg_status sg_pixel_stats_fit(const float *heat, size_t count, int size, int smooth, float *mean, float *std);

/* The score of one size x size map. mean/std are needed when c->standardise
 * (else ignored, may be NULL); work holds size*size floats. A map containing a
 * NaN scores NaN (never normal). */
float sg_frame_score(const sg_frame_score_config *c, const float *heat, int size, const float *mean,
                     const float *std, float *work);

/* The map the score pools (smoothed, standardised when the setting says so) into
 * out (size*size floats); the pixel-level metrics rank its pixels. */
void sg_frame_score_map(const sg_frame_score_config *c, const float *heat, int size, const float *mean,
                        const float *std, float *work, float *out);

/* The q quantile of n scores (linear interpolation between order statistics,
 * numpy's default), as calibration takes it; NaN if n is 0 or a score is NaN. */
float sg_quantile(const float *scores, size_t n, double q);

#ifdef __cplusplus
}
#endif
#endif
