/* Batched scoring of files and other non-live sources (score-batch > 1):
 * the frames are held back in order until score-batch of them are there, then
 * scored in one dispatch on a scoring thread (sgad/score_worker.h) while the
 * streaming thread takes and preprocesses the next batch into the other of two
 * input buffers. A batch's frames, each with its own result, meta and
 * messages, go on when the next batch has been handed to the device (or at a
 * serialized event: EOS, caps, segment), so output lags input by up to two
 * batches. A flush drops what is held, as does stopping. */
#ifndef SGAD_FILE_BATCH_H
#define SGAD_FILE_BATCH_H

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <sgad/score_worker.h>

#include "../rect.h"

typedef struct _GstSkipGanomaly GstSkipGanomaly;

/* One batch of frames and its arrays: filled by the streaming thread, read by
 * the scoring thread while it runs. */
typedef struct {
    GQueue frames;          /* GstBuffer *, in order, writable */
    guint64 first;          /* the element's frame number of the first */
    SgadRect roi;           /* the ROI and grid its frames were taken with */
    gint tiles;
    gint channels, size;    /* the model's input the frames were preprocessed for */
    gfloat *input, *heat, *scores;
    gsize input_floats, heat_floats, score_count; /* allocated */
    /* written on the scoring thread, read after waiting for it */
    gboolean stale;         /* the model's input changed (hot reload) before it ran: score it again */
    gdouble threshold;      /* the threshold in force when it ran */
    GstClockTime took;      /* how long the dispatch took */
} SgadBatchSlot;

typedef struct {
    SgadBatchSlot slot[2];
    gint filling;            /* the slot taking frames */
    gboolean in_flight;      /* the other slot was handed to the worker and not yet taken back */
    GQueue ready;            /* GstBuffer *: scored, with meta, to be pushed in order */
    sg_score_worker *worker; /* made on first use */
} SgadFileBatch;

void sgad_file_batch_init(SgadFileBatch *fb);
/* Wait for the scoring thread and drop every frame held (flush, stop). */
void sgad_file_batch_drop(GstSkipGanomaly *self);
/* drop, then end the scoring thread and free the arrays (stop). */
void sgad_file_batch_clear(GstSkipGanomaly *self);

/* The batch size in use now: 1 (each frame on its own) outside sync scoring of
 * every frame by this instance alone. */
guint sgad_file_batch_size(GstSkipGanomaly *self);
/* Before a serialized event: the frames held go on first (FLUSH_STOP drops them). */
void sgad_file_batch_before_event(GstSkipGanomaly *self, GstEvent *event);
/* GstBaseTransform's generate_output for the element. */
GstFlowReturn sgad_file_batch_generate_output(GstSkipGanomaly *self, GstBaseTransform *trans,
                                              GstBaseTransformClass *parent, GstBuffer **outbuf);
/* The latency batching adds: a frame may wait for the rest of its batch and the whole next one. */
GstClockTime sgad_file_batch_latency(GstSkipGanomaly *self);

#endif
