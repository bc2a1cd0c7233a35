/* skipganomaly: scores every video frame (or its ROI, or a grid of tiles) with
 * a Skip-GANomaly++ checkpoint and attaches the result as GstAnomalyMeta; in
 * train mode it collects the frames and trains a checkpoint from them. */
#ifndef GST_SKIP_GANOMALY_H
#define GST_SKIP_GANOMALY_H

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>
#include <sgad/fit.h>

#include "async_scorer.h"
#include "batcher.h"
#include "calibration.h"
#include "file_batch.h"
#include "mask.h"
#include "preprocess.h"
#include "training.h"

G_BEGIN_DECLS

#define GST_TYPE_SKIP_GANOMALY (gst_skip_ganomaly_get_type())
G_DECLARE_FINAL_TYPE(GstSkipGanomaly, gst_skip_ganomaly, GST, SKIP_GANOMALY, GstVideoFilter)

typedef enum {
    GST_SKIP_GANOMALY_MODE_SCORE,
    GST_SKIP_GANOMALY_MODE_TRAIN,
} GstSkipGanomalyMode;

typedef enum {
    GST_SKIP_GANOMALY_TRAIN_ON_EOS,
    GST_SKIP_GANOMALY_TRAIN_ON_FULL,
} GstSkipGanomalyTrainOn;

typedef enum {
    GST_SKIP_GANOMALY_SCORING_AUTO,
    GST_SKIP_GANOMALY_SCORING_SYNC,
    GST_SKIP_GANOMALY_SCORING_ASYNC,
} GstSkipGanomalyScoring;

struct _GstSkipGanomaly {
    GstVideoFilter parent;

    /* properties, under the object lock */
    gchar *model_path;
    GstSkipGanomalyMode mode;
    gdouble threshold;
    SgadRect roi;
    guint tiles, interval;
    gchar *device;
    gboolean post_messages;
    guint train_frames;
    GstSkipGanomalyTrainOn train_on;
    guint epochs, batch_size, save_interval;
    guint steps; /* > 0: train for about this many steps instead of epochs */
    guint warmup_steps, eval_interval, patience; /* the training schedule (sg_fit_options) */
    gdouble learning_rate, score_lambda;
    sg_frame_score_config frame_score;
    gdouble width;
    guint input_size, channels;
    sg_upsample upsample;
    unsigned dropped_skips;  /* sg_model_config.dropped_skips */
    gboolean adversarial;    /* FALSE: w_adv = w_lat = 0, the discriminator left out */
    guint64 seed;
    GstSkipGanomalyScoring scoring;
    gboolean batch_streams; /* score in one dispatch with the other instances of this model file */
    guint batch_timeout;    /* ms a batch waits for the other streams' frames */
    gchar *mask_text;       /* the mask property */
    guint stats_interval; /* ms of stream time between stats messages, 0: at EOS only */

    /* engine state, under engine_lock: the model and scorer may be swapped
     * from the application thread while the streaming thread scores */
    GMutex engine_lock;
    sg_device *dev;
    sg_model *model;
    sg_scorer *scorer;
    gint scorer_batch;
    SgadBatcher *batcher; /* batch-streams: the shared batch of this model file, or NULL */

    /* streaming thread only */
    SgadPlan plan;
    gboolean plan_valid;
    SgadRect plan_roi;
    gint plan_tiles, plan_channels, plan_size;
    gboolean aspect_said; /* the squashing of a non-square region was posted (once) */
    gfloat *input, *tile_heat;
    SgadMask mask;        /* parsed at start */
    guint8 *mask_inside;  /* the mask sampled on the plan's grid, NULL without a mask */
    guint64 frame;
    gboolean have_result, anomalous;
    gdouble last_score, last_threshold;
    gboolean last_invalid;   /* the last score is not a finite number: anomalous, said in meta and messages */
    gboolean warned_invalid; /* the warning about it was posted (once per start) */
    gfloat *last_tiles, *last_heat;
    guint last_grid, last_heat_side;
    SgadRect last_region;
    SgadReservoir reservoir;
    gboolean training, trained; /* train mode this run; its training has run */
    gint cancel_training; /* atomic: set when leaving PAUSED, ends a running sg_fit */
    GThread *train_thread;  /* train-on=full: the training, off the streaming thread */
    gboolean train_ok;      /* its outcome, read after joining it */

    /* retraining in score mode (the `retrain` action signal): the streaming
     * thread collects the next train-frames frames into `reservoir` through
     * its own plan (the geometry of the training properties), then
     * train_thread trains on them and swaps the result in as a hot reload */
    gint retrain_busy;           /* atomic: requested, collecting or training, until the worker ends */
    gboolean retrain_collecting; /* streaming thread: frames go into the reservoir */
    guint retrains;              /* models swapped in by retraining this run */
    gboolean left_batch;         /* under engine_lock: the model is retrained, no longer the shared batch's file */
    SgadPlan retrain_plan;
    gboolean retrain_plan_valid;
    SgadRect retrain_roi;
    gint retrain_tiles;
    gfloat *retrain_input;
    guint8 *retrain_mask; /* the mask on the retrain plan's grid, or NULL */

