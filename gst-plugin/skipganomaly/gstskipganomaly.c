/* The skipganomaly element: GObject plumbing, state changes, scoring and the
 * train-mode hooks. Preprocessing, the device pool and training live in their
 * own files. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "gstskipganomaly.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <sgad/anomalymeta.h>
#include <sgad/file.h>
#include "device_pool.h"

GST_DEBUG_CATEGORY(skip_ganomaly_debug); /* file_batch.c logs in it too */
#define GST_CAT_DEFAULT skip_ganomaly_debug

enum {
    PROP_0,
    PROP_MODEL,
    PROP_MODE,
    PROP_THRESHOLD,
    PROP_ROI,
    PROP_TILES,
    PROP_INTERVAL,
    PROP_DEVICE,
    PROP_POST_MESSAGES,
    PROP_TRAIN_FRAMES,
    PROP_TRAIN_ON,
    PROP_EPOCHS,
    PROP_BATCH_SIZE,
    PROP_LEARNING_RATE,
    PROP_WIDTH,
    PROP_INPUT_SIZE,
    PROP_UPSAMPLE,
    PROP_CHANNELS,
    PROP_SAVE_INTERVAL,
    PROP_SEED,
    PROP_SCORE_LAMBDA,
    PROP_SCORING,
    PROP_STATS_INTERVAL,
    PROP_FRAMES_SCORED,
    PROP_FRAMES_SKIPPED,
    PROP_FRAMES_DROPPED,
    PROP_BATCH_STREAMS,
    PROP_BATCH_TIMEOUT,
    PROP_MASK,
    PROP_FRAME_SCORE,
    PROP_SCORE_BATCH,
    PROP_WARMUP_STEPS,
    PROP_EVAL_INTERVAL,
    PROP_PATIENCE,
    PROP_DROP_SKIPS,
    PROP_ADVERSARIAL,
    PROP_STEPS,
    PROP_CALIBRATE_FRAMES,
    PROP_CALIBRATE_STRIDE,
};

#define THRESHOLD_CALIBRATED -1.0 /* the threshold property's "use the checkpoint's calibration" */

/* The model a training (mode=train or a retraining) creates, from the
 * properties; called with the object lock held. */
static sg_model_config training_config(GstSkipGanomaly *self)
{
    sg_model_config config = sg_model_config_default();
    config.channels = (int)self->channels;
    config.size = (int)self->input_size;
    config.width = (float)self->width;
    config.upsample = self->upsample;
    config.dropped_skips = self->dropped_skips;
    return config;
}

/* The epochs a training on `frames` kept frames runs: `epochs` when set, else
 * the whole epochs that `steps` takes. Called with the object lock held. */
static guint training_epochs(GstSkipGanomaly *self, guint frames)
{
    return self->epochs ? self->epochs : sgad_train_epochs_for_steps(frames, self->batch_size, self->steps);
}

/* Why the properties cannot train a model, as a newly allocated message, or
 * NULL when they can: the model's geometry, and a score that weighs the
 * discriminator's features where the training leaves D out. Called with the
 * object lock held. */
static gchar *training_settings_problem(GstSkipGanomaly *self, const sg_model_config *config)
{
    if (!self->epochs && !self->steps)
        return g_strdup("steps=0 with epochs=0 trains nothing; set one of them");
    if (!self->adversarial && self->score_lambda < 1)
        return g_strdup_printf("score-lambda %g weighs the discriminator's features, which adversarial=false "
                               "does not train; use score-lambda=1", self->score_lambda);
    const char *bad = sg_model_config_check(config);
    return bad ? g_strdup(bad) : NULL;
}
#define DEFAULT_THRESHOLD THRESHOLD_CALIBRATED
#define DEFAULT_TILES 1
#define DEFAULT_INTERVAL 1
#define DEFAULT_TRAIN_FRAMES 1000
#define DEFAULT_EPOCHS 0 /* as many as `steps` takes */
#define DEFAULT_LEARNING_RATE 1e-3
#define DEFAULT_SCORE_LAMBDA 1.0 /* the reconstruction error alone (the spec's: 0.9) */
#define DEFAULT_INPUT_SIZE 32
#define DEFAULT_CHANNELS 3
#define DEFAULT_SAVE_INTERVAL 1
#define DEFAULT_WARMUP_STEPS 0  /* the spec's training step from the start */
#define DEFAULT_EVAL_INTERVAL 10 /* steps, as sgad train */
#define DEFAULT_PATIENCE 0       /* train every epoch */
/* What trains a usable model on a short clip (docs/training.md, "Skips left
 * out": on 300 frames of the line, 400 steps of 16 at width 0.25 find every
 * defect kind at ROC AUC 0.96-1.00 in a few minutes on lavapipe, the suite's
 * train_line); the spec's setting is drop-skips=none adversarial=true
 * learning-rate=0.0002 score-lambda=0.9 width=1 batch-size=64 epochs=15 */
#define DEFAULT_DROP_SKIPS "1,2"
#define DEFAULT_ADVERSARIAL FALSE
#define DEFAULT_WIDTH 0.25
#define DEFAULT_BATCH_SIZE 16
#define DEFAULT_STEPS 400
#define DEFAULT_SEED 1
#define DEFAULT_STATS_INTERVAL 1000 /* ms */
#define DEFAULT_BATCH_TIMEOUT 20     /* ms, under a frame time at 30 frames/s */
#define DEFAULT_SCORE_BATCH 1
#define DEFAULT_CALIBRATE_STRIDE 7 /* as sgad calibrate: measured, docs/training.md */
#define MAX_CALIBRATE_FRAMES 1000000
#define MAX_SCORE_BATCH 64

#define CAPS_STR GST_VIDEO_CAPS_MAKE(SGAD_PREPROCESS_FORMATS)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(CAPS_STR));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(CAPS_STR));

#define gst_skip_ganomaly_parent_class parent_class
G_DEFINE_TYPE(GstSkipGanomaly, gst_skip_ganomaly, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(skipganomaly, "skipganomaly", GST_RANK_NONE, GST_TYPE_SKIP_GANOMALY);

/* ---- enums ---------------------------------------------------------------- */

#define GST_TYPE_SKIP_GANOMALY_MODE (gst_skip_ganomaly_mode_get_type())
static GType gst_skip_ganomaly_mode_get_type(void)
{
    static GType type;
    static const GEnumValue values[] = {
        {GST_SKIP_GANOMALY_MODE_SCORE, "Score every frame with the model and attach the result", "score"},
        {GST_SKIP_GANOMALY_MODE_TRAIN, "Pass frames through and train a model from them", "train"},
        {0, NULL, NULL},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstSkipGanomalyMode", values));
    return type;
}

#define GST_TYPE_SKIP_GANOMALY_TRAIN_ON (gst_skip_ganomaly_train_on_get_type())
static GType gst_skip_ganomaly_train_on_get_type(void)
{
    static GType type;
    static const GEnumValue values[] = {
        {GST_SKIP_GANOMALY_TRAIN_ON_EOS, "Train when the stream ends", "eos"},
        {GST_SKIP_GANOMALY_TRAIN_ON_FULL, "Train as soon as train-frames images are collected", "full"},
        {0, NULL, NULL},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstSkipGanomalyTrainOn", values));
    return type;
}

#define GST_TYPE_SKIP_GANOMALY_UPSAMPLE (gst_skip_ganomaly_upsample_get_type())
static GType gst_skip_ganomaly_upsample_get_type(void)
{
    static GType type;
    static const GEnumValue values[] = {
        {SG_UPSAMPLE_TRANSPOSED, "Transposed convolution 4x4 stride 2", "transposed"},
        {SG_UPSAMPLE_NEAREST, "Nearest-neighbour x2 (as the reference code)", "nearest"},
        {0, NULL, NULL},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstSkipGanomalyUpsample", values));
    return type;
}

#define GST_TYPE_SKIP_GANOMALY_SCORING (gst_skip_ganomaly_scoring_get_type())
static GType gst_skip_ganomaly_scoring_get_type(void)
{
    static GType type;
    static const GEnumValue values[] = {
        {GST_SKIP_GANOMALY_SCORING_AUTO, "async for a live upstream, sync otherwise", "auto"},
        {GST_SKIP_GANOMALY_SCORING_SYNC, "Score each frame before passing it on", "sync"},
        {GST_SKIP_GANOMALY_SCORING_ASYNC,
         "Pass frames on at once with the newest result; a scorer thread takes the newest frame", "async"},
        {0, NULL, NULL},
    };
    if (g_once_init_enter(&type))
        g_once_init_leave(&type, g_enum_register_static("GstSkipGanomalyScoring", values));
    return type;
}

/* ---- engine helpers ------------------------------------------------------- */

/* The threshold in force: the property, or the model's calibration (NAN if
 * none) when it is -1, exactly: a standardised frame score's threshold may be
 * any other negative number. */
gdouble skipganomaly_effective_threshold(gdouble prop, sg_model *m)
{
    if (prop != THRESHOLD_CALIBRATED)
        return prop;
    const sg_calibration *cal = sg_model_calibration(m);
    return cal->valid ? cal->threshold : NAN;
}

/* Load a checkpoint and record its scorer; on failure *why says why (g_free it). */
static gboolean load_scorer(sg_device *dev, const gchar *path, gint batch, gdouble threshold, sg_model **model,
                            sg_scorer **scorer, gchar **why)
{
    sg_model *m = NULL;
    sg_scorer *s = NULL;
    if (sg_model_load(dev, path, &m) != SG_OK) {
        *why = g_strdup(sg_error_message());
        return FALSE;
    }
    if (isnan(skipganomaly_effective_threshold(threshold, m))) {
        *why = g_strdup_printf("%s has no calibration (it was never calibrated on normal images): set the "
                               "threshold property",
                               path);
        sg_model_destroy(m);
        return FALSE;
    }
    if (sg_scorer_create(m, batch, &s) != SG_OK || sg_scorer_probe(s) != SG_OK) {
        *why = g_strdup_printf("%s: %s", path, sg_error_message());
        sg_scorer_destroy(s);
        sg_model_destroy(m);
        return FALSE;
    }
    *model = m;
    *scorer = s;
    return TRUE;
}

static void clear_retrain_plan(GstSkipGanomaly *self)
{
    if (self->retrain_plan_valid)
        sgad_plan_clear(&self->retrain_plan);
    self->retrain_plan_valid = FALSE;
    g_clear_pointer(&self->retrain_input, g_free);
    g_clear_pointer(&self->retrain_mask, g_free);
}

static void free_results(GstSkipGanomaly *self)
{
    g_clear_pointer(&self->input, g_free);
    g_clear_pointer(&self->tile_heat, g_free);
    g_clear_pointer(&self->last_tiles, g_free);
    g_clear_pointer(&self->last_heat, g_free);
    g_clear_pointer(&self->mask_inside, g_free);
    if (self->plan_valid)
        sgad_plan_clear(&self->plan);
    self->plan_valid = FALSE;
    self->have_result = FALSE;
}

/* ---- state ---------------------------------------------------------------- */

static gboolean gst_skip_ganomaly_start(GstBaseTransform *trans)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(trans);
    GST_OBJECT_LOCK(self);
    gchar *path = g_strdup(self->model_path), *device = g_strdup(self->device);
    GstSkipGanomalyMode mode = self->mode;
    gdouble threshold = self->threshold;
    gint tiles = (gint)self->tiles;
    sg_model_config config = training_config(self);
    guint train_frames = self->train_frames;
    guint32 seed = (guint32)self->seed;
    const guint patience = self->patience, eval_interval = self->eval_interval;
    gchar *training_problem = training_settings_problem(self, &config);
    const gboolean batch_streams = self->batch_streams;
    gchar *mask_text = g_strdup(self->mask_text);
    GST_OBJECT_UNLOCK(self);

    gboolean ok = FALSE;
    sg_device *dev = NULL;
    self->frame = 0;
    self->have_result = self->anomalous = self->trained = FALSE;
    self->last_invalid = self->warned_invalid = FALSE;
    self->training = mode == GST_SKIP_GANOMALY_MODE_TRAIN;
    g_atomic_int_set(&self->cancel_training, 0);
    self->train_ok = FALSE;
    g_atomic_int_set(&self->retrain_busy, 0);
    self->retrain_collecting = FALSE;
    self->retrains = 0;
    self->left_batch = FALSE;
    GST_OBJECT_LOCK(self);
    self->scoring_decided = self->use_async = FALSE;
    self->frames_scored = self->frames_dropped = 0;
    self->latency = 0;
    GST_OBJECT_UNLOCK(self);
    self->next_stats_pts = GST_CLOCK_TIME_NONE;

    gchar *mask_why = NULL;
    if (!sgad_mask_parse(mask_text, &self->mask, &mask_why)) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid mask: %s.", mask_why), (NULL));
        g_free(mask_why);
        goto done;
    }
    if (!path || !*path) {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No model file given."),
                          ("set the model property to %s", mode == GST_SKIP_GANOMALY_MODE_SCORE
                                                                 ? "a checkpoint to score with"
                                                                 : "the checkpoint file to write"));
        goto done;
    }
    if (mode == GST_SKIP_GANOMALY_MODE_TRAIN) {
        if (patience && !eval_interval) {
            GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                              ("Invalid training settings: patience %u counts held-out measurements, and "
                               "eval-interval=0 makes none.", patience), (NULL));
            goto done;
        }
        if (training_problem) {
            GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid training settings: %s.", training_problem),
                              ("channels %d, input-size %d, width %g", config.channels, config.size,
                               (double)config.width));
            goto done;
        }
        /* a model path that is a folder, in a missing folder or on a read-only
         * file system fails now, not at the first save after the training */
        if (sg_check_writable_file(path) != SG_OK) {
            GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("Cannot write the model: %s.", sg_error_message()),
                              (NULL));
            goto done;
        }
    }
    if (sgad_device_pool_acquire(device, &dev) != SG_OK) {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No usable Vulkan device: %s", sg_error_message()),
                          ("device selection: %s", device ? device : "automatic"));
        goto done;
    }

    if (mode == GST_SKIP_GANOMALY_MODE_SCORE) {
        sg_model *model;
        sg_scorer *scorer;
        gchar *why = NULL;
        if (!load_scorer(dev, path, tiles * tiles, threshold, &model, &scorer, &why)) {
            gboolean missing = !g_file_test(path, G_FILE_TEST_EXISTS);
            if (missing)
                GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("Model file \"%s\" does not exist.", path),
                                  ("%s", why));
            else
                GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Cannot use model \"%s\": %s", path, why), (NULL));
            g_free(why);
            sgad_device_pool_release(dev);
            goto done;
        }
        if (!sgad_calibration_start(self, model)) {
            sg_scorer_destroy(scorer);
            sg_model_destroy(model);
            sgad_device_pool_release(dev);
            goto done;
        }
        SgadBatcher *batcher = NULL;
        if (batch_streams && !(batcher = sgad_batcher_acquire(dev, path, &why))) {
            GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Cannot use model \"%s\": %s", path, why), (NULL));
            g_free(why);
            sg_scorer_destroy(scorer);
            sg_model_destroy(model);
            sgad_device_pool_release(dev);
            goto done;
        }
        g_mutex_lock(&self->engine_lock);
        self->dev = dev;
        self->model = model;
        self->scorer = scorer;
        self->scorer_batch = tiles * tiles;
        self->batcher = batcher;
        g_mutex_unlock(&self->engine_lock);
        gst_base_transform_set_passthrough(trans, FALSE);
    } else {
        g_mutex_lock(&self->engine_lock);
        self->dev = dev;
        g_mutex_unlock(&self->engine_lock);
        sgad_reservoir_init(&self->reservoir, train_frames, config.channels, config.size, seed);
        /* frames go through untouched and unmapped for writing */
        gst_base_transform_set_passthrough(trans, TRUE);
    }
    ok = TRUE;
