/* Detection metrics: everything walks the scores once in sorted order, one
 * group of equal scores at a time, so ties are a single threshold. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../core/error.h"
#include "sgad/metrics.h"

typedef struct scored {
    float score;
    uint8_t truth;
} scored;

/* Descending by score. */
static int by_score_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

/* The images sorted by decreasing score, with the class counts; refuses
 * empty input, NaN scores and a missing class. */
static sg_status sorted_copy(const float *scores, const uint8_t *truth, size_t n, scored **out,
                             size_t *positives)
{
    if (!scores || !truth || !out || n == 0)
        return sg_fail(SG_ERR_ARGUMENT, "metrics: no scores given");
    scored *v = malloc(n * sizeof *v);
    if (!v)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "metrics: out of host memory for %zu scores", n);
    size_t p = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i])) {
            free(v);
            return sg_fail(SG_ERR_NUMERIC, "metrics: score %zu is NaN", i);
        }
        v[i].score = scores[i];
        v[i].truth = truth[i] ? 1 : 0;
        p += v[i].truth;
    }
    if (p == 0 || p == n) {
        free(v);
        return sg_fail(SG_ERR_ARGUMENT, "metrics: need both normal and abnormal images (got %zu abnormal of %zu)",
                       p, n);
    }
    qsort(v, n, sizeof *v, by_score_desc);
    *out = v;
    *positives = p;
    return SG_OK;
}

/* End (exclusive) of the group of scores equal to v[i].score. */
static size_t group_end(const scored *v, size_t n, size_t i)
{
    size_t j = i + 1;
    while (j < n && v[j].score == v[i].score)
        j++;
    return j;
}

sg_status sg_metrics_compute(const float *scores, const uint8_t *truth, size_t n, sg_metrics *out)
{
    if (!out)
        return sg_fail(SG_ERR_ARGUMENT, "metrics: output is NULL");
    scored *v;
    size_t pos;
    sg_status s = sorted_copy(scores, truth, n, &v, &pos);
    if (s != SG_OK)
        return s;
    size_t neg = n - pos;

    /* Ranks count from the lowest score (rank 1) up; a tie group gets the mean
     * of the ranks it spans. Walking from the top, group [i, j) holds ranks
     * n - j + 1 .. n - i. */
    double rank_sum = 0, ap = 0, prev_recall = 0;
    double best_f1 = -1, best_p = 0, best_r = 0;
    float best_t = 0;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = group_end(v, n, i);
        size_t gp = 0;
        for (size_t k = i; k < j; k++)
            gp += v[k].truth;
        rank_sum += gp * ((double)(n - j + 1) + (double)(n - i)) / 2.0;
        tp += gp;
        fp += (j - i) - gp;

        double precision = (double)tp / (double)(tp + fp), recall = (double)tp / (double)pos;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
        double f1 = 2.0 * tp / (2.0 * tp + fp + (pos - tp));
        if (f1 > best_f1) {
            best_f1 = f1;
            best_p = precision;
            best_r = recall;
            best_t = j < n ? (float)(((double)v[i].score + v[j].score) / 2.0)
                           : nextafterf(v[i].score, -INFINITY);
        }
        i = j;
    }
    free(v);

    out->positives = pos;
    out->negatives = neg;
    out->auc = (rank_sum - (double)pos * (pos + 1) / 2.0) / ((double)pos * (double)neg);
    out->auprc = ap;
    out->best_f1 = best_f1;
    out->best_precision = best_p;
    out->best_recall = best_r;
    out->best_threshold = best_t;
    return SG_OK;
}

void sg_metrics_at_threshold(const float *scores, const uint8_t *truth, size_t n, float threshold,
                             double *precision, double *recall, double *f1)
{
    size_t tp = 0, fp = 0, fn = 0;
    for (size_t i = 0; i < n; i++) {
        bool flagged = scores[i] > threshold;
        if (truth[i] && flagged)
            tp++;
        else if (truth[i])
            fn++;
        else if (flagged)
            fp++;
    }
    if (precision)
        *precision = tp + fp ? (double)tp / (double)(tp + fp) : 0.0;
    if (recall)
        *recall = tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
    if (f1)
        *f1 = tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0;
}

sg_status sg_roc_curve(const float *scores, const uint8_t *truth, size_t n, sg_roc_point **points,
                       size_t *count)
{
    if (!points || !count)
        return sg_fail(SG_ERR_ARGUMENT, "roc curve: output is NULL");
    scored *v;
    size_t pos;
    sg_status s = sorted_copy(scores, truth, n, &v, &pos);
    if (s != SG_OK)
        return s;
    size_t neg = n - pos;
    sg_roc_point *pts = malloc((n + 1) * sizeof *pts);
    if (!pts) {
        free(v);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "roc curve: out of host memory for %zu points", n + 1);
    }
    size_t m = 0, tp = 0, fp = 0;
    pts[m++] = (sg_roc_point){0.0, 0.0, INFINITY};
    for (size_t i = 0; i < n;) {
        size_t j = group_end(v, n, i);
        for (size_t k = i; k < j; k++) {
            if (v[k].truth)
                tp++;
            else
                fp++;
        }
        pts[m++] = (sg_roc_point){(double)fp / (double)neg, (double)tp / (double)pos, v[i].score};
        i = j;
    }
    free(v);
    *points = pts;
    *count = m;
    return SG_OK;
}
