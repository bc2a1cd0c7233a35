/* Scoring a batch on a thread of its own, so that the caller prepares the next
 * batch (decodes, preprocesses) while the device scores this one: double
 * buffering. The caller owns two sets of arrays (images, scores, heat maps);
 * it fills one while the worker reads the other:
 *
 *   sg_score_worker *w;  sg_score_worker_create(NULL, scorer, &w);
 *   fill A;  sg_score_worker_start(w, A...);
 *   fill B;  sg_score_worker_wait(w) -> use A's scores;  sg_score_worker_start(w, B...);
 *   fill A;  sg_score_worker_wait(w) -> use B's scores;  ...
 *
 * One batch at a time: a start while the previous batch runs waits for it
 * first (its outcome is then lost: call wait before starting the next). The
 * arrays of a started batch must stay untouched until wait returns. */
#ifndef SGAD_SCORE_WORKER_H
#define SGAD_SCORE_WORKER_H

#include <stdbool.h>

#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a batch is scored, on the worker thread: as sg_scorer_run (without
 * reconstructions). On failure it sets the thread's error message as engine
 * calls do (sg_error_message() on the worker thread); wait hands it on. */
typedef sg_status (*sg_score_fn)(void *user, const float *images, int count, float *scores, float *heatmaps);

typedef struct sg_score_worker sg_score_worker;

/* run NULL: user is an sg_scorer and batches go through sg_scorer_run. */
sg_status sg_score_worker_create(sg_score_fn run, void *user, sg_score_worker **out);
/* Waits for a running batch, then ends the thread. */
void sg_score_worker_destroy(sg_score_worker *w);

/* Hand a batch to the worker and return at once. */
sg_status sg_score_worker_start(sg_score_worker *w, const float *images, int count, float *scores,
                                float *heatmaps);
/* Wait for the batch started last; its status (SG_OK when there is none), the
 * message of a failure set on the calling thread. */
sg_status sg_score_worker_wait(sg_score_worker *w);
/* Whether a batch was started and not yet waited for. */
bool sg_score_worker_busy(const sg_score_worker *w);

#ifdef __cplusplus
}
#endif
#endif