done:
    g_free(path);
    g_free(device);
    g_free(mask_text);
    g_free(training_problem);
    if (!ok)
        sgad_mask_clear(&self->mask);
    return ok;
}

static gboolean gst_skip_ganomaly_stop(GstBaseTransform *trans)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(trans);
    /* change_state asked a running training to stop; the scorer thread ends after its frame */
    if (self->train_thread)
        g_thread_join(g_steal_pointer(&self->train_thread));
    sgad_calibration_clear(self);
    GST_OBJECT_LOCK(self);
    SgadAsyncScorer *async = g_steal_pointer(&self->async);
    GST_OBJECT_UNLOCK(self);
    sgad_async_scorer_free(async);
    sgad_async_result_clear(&self->async_result);
    sgad_file_batch_clear(self); /* its scoring thread uses the scorer */
    g_mutex_lock(&self->engine_lock);
    sg_scorer *scorer = self->scorer;
    sg_model *model = self->model;
    sg_device *dev = self->dev;
    SgadBatcher *batcher = self->batcher;
    self->scorer = NULL;
    self->model = NULL;
    self->dev = NULL;
    self->batcher = NULL;
    self->scorer_batch = 0;
    g_mutex_unlock(&self->engine_lock);
    sgad_batcher_release(batcher);
    sg_scorer_destroy(scorer);
    sg_model_destroy(model);
    sgad_device_pool_release(dev);
    free_results(self);
    clear_retrain_plan(self);
    sgad_reservoir_clear(&self->reservoir);
    sgad_mask_clear(&self->mask);
    g_atomic_int_set(&self->retrain_busy, 0);
    self->retrain_collecting = FALSE;
    return TRUE;
}

static GstStateChangeReturn gst_skip_ganomaly_change_state(GstElement *element, GstStateChange transition)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(element);
    /* a training run blocks the streaming thread: ask it to save and stop
     * before the base class waits for that thread */
    if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
        g_atomic_int_set(&self->cancel_training, 1);
    return GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
}

static gboolean gst_skip_ganomaly_set_info(GstVideoFilter *filter, GstCaps *incaps, GstVideoInfo *in_info,
                                           GstCaps *outcaps, GstVideoInfo *out_info)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(filter);
    (void)incaps;
    (void)outcaps;
    (void)out_info;
    GST_DEBUG_OBJECT(self, "frames %dx%d %s", GST_VIDEO_INFO_WIDTH(in_info), GST_VIDEO_INFO_HEIGHT(in_info),
                     GST_VIDEO_INFO_NAME(in_info));
    /* a new resolution or format: rebuild the sampling plan on the next frame */
    if (self->plan_valid)
        sgad_plan_clear(&self->plan);
    self->plan_valid = FALSE;
    clear_retrain_plan(self);
    return TRUE;
}

/* (Re)build the plan when the caps, ROI, tiles or model geometry changed. */
gboolean skipganomaly_ensure_plan(GstSkipGanomaly *self, const GstVideoInfo *info, const SgadRect *roi, gint tiles,
                                  gint channels, gint size)
{
    if (self->plan_valid && memcmp(&self->plan_roi, roi, sizeof *roi) == 0 && self->plan_tiles == tiles &&
        self->plan_channels == channels && self->plan_size == size)
        return TRUE;
    if (self->plan_valid)
        sgad_plan_clear(&self->plan);
    self->plan_valid = FALSE;
    gchar *why = NULL;
    if (!sgad_plan_init(&self->plan, info, roi, tiles, channels, size, &why)) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot score these frames: %s.", why), (NULL));
        g_free(why);
        return FALSE;
    }
    self->plan_valid = TRUE;
    /* each tile of a non-square region is squashed to the model's square: say so once, on the bus */
    const gdouble aspect = (gdouble)self->plan.region.width * GST_VIDEO_INFO_PAR_N(info) /
                           ((gdouble)self->plan.region.height * MAX(GST_VIDEO_INFO_PAR_D(info), 1));
    if (!self->aspect_said && fabs(aspect - 1.0) > 0.01) {
        self->aspect_said = TRUE;
        gchar *text = g_strdup_printf("The scored region, %dx%d pixels (display aspect %.3g:1), is squashed to "
                                      "%dx%d squares for the model: shapes look %s to it than they are.",
                                      self->plan.region.width, self->plan.region.height, aspect, size, size,
                                      aspect > 1 ? "narrower" : "wider");
        /* the text in the debug string too: gst-launch-1.0 prints only that of an info message */
        GST_ELEMENT_INFO(self, STREAM, FORMAT, ("%s", text), ("%s", text));
        g_free(text);
    }
    self->plan_roi = *roi;
    self->plan_tiles = tiles;
    self->plan_channels = channels;
    self->plan_size = size;
    const gsize n = sgad_plan_floats(&self->plan);
    self->input = g_renew(gfloat, self->input, n);
    g_clear_pointer(&self->mask_inside, g_free);
    if (self->mask.kind != SGAD_MASK_NONE)
        self->mask_inside = sgad_mask_sample(&self->mask, &self->plan.region, GST_VIDEO_INFO_WIDTH(info),
                                             GST_VIDEO_INFO_HEIGHT(info), tiles, size);
    self->tile_heat = g_renew(gfloat, self->tile_heat, (gsize)tiles * tiles * size * size);
    return TRUE;
}

/* The frame as the model's input, mid-grey outside the mask. */
void skipganomaly_preprocess_into(GstSkipGanomaly *self, const GstVideoFrame *frame, gfloat *input)
{
    sgad_preprocess(&self->plan, frame, input);
    if (self->mask_inside)
        sgad_mask_apply_images(self->mask_inside, input, self->plan_tiles, self->plan_channels, self->plan_size);
}

static void preprocess(GstSkipGanomaly *self, const GstVideoFrame *frame)
{
    skipganomaly_preprocess_into(self, frame, self->input);
}

/* One frame's images through the model, under the engine lock: in the shared
 * batch with the other streams (batch-streams, while the model is still the
 * batcher's file), else with this instance's scorer. */
sg_status skipganomaly_run_model(GstSkipGanomaly *self, const gfloat *input, gint n, gfloat *scores, gfloat *heat,
                                 gchar **why)
{
    if (self->batcher && !self->left_batch && n <= SGAD_BATCHER_MAX_IMAGES) {
        GST_OBJECT_LOCK(self);
        const gboolean same = g_strcmp0(self->model_path, sgad_batcher_path(self->batcher)) == 0;
        const gint64 timeout = (gint64)self->batch_timeout * G_TIME_SPAN_MILLISECOND;
        GST_OBJECT_UNLOCK(self);
        if (same)
            return sgad_batcher_score(self->batcher, input, n, timeout, scores, heat, why);
    }
    sg_status s = sg_scorer_run(self->scorer, input, n, scores, heat, NULL);
    if (s != SG_OK)
        *why = g_strdup(sg_error_message());
    return s;
}

/* ---- training ------------------------------------------------------------- */

static void post_progress(GstSkipGanomaly *self, GstProgressType type, const gchar *text)
{
    /* score mode trains only to retrain */
    const gchar *code = self->training ? "training" : "retraining";
    GST_INFO_OBJECT(self, "%s: %s", code, text);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_progress(GST_OBJECT(self), type, code, (gchar *)text));
}