    /* live scoring: decided on the first frame or the first LATENCY
     * query; the counters and latency under the object lock */
    gboolean scoring_decided, use_async;
    SgadAsyncScorer *async;
    SgadAsyncResult async_result;
    guint64 result_frame;           /* the frame the current result was computed on */
    GstClockTime result_pts;        /* and its timestamp */
    guint64 frames_scored, frames_dropped; /* sync scores; frames QoS dropped before us */
    GstClockTime latency;           /* sync mode: the longest scoring so far */
    GstClockTime next_stats_pts;

    /* calibration on the stream (calibrate-frames, the `calibrate` signal): calibration.c */
    guint calibrate_frames, calibrate_stride; /* properties, under the object lock */
    gint calibrate_busy;         /* atomic: 0 none, 1 requested, 2 collecting or computing */
    gboolean calibrating;        /* streaming thread: frames go into calibration_images */
    guint calibration_wanted;    /* frames to take */
    guint calibration_taken;     /* frames taken so far */
    guint64 calibration_seen;    /* frames seen since the collection began (calibrate-stride) */
    SgadReservoir calibration_images; /* the images taken (filled, never sampled: capacity = all) */
    GThread *calibration_thread; /* computes the calibration and swaps it in */
    gint calibration_done;       /* atomic: the thread has ended */
    guint calibrations;          /* calibrations swapped in this run */
    guint64 results_from;        /* streaming thread: async results of earlier frames predate the calibration */

    /* batched sync scoring (score-batch > 1, files): file_batch.c */
    guint score_batch; /* property, under the object lock */
    SgadFileBatch file_batch; /* streaming thread (and its scoring thread) */
};

GST_ELEMENT_REGISTER_DECLARE(skipganomaly);

/* The element's scoring steps (gstskipganomaly.c), shared with file_batch.c. */
/* The threshold in force: the property, or the model's calibration (NAN if none). */
gdouble skipganomaly_effective_threshold(gdouble prop, sg_model *m);
/* (Re)build the sampling plan when the caps, ROI, tiles or model geometry changed. */
gboolean skipganomaly_ensure_plan(GstSkipGanomaly *self, const GstVideoInfo *info, const SgadRect *roi, gint tiles,
                                  gint channels, gint size);
/* The frame as the model's input (the plan's), mid-grey outside the mask. */
void skipganomaly_preprocess_into(GstSkipGanomaly *self, const GstVideoFrame *frame, gfloat *input);
/* Under the engine lock: a scorer recorded for at least n images. */
gboolean skipganomaly_ensure_scorer_batch(GstSkipGanomaly *self, gint n);
/* Under the engine lock: n images through the model; on failure *why says why (g_free it). */
sg_status skipganomaly_run_model(GstSkipGanomaly *self, const gfloat *input, gint n, gfloat *scores, gfloat *heat,
                                 gchar **why);
/* Frame frame_no's tile scores and heat maps (on the current plan) as the current result. */
void skipganomaly_take_result(GstSkipGanomaly *self, const gfloat *scores, const gfloat *tile_heat, gint tiles,
                              gint S, gdouble threshold, guint64 frame_no);
/* The current result as the buffer's meta, and with score_now its bus messages. */
void skipganomaly_attach_result(GstSkipGanomaly *self, GstBuffer *buffer, guint64 frame_no, gboolean score_now,
                                gboolean was_anomalous, gboolean post);
/* Sync scoring: count `frames` scored in `took`, growing the reported latency. */
void skipganomaly_note_sync_score(GstSkipGanomaly *self, GstClockTime took, guint frames);
/* Whether frames are scored on the asynchronous (live) path. */
gboolean skipganomaly_use_async(GstSkipGanomaly *self);
/* The loaded model's input channels and size, without waiting for a scoring
 * under way (then the current plan's); FALSE (element error posted) without a model. */
gboolean skipganomaly_model_geometry(GstSkipGanomaly *self, gint *channels, gint *size);
/* The loaded model's device with a reference taken (sgad_device_pool_release
 * it) and the scorer's batch; NULL when no model is loaded (stopping). */
sg_device *skipganomaly_ref_device(GstSkipGanomaly *self, gint *batch);
/* Put a model loaded on dev (holding a reference of it) in place of the current
 * one under the engine lock; the old one is freed. left_file: the model is no
 * longer the model file's (retrained, calibrated), so it leaves the shared batch. */
void skipganomaly_swap_loaded(GstSkipGanomaly *self, sg_device *dev, gint batch, sg_model *model, sg_scorer *scorer,
                              gboolean left_file);

G_END_DECLS

#endif
