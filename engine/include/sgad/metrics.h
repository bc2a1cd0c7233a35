/* Detection metrics of anomaly scores against ground truth (the spec's
 * evaluation protocol): ROC AUC, average precision, the best F1 over all
 * thresholds, and the ROC curve.
 *
 * Conventions: truth[i] is 1 for an abnormal (positive) image, 0 for a normal
 * one; a higher score means more anomalous; an image is flagged when its score
 * is at or above a threshold. Every metric treats equal scores as one
 * threshold (ties are never split in the order the images happen to come). */
#ifndef SGAD_METRICS_H
#define SGAD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_metrics {
    size_t positives, negatives;
    /* ROC AUC from ranks (Mann-Whitney U), ties counted as half: the
     * probability that a random abnormal image scores above a random normal one. */
    double auc;
    /* Average precision: sum over thresholds of (R_k - R_k-1) * P_k, as
     * scikit-learn's average_precision_score (no interpolation). */
    double auprc;
    /* The best F1 over every threshold, with its precision and recall; the
     * threshold lies halfway between the lowest flagged score and the next lower
     * score, so it separates the same images whether compared with > or >=. */
    double best_f1, best_precision, best_recall;
    float best_threshold;
} sg_metrics;

/* Needs at least one image of each class; a NaN score is refused (SG_ERR_NUMERIC). */
sg_status sg_metrics_compute(const float *scores, const uint8_t *truth, size_t n, sg_metrics *out);

/* Precision, recall and F1 when images with score > threshold are flagged (as
 * the model's calibrated threshold is used); any output pointer may be NULL.
 * Precision is 0 when nothing is flagged. */
void sg_metrics_at_threshold(const float *scores, const uint8_t *truth, size_t n, float threshold,
                             double *precision, double *recall, double *f1);

typedef struct sg_roc_point {
    double fpr, tpr;
    float threshold; /* images with score >= threshold are flagged; +inf for (0, 0) */
} sg_roc_point;

/* The ROC curve: (0, 0), then one point per distinct score in decreasing
 * order, ending at (1, 1). *points is malloc'd (free it); *count points. */
sg_status sg_roc_curve(const float *scores, const uint8_t *truth, size_t n, sg_roc_point **points,
                       size_t *count);

#ifdef __cplusplus
}
#endif
#endif