/* "1:05" or "1:02:05" */
static void format_duration(gchar *buf, gsize size, gdouble seconds)
{
    const glong t = seconds > 0 ? (glong)(seconds + 0.5) : 0;
    if (t >= 3600)
        g_snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        g_snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

/* Every step: where it is, how fast, how long still, and whether the
 * reconstruction is learnt (training and held-out loss), as sgad train shows it. */
static bool training_progress(const sg_fit_progress *p, void *user)
{
    GstSkipGanomaly *self = user;
    gchar left[32], heldout[96] = "held-out -", warmup[32] = "";
    format_duration(left, sizeof left, p->seconds_left);
    if (!isnan(p->heldout_con) && !isnan(p->best_heldout_con))
        g_snprintf(heldout, sizeof heldout, "held-out %.4f (best %.4f at step %" G_GUINT64_FORMAT ")",
                   p->heldout_con, p->best_heldout_con, p->best_step);
    else if (!isnan(p->heldout_con))
        g_snprintf(heldout, sizeof heldout, "held-out %.4f", p->heldout_con);
    if (p->losses.warmup < 1)
        g_snprintf(warmup, sizeof warmup, ", warm-up %.2f", p->losses.warmup);
    gchar *text = g_strdup_printf("epoch %u/%u step %u/%u: step %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                                  ", %.3g steps/s, %s left, con %.4f %s%s, G %.4g D %.4g",
                                  p->epoch + 1, p->epochs, p->step_in_epoch, p->steps_per_epoch, p->step, p->steps,
                                  p->steps_per_second, left, p->losses.g_con, heldout, warmup, p->losses.g_total,
                                  p->losses.d_total);
    post_progress(self, GST_PROGRESS_TYPE_CONTINUE, text);
    g_free(text);
    return !g_atomic_int_get(&self->cancel_training);
}

/* Where a retraining writes its model before it replaces the model file. */
static gchar *retrained_path(const gchar *model_path)
{
    return g_strconcat(model_path, ".retrained", NULL);
}

/* A failed training is an element error; a failed retraining a warning, as
 * the current model keeps scoring. */
#define TRAINING_FAILED(text, debug)                                                                                 \
    G_STMT_START                                                                                                       \
    {                                                                                                                  \
        if (self->training)                                                                                            \
            GST_ELEMENT_ERROR(self, STREAM, FAILED, text, debug);                                                      \
        else                                                                                                           \
            GST_ELEMENT_WARNING(self, STREAM, FAILED, text, debug);                                                    \
    }                                                                                                                  \
    G_STMT_END

/* Fewer held-out frames than 1/(1-q): the threshold is about their largest
 * score, and new normal frames cross it more often than the quantile says. */
static void warn_few_held_out(GstSkipGanomaly *self, guint frames)
{
    const sg_fit_options o = sg_fit_options_default();
    guint held = (guint)floor(o.holdout * (double)frames);
    if ((double)held * (1.0 - o.quantile) < 1.0 - 1e-6)
        GST_ELEMENT_WARNING(self, STREAM, FAILED,
                            ("Only %u of the %u training frames are held out to calibrate the threshold: a %g "
                             "quantile of fewer than %.0f scores is little more than their largest, so new normal "
                             "frames will be flagged more often than the quantile promises.", held, frames,
                             (double)o.quantile, ceil(1.0 / (1.0 - o.quantile) - 1e-2)),
                            ("train on at least %.0f frames (train-frames) for a meaningful threshold, or "
                             "calibrate the model afterwards on a few hundred later normal frames: when scoring, "
                             "with calibrate-frames, or with 'sgad calibrate --video' (docs/training.md, "
                             "\"Calibrating a model trained on a short clip\")",
                             ceil(1.0 / (1.0 - o.quantile) / o.holdout - 1e-2)));
}

/* Train on the collected frames and write the checkpoint; FALSE (with an
 * element error, or a warning when retraining, posted) when it could not. */
static gboolean run_training(GstSkipGanomaly *self)
{
    SgadTrainParams params = {0};
    GST_OBJECT_LOCK(self);
    /* a retraining writes beside the model, which it replaces only once the
     * new one has loaded (swap_in_retrained) */
    gchar *path = self->training ? g_strdup(self->model_path) : retrained_path(self->model_path);
    params.config = training_config(self);
    params.adversarial = self->adversarial;
    params.epochs = training_epochs(self, self->reservoir.count);
    params.batch = self->batch_size;
    params.save_interval = self->save_interval;
    params.warmup_steps = self->warmup_steps;
    params.eval_interval = self->eval_interval;
    params.patience = self->patience;
    params.learning_rate = (gfloat)self->learning_rate;
    params.score_lambda = (gfloat)self->score_lambda;
    params.frame_score = self->frame_score;
    params.seed = self->seed;
    GST_OBJECT_UNLOCK(self);
    params.checkpoint = path;
    self->trained = TRUE; /* once per stream, whatever the outcome */

    gboolean ok = FALSE;
    if (self->reservoir.count == 0) {
        TRAINING_FAILED(("No frames to train on: the stream ended before the first frame."),
                          (NULL));
        goto done;
    }
    gchar *text = g_strdup_printf("training on %u of %" G_GUINT64_FORMAT " frames, %u epochs, batch %u -> %s",
                                  self->reservoir.count, self->reservoir.seen, params.epochs, params.batch, path);
    /* a retraining's START was posted when it began collecting */
    post_progress(self, self->training ? GST_PROGRESS_TYPE_START : GST_PROGRESS_TYPE_CONTINUE, text);
    g_free(text);
    warn_few_held_out(self, self->reservoir.count);

    sg_fit_result result;
    sg_status s = sgad_train(self->dev, &self->reservoir, &params, training_progress, self, &result);
    if (s != SG_OK) {
        gchar *msg = g_strdup(sg_error_message());
        post_progress(self, GST_PROGRESS_TYPE_ERROR, msg);
        /* sg_fit saved after every save-interval-th epoch it completed and stopped
         * before saving anything of the epoch that diverged */
        const guint saved = result.epochs_run / params.save_interval * params.save_interval;
        if (s == SG_ERR_NUMERIC && saved > 0)
            TRAINING_FAILED(
                              ("Training diverged in epoch %u (a loss became NaN or infinite): lower the "
                               "learning-rate (now %g). \"%s.partial\" keeps the checkpoint of epoch %u, not "
                               "calibrated; \"%s\" was not replaced.",
                               result.epochs_run + 1, params.learning_rate, path, saved, path),
                              ("%s", msg));
        else if (s == SG_ERR_NUMERIC)
            TRAINING_FAILED(
                              ("Training diverged in epoch %u (a loss became NaN or infinite), before its first "
                               "checkpoint: lower the learning-rate (now %g). \"%s\" was not written.",
                               result.epochs_run + 1, params.learning_rate, path),
                              ("%s", msg));
        else
            TRAINING_FAILED(("Training failed: %s", msg), ("checkpoint %s", path));
        g_free(msg);
        goto done;
    }
    if (result.interrupted) {
        /* the pipeline stopped mid-training: the model path keeps what it held */
        text = g_strdup_printf("stopped after %u epochs (%" G_GUINT64_FORMAT " steps): \"%s\" not replaced, the "
                               "state so far is in \"%s.partial\"", result.epochs_run, result.steps_run, path, path);
        post_progress(self, GST_PROGRESS_TYPE_CANCELED, text);
        g_free(text);
        TRAINING_FAILED(
                          ("Training was stopped before it finished (after %u epochs, %" G_GUINT64_FORMAT " steps): "
                           "\"%s\" was not replaced; the unfinished, uncalibrated state is in \"%s.partial\".",
                           result.epochs_run, result.steps_run, path, path),
                          ("stop the pipeline with EOS (gst-launch-1.0 -e) to finish the training"));
        goto done;
    }
    gchar kept[192] = "";
    if (result.stopped_early)
        g_snprintf(kept, sizeof kept, "; stopped early, kept step %" G_GUINT64_FORMAT " (held-out con %.4f, the last "
                   "%.4f)", result.best_step, result.best_heldout_con, result.heldout_con);
    else if (params.patience && result.best_heldout_con < result.heldout_con)
        g_snprintf(kept, sizeof kept, "; kept step %" G_GUINT64_FORMAT ", the best measured (held-out con %.4f, "
                   "the last %.4f)", result.best_step, result.best_heldout_con, result.heldout_con);
    else if (!isnan(result.heldout_con))
        g_snprintf(kept, sizeof kept, "; held-out con %.4f", result.heldout_con);
    text = g_strdup_printf("trained after %u epochs (%" G_GUINT64_FORMAT " steps, %.1f s), G %.4g D %.4g%s: wrote %s",
                           result.epochs_run, result.steps_run, result.seconds, result.last.g_total,
                           result.last.d_total, kept, path);
    post_progress(self, GST_PROGRESS_TYPE_COMPLETE, text);
    g_free(text);
    ok = TRUE;
done:
    /* the frames are no longer needed: give the memory back now */
    sgad_reservoir_clear(&self->reservoir);
    g_free(path);
    return ok;
}

/* After a retraining wrote MODEL.retrained: load it beside the current model
 * (a model that cannot score leaves everything as it was), move it over the
 * model file (atomically) and swap it in as a hot reload does; say so on the bus. */
static void swap_in_retrained(GstSkipGanomaly *self, guint frames, guint64 seen)
{
    gint batch;
    sg_device *dev = skipganomaly_ref_device(self, &batch);
    if (!dev)
        return; /* stopping */
    GST_OBJECT_LOCK(self);
    gchar *path = g_strdup(self->model_path);
    const gdouble threshold = self->threshold;
    const guint epochs = training_epochs(self, frames);
    GST_OBJECT_UNLOCK(self);
    gchar *trained = retrained_path(path), *why = NULL;
    sg_model *model = NULL;
    sg_scorer *scorer = NULL;
    if (!load_scorer(dev, trained, batch, threshold, &model, &scorer, &why)) {
        GST_ELEMENT_WARNING(self, STREAM, FAILED,
                            ("The retrained model cannot be used: still scoring with \"%s\", which was not "
                             "replaced; the retrained model is in \"%s\".", path, trained),
                            ("%s", why));
        sgad_device_pool_release(dev);
        goto done;
    }
    if (g_rename(trained, path) != 0) {
        GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                            ("Cannot replace \"%s\" with the retrained model \"%s\": %s; still scoring with the "
                             "old model.", path, trained, g_strerror(errno)),
                            (NULL));
        sg_scorer_destroy(scorer);
        sg_model_destroy(model);
        sgad_device_pool_release(dev);
        goto done;
    }
    skipganomaly_swap_loaded(self, dev, batch, model, scorer, TRUE);
    self->retrains++;
    GST_INFO_OBJECT(self, "now scoring with the model retrained on %u images", frames);
    GstStructure *st = gst_structure_new("skipganomaly-retrained", "model", G_TYPE_STRING, path, "frames",
                                         G_TYPE_UINT, frames, "seen", G_TYPE_UINT64, seen, "epochs", G_TYPE_UINT,
                                         epochs, "retrains", G_TYPE_UINT, self->retrains, NULL);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
done:
    g_free(why);
    g_free(trained);
    g_free(path);
}

/* train-on=full and retraining: the training runs here while the frames flow on */
static gpointer training_thread(gpointer data)
{
    GstSkipGanomaly *self = data;
    const guint frames = self->reservoir.count;
    const guint64 seen = self->reservoir.seen;
    self->train_ok = run_training(self);
    if (!self->training) {
        if (self->train_ok)
            swap_in_retrained(self, frames, seen);
        g_atomic_int_set(&self->retrain_busy, 0);
    }
    return NULL;
}

/* ---- retraining while scoring ---------------------------------------------
 * The `retrain` signal marks a request (retrain_busy 0 -> 1); the streaming
 * thread takes it on its next frame (1 -> 2), collects the next train-frames
 * images into the reservoir while the current model goes on scoring, then
 * hands them to training_thread, which trains with train mode's settings,
 * writes the model file (sg_fit: atomically, unfinished states only in
 * MODEL.partial) and swaps it in; it ends the retraining (-> 0). */

static gboolean gst_skip_ganomaly_retrain(GstSkipGanomaly *self)
{
    GST_OBJECT_LOCK(self);
    const gboolean scoring = self->mode == GST_SKIP_GANOMALY_MODE_SCORE;
    GST_OBJECT_UNLOCK(self);
    g_mutex_lock(&self->engine_lock);
    const gboolean loaded = self->scorer != NULL;
    g_mutex_unlock(&self->engine_lock);
    if (!scoring || !loaded) {
        GST_WARNING_OBJECT(self, "retrain: only while scoring with a model (mode=score, PAUSED or PLAYING)");
        return FALSE;
    }
    if (!g_atomic_int_compare_and_exchange(&self->retrain_busy, 0, 1)) {
        GST_INFO_OBJECT(self, "retrain: a retraining is already under way");
        return FALSE;
    }
    return TRUE;
}

