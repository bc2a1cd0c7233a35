/* Calibration on the stream (calibration.h).
 *
 * calibrate_busy: 0 none; 1 requested (start with calibrate-frames set, or
 * the signal); the streaming thread takes the request on its next frame
 * (1 -> 2), collects every calibrate-stride-th frame's images until it has
 * calibrate-frames frames, then starts calibration_thread, which loads a copy
 * of the model file, calibrates it on them and swaps it in; the streaming
 * thread joins it (at once when scoring synchronously, else on the first frame
 * after it ended) and ends the calibration (-> 0). */
#include "calibration.h"

#include <math.h>
#include <sgad/anomalymeta.h>
#include <sgad/frame_score.h>

#include "device_pool.h"
#include "gstskipganomaly.h"

GST_DEBUG_CATEGORY_EXTERN(skip_ganomaly_debug);
#define GST_CAT_DEFAULT skip_ganomaly_debug

/* The quantile a model is calibrated at: its own, else sg_fit's. */
static gfloat model_quantile(sg_model *m)
{
    const sg_calibration *cal = sg_model_calibration(m);
    return cal->valid && cal->quantile > 0.5f && cal->quantile < 1 ? cal->quantile : sg_fit_options_default().quantile;
}

/* How many of n images measure the per-pixel statistics (the rest the threshold). */
static gsize statistics_images(sg_model *m, gsize n)
{
    return sg_model_frame_score(m)->standardise ? n / 2 : 0;
}

/* The fewest images a calibration of model m can be made from. */
static guint images_needed(sg_model *m)
{
    const gsize threshold = sg_calibration_min_images(model_quantile(m));
    if (!sg_model_frame_score(m)->standardise)
        return (guint)threshold;
    /* half for the statistics, half for the threshold */
    return (guint)(2 * MAX(threshold, (gsize)SG_PIXEL_STATS_MIN_IMAGES));
}

/* The frames asked for give too few images for m: the reason (g_free it), else NULL. */
static gchar *too_few(sg_model *m, guint frames, guint tiles)
{
    const guint64 images = (guint64)frames * tiles * tiles, need = images_needed(m);
    if (images >= need)
        return NULL;
    return g_strdup_printf("calibrate-frames=%u gives %" G_GUINT64_FORMAT " images (%u per frame), and a threshold at "
                           "quantile %g needs at least %" G_GUINT64_FORMAT "%s",
                           frames, images, tiles * tiles, (double)model_quantile(m), need,
                           sg_model_frame_score(m)->standardise ? " (half of them measure the standardised frame "
                                                                  "score's per-pixel statistics)"
                                                                : "");
}

gboolean sgad_calibration_start(GstSkipGanomaly *self, sg_model *m)
{
    GST_OBJECT_LOCK(self);
    const guint frames = self->calibrate_frames, tiles = self->tiles;
    GST_OBJECT_UNLOCK(self);
    self->calibrating = FALSE;
    self->calibrations = 0;
    self->results_from = 0;
    g_atomic_int_set(&self->calibration_done, 0);
    g_atomic_int_set(&self->calibrate_busy, 0);
    if (!frames)
        return TRUE;
    gchar *why = too_few(m, frames, tiles);
    if (why) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot calibrate on so few frames: %s.", why),
                          ("raise calibrate-frames, or set it to 0 to keep the checkpoint's calibration"));
        g_free(why);
        return FALSE;
    }
    g_atomic_int_set(&self->calibrate_busy, 1);
    return TRUE;
}

gboolean sgad_calibration_request(GstSkipGanomaly *self)
{
    GST_OBJECT_LOCK(self);
    const gboolean scoring = self->mode == GST_SKIP_GANOMALY_MODE_SCORE;
    const guint frames = self->calibrate_frames, tiles = self->tiles;
    GST_OBJECT_UNLOCK(self);
    g_mutex_lock(&self->engine_lock);
    gchar *why = !scoring || !self->scorer ? g_strdup("only while scoring with a model (mode=score, PAUSED or "
                                                      "PLAYING)")
                 : !frames ? g_strdup("set calibrate-frames to the number of frames to calibrate on")
                           : too_few(self->model, frames, tiles);
    g_mutex_unlock(&self->engine_lock);
    if (why) {
        GST_WARNING_OBJECT(self, "calibrate: %s", why);
        g_free(why);
        return FALSE;
    }
    if (!g_atomic_int_compare_and_exchange(&self->calibrate_busy, 0, 1)) {
        GST_INFO_OBJECT(self, "calibrate: a calibration is already under way");
        return FALSE;
    }
    return TRUE;
}

