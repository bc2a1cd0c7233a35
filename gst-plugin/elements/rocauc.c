/* Rank-based ROC AUC: sort once, give tied scores their average rank, and the
 * positives' rank sum gives U = R+ - P(P+1)/2; AUC = U / (P N). O(n log n), and
 * exact with ties, unlike summing trapezoids over thresholds in floating point. */
#include "rocauc.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    gdouble score;
    gint positive;
} Pair;

static int by_score(const void *a, const void *b)
{
    gdouble x = ((const Pair *)a)->score, y = ((const Pair *)b)->score;
    return (x > y) - (x < y);
}

gdouble sgad_roc_auc(const gdouble *scores, const gint *truth, gsize n)
{
    if (n == 0)
        return NAN;
    Pair *p = g_new(Pair, n);
    gsize positives = 0;
    for (gsize i = 0; i < n; i++) {
        if (isnan(scores[i])) {
            g_free(p);
            return NAN;
        }
        p[i].score = scores[i];
        p[i].positive = truth[i] != 0;
        positives += p[i].positive;
    }
    gsize negatives = n - positives;
    if (positives == 0 || negatives == 0) {
        g_free(p);
        return NAN;
    }
    qsort(p, n, sizeof *p, by_score);
    /* ranks are 1-based; a run of ties [i, j) shares the mean of ranks i+1..j */
    gdouble rank_sum = 0.0;
    for (gsize i = 0; i < n;) {
        gsize j = i + 1;
        while (j < n && p[j].score == p[i].score)
            j++;
        gdouble rank = 0.5 * (gdouble)(i + 1 + j);
        for (gsize k = i; k < j; k++)
            if (p[k].positive)
                rank_sum += rank;
        i = j;
    }
    g_free(p);
    gdouble u = rank_sum - 0.5 * (gdouble)positives * (gdouble)(positives + 1);
    return u / ((gdouble)positives * (gdouble)negatives);
}
