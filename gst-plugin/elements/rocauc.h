/* ROC AUC of scores against binary ground truth, for anomalyexport's summary. */
#ifndef SGAD_ROCAUC_H
#define SGAD_ROCAUC_H

#include <glib.h>

G_BEGIN_DECLS

/* The area under the ROC curve of `scores` (higher = more anomalous) against
 * `truth` (non-zero = anomalous), n pairs: the probability that a random
 * anomalous frame scores above a random normal one, ties counting one half
 * (the Mann-Whitney U statistic over positives x negatives, from average
 * ranks). NaN when n is 0, when either class is empty or a score is NaN. */
gdouble sgad_roc_auc(const gdouble *scores, const gint *truth, gsize n);

G_END_DECLS

#endif