/* The streaming thread takes a request: a fresh reservoir with train mode's geometry. */
static void begin_retrain(GstSkipGanomaly *self)
{
    if (self->train_thread) /* the previous retraining, finished */
        g_thread_join(g_steal_pointer(&self->train_thread));
    GST_OBJECT_LOCK(self);
    sg_model_config config = training_config(self);
    const guint train_frames = self->train_frames;
    const guint32 seed = (guint32)self->seed;
    gchar *bad = training_settings_problem(self, &config);
    GST_OBJECT_UNLOCK(self);
    if (bad) {
        GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("Cannot retrain, invalid training settings: %s.", bad),
                            ("channels %d, input-size %d, width %g", config.channels, config.size,
                             (double)config.width));
        g_free(bad);
        g_atomic_int_set(&self->retrain_busy, 0);
        return;
    }
    sgad_reservoir_clear(&self->reservoir);
    sgad_reservoir_init(&self->reservoir, train_frames, config.channels, config.size, seed);
    self->retrain_collecting = TRUE;
    gchar *text = g_strdup_printf("collecting the next %u images to retrain on; scoring goes on with the current "
                                  "model", train_frames);
    post_progress(self, GST_PROGRESS_TYPE_START, text);
    g_free(text);
}

/* Offer a frame's preprocessed tiles (tiles x tiles images) to the reservoir. */
static gboolean offer_images(GstSkipGanomaly *self, const gfloat *input, gint tiles)
{
    const gsize image = (gsize)self->reservoir.channels * self->reservoir.size * self->reservoir.size;
    for (gint t = 0; t < tiles * tiles; t++) {
        if (!sgad_reservoir_add(&self->reservoir, input + t * image)) {
            GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Out of memory keeping training frames."),
                              ("reduce train-frames (now %u)", self->reservoir.capacity));
            return FALSE;
        }
    }
    return TRUE;
}

/* The retraining's own sampling plan: its geometry may differ from the scoring model's. */
static gboolean ensure_retrain_plan(GstSkipGanomaly *self, const GstVideoInfo *info, const SgadRect *roi, gint tiles)
{
    if (self->retrain_plan_valid && memcmp(&self->retrain_roi, roi, sizeof *roi) == 0 && self->retrain_tiles == tiles)
        return TRUE;
    clear_retrain_plan(self);
    const gint C = self->reservoir.channels, S = self->reservoir.size;
    gchar *why = NULL;
    if (!sgad_plan_init(&self->retrain_plan, info, roi, tiles, C, S, &why)) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot retrain on these frames: %s.", why), (NULL));
        g_free(why);
        return FALSE;
    }
    self->retrain_plan_valid = TRUE;
    self->retrain_roi = *roi;
    self->retrain_tiles = tiles;
    self->retrain_input = g_new(gfloat, sgad_plan_floats(&self->retrain_plan));
    if (self->mask.kind != SGAD_MASK_NONE)
        self->retrain_mask = sgad_mask_sample(&self->mask, &self->retrain_plan.region, GST_VIDEO_INFO_WIDTH(info),
                                              GST_VIDEO_INFO_HEIGHT(info), tiles, S);
    return TRUE;
}

static void start_retraining_thread(GstSkipGanomaly *self)
{
    self->retrain_collecting = FALSE;
    self->train_thread = g_thread_new("sgad-retrain", training_thread, self);
}

/* Score mode, every frame before it is scored: take a request, collect. */
static GstFlowReturn retrain_frame(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles)
{
    if (g_atomic_int_compare_and_exchange(&self->retrain_busy, 1, 2))
        begin_retrain(self);
    if (!self->retrain_collecting)
        return GST_FLOW_OK;
    if (!ensure_retrain_plan(self, &frame->info, roi, tiles))
        return GST_FLOW_ERROR;
    sgad_preprocess(&self->retrain_plan, frame, self->retrain_input);
    if (self->retrain_mask)
        sgad_mask_apply_images(self->retrain_mask, self->retrain_input, tiles, self->reservoir.channels,
                               self->reservoir.size);
    if (!offer_images(self, self->retrain_input, tiles))
        return GST_FLOW_ERROR;
    if (sgad_reservoir_full(&self->reservoir))
        start_retraining_thread(self);
    return GST_FLOW_OK;
}

/* EOS in score mode: a retraining under way finishes first (on what was
 * collected so far), so the new model is in use when EOS goes on. */
static void retrain_eos(GstSkipGanomaly *self)
{
    if (self->retrain_collecting && self->reservoir.count > 0)
        start_retraining_thread(self);
    self->retrain_collecting = FALSE;
    if (self->train_thread)
        g_thread_join(g_steal_pointer(&self->train_thread));
    /* a request no frame took, or a collection without frames */
    g_atomic_int_set(&self->retrain_busy, 0);
}

static void live_eos(GstSkipGanomaly *self);

static gboolean gst_skip_ganomaly_sink_event(GstBaseTransform *trans, GstEvent *event)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(trans);
    sgad_file_batch_before_event(self, event);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->training) {
        /* EOS goes downstream only once the checkpoint is on disk */
        gboolean ok = TRUE;
        if (self->train_thread) {
            g_thread_join(g_steal_pointer(&self->train_thread));
            ok = self->train_ok;
        } else if (!self->trained) {
            ok = run_training(self);
        }
        if (!ok) {
            gst_event_unref(event);
            return FALSE;
        }
    }
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && !self->training) {
        sgad_calibration_eos(self);
        retrain_eos(self);
        live_eos(self);
    }
    return GST_BASE_TRANSFORM_CLASS(parent_class)->sink_event(trans, event);
}

static GstFlowReturn collect_frame(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles)
{
    if (self->trained)
        return GST_FLOW_OK;
    if (!skipganomaly_ensure_plan(self, &frame->info, roi, tiles, self->reservoir.channels, self->reservoir.size))
        return GST_FLOW_ERROR;
    preprocess(self, frame);
    if (!offer_images(self, self->input, tiles))
        return GST_FLOW_ERROR;
    GST_OBJECT_LOCK(self);
    gboolean on_full = self->train_on == GST_SKIP_GANOMALY_TRAIN_ON_FULL;
    GST_OBJECT_UNLOCK(self);
    if (on_full && sgad_reservoir_full(&self->reservoir)) {
        /* later frames are ignored; they pass on while the worker trains */
        self->trained = TRUE;
        self->train_thread = g_thread_new("sgad-train", training_thread, self);
    }
    return GST_FLOW_OK;
}

/* ---- scoring -------------------------------------------------------------- */

/* Keep a frame's score. One that is not a finite number never reads as normal:
 * it stays NaN, flagged invalid (and so anomalous), with one warning per run. */
static void note_score(GstSkipGanomaly *self, gdouble score, gboolean invalid, guint64 frame_no)
{
    self->last_score = invalid ? NAN : score;
    self->last_invalid = invalid;
    if (invalid && !self->warned_invalid) {
        self->warned_invalid = TRUE;
        GST_ELEMENT_WARNING(self, STREAM, FAILED,
                            ("The model gives scores that are not numbers (NaN or infinite); such frames are "
                             "flagged anomalous with score-valid=FALSE."),
                            ("frame %" G_GUINT64_FORMAT "; the checkpoint's weights overflow the arithmetic on "
                             "this input: retrain or use another model", frame_no));
    }
}

/* Under the engine lock: a scorer recorded for at least n images. */
gboolean skipganomaly_ensure_scorer_batch(GstSkipGanomaly *self, gint n)
{
    if (n <= self->scorer_batch)
        return TRUE;
    sg_scorer *bigger = NULL;
    if (sg_scorer_create(self->model, n, &bigger) != SG_OK) {
        GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Cannot score %d images at once: %s", n, sg_error_message()),
                          (NULL));
        return FALSE;
    }
    sg_scorer_destroy(self->scorer);
    self->scorer = bigger;
    self->scorer_batch = n;
    return TRUE;
}

static GstFlowReturn score_frame(GstSkipGanomaly *self, GstVideoFrame *frame, guint64 frame_no, const SgadRect *roi,
                                 gint tiles, gdouble threshold_prop)
{
    g_mutex_lock(&self->engine_lock);
    if (!self->scorer) {
        g_mutex_unlock(&self->engine_lock);
        GST_ELEMENT_ERROR(self, CORE, FAILED, ("No model loaded."), (NULL));
        return GST_FLOW_ERROR;
    }
    const sg_model_config *cfg = sg_model_get_config(self->model);
    const gint C = cfg->channels, S = cfg->size, n = tiles * tiles;
    if (!skipganomaly_ensure_plan(self, &frame->info, roi, tiles, C, S)) {
        g_mutex_unlock(&self->engine_lock);
        return GST_FLOW_ERROR;
    }
    if (!skipganomaly_ensure_scorer_batch(self, n)) {
        g_mutex_unlock(&self->engine_lock);
        return GST_FLOW_ERROR;
    }
    preprocess(self, frame);
    gfloat scores[n];
    gchar *why = NULL;
    sg_status s = skipganomaly_run_model(self, self->input, n, scores, self->tile_heat, &why);
    gdouble threshold = skipganomaly_effective_threshold(threshold_prop, self->model);
    g_mutex_unlock(&self->engine_lock);
    if (s != SG_OK) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Scoring failed: %s", why), (NULL));
        g_free(why);
        return GST_FLOW_ERROR;
    }

    skipganomaly_take_result(self, scores, self->tile_heat, tiles, S, threshold, frame_no);
    return GST_FLOW_OK;
}

/* One frame's tile scores and heat maps as the current result: the frame's
 * score is its worst tile; the heat map is the tiles stitched. */
void skipganomaly_take_result(GstSkipGanomaly *self, const gfloat *scores, const gfloat *tile_heat, gint tiles,
                              gint S, gdouble threshold, guint64 frame_no)
{
    const gint n = tiles * tiles;
    const guint side = (guint)(tiles * S);
    if (self->last_grid != (guint)tiles || self->last_heat_side != side || !self->last_tiles) {
        self->last_tiles = g_renew(gfloat, self->last_tiles, n);
        self->last_heat = g_renew(gfloat, self->last_heat, (gsize)side * side);
        self->last_grid = (guint)tiles;
        self->last_heat_side = side;
    }
    gdouble score = -G_MAXDOUBLE;
    gboolean invalid = FALSE;
    for (gint t = 0; t < n; t++) {
        self->last_tiles[t] = scores[t];
        score = MAX(score, (gdouble)scores[t]);
        invalid |= !isfinite(scores[t]); /* MAX would drop a NaN */
        const gint tx = t % tiles, ty = t / tiles;
        for (gint y = 0; y < S; y++)
            memcpy(self->last_heat + (gsize)(ty * S + y) * side + (gsize)tx * S,
                   tile_heat + ((gsize)t * S + y) * S, (gsize)S * sizeof(gfloat));
    }
    if (self->mask_inside)
        sgad_mask_apply_heat(self->mask_inside, self->last_heat, tiles, S);
    note_score(self, score, invalid, frame_no);
    /* an uncalibrated model with threshold -1 keeps the threshold it had */
    if (!isnan(threshold))
        self->last_threshold = threshold;
    self->last_region = self->plan.region;
    self->have_result = TRUE;
}

/* ts, duration and frame_no: of the frame the result was computed on */
static void post_frame_messages(GstSkipGanomaly *self, GstClockTime ts, GstClockTime duration, guint64 frame_no,
                                gboolean was_anomalous, gboolean post_scores)
{
    const gboolean anomalous = self->anomalous;
    if (post_scores) {
        GstSegment *seg = &GST_BASE_TRANSFORM(self)->segment;
        GstClockTime stream_time = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, ts);
        GstClockTime running_time = gst_segment_to_running_time(seg, GST_FORMAT_TIME, ts);
        GstStructure *st = gst_structure_new(
            "skipganomaly", "timestamp", G_TYPE_UINT64, ts, "stream-time", G_TYPE_UINT64, stream_time,
            "running-time", G_TYPE_UINT64, running_time, "duration", G_TYPE_UINT64, duration,
            "score", G_TYPE_DOUBLE, self->last_score, "threshold", G_TYPE_DOUBLE, self->last_threshold,
            "anomalous", G_TYPE_BOOLEAN, anomalous, "score-valid", G_TYPE_BOOLEAN, !self->last_invalid, "frame",
            G_TYPE_UINT64, frame_no, NULL);
        gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
    }
    if (anomalous != was_anomalous) {
        GstStructure *st = gst_structure_new(anomalous ? "anomaly-start" : "anomaly-end", "timestamp", G_TYPE_UINT64,
                                             ts, "frame", G_TYPE_UINT64, frame_no, "score", G_TYPE_DOUBLE,
                                             self->last_score, NULL);
        gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
    }
}