gboolean sgad_calibration_busy(GstSkipGanomaly *self)
{
    return g_atomic_int_get(&self->calibrate_busy) != 0;
}

/* The streaming thread takes a request: an empty collection of the model's geometry. */
static gboolean begin(GstSkipGanomaly *self)
{
    gint C, S;
    if (!skipganomaly_model_geometry(self, &C, &S))
        return FALSE;
    GST_OBJECT_LOCK(self);
    self->calibration_wanted = self->calibrate_frames;
    const guint stride = self->calibrate_stride, tiles = self->tiles;
    GST_OBJECT_UNLOCK(self);
    sgad_reservoir_clear(&self->calibration_images);
    /* room for every image: a tile grid changed on the way (tiles is mutable
     * while playing) takes no more frames than asked for, with more images */
    sgad_reservoir_init(&self->calibration_images, G_MAXUINT, C, S, 0);
    self->calibration_taken = 0;
    self->calibration_seen = 0;
    self->calibrating = TRUE;
    g_atomic_int_set(&self->calibration_done, 0);
    GST_INFO_OBJECT(self, "taking %u frames (one in %u, %u images each) as normal production to calibrate the "
                    "threshold on; until it is done frames carry no verdict",
                    self->calibration_wanted, stride, tiles * tiles);
    /* an element message, not PROGRESS: gst-launch holds a pipeline in PAUSED
     * until every progress started has completed, and this one needs frames */
    gst_element_post_message(GST_ELEMENT(self),
                             gst_message_new_element(GST_OBJECT(self),
                                                     gst_structure_new("skipganomaly-calibrating", "frames",
                                                                       G_TYPE_UINT, self->calibration_wanted,
                                                                       "stride", G_TYPE_UINT, stride, NULL)));
    return TRUE;
}

/* On calibration_thread: a copy of the model file calibrated on the images
 * and swapped in; a warning (the model as it was) when that fails. */
static void calibrate(GstSkipGanomaly *self)
{
    gint batch;
    sg_device *dev = skipganomaly_ref_device(self, &batch);
    if (!dev)
        return; /* stopping */
    GST_OBJECT_LOCK(self);
    gchar *path = g_strdup(self->model_path);
    const gdouble threshold_prop = self->threshold;
    GST_OBJECT_UNLOCK(self);
    const SgadReservoir *r = &self->calibration_images;
    const gsize n = r->count, image = (gsize)r->channels * r->size * r->size;
    sg_model *m = NULL;
    sg_scorer *scorer = NULL;
    gchar *why = NULL;
    gsize nstats = 0;
    if (sg_model_load(dev, path, &m) != SG_OK) {
        why = g_strdup(sg_error_message());
    } else if (sg_model_get_config(m)->channels != r->channels || sg_model_get_config(m)->size != r->size) {
        why = g_strdup_printf("the model changed while its frames were taken (they were prepared for %d channels "
                              "of %dx%d)", r->channels, r->size, r->size);
    } else {
        nstats = statistics_images(m, n);
        const guint need = images_needed(m);
        if (n < need)
            why = g_strdup_printf("%" G_GSIZE_FORMAT " images, %u needed", n, need);
        else if (nstats && sg_model_fit_pixel_stats(m, r->images, nstats) != SG_OK)
            why = g_strdup(sg_error_message());
        else if (sg_calibrate(m, r->images + nstats * image, n - nstats, model_quantile(m)) != SG_OK)
            why = g_strdup(sg_error_message());
        else if (sg_scorer_create(m, batch, &scorer) != SG_OK || sg_scorer_probe(scorer) != SG_OK)
            why = g_strdup(sg_error_message());
    }
    if (why) {
        GST_ELEMENT_WARNING(self, STREAM, FAILED,
                            ("Cannot calibrate on the %u frames taken: %s; the model keeps the calibration it had.",
                             self->calibration_taken, why),
                            ("model \"%s\"", path));
        sg_scorer_destroy(scorer);
        sg_model_destroy(m);
        sgad_device_pool_release(dev);
        goto done;
    }
    const sg_calibration cal = *sg_model_calibration(m);
    skipganomaly_swap_loaded(self, dev, batch, m, scorer, TRUE);
    self->calibrations++;
    GST_INFO_OBJECT(self, "threshold %g: quantile %g of the scores of %" G_GSIZE_FORMAT " images%s",
                    (double)cal.threshold, (double)cal.quantile, n - nstats,
                    nstats ? ", per-pixel statistics from the other half" : "");
    if (threshold_prop != -1.0)
        GST_INFO_OBJECT(self, "calibrated, but the threshold property (%g) is what judges", threshold_prop);
    GstStructure *st = gst_structure_new(
        "skipganomaly-calibrated", "model", G_TYPE_STRING, path, "frames", G_TYPE_UINT, self->calibration_taken,
        "images", G_TYPE_UINT, (guint)(n - nstats), "statistics-images", G_TYPE_UINT, (guint)nstats, "threshold",
        G_TYPE_DOUBLE, (gdouble)cal.threshold, "quantile", G_TYPE_DOUBLE, (gdouble)cal.quantile, "normal-mean",
        G_TYPE_DOUBLE, (gdouble)cal.normal_mean, "normal-std", G_TYPE_DOUBLE, (gdouble)cal.normal_std,
        "calibrations", G_TYPE_UINT, self->calibrations, NULL);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
done:
    g_free(why);
    g_free(path);
}

