/* Pixel-level detection metrics of heat maps against painted-defect masks, as
 * anomalib reports them:
 *
 *   - pixel ROC AUC: every pixel of every map is one sample (sg_metrics_compute);
 *   - AUPRO, the area under the per-region overlap curve: each connected region
 *     of a mask (8-connected, within one map) is one defect; at a threshold, a
 *     region's overlap is the share of its pixels at or above it, and PRO is the
 *     mean overlap over all regions, so a small defect weighs as much as a large
 *     one. PRO is integrated over the false-positive rate of the normal pixels
 *     from 0 to fpr_limit (anomalib's 0.3) and divided by fpr_limit: 1 finds
 *     every region whole before a single normal pixel is flagged.
 *
 * Equal scores are one threshold, as in metrics.h. */
#ifndef SGAD_PIXEL_METRICS_H
#define SGAD_PIXEL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_pixel_metrics {
    size_t positives, negatives; /* pixels */
    size_t regions;              /* connected defect regions over all masks */
    double auc;
    double aupro;                /* normalised to [0, 1] */
} sg_pixel_metrics;

/* maps: count maps of width x height scores; masks: the same layout, nonzero on
 * a defect. Needs a defect pixel and a normal pixel; a NaN score is refused
 * (SG_ERR_NUMERIC); fpr_limit in (0, 1]. */
sg_status sg_pixel_metrics_compute(const float *maps, const uint8_t *masks, size_t count, int width, int height,
                                   double fpr_limit, sg_pixel_metrics *out);

#ifdef __cplusplus
}
#endif
#endif