/* ---- live scoring ---------------------------------------------------------
 * sync: each frame is scored before it goes on (the element's latency is the
 * longest scoring so far, reported in the LATENCY query). async: frames go on
 * at once with the newest result a scorer thread (async_scorer.c) has; the
 * scorer takes the newest frame and skips (counts) the ones it had no time
 * for. auto picks async when upstream is live. */

static gboolean upstream_is_live(GstSkipGanomaly *self)
{
    GstQuery *q = gst_query_new_latency();
    gboolean live = FALSE;
    if (gst_pad_peer_query(GST_BASE_TRANSFORM_SINK_PAD(self), q))
        gst_query_parse_latency(q, &live, NULL, NULL);
    gst_query_unref(q);
    return live;
}

/* Once per run, from the first LATENCY query or the first frame. */
static void decide_scoring(GstSkipGanomaly *self, gboolean live)
{
    GST_OBJECT_LOCK(self);
    if (!self->scoring_decided) {
        self->use_async = self->scoring == GST_SKIP_GANOMALY_SCORING_ASYNC ||
                          (self->scoring == GST_SKIP_GANOMALY_SCORING_AUTO && live);
        self->scoring_decided = TRUE;
        GST_INFO_OBJECT(self, "%s upstream: scoring %s", live ? "live" : "non-live",
                        self->use_async ? "asynchronously" : "synchronously");
    }
    GST_OBJECT_UNLOCK(self);
}

gboolean skipganomaly_use_async(GstSkipGanomaly *self)
{
    GST_OBJECT_LOCK(self);
    gboolean decided = self->scoring_decided;
    GST_OBJECT_UNLOCK(self);
    if (!decided)
        decide_scoring(self, upstream_is_live(self));
    GST_OBJECT_LOCK(self);
    gboolean async = self->use_async;
    GST_OBJECT_UNLOCK(self);
    return async;
}

static GstClockTime result_age(GstClockTime pts, GstClockTime result_pts)
{
    if (!GST_CLOCK_TIME_IS_VALID(pts) || !GST_CLOCK_TIME_IS_VALID(result_pts) || pts < result_pts)
        return 0;
    return pts - result_pts;
}

/* sync mode: count the score and grow the reported latency when a scoring took
 * longer (with a quarter of headroom, so it is not re-announced every frame) */
void skipganomaly_note_sync_score(GstSkipGanomaly *self, GstClockTime took, guint frames)
{
    GST_OBJECT_LOCK(self);
    self->frames_scored += frames;
    gboolean grew = took > self->latency;
    if (grew)
        self->latency = took + took / 4;
    GST_OBJECT_UNLOCK(self);
    if (grew) {
        GST_DEBUG_OBJECT(self, "scoring took %" GST_TIME_FORMAT ": announcing a new latency", GST_TIME_ARGS(took));
        gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    }
}

static void post_stats(GstSkipGanomaly *self)
{
    guint64 scored, skipped = 0;
    GST_OBJECT_LOCK(self);
    const gboolean async = self->use_async;
    scored = self->frames_scored;
    const guint64 dropped = self->frames_dropped;
    const GstClockTime latency = async ? 0 : self->latency;
    if (self->async)
        sgad_async_scorer_counts(self->async, NULL, &scored, &skipped);
    GST_OBJECT_UNLOCK(self);
    GstStructure *st = gst_structure_new("skipganomaly-stats", "frames", G_TYPE_UINT64, self->frame, "scored",
                                         G_TYPE_UINT64, scored, "skipped", G_TYPE_UINT64, skipped, "dropped",
                                         G_TYPE_UINT64, dropped, "scoring", G_TYPE_STRING, async ? "async" : "sync",
                                         "latency", G_TYPE_UINT64, latency, NULL);
    /* the shared batch's, all streams together; self->batcher changes only in
     * start and stop, never while this streaming thread runs (and the engine
     * lock may be held by the scorer thread for a whole scoring) */
    if (self->batcher) {
        guint64 batches, images;
        sgad_batcher_counts(self->batcher, &batches, &images);
        gst_structure_set(st, "batches", G_TYPE_UINT64, batches, "batched-images", G_TYPE_UINT64, images, NULL);
    }
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
}

/* every stats-interval of stream time */
static void maybe_post_stats(GstSkipGanomaly *self, GstClockTime pts)
{
    GST_OBJECT_LOCK(self);
    const GstClockTime interval = (GstClockTime)self->stats_interval * GST_MSECOND;
    GST_OBJECT_UNLOCK(self);
    if (!interval || !GST_CLOCK_TIME_IS_VALID(pts))
        return;
    if (!GST_CLOCK_TIME_IS_VALID(self->next_stats_pts)) {
        self->next_stats_pts = pts + interval;
        return;
    }
    if (pts >= self->next_stats_pts) {
        post_stats(self);
        self->next_stats_pts = pts + interval;
    }
}

/* At EOS: let the scorer finish what it has, then the last stats. */
static void live_eos(GstSkipGanomaly *self)
{
    GST_OBJECT_LOCK(self);
    SgadAsyncScorer *async = self->async;
    GST_OBJECT_UNLOCK(self);
    if (async)
        sgad_async_scorer_drain(async);
    post_stats(self);
}

/* The scorer thread's call: the model on a prepared frame, under the engine lock. */
static SgadAsyncOutcome async_score(const SgadAsyncJob *job, gfloat *scores, gfloat *tile_heat, gdouble *threshold,
                                    gpointer user)
{
    GstSkipGanomaly *self = user;
    GST_OBJECT_LOCK(self);
    const gdouble threshold_prop = self->threshold;
    GST_OBJECT_UNLOCK(self);
    const gint n = job->tiles * job->tiles;
    g_mutex_lock(&self->engine_lock);
    if (!self->scorer) {
        g_mutex_unlock(&self->engine_lock);
        return SGAD_ASYNC_UNUSABLE; /* stopping */
    }
    const sg_model_config *cfg = sg_model_get_config(self->model);
    if (cfg->channels != job->channels || cfg->size != job->size) {
        g_mutex_unlock(&self->engine_lock);
        return SGAD_ASYNC_UNUSABLE; /* prepared for the model before a switch */
    }
    if (!skipganomaly_ensure_scorer_batch(self, n)) {
        g_mutex_unlock(&self->engine_lock);
        return SGAD_ASYNC_FAILED;
    }
    gchar *why = NULL;
    sg_status s = skipganomaly_run_model(self, job->input, n, scores, tile_heat, &why);
    *threshold = skipganomaly_effective_threshold(threshold_prop, self->model);
    g_mutex_unlock(&self->engine_lock);
    if (s != SG_OK) {
        GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Scoring failed: %s", why), (NULL));
        g_free(why);
        return SGAD_ASYNC_FAILED;
    }
    return SGAD_ASYNC_SCORED;
}

gboolean skipganomaly_model_geometry(GstSkipGanomaly *self, gint *channels, gint *size)
{
    /* the scorer thread holds the engine lock while it scores: never wait for
     * it, keep the model geometry of the last frame (a switched model's frames
     * that no longer fit are skipped by the scorer and the next frame adapts) */
    if (self->plan_valid && !g_mutex_trylock(&self->engine_lock)) {
        *channels = self->plan_channels;
        *size = self->plan_size;
        return TRUE;
    }
    if (!self->plan_valid)
        g_mutex_lock(&self->engine_lock);
    if (!self->scorer) {
        g_mutex_unlock(&self->engine_lock);
        GST_ELEMENT_ERROR(self, CORE, FAILED, ("No model loaded."), (NULL));
        return FALSE;
    }
    const sg_model_config *cfg = sg_model_get_config(self->model);
    *channels = cfg->channels;
    *size = cfg->size;
    g_mutex_unlock(&self->engine_lock);
    return TRUE;
}

/* Preprocess the frame (on this thread: it is quick) and hand it to the scorer. */
static GstFlowReturn submit_async(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles,
                                  guint64 frame_no)
{
    gint C, S;
    if (!skipganomaly_model_geometry(self, &C, &S) || !skipganomaly_ensure_plan(self, &frame->info, roi, tiles, C, S))
        return GST_FLOW_ERROR;
    preprocess(self, frame);
    const SgadAsyncJob job = {.frame = frame_no, .pts = GST_BUFFER_PTS(frame->buffer), .tiles = tiles,
                              .channels = C, .size = S, .region = self->plan.region, .input = self->input};
    /* FALSE: scoring failed on the scorer thread, which posted the error */
    return sgad_async_scorer_submit(self->async, &job) ? GST_FLOW_OK : GST_FLOW_ERROR;
}

static GstFlowReturn score_async(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles,
                                 guint interval, gboolean post)
{
    const guint64 frame_no = self->frame++;
    const GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
    if (!self->async) {
        SgadAsyncScorer *async = sgad_async_scorer_new(async_score, self);
        GST_OBJECT_LOCK(self);
        self->async = async;
        GST_OBJECT_UNLOCK(self);
    }
    /* the newest result first, so a frame never carries a result from its future */
    SgadAsyncResult *r = &self->async_result;
    /* a result of a frame before the last calibration was judged by the calibration before it */
    if (sgad_async_scorer_take(self->async, r) && r->frame >= self->results_from) {
        const gboolean was_anomalous = self->anomalous;
        if (self->mask_inside && r->tiles == self->plan_tiles && r->size == self->plan_size)
            sgad_mask_apply_heat(self->mask_inside, r->heat, r->tiles, r->size);
        note_score(self, r->score, !isfinite(r->score), r->frame);
        if (!isnan(r->threshold))
            self->last_threshold = r->threshold;
        self->anomalous = self->last_invalid || self->last_score > self->last_threshold;
        self->result_frame = r->frame;
        self->result_pts = r->pts;
        self->have_result = TRUE;
        post_frame_messages(self, r->pts, GST_BUFFER_DURATION(frame->buffer), r->frame, was_anomalous, post);
    }
    if (frame_no % interval == 0) {
        GstFlowReturn ret = submit_async(self, frame, roi, tiles, frame_no);
        if (ret != GST_FLOW_OK)
            return ret;
    }
    if (self->have_result) {
        const guint side = (guint)(r->tiles * r->size);
        SgadAnomalyResult res = {
            .score = self->last_score,
            .threshold = self->last_threshold,
            .anomalous = self->anomalous,
            .score_invalid = self->last_invalid,
            .tiles_x = (guint)r->tiles,
            .tiles_y = (guint)r->tiles,
            .tile_scores = r->tile_scores,
            .heatmap_width = side,
            .heatmap_height = side,
            .heatmap = r->heat,
            .roi_x = r->region.x,
            .roi_y = r->region.y,
            .roi_width = r->region.width,
            .roi_height = r->region.height,
            .frame = frame_no,
        };
        sgad_buffer_set_anomaly_result(frame->buffer, &res);
        sgad_buffer_set_anomaly_source(frame->buffer, r->frame, result_age(pts, r->pts));
    } else {
        sgad_buffer_set_anomaly_pending(frame->buffer, frame_no);
    }
    maybe_post_stats(self, pts);
    return GST_FLOW_OK;
}

/* The current result as the buffer's meta (and, when it was scored on this
 * frame, the frame's bus messages). The buffer must be writable. */