static gpointer calibration_thread(gpointer data)
{
    GstSkipGanomaly *self = data;
    calibrate(self);
    g_atomic_int_set(&self->calibration_done, 1);
    return NULL;
}

/* The streaming thread, the worker ended: frames are judged again, by results
 * of frames from now on (a result computed before the swap is the old one's). */
static void finish(GstSkipGanomaly *self)
{
    g_thread_join(g_steal_pointer(&self->calibration_thread));
    sgad_reservoir_clear(&self->calibration_images);
    self->have_result = FALSE;
    self->results_from = self->frame;
    g_atomic_int_set(&self->calibrate_busy, 0);
}

/* Take one frame's images (the scoring plan's, mask applied). */
static GstFlowReturn take(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles)
{
    SgadReservoir *r = &self->calibration_images;
    if (!skipganomaly_ensure_plan(self, &frame->info, roi, tiles, r->channels, r->size))
        return GST_FLOW_ERROR;
    skipganomaly_preprocess_into(self, frame, self->input);
    const gsize image = (gsize)r->channels * r->size * r->size;
    for (gint t = 0; t < tiles * tiles; t++)
        if (!sgad_reservoir_add(r, self->input + t * image)) {
            GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("Out of memory keeping the frames to calibrate on."),
                              ("reduce calibrate-frames (now %u)", self->calibration_wanted));
            return GST_FLOW_ERROR;
        }
    self->calibration_taken++;
    return GST_FLOW_OK;
}

GstFlowReturn sgad_calibration_frame(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles,
                                     gboolean *pending)
{
    *pending = FALSE;
    if (self->calibration_thread) {
        /* live: never wait for it; frames pass without a verdict meanwhile */
        if (!g_atomic_int_get(&self->calibration_done) && skipganomaly_use_async(self)) {
            *pending = TRUE;
            return GST_FLOW_OK;
        }
        finish(self);
    }
    if (g_atomic_int_compare_and_exchange(&self->calibrate_busy, 1, 2) && !begin(self))
        return GST_FLOW_ERROR;
    if (!self->calibrating)
        return GST_FLOW_OK;
    *pending = TRUE;
    GST_OBJECT_LOCK(self);
    const guint stride = self->calibrate_stride;
    GST_OBJECT_UNLOCK(self);
    if (self->calibration_seen++ % stride != 0)
        return GST_FLOW_OK;
    GstFlowReturn ret = take(self, frame, roi, tiles);
    if (ret != GST_FLOW_OK || self->calibration_taken < self->calibration_wanted)
        return ret;
    self->calibrating = FALSE;
    self->calibration_thread = g_thread_new("sgad-calibrate", calibration_thread, self);
    if (!skipganomaly_use_async(self))
        finish(self); /* files: every later frame is judged by the new calibration */
    return GST_FLOW_OK;
}

void sgad_calibration_eos(GstSkipGanomaly *self)
{
    if (self->calibrating) {
        GST_ELEMENT_WARNING(self, STREAM, FAILED,
                            ("The stream ended after %u of the %u frames to calibrate on: not calibrated, the model "
                             "keeps the calibration it had.",
                             self->calibration_taken, self->calibration_wanted),
                            ("calibrate-frames=%u", self->calibration_wanted));
        self->calibrating = FALSE;
    }
    if (self->calibration_thread)
        finish(self);
    sgad_reservoir_clear(&self->calibration_images);
    /* a request no frame took */
    g_atomic_int_set(&self->calibrate_busy, 0);
}

void sgad_calibration_clear(GstSkipGanomaly *self)
{
    if (self->calibration_thread)
        g_thread_join(g_steal_pointer(&self->calibration_thread));
    sgad_reservoir_clear(&self->calibration_images);
    self->calibrating = FALSE;
    g_atomic_int_set(&self->calibrate_busy, 0);
}
