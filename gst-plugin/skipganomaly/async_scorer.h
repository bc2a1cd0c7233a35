/* Asynchronous scoring for live streams: the streaming thread hands a
 * preprocessed frame to a scorer thread and goes on at once; it later picks up
 * whatever result is newest. One frame waits at most: a frame handed in while
 * another still waits replaces it, and the replaced one is counted as skipped,
 * so the video never waits for the device and every frame is either scored or
 * skipped (scored + skipped = submitted once drained). */
#ifndef SGAD_ASYNC_SCORER_H
#define SGAD_ASYNC_SCORER_H

#include <gst/gst.h>

#include "../rect.h"

/* One frame to score: tiles x tiles images of channels x size x size. */
typedef struct {
    guint64 frame;    /* the element's frame number */
    GstClockTime pts; /* the frame's timestamp, for the age of its result */
    gint tiles, channels, size;
    SgadRect region; /* the scored region in frame pixels */
    gfloat *input;   /* tiles^2 x channels x size x size */
} SgadAsyncJob;

/* The result of one job: scores per tile and the tiles' heat maps stitched
 * into one (tiles*size)^2 map. */
typedef struct {
    guint64 frame;
    GstClockTime pts;
    gint tiles, size;
    SgadRect region;
    gdouble score, threshold; /* score: the worst tile's */
    gfloat *tile_scores;      /* tiles^2 */
    gfloat *heat;             /* (tiles*size)^2 */
    guint64 serial;           /* increases with every published result */
} SgadAsyncResult;

typedef enum {
    SGAD_ASYNC_SCORED,
    SGAD_ASYNC_UNUSABLE, /* the job no longer fits the model (it was switched): counted as skipped */
    SGAD_ASYNC_FAILED,   /* scoring failed; the error was posted; no more jobs are taken */
} SgadAsyncOutcome;

/* Runs the model on job->input: writes tiles^2 scores and the tiles' maps
 * (tiles^2 x size x size) and the threshold in force (NAN if none). Called on
 * the scorer thread. */
typedef SgadAsyncOutcome (*SgadAsyncScoreFunc)(const SgadAsyncJob *job, gfloat *scores, gfloat *tile_heat,
                                               gdouble *threshold, gpointer user);

typedef struct _SgadAsyncScorer SgadAsyncScorer;

SgadAsyncScorer *sgad_async_scorer_new(SgadAsyncScoreFunc score, gpointer user);
/* Stop the thread (after its current job); a job still waiting counts as skipped. */
void sgad_async_scorer_free(SgadAsyncScorer *a);

/* Hand a job over (its arrays are copied). FALSE once scoring has failed. */
gboolean sgad_async_scorer_submit(SgadAsyncScorer *a, const SgadAsyncJob *job);
/* Copy the newest result into *out when it is newer than out->serial (out's
 * arrays are reallocated as needed; zero *out before the first call). TRUE
 * when *out changed. */
gboolean sgad_async_scorer_take(SgadAsyncScorer *a, SgadAsyncResult *out);
/* Wait until the waiting job (if any) and the running one are done. */
void sgad_async_scorer_drain(SgadAsyncScorer *a);
void sgad_async_scorer_counts(SgadAsyncScorer *a, guint64 *submitted, guint64 *scored, guint64 *skipped);

void sgad_async_result_clear(SgadAsyncResult *r);

#endif