void skipganomaly_attach_result(GstSkipGanomaly *self, GstBuffer *buffer, guint64 frame_no, gboolean score_now,
                                gboolean was_anomalous, gboolean post)
{
    const GstClockTime pts = GST_BUFFER_PTS(buffer);
    SgadAnomalyResult r = {
        .score = self->last_score,
        .threshold = self->last_threshold,
        .anomalous = self->anomalous,
        .score_invalid = self->last_invalid,
        .tiles_x = self->last_grid,
        .tiles_y = self->last_grid,
        .tile_scores = self->last_tiles,
        .heatmap_width = self->last_heat_side,
        .heatmap_height = self->last_heat_side,
        .heatmap = self->last_heat,
        .roi_x = self->last_region.x,
        .roi_y = self->last_region.y,
        .roi_width = self->last_region.width,
        .roi_height = self->last_region.height,
        .frame = frame_no,
    };
    sgad_buffer_set_anomaly_result(buffer, &r);
    sgad_buffer_set_anomaly_source(buffer, self->result_frame, result_age(pts, self->result_pts));
    if (score_now)
        post_frame_messages(self, pts, GST_BUFFER_DURATION(buffer), frame_no, was_anomalous, post);
    maybe_post_stats(self, pts);
}

/* batched scoring of files (score-batch): file_batch.c */
static GstFlowReturn gst_skip_ganomaly_generate_output(GstBaseTransform *trans, GstBuffer **outbuf)
{
    return sgad_file_batch_generate_output(GST_SKIP_GANOMALY(trans), trans, GST_BASE_TRANSFORM_CLASS(parent_class),
                                           outbuf);
}

/* The LATENCY query: upstream's, plus the scoring time in sync mode (async adds none). */
static gboolean gst_skip_ganomaly_query(GstBaseTransform *trans, GstPadDirection direction, GstQuery *query)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(trans);
    gboolean ret = GST_BASE_TRANSFORM_CLASS(parent_class)->query(trans, direction, query);
    if (!ret || direction != GST_PAD_SRC || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY || self->training)
        return ret;
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(query, &live, &min, &max);
    GST_OBJECT_LOCK(self);
    const gboolean scoring = self->mode == GST_SKIP_GANOMALY_MODE_SCORE;
    GST_OBJECT_UNLOCK(self);
    if (!scoring)
        return ret;
    decide_scoring(self, live);
    GST_OBJECT_LOCK(self);
    GstClockTime ours = self->use_async ? 0 : self->latency;
    GST_OBJECT_UNLOCK(self);
    ours += sgad_file_batch_latency(self);
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID(max))
        max += ours;
    GST_DEBUG_OBJECT(self, "latency: upstream %s live, ours %" GST_TIME_FORMAT, live ? "is" : "not",
                     GST_TIME_ARGS(ours));
    gst_query_set_latency(query, live, min, max);
    return ret;
}

/* Count the frames the base class drops for QoS (it posts a QoS message for
 * each; the count is also a property and in the stats message). */
static GstFlowReturn gst_skip_ganomaly_submit_input_buffer(GstBaseTransform *trans, gboolean is_discont,
                                                           GstBuffer *input)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(trans);
    GstFlowReturn ret = GST_BASE_TRANSFORM_CLASS(parent_class)->submit_input_buffer(trans, is_discont, input);
    if (ret == GST_BASE_TRANSFORM_FLOW_DROPPED) {
        GST_OBJECT_LOCK(self);
        self->frames_dropped++;
        GST_OBJECT_UNLOCK(self);
    }
    return ret;
}

static GstFlowReturn gst_skip_ganomaly_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(filter);
    GST_OBJECT_LOCK(self);
    const SgadRect roi = self->roi;
    const gint tiles = (gint)self->tiles;
    const guint interval = self->interval;
    const gboolean post = self->post_messages;
    const gdouble threshold_prop = self->threshold;
    GST_OBJECT_UNLOCK(self);

    if (self->training)
        return collect_frame(self, frame, &roi, tiles);
    gboolean calibrating = FALSE;
    GstFlowReturn collected = sgad_calibration_frame(self, frame, &roi, tiles, &calibrating);
    if (collected == GST_FLOW_OK)
        collected = retrain_frame(self, frame, &roi, tiles);
    if (collected != GST_FLOW_OK)
        return collected;
    if (calibrating) {
        /* a frame declared normal, or one the calibration under way will judge: no verdict */
        sgad_buffer_set_anomaly_pending(frame->buffer, self->frame++);
        return GST_FLOW_OK;
    }
    if (skipganomaly_use_async(self))
        return score_async(self, frame, &roi, tiles, interval, post);

    const guint64 frame_no = self->frame++;
    const GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
    const gboolean score_now = !self->have_result || frame_no % interval == 0 || self->last_grid != (guint)tiles;
    const gboolean was_anomalous = self->anomalous;
    if (score_now) {
        const gint64 started = g_get_monotonic_time();
        GstFlowReturn ret = score_frame(self, frame, frame_no, &roi, tiles, threshold_prop);
        if (ret != GST_FLOW_OK)
            return ret;
        skipganomaly_note_sync_score(self, (GstClockTime)(g_get_monotonic_time() - started) * GST_USECOND, 1);
        /* a score that is not a number never reads as normal */
        self->anomalous = self->last_invalid || self->last_score > self->last_threshold;
        self->result_frame = frame_no;
        self->result_pts = pts;
    }
    skipganomaly_attach_result(self, frame->buffer, frame_no, score_now, was_anomalous, post);
    return GST_FLOW_OK;
}

/* ---- hot reload ----------------------------------------------------------- */

sg_device *skipganomaly_ref_device(GstSkipGanomaly *self, gint *batch)
{
    g_mutex_lock(&self->engine_lock);
    sg_device *dev = self->scorer ? self->dev : NULL;
    *batch = self->scorer_batch;
    if (dev)
        sgad_device_pool_ref(dev);
    g_mutex_unlock(&self->engine_lock);
    return dev;
}

void skipganomaly_swap_loaded(GstSkipGanomaly *self, sg_device *dev, gint batch, sg_model *model, sg_scorer *scorer,
                              gboolean left_file)
{
    g_mutex_lock(&self->engine_lock);
    if (self->scorer && self->dev == dev) {
        sg_scorer *s = self->scorer;
        sg_model *m = self->model;
        self->scorer = scorer;
        self->model = model;
        /* the stream may have grown the old scorer (more tiles) meanwhile: record the
         * new one's batch, so that score_frame grows it again rather than overrun it */
        self->scorer_batch = batch;
        /* a retrained or calibrated model is no longer what the shared batch (batch-streams) holds */
        self->left_batch |= left_file;
        scorer = s;
        model = m;
    }
    g_mutex_unlock(&self->engine_lock);
    sg_scorer_destroy(scorer);
    sg_model_destroy(model);
    sgad_device_pool_release(dev);
}

/* Setting `model` while a model is loaded: load and record the new one beside
 * the old, swap them under the engine lock, so the stream never stops. A file
 * that cannot be used leaves the old model in place (and the property value). */
static gboolean reload_model(GstSkipGanomaly *self, const gchar *path)
{
    gint batch;
    sg_device *dev = skipganomaly_ref_device(self, &batch);
    if (!dev) {
        GST_OBJECT_LOCK(self);
        g_free(self->model_path);
        self->model_path = g_strdup(path);
        GST_OBJECT_UNLOCK(self);
        return TRUE;
    }

    GST_OBJECT_LOCK(self);
    gdouble threshold = self->threshold;
    gchar *old_path = g_strdup(self->model_path);
    GST_OBJECT_UNLOCK(self);
    sg_model *model = NULL;
    sg_scorer *scorer = NULL;
    gchar *why = NULL;
    if (!path || !load_scorer(dev, path, batch, threshold, &model, &scorer, &why)) {
        GST_ELEMENT_WARNING(self, RESOURCE, READ,
                            ("Cannot switch to model \"%s\"; still scoring with \"%s\".", path ? path : "(none)",
                             old_path),
                            ("%s", why ? why : "no file given"));
        g_free(why);
        g_free(old_path);
        sgad_device_pool_release(dev);
        return FALSE;
    }
    skipganomaly_swap_loaded(self, dev, batch, model, scorer, FALSE);
    GST_OBJECT_LOCK(self);
    g_free(self->model_path);
    self->model_path = g_strdup(path);
    GST_OBJECT_UNLOCK(self);
    GST_INFO_OBJECT(self, "now scoring with %s (was %s)", path, old_path);
    g_free(old_path);
    return TRUE;
}

/* ---- properties ----------------------------------------------------------- */

static void gst_skip_ganomaly_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(object);
    if (prop_id == PROP_MODEL) {
        reload_model(self, g_value_get_string(value));
        return;
    }
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_MODE:
        self->mode = g_value_get_enum(value);
        break;
    case PROP_THRESHOLD: {
        /* a standardised score (frame-score ...,std) is negative below the normal
         * frames' mean, so any finite number is a threshold; -1 exactly means
         * "the calibration". The range already refuses infinities; NaN too. */
        gdouble t = g_value_get_double(value);
        if (!isfinite(t))
            g_warning("skipganomaly: threshold %g is not a finite number; ignored", t);
        else
            self->threshold = t;
        break;
    }
    case PROP_ROI: {
        SgadRect r;
        const gchar *text = g_value_get_string(value);
        if (sgad_rect_parse(text, &r))
            self->roi = r;
        else
            g_warning("skipganomaly: roi \"%s\" is not \"x,y,width,height\" with width, height > 0; ignored",
                      text);
        break;
    }
    case PROP_TILES:
        self->tiles = g_value_get_uint(value);
        break;
    case PROP_INTERVAL:
        self->interval = g_value_get_uint(value);
        break;
    case PROP_DEVICE:
        g_free(self->device);
        self->device = g_value_dup_string(value);
        break;
    case PROP_POST_MESSAGES:
        self->post_messages = g_value_get_boolean(value);
        break;
    case PROP_TRAIN_FRAMES:
        self->train_frames = g_value_get_uint(value);
        break;
    case PROP_TRAIN_ON:
        self->train_on = g_value_get_enum(value);
        break;
    case PROP_EPOCHS:
        self->epochs = g_value_get_uint(value);
        break;
    case PROP_BATCH_SIZE:
        self->batch_size = g_value_get_uint(value);
        break;
    case PROP_FRAME_SCORE: {
        sg_frame_score_config c;
        const gchar *text = g_value_get_string(value);
        const char *bad = text ? sg_frame_score_config_parse(text, &c) : NULL;
        if (!text)
            c = sg_frame_score_config_default();
        if (bad)
            g_warning("skipganomaly: frame-score \"%s\": %s", text, bad);
        else
            self->frame_score = c;
        break;
    }
    case PROP_SCORE_LAMBDA:
        self->score_lambda = g_value_get_double(value);
        break;
    case PROP_LEARNING_RATE:
        self->learning_rate = g_value_get_double(value);
        break;
    case PROP_WIDTH:
        self->width = g_value_get_double(value);
        break;
    case PROP_INPUT_SIZE:
        self->input_size = g_value_get_uint(value);
        break;
    case PROP_UPSAMPLE:
        self->upsample = g_value_get_enum(value);
        break;
    case PROP_DROP_SKIPS: {
        unsigned mask;
        const gchar *text = g_value_get_string(value);
        const char *bad = sg_skips_parse(text ? text : DEFAULT_DROP_SKIPS, &mask);
        if (bad)
            g_warning("skipganomaly: drop-skips \"%s\": %s", text, bad);
        else
            self->dropped_skips = mask;
        break;
    }
    case PROP_ADVERSARIAL:
        self->adversarial = g_value_get_boolean(value);
        break;
    case PROP_STEPS:
        self->steps = g_value_get_uint(value);
        break;
    case PROP_CHANNELS:
        self->channels = g_value_get_uint(value);
        break;
    case PROP_SAVE_INTERVAL:
        self->save_interval = g_value_get_uint(value);
        break;
    case PROP_WARMUP_STEPS:
        self->warmup_steps = g_value_get_uint(value);
        break;
    case PROP_EVAL_INTERVAL:
        self->eval_interval = g_value_get_uint(value);
        break;
    case PROP_PATIENCE:
        self->patience = g_value_get_uint(value);
        break;
    case PROP_SEED:
        self->seed = g_value_get_uint64(value);
        break;
    case PROP_SCORING:
        self->scoring = g_value_get_enum(value);
        break;
    case PROP_STATS_INTERVAL:
        self->stats_interval = g_value_get_uint(value);
        break;
    case PROP_BATCH_STREAMS:
        self->batch_streams = g_value_get_boolean(value);
        break;
    case PROP_CALIBRATE_FRAMES:
        self->calibrate_frames = g_value_get_uint(value);
        break;
    case PROP_CALIBRATE_STRIDE:
        self->calibrate_stride = g_value_get_uint(value);
        break;
    case PROP_SCORE_BATCH:
        self->score_batch = g_value_get_uint(value);
        break;
    case PROP_BATCH_TIMEOUT:
        self->batch_timeout = g_value_get_uint(value);
        break;
    case PROP_MASK:
        g_free(self->mask_text);
        self->mask_text = g_value_dup_string(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_skip_ganomaly_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(object);
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_MODEL:
        g_value_set_string(value, self->model_path);
        break;
    case PROP_MODE:
        g_value_set_enum(value, self->mode);
        break;
    case PROP_THRESHOLD:
        g_value_set_double(value, self->threshold);
        break;
    case PROP_ROI:
        if (self->roi.width > 0)
            g_value_take_string(value, g_strdup_printf("%d,%d,%d,%d", self->roi.x, self->roi.y, self->roi.width,
                                                       self->roi.height));
        else
            g_value_set_string(value, "");
        break;
    case PROP_TILES:
        g_value_set_uint(value, self->tiles);
        break;
    case PROP_INTERVAL:
        g_value_set_uint(value, self->interval);
        break;
    case PROP_DEVICE:
        g_value_set_string(value, self->device);
        break;
    case PROP_POST_MESSAGES:
        g_value_set_boolean(value, self->post_messages);
        break;
    case PROP_TRAIN_FRAMES:
        g_value_set_uint(value, self->train_frames);
        break;
    case PROP_TRAIN_ON:
        g_value_set_enum(value, self->train_on);
        break;
    case PROP_EPOCHS:
        g_value_set_uint(value, self->epochs);
        break;
    case PROP_BATCH_SIZE:
        g_value_set_uint(value, self->batch_size);
        break;
    case PROP_FRAME_SCORE: {
        char text[64];
        sg_frame_score_config_describe(&self->frame_score, text, sizeof text);
        g_value_set_string(value, text);
        break;
    }
    case PROP_SCORE_LAMBDA:
        g_value_set_double(value, self->score_lambda);
        break;
    case PROP_LEARNING_RATE:
        g_value_set_double(value, self->learning_rate);
        break;
    case PROP_WIDTH:
        g_value_set_double(value, self->width);
        break;
    case PROP_INPUT_SIZE:
        g_value_set_uint(value, self->input_size);
        break;
    case PROP_UPSAMPLE:
        g_value_set_enum(value, self->upsample);
        break;
    case PROP_DROP_SKIPS: {
        char text[16];
        sg_skips_describe(self->dropped_skips, text, sizeof text);
        g_value_set_string(value, text);
        break;
    }
    case PROP_ADVERSARIAL:
        g_value_set_boolean(value, self->adversarial);
        break;
    case PROP_STEPS:
        g_value_set_uint(value, self->steps);
        break;
    case PROP_CHANNELS:
        g_value_set_uint(value, self->channels);
        break;
    case PROP_SAVE_INTERVAL:
        g_value_set_uint(value, self->save_interval);
        break;
    case PROP_WARMUP_STEPS:
        g_value_set_uint(value, self->warmup_steps);
        break;
    case PROP_EVAL_INTERVAL:
        g_value_set_uint(value, self->eval_interval);
        break;
    case PROP_PATIENCE:
        g_value_set_uint(value, self->patience);
        break;
    case PROP_SEED:
        g_value_set_uint64(value, self->seed);
        break;
    case PROP_SCORING:
        g_value_set_enum(value, self->scoring);
        break;
    case PROP_STATS_INTERVAL:
        g_value_set_uint(value, self->stats_interval);
        break;
    case PROP_BATCH_STREAMS:
        g_value_set_boolean(value, self->batch_streams);
        break;
    case PROP_CALIBRATE_FRAMES:
        g_value_set_uint(value, self->calibrate_frames);
        break;
    case PROP_CALIBRATE_STRIDE:
        g_value_set_uint(value, self->calibrate_stride);
        break;
    case PROP_SCORE_BATCH:
        g_value_set_uint(value, self->score_batch);
        break;
    case PROP_BATCH_TIMEOUT:
        g_value_set_uint(value, self->batch_timeout);
        break;
    case PROP_MASK:
        g_value_set_string(value, self->mask_text);
        break;
    case PROP_FRAMES_SCORED:
    case PROP_FRAMES_SKIPPED: {
        guint64 scored = self->frames_scored, skipped = 0;
        if (self->async)
            sgad_async_scorer_counts(self->async, NULL, &scored, &skipped);
        g_value_set_uint64(value, prop_id == PROP_FRAMES_SCORED ? scored : skipped);
        break;
    }
    case PROP_FRAMES_DROPPED:
        g_value_set_uint64(value, self->frames_dropped);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_skip_ganomaly_finalize(GObject *object)
{
    GstSkipGanomaly *self = GST_SKIP_GANOMALY(object);
    g_free(self->model_path);
    g_free(self->device);
    g_free(self->mask_text);
    g_mutex_clear(&self->engine_lock);
    G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_skip_ganomaly_init(GstSkipGanomaly *self)
{
    g_mutex_init(&self->engine_lock);
    self->mode = GST_SKIP_GANOMALY_MODE_SCORE;
    self->threshold = DEFAULT_THRESHOLD;
    self->tiles = DEFAULT_TILES;
    self->interval = DEFAULT_INTERVAL;
    self->train_frames = DEFAULT_TRAIN_FRAMES;
    self->train_on = GST_SKIP_GANOMALY_TRAIN_ON_EOS;
    self->epochs = DEFAULT_EPOCHS;
    self->batch_size = DEFAULT_BATCH_SIZE;
    self->learning_rate = DEFAULT_LEARNING_RATE;
    self->score_lambda = DEFAULT_SCORE_LAMBDA;
    self->frame_score = sg_frame_score_config_default();
    self->width = DEFAULT_WIDTH;
    self->input_size = DEFAULT_INPUT_SIZE;
    self->channels = DEFAULT_CHANNELS;
    self->upsample = SG_UPSAMPLE_TRANSPOSED;
    sg_skips_parse(DEFAULT_DROP_SKIPS, &self->dropped_skips);
    self->adversarial = DEFAULT_ADVERSARIAL;
    self->steps = DEFAULT_STEPS;
    self->save_interval = DEFAULT_SAVE_INTERVAL;
    self->warmup_steps = DEFAULT_WARMUP_STEPS;
    self->eval_interval = DEFAULT_EVAL_INTERVAL;
    self->patience = DEFAULT_PATIENCE;
    self->seed = DEFAULT_SEED;
    self->scoring = GST_SKIP_GANOMALY_SCORING_AUTO;
    self->stats_interval = DEFAULT_STATS_INTERVAL;
    self->batch_timeout = DEFAULT_BATCH_TIMEOUT;
    self->score_batch = DEFAULT_SCORE_BATCH;
    self->calibrate_stride = DEFAULT_CALIBRATE_STRIDE;
    sgad_file_batch_init(&self->file_batch);
}

#define PLAYING_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)
#define READY_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY)

static void gst_skip_ganomaly_class_init(GstSkipGanomalyClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
    GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

    GST_DEBUG_CATEGORY_INIT(skip_ganomaly_debug, "skipganomaly", 0, "Skip-GANomaly++ anomaly scoring");

    gobject_class->set_property = gst_skip_ganomaly_set_property;
    gobject_class->get_property = gst_skip_ganomaly_get_property;
    gobject_class->finalize = gst_skip_ganomaly_finalize;

    /**
     * GstSkipGanomaly::retrain:
     *
     * Action signal, mode=score: collect the next train-frames images while the
     * current model goes on scoring them, train a new model on them in a worker
     * thread with the training properties (epochs, batch-size, learning-rate,
     * width, input-size, ...), write it to the model file and score with it from
     * then on. Returns FALSE when no model is loaded or a retraining is under way.
     */
    g_signal_new_class_handler("retrain", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
                               G_CALLBACK(gst_skip_ganomaly_retrain), NULL, NULL, NULL, G_TYPE_BOOLEAN, 0);
    /**
     * GstSkipGanomaly::calibrate:
     *
     * Action signal, mode=score: take the next calibrate-frames frames (one in
     * calibrate-stride) as normal production and measure the threshold again on
     * them, as calibrate-frames does at start. Returns FALSE when no model is
     * loaded, calibrate-frames is 0 or too few, or a calibration is under way.
     */
    g_signal_new_class_handler("calibrate", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
                               G_CALLBACK(sgad_calibration_request), NULL, NULL, NULL, G_TYPE_BOOLEAN, 0);

    g_object_class_install_property(
        gobject_class, PROP_MODEL,
        g_param_spec_string("model", "Model",
                            "Checkpoint file (safetensors). mode=score: the model to score with, loaded when the "
                            "element starts; setting it while playing switches models without stopping the stream "
                            "(a file that cannot be used posts a warning and the old model stays); the retrain "
                            "signal replaces it with the retrained model. mode=train: where the trained checkpoint "
                            "is written (atomically, replacing any file there)",
                            NULL, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_MODE,
        g_param_spec_enum("mode", "Mode",
                          "score: attach a GstAnomalyMeta to every frame; train: pass frames through untouched "
                          "and train a model from them",
                          GST_TYPE_SKIP_GANOMALY_MODE, GST_SKIP_GANOMALY_MODE_SCORE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_THRESHOLD,
        g_param_spec_double("threshold", "Threshold",
                            "Scores above it are anomalous; -1 (exactly) uses the threshold calibrated into the "
                            "checkpoint (a checkpoint without calibration then needs an explicit threshold); any "
                            "other finite value is the threshold, negative ones included (a standardised frame "
                            "score, frame-score=...,std, can be below 0); NaN and infinities are refused",
                            -G_MAXDOUBLE, G_MAXDOUBLE, DEFAULT_THRESHOLD, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_ROI,
        g_param_spec_string("roi", "Region of interest",
                            "Region scored (and trained on), as the string \"x,y,width,height\" in frame pixels, "
                            "clipped to the frame; \"\" (default) is the whole frame",
                            "", PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_TILES,
        g_param_spec_uint("tiles", "Tiles",
                          "Split the frame (or ROI) into a tiles x tiles grid, each resampled to the model's "
                          "input; the frame's score is the highest tile score and the heat map is the tiles' "
                          "maps stitched (tiles x input-size square). In train mode every tile is one training image",
                          1, 16, DEFAULT_TILES, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_INTERVAL,
        g_param_spec_uint("interval", "Interval",
                          "Score every Nth frame; the frames in between carry the last result (with their own "
                          "frame number)",
                          1, G_MAXUINT, DEFAULT_INTERVAL, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_DEVICE,
        g_param_spec_string("device", "Device",
                            "Vulkan device: an index or a case-insensitive part of its name, as SGAD_DEVICE; "
                            "NULL uses SGAD_DEVICE or the automatic choice. Instances with the same selection "
                            "share one device",
                            NULL, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_POST_MESSAGES,
        g_param_spec_boolean("post-messages", "Post messages",
                             "Post a \"skipganomaly\" element message for every scored frame (timestamp, "
                             "stream-time, running-time, duration, score, threshold, anomalous, score-valid, frame). "
                             "\"anomaly-start\" and \"anomaly-end\" messages are posted regardless",
                             FALSE, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_TRAIN_FRAMES,
        g_param_spec_uint("train-frames", "Training frames",
                          "mode=train and retrain: most images kept for training (each tile counts as one); a longer stream "
                          "is reservoir-sampled uniformly. Memory: train-frames x channels x input-size^2 x 4 "
                          "bytes (1000 x 3 x 32 x 32 x 4 = 12 MB)",
                          1, G_MAXINT32, DEFAULT_TRAIN_FRAMES, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_TRAIN_ON,
        g_param_spec_enum("train-on", "Train on",
                          "mode=train: train at the end of the stream (eos) or as soon as train-frames images are "
                          "kept (full; later frames are ignored)",
                          GST_TYPE_SKIP_GANOMALY_TRAIN_ON, GST_SKIP_GANOMALY_TRAIN_ON_EOS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_EPOCHS,
        g_param_spec_uint("epochs", "Epochs",
                          "mode=train and retrain: passes over the kept images; 0 (the default): as many as steps "
                          "takes. Set, it wins over steps (the spec's setting is epochs=15)",
                          0, 1000000, DEFAULT_EPOCHS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_BATCH_SIZE,
        g_param_spec_uint("batch-size", "Batch size",
                          "mode=train and retrain: images per optimiser step (10% of the images are held out for "
                          "calibration; an incomplete last batch is dropped; the spec's is 64)",
                          1, 4096, DEFAULT_BATCH_SIZE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_SCORE_LAMBDA,
        g_param_spec_double("score-lambda", "Score lambda",
                            "mode=train and retrain: the anomaly score's weight of the pixel reconstruction error against the "
                            "discriminator-feature distance (the spec's 0.9; 1 scores the reconstruction alone, "
                            "often better on video); saved in the checkpoint, which scoring then uses",
                            0.0, 1.0, DEFAULT_SCORE_LAMBDA, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_FRAME_SCORE,
        g_param_spec_string("frame-score", "Frame score",
                            "mode=train and retrain: how the per-pixel error map becomes the score's pixel term: mean (the "
                            "spec's), max or topk=F, then ,smooth=R (box radius in pixels) and ,std (each pixel "
                            "standardised by the training frames' statistics), e.g. topk=0.01,smooth=1,std; saved "
                            "in the checkpoint, which scoring then uses; the default, max,std, measured best "
                            "(docs/training.md)",
                            "max,std", READY_FLAGS));
    g_object_class_install_property(gobject_class, PROP_LEARNING_RATE,
                                    g_param_spec_double("learning-rate", "Learning rate",
                                                        "mode=train and retrain: Adam learning rate of both networks, up to "
                                                        "1e6 as sgad train --lr (a rate too high makes training "
                                                        "diverge, which stops it with an error)",
                                                        1e-9, 1e6, DEFAULT_LEARNING_RATE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_WIDTH,
        g_param_spec_double("width", "Width",
                            "mode=train and retrain: width multiplier of the generator (widths 16..256 times it), a multiple of "
                            "1/16 (0.0625): 0.25 (the default) is a quick small model, the spec's is 1",
                            0.25, 16.0, DEFAULT_WIDTH, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_INPUT_SIZE,
        g_param_spec_uint("input-size", "Input size",
                          "mode=train and retrain: side of the model's square input, a power of two from 32 to 512", 32, 512,
                          DEFAULT_INPUT_SIZE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_UPSAMPLE,
        g_param_spec_enum("upsample", "Upsampling", "mode=train and retrain: the generator's decoder upsampling",
                          GST_TYPE_SKIP_GANOMALY_UPSAMPLE, SG_UPSAMPLE_TRANSPOSED, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_STEPS,
        g_param_spec_uint("steps", "Steps",
                          "mode=train and retrain: train for about this many optimiser steps (the whole epochs "
                          "they take on the kept frames, rounded up), whatever the clip's length; epochs, when "
                          "set, wins", 0, G_MAXUINT, DEFAULT_STEPS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_DROP_SKIPS,
        g_param_spec_string("drop-skips", "Skips left out",
                            "mode=train and retrain: the generator's skip connections to leave out, a list of levels "
                            "1 (full resolution), 2 and 3, e.g. 1,2; without its upper skips the generator cannot copy "
                            "a defect into its reconstruction (docs/training.md, \"Skips left out\"); none is the "
                            "spec's generator; saved in the checkpoint",
                            DEFAULT_DROP_SKIPS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_ADVERSARIAL,
        g_param_spec_boolean("adversarial", "Adversarial training",
                             "mode=train and retrain: train with the spec's adversarial and latent terms and its "
                             "discriminator; false trains the generator on the reconstruction alone (the "
                             "discriminator is left out: 2.5x the steps per second at width 0.25 on lavapipe) and needs score-lambda=1",
                             DEFAULT_ADVERSARIAL, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_CHANNELS,
        g_param_spec_uint("channels", "Channels", "mode=train and retrain: 3 (RGB) or 1 (luma) model input", 1, 3,
                          DEFAULT_CHANNELS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_SAVE_INTERVAL,
        g_param_spec_uint("save-interval", "Save interval",
                          "mode=train and retrain: write the checkpoint every N epochs (and at the end)", 1, 1000000,
                          DEFAULT_SAVE_INTERVAL, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_WARMUP_STEPS,
        g_param_spec_uint("warmup-steps", "Warm-up steps",
                          "mode=train and retrain: train the generator on the reconstruction first: the adversarial "
                          "and latent loss weights ramp from 0 to their values over the first N optimiser steps "
                          "(0: none, the spec's training)",
                          0, G_MAXUINT32, DEFAULT_WARMUP_STEPS, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_EVAL_INTERVAL,
        g_param_spec_uint("eval-interval", "Evaluation interval",
                          "mode=train and retrain: measure the reconstruction loss of (up to 128) held-out frames "
                          "every N optimiser steps and after the last, shown in the progress messages (0: never)",
                          0, G_MAXUINT32, DEFAULT_EVAL_INTERVAL, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_PATIENCE,
        g_param_spec_uint("patience", "Patience",
                          "mode=train and retrain: stop once this many held-out measurements after the warm-up "
                          "brought no lower reconstruction loss, and save the model of the best one (0: train "
                          "every epoch and save the last); needs eval-interval above 0",
                          0, G_MAXUINT32, DEFAULT_PATIENCE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_SEED,
        g_param_spec_uint64("seed", "Seed",
                            "mode=train and retrain: seed of the initial weights, the hold-out split, the batch order and the "
                            "frame sampling",
                            0, G_MAXUINT64, DEFAULT_SEED, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_SCORING,
        g_param_spec_enum("scoring", "Scoring",
                          "sync: each frame is scored before it is passed on (the scoring time is reported as "
                          "latency); async: frames are passed on at once carrying the newest result (result-frame "
                          "and result-age in the meta say which frame it was computed on and how long ago, "
                          "result-pending that there is none yet), a scorer thread takes the newest frame and skips "
                          "(counts) those it has no time for; auto: async when upstream is live (LATENCY query), "
                          "sync otherwise",
                          GST_TYPE_SKIP_GANOMALY_SCORING, GST_SKIP_GANOMALY_SCORING_AUTO, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_STATS_INTERVAL,
        g_param_spec_uint("stats-interval", "Stats interval",
                          "Post a \"skipganomaly-stats\" element message (frames, scored, skipped, dropped, "
                          "scoring, latency) every this many milliseconds of stream time, and at EOS; 0: at EOS only",
                          0, G_MAXUINT, DEFAULT_STATS_INTERVAL, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_FRAMES_SCORED,
        g_param_spec_uint64("frames-scored", "Frames scored", "Frames the model scored since the element started",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_FRAMES_SKIPPED,
        g_param_spec_uint64("frames-skipped", "Frames skipped",
                            "scoring=async: frames handed to the scorer that it skipped for a newer one (they went "
                            "on carrying an earlier result)",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_FRAMES_DROPPED,
        g_param_spec_uint64("frames-dropped", "Frames dropped",
                            "Frames dropped before scoring because downstream reported them late (QoS; each "
                            "drop also posts a QoS message)",
                            0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_BATCH_STREAMS,
        g_param_spec_boolean("batch-streams", "Batch streams",
                             "Score together with the other instances in this process (other streams, other "
                             "cameras) that have batch-streams on and use the same model file on the same device: "
                             "their frames go through the model in one dispatch. A frame waits up to "
                             "batch-timeout for the others' (less when every stream has handed one in)",
                             FALSE, READY_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_BATCH_TIMEOUT,
        g_param_spec_uint("batch-timeout", "Batch timeout",
                          "batch-streams: milliseconds the first frame of a batch waits for the other streams' "
                          "frames (as nvstreammux's batched-push-timeout)",
                          0, 10000, DEFAULT_BATCH_TIMEOUT, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_MASK,
        g_param_spec_string("mask", "Mask",
                            "Field of view: \"circle:CX,CY,R\" or \"ellipse:CX,CY,RX,RY\" in frame pixels, or a "
                            "PNG file (white or opaque = inside, stretched over the frame). The model sees mid-grey "
                            "outside it, in training and scoring alike, so nothing outside is learnt or raises a "
                            "score; the heat map is zero there. \"\" (default): the whole frame",
                            NULL, READY_FLAGS));

    g_object_class_install_property(
        gobject_class, PROP_SCORE_BATCH,
        g_param_spec_uint("score-batch", "Score batch",
                          "Sync scoring (files, non-live sources): frames scored in one dispatch, on a thread of "
                          "its own while the next batch is taken and preprocessed. Frames are held back until the "
                          "batch after theirs is full (EOS, a caps change or a new segment scores what is held; a "
                          "flush drops it), adding 2 x score-batch - 1 frame times to the latency query; each "
                          "frame keeps its own score, meta and messages. 1: each frame on its own. Not used with "
                          "async scoring, interval > 1 or batch-streams",
                          1, MAX_SCORE_BATCH, DEFAULT_SCORE_BATCH, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_CALIBRATE_FRAMES,
        g_param_spec_uint("calibrate-frames", "Calibrate frames",
                          "mode=score: take this many frames of the stream as normal production and measure the "
                          "model's threshold again on them (its quantile of their scores; a standardised frame "
                          "score's per-pixel statistics from the first half), at start and on the calibrate signal. "
                          "Until the new threshold is in use frames carry a pending result, no verdict. The model "
                          "file is not changed ('sgad calibrate --video' writes one). Each tile counts as an image: "
                          "at the quantile 0.995 a threshold needs 200 images (400 with a standardised score). "
                          "0: the checkpoint's calibration",
                          0, MAX_CALIBRATE_FRAMES, 0, PLAYING_FLAGS));
    g_object_class_install_property(
        gobject_class, PROP_CALIBRATE_STRIDE,
        g_param_spec_uint("calibrate-stride", "Calibrate stride",
                          "mode=score: calibrate on one frame in this many. Consecutive frames are nearly the same "
                          "picture: on the generated line 400 consecutive frames set a threshold 2.4x what 400 frames "
                          "one in 7 set, and it found 528 of 901 defects against 636 (docs/training.md); 7 as "
                          "'sgad calibrate'",
                          1, 10000, DEFAULT_CALIBRATE_STRIDE, PLAYING_FLAGS));

    gst_element_class_set_static_metadata(
        element_class, "Skip-GANomaly++ anomaly detector", "Filter/Analyzer/Video",
        "Scores every frame (or its ROI, or a grid of tiles) for anomalies with a Skip-GANomaly++ model on a "
        "Vulkan compute device and attaches a GstAnomalyMeta; or trains that model from a stream of normal frames",
        "sgad");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);
    element_class->change_state = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_change_state);

    trans_class->start = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_start);
    trans_class->stop = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_stop);
    trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_sink_event);
    trans_class->query = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_query);
    trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_submit_input_buffer);
    trans_class->generate_output = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_generate_output);
    filter_class->set_info = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_set_info);
    filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_skip_ganomaly_transform_frame_ip);

    gst_type_mark_as_plugin_api(GST_TYPE_SKIP_GANOMALY_MODE, 0);
    gst_type_mark_as_plugin_api(GST_TYPE_SKIP_GANOMALY_TRAIN_ON, 0);
    gst_type_mark_as_plugin_api(GST_TYPE_SKIP_GANOMALY_UPSAMPLE, 0);
    gst_type_mark_as_plugin_api(GST_TYPE_SKIP_GANOMALY_SCORING, 0);
}
