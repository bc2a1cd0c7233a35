/* anomalyexport: writes the anomaly result (and ground truth) of every frame as
 * one JSON object per line, and at EOS posts a summary with the ROC AUC of the
 * scores against anomalyinject's truth.
 *
 *   ... ! skipganomaly ! anomalyexport location=run.jsonl summary=true ! ...
 *
 * Lines: {"frame": n, "pts": ns|null, "score": x|null, "threshold": t|null,
 *         "anomalous": bool|null, "score_valid": false, "truth": 0|1, "defect": "..."}
 * where "score_valid": false appears only on a frame whose score was not a
 * finite number ("score" is then null and "anomalous" true). 
 * where truth/defect appear only on frames that carry them, and "result-age"
 * (ns) on frames carrying an earlier frame's result (resultjson.h). Frames without a
 * score are written with nulls unless skip-unscored=true. The element message
 * "anomalyexport-summary" (frames, scored, flagged, labelled, positives and,
 * when both classes were scored, auc) is posted before EOS goes downstream, as
 * level posts its messages, so the application reads it before the pipeline's
 * EOS.
 *
 * Pixel level: a frame carrying both a heat map computed on itself and a truth
 * (anomalyinject's truth-mask, or truth 0: all normal) has its heat-map pixels
 * ranked against the mask carried onto the heat map's grid (pixeltruth.h); the
 * summary then adds pixel-auc and pixel-aupro from the engine's pixel metrics,
 * with pixel-labelled-frames, pixel-sampled-frames, pixel-regions and
 * pixel-skipped-frames (frames with a heat map and a truth that cannot be
 * matched: the result of an earlier frame, a mask of another frame size, a
 * region outside the frame, a defect without a mask, another heat-map size, a
 * heat map that is not finite). At most max-pixel-samples heat-map pixels are
 * kept, a uniform sample of whole frames beyond that. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <sgad/anomalymeta.h>
#include "pixeltruth.h"
#include "resultjson.h"
#include "sgad/metrics.h"

GST_DEBUG_CATEGORY_STATIC(anomaly_export_debug);
#define GST_CAT_DEFAULT anomaly_export_debug

#define GST_TYPE_ANOMALY_EXPORT (gst_anomaly_export_get_type())
G_DECLARE_FINAL_TYPE(GstAnomalyExport, gst_anomaly_export, GST, ANOMALY_EXPORT, GstBaseTransform)

#define DEFAULT_SKIP_UNSCORED FALSE
#define DEFAULT_SUMMARY FALSE
#define DEFAULT_FLUSH_INTERVAL 1
/* 4 Mi heat-map pixels (4096 frames of 32x32 maps): 20 MiB held while
 * streaming (a float and a label each), about 13 bytes a pixel at EOS */
#define DEFAULT_MAX_PIXEL_SAMPLES (4u << 20)

/* why a frame with a heat map and a truth was not ranked at pixel level */
typedef enum {
    SKIP_EARLIER_RESULT, /* the heat map is an earlier frame's (asynchronous, interval > 1): expected */
    SKIP_NOT_FINITE,
    SKIP_NO_MASK,
    SKIP_MASK_SIZE,
    SKIP_ROI,
    SKIP_MAP_SIZE,
    SKIP_MAP_TOO_LARGE,
    SKIP_REASONS
} SkipReason;

struct _GstAnomalyExport {
    GstBaseTransform parent;

    /* properties, under the object lock */
    gchar *location;
    gboolean skip_unscored, summary;
    guint flush_interval;
    guint max_pixel_samples;

    /* streaming state */
    FILE *file;
    gboolean closed_at_eos; /* frames after EOS (a flushing seek) append */
    guint64 frames, scored, flagged, labelled, positives;
    guint unflushed;
    GArray *pair_scores; /* gfloat: frames with both a score and a truth */
    GArray *pair_truths; /* guint8 */

    /* pixel level */
    gint frame_width, frame_height; /* from video caps; 0 when the caps do not say */
    SgadPixelSample pixels;
    guint64 pixel_labelled, pixel_skipped;
    guint64 skipped[SKIP_REASONS];
    GArray *labels; /* guint8, one heat map's labels */
};

enum { PROP_0, PROP_LOCATION, PROP_SKIP_UNSCORED, PROP_SUMMARY, PROP_FLUSH_INTERVAL, PROP_MAX_PIXEL_SAMPLES };

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

G_DEFINE_TYPE(GstAnomalyExport, gst_anomaly_export, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE(anomalyexport, "anomalyexport", GST_RANK_NONE, GST_TYPE_ANOMALY_EXPORT);

static gboolean open_file(GstAnomalyExport *self, const gchar *mode)
{
    GST_OBJECT_LOCK(self);
    gchar *location = g_strdup(self->location);
    GST_OBJECT_UNLOCK(self);
    if (!location || !*location) {
        GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No file name specified for writing."),
                          ("set the location property to the JSON-lines file to write"));
        g_free(location);
        return FALSE;
    }
    self->file = fopen(location, mode);
    if (!self->file) {
        GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("Could not open file \"%s\" for writing.", location),
                          GST_ERROR_SYSTEM);
        g_free(location);
        return FALSE;
    }
    g_free(location);
    self->closed_at_eos = FALSE;
    return TRUE;
}

static gboolean close_file(GstAnomalyExport *self)
{
    if (!self->file)
        return TRUE;
    gboolean ok = fclose(self->file) == 0;
    self->file = NULL;
    if (!ok)
        GST_ELEMENT_ERROR(self, RESOURCE, CLOSE, ("Error closing file \"%s\".", self->location), GST_ERROR_SYSTEM);
    return ok;
}

static gboolean write_text(GstAnomalyExport *self, const gchar *text, gsize len, gboolean force_flush)
{
    GST_OBJECT_LOCK(self);
    guint interval = self->flush_interval;
    GST_OBJECT_UNLOCK(self);
    gboolean ok = fwrite(text, 1, len, self->file) == len && fputc('\n', self->file) != EOF;
    if (ok && (force_flush || (interval && ++self->unflushed >= interval))) {
        ok = fflush(self->file) == 0;
        self->unflushed = 0;
    }
    if (!ok)
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Error while writing to file \"%s\".", self->location),
                          GST_ERROR_SYSTEM);
    return ok;
}

static gboolean write_line(GstAnomalyExport *self, JsonBuilder *builder, gboolean force_flush)
{
    JsonNode *root = json_builder_get_root(builder);
    JsonGenerator *gen = json_generator_new();
    json_generator_set_root(gen, root);
    gsize len = 0;
    gchar *text = json_generator_to_data(gen, &len);
    g_object_unref(gen);
    json_node_unref(root);
    gboolean ok = write_text(self, text, len, force_flush);
    g_free(text);
    return ok;
}

/* a JSON number, or null where JSON has none (NaN, infinities) */
static void add_double_or_null(JsonBuilder *b, gdouble v)
{
    if (isfinite(v))
        json_builder_add_double_value(b, v);
    else
        json_builder_add_null_value(b);
}

/* what a skipped frame means to the user, said once per stream and reason */
static const gchar *const skip_messages[SKIP_REASONS] = {
    [SKIP_EARLIER_RESULT] = "the heat map was computed on an earlier frame (asynchronous scoring or interval > 1)",
    [SKIP_NOT_FINITE] = "the heat map holds values that are not finite numbers",
    [SKIP_NO_MASK] = "a defective frame carries no truth-mask (anomalyinject truth-mask=false, or another producer)",
    [SKIP_MASK_SIZE] = "the truth-mask's size differs from the frame's (a scaler between anomalyinject and here?)",
    [SKIP_ROI] = "the heat map's region (roi-x/y/width/height) is not inside the frame",
    [SKIP_MAP_SIZE] = "the heat map's size differs from the first labelled frame's",
    [SKIP_MAP_TOO_LARGE] = "one heat map is more pixels than max-pixel-samples",
};

static void skip_pixels(GstAnomalyExport *self, SkipReason why, const SgadAnomalyResult *r)
{
    self->pixel_skipped++;
    if (self->skipped[why]++ > 0)
        return;
    GST_INFO_OBJECT(self, "frame %" G_GUINT64_FORMAT " left out of the pixel metrics: %s", r->frame,
                    skip_messages[why]);
    /* an earlier frame's result is what asynchronous scoring gives: not a fault */
    if (why != SKIP_EARLIER_RESULT)
        GST_ELEMENT_WARNING(self, STREAM, FORMAT, ("Frames are left out of the pixel metrics: %s.", skip_messages[why]),
                            ("first at result frame %" G_GUINT64_FORMAT "; heat map %ux%u over %d,%d,%dx%d",
                             r->frame, r->heatmap_width, r->heatmap_height, r->roi_x, r->roi_y, r->roi_width,
                             r->roi_height));
}

/* Ranks this frame's heat-map pixels against its truth: the mask carried onto
 * the heat map's grid, or all normal for a normal frame. */
static void add_pixel_truth(GstAnomalyExport *self, GstBuffer *buf, const SgadAnomalyResult *r, gint truth)
{
    guint64 source = 0;
    if (sgad_buffer_get_anomaly_source(buf, &source, NULL) && source != r->frame) {
        skip_pixels(self, SKIP_EARLIER_RESULT, r);
        return;
    }
    const gsize plane = (gsize)r->heatmap_width * r->heatmap_height;
    for (gsize p = 0; p < plane; p++)
        if (!isfinite(r->heatmap[p])) {
            skip_pixels(self, SKIP_NOT_FINITE, r);
            return;
        }
    guint mask_width = 0, mask_height = 0;
    const guint8 *mask = truth ? sgad_buffer_get_anomaly_truth_mask(buf, &mask_width, &mask_height) : NULL;
    if (truth && !mask) {
        skip_pixels(self, SKIP_NO_MASK, r);
        return;
    }
    /* the frame the region refers to: the caps say, else the mask does */
    gint width = self->frame_width, height = self->frame_height;
    if (mask && width > 0 && ((guint)width != mask_width || (guint)height != mask_height)) {
        skip_pixels(self, SKIP_MASK_SIZE, r);
        return;
    }
    if (mask && width == 0)
        width = (gint)mask_width, height = (gint)mask_height;
    gboolean roi_inside = r->roi_width > 0 && r->roi_height > 0 && r->roi_x >= 0 && r->roi_y >= 0 &&
                          (width == 0 || ((gint64)r->roi_x + r->roi_width <= width &&
                                          (gint64)r->roi_y + r->roi_height <= height));
    if (!roi_inside) {
        skip_pixels(self, SKIP_ROI, r);
        return;
    }
    g_array_set_size(self->labels, (guint)plane);
    guint8 *labels = (guint8 *)(void *)self->labels->data;
    if (!mask)
        memset(labels, 0, plane);
    else
        sgad_pixel_truth_labels(mask, mask_width, mask_height, r->roi_x, r->roi_y, r->roi_width, r->roi_height,
                                r->heatmap_width, r->heatmap_height, labels); /* the region was checked above */
    switch (sgad_pixel_sample_offer(&self->pixels, r->heatmap, labels, r->heatmap_width, r->heatmap_height)) {
    case SGAD_PIXEL_SAMPLE_OFFERED:
        self->pixel_labelled++;
        break;
    case SGAD_PIXEL_SAMPLE_SIZE_CHANGED:
        skip_pixels(self, SKIP_MAP_SIZE, r);
        break;
    case SGAD_PIXEL_SAMPLE_TOO_LARGE:
        skip_pixels(self, SKIP_MAP_TOO_LARGE, r);
        break;
    }
}

static GstFlowReturn gst_anomaly_export_transform_ip(GstBaseTransform *trans, GstBuffer *buf)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(trans);
    GST_OBJECT_LOCK(self);
    gboolean skip_unscored = self->skip_unscored;
    GST_OBJECT_UNLOCK(self);

    if (!self->file && (!self->closed_at_eos || !open_file(self, "a")))
        return GST_FLOW_ERROR;

    guint64 frame = self->frames++;
    SgadAnomalyResult r;
    gboolean scored = sgad_buffer_get_anomaly_result(buf, &r);
    const gchar *defect = NULL;
    gint truth = sgad_buffer_get_anomaly_truth(buf, &defect);
    if (scored) {
        self->scored++;
        self->flagged += r.anomalous ? 1 : 0;
    }
    if (truth >= 0) {
        self->labelled++;
        self->positives += truth ? 1 : 0;
        if (scored && !r.score_invalid) {
            gfloat score = (gfloat)r.score;
            guint8 t = truth ? 1 : 0;
            g_array_append_val(self->pair_scores, score);
            g_array_append_val(self->pair_truths, t);
        }
        if (scored && r.heatmap && self->pixels.max_pixels > 0)
            add_pixel_truth(self, buf, &r, truth);
    }
    if (!scored && skip_unscored)
        return GST_FLOW_OK;

    /* the schema anomalypublish sends too (resultjson.h) */
    gsize len = 0;
    gchar *text = sgad_result_json_frame(buf, frame, scored ? &r : NULL, truth, defect, &len);
    gboolean ok = write_text(self, text, len, FALSE);
    g_free(text);
    return ok ? GST_FLOW_OK : GST_FLOW_ERROR;
}

/* The engine's rank-based ROC AUC (ties averaged); NaN while one class is missing. */
static gdouble current_auc(GstAnomalyExport *self)
{
    sg_metrics m;
    if (sg_metrics_compute((const gfloat *)(void *)self->pair_scores->data,
                           (const guint8 *)(void *)self->pair_truths->data, self->pair_scores->len, &m) != SG_OK)
        return NAN;
    return m.auc;
}

/* The pixel metrics of the kept frames; FALSE (said in the log) when undefined. */
static gboolean current_pixel_metrics(GstAnomalyExport *self, sg_pixel_metrics *out)
{
    if (self->pixel_labelled == 0)
        return FALSE;
    if (sgad_pixel_sample_metrics(&self->pixels, out) != SG_OK) {
        GST_INFO_OBJECT(self, "no pixel metrics over %u frames: %s", self->pixels.kept, sg_error_message());
        return FALSE;
    }
    return TRUE;
}

static void post_summary(GstAnomalyExport *self)
{
    gdouble auc = current_auc(self);
    sg_pixel_metrics pm;
    const gboolean have_pixels = current_pixel_metrics(self, &pm);
    GstStructure *s = gst_structure_new("anomalyexport-summary", "frames", G_TYPE_UINT64, self->frames, "scored",
                                        G_TYPE_UINT64, self->scored, "flagged", G_TYPE_UINT64, self->flagged,
                                        "labelled", G_TYPE_UINT64, self->labelled, "positives", G_TYPE_UINT64,
                                        self->positives, NULL);
    /* absent rather than NaN when undefined: no scored frame of one class */
    if (!isnan(auc))
        gst_structure_set(s, "auc", G_TYPE_DOUBLE, auc, NULL);
    gst_structure_set(s, "pixel-labelled-frames", G_TYPE_UINT64, self->pixel_labelled, "pixel-skipped-frames",
                      G_TYPE_UINT64, self->pixel_skipped, NULL);
    if (have_pixels)
        gst_structure_set(s, "pixel-sampled-frames", G_TYPE_UINT64, (guint64)self->pixels.kept, "pixel-regions",
                          G_TYPE_UINT64, (guint64)pm.regions, "pixel-auc", G_TYPE_DOUBLE, pm.auc, "pixel-aupro",
                          G_TYPE_DOUBLE, pm.aupro, NULL);
    GST_INFO_OBJECT(self, "summary %" GST_PTR_FORMAT, s);
    gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));

    GST_OBJECT_LOCK(self);
    gboolean write = self->summary;
    GST_OBJECT_UNLOCK(self);
    if (!write || !self->file)
        return;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "summary");
    json_builder_begin_object(b);
    const struct {
        const char *name;
        guint64 value;
    } counts[] = {{"frames", self->frames},
                  {"scored", self->scored},
                  {"flagged", self->flagged},
                  {"labelled", self->labelled},
                  {"positives", self->positives},
                  {"pixel-labelled-frames", self->pixel_labelled},
                  {"pixel-skipped-frames", self->pixel_skipped}};
    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        json_builder_set_member_name(b, counts[i].name);
        json_builder_add_int_value(b, (gint64)counts[i].value);
    }
    json_builder_set_member_name(b, "auc");
    add_double_or_null(b, auc);
    if (have_pixels) {
        json_builder_set_member_name(b, "pixel-sampled-frames");
        json_builder_add_int_value(b, (gint64)self->pixels.kept);
        json_builder_set_member_name(b, "pixel-regions");
        json_builder_add_int_value(b, (gint64)pm.regions);
    }
    json_builder_set_member_name(b, "pixel-auc");
    add_double_or_null(b, have_pixels ? pm.auc : NAN);
    json_builder_set_member_name(b, "pixel-aupro");
    add_double_or_null(b, have_pixels ? pm.aupro : NAN);
    json_builder_end_object(b);
    json_builder_end_object(b);
    write_line(self, b, TRUE);
    g_object_unref(b);
}

static gboolean gst_anomaly_export_sink_event(GstBaseTransform *trans, GstEvent *event)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(trans);
    if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
        post_summary(self);
        /* the file is complete when EOS reaches the sink */
        if (self->file) {
            close_file(self);
            self->closed_at_eos = TRUE;
        }
    }
    return GST_BASE_TRANSFORM_CLASS(gst_anomaly_export_parent_class)->sink_event(trans, event);
}

static void reset_counts(GstAnomalyExport *self)
{
    self->frames = self->scored = self->flagged = self->labelled = self->positives = 0;
    self->unflushed = 0;
    g_array_set_size(self->pair_scores, 0);
    g_array_set_size(self->pair_truths, 0);
    GST_OBJECT_LOCK(self);
    guint max_pixels = self->max_pixel_samples;
    GST_OBJECT_UNLOCK(self);
    sgad_pixel_sample_reset(&self->pixels, max_pixels);
    self->pixel_labelled = self->pixel_skipped = 0;
    memset(self->skipped, 0, sizeof self->skipped);
}

/* the frame size the heat maps' regions refer to, where the caps say it */
static gboolean gst_anomaly_export_set_caps(GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(trans);
    (void)outcaps;
    const GstStructure *s = gst_caps_get_size(incaps) > 0 ? gst_caps_get_structure(incaps, 0) : NULL;
    if (!s || !g_str_has_prefix(gst_structure_get_name(s), "video/") ||
        !gst_structure_get_int(s, "width", &self->frame_width) ||
        !gst_structure_get_int(s, "height", &self->frame_height) || self->frame_width <= 0 ||
        self->frame_height <= 0)
        self->frame_width = self->frame_height = 0;
    return TRUE;
}

static gboolean gst_anomaly_export_start(GstBaseTransform *trans)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(trans);
    reset_counts(self);
    return open_file(self, "w");
}

static gboolean gst_anomaly_export_stop(GstBaseTransform *trans)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(trans);
    self->closed_at_eos = FALSE;
    return close_file(self);
}

static void gst_anomaly_export_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(object);
    switch (prop_id) {
    case PROP_LOCATION: {
        /* the file is opened at start; a new name then would silently not apply */
        GstState state;
        GST_OBJECT_LOCK(self);
        state = GST_STATE(self);
        if (state == GST_STATE_PAUSED || state == GST_STATE_PLAYING) {
            GST_OBJECT_UNLOCK(self);
            g_warning("anomalyexport: changing the location while running is not supported");
            return;
        }
        g_free(self->location);
        self->location = g_value_dup_string(value);
        GST_OBJECT_UNLOCK(self);
        break;
    }
    case PROP_SKIP_UNSCORED:
        GST_OBJECT_LOCK(self);
        self->skip_unscored = g_value_get_boolean(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_SUMMARY:
        GST_OBJECT_LOCK(self);
        self->summary = g_value_get_boolean(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_FLUSH_INTERVAL:
        GST_OBJECT_LOCK(self);
        self->flush_interval = g_value_get_uint(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_MAX_PIXEL_SAMPLES: /* applies from the next start */
        GST_OBJECT_LOCK(self);
        self->max_pixel_samples = g_value_get_uint(value);
        GST_OBJECT_UNLOCK(self);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void gst_anomaly_export_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(object);
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_LOCATION:
        g_value_set_string(value, self->location);
        break;
    case PROP_SKIP_UNSCORED:
        g_value_set_boolean(value, self->skip_unscored);
        break;
    case PROP_SUMMARY:
        g_value_set_boolean(value, self->summary);
        break;
    case PROP_FLUSH_INTERVAL:
        g_value_set_uint(value, self->flush_interval);
        break;
    case PROP_MAX_PIXEL_SAMPLES:
        g_value_set_uint(value, self->max_pixel_samples);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_anomaly_export_finalize(GObject *object)
{
    GstAnomalyExport *self = GST_ANOMALY_EXPORT(object);
    if (self->file)
        fclose(self->file);
    g_free(self->location);
    g_array_unref(self->pair_scores);
    g_array_unref(self->pair_truths);
    g_array_unref(self->labels);
    sgad_pixel_sample_clear(&self->pixels);
    G_OBJECT_CLASS(gst_anomaly_export_parent_class)->finalize(object);
}

static void gst_anomaly_export_class_init(GstAnomalyExportClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);

    GST_DEBUG_CATEGORY_INIT(anomaly_export_debug, "anomalyexport", 0, "anomaly JSON-lines export");
    sgad_anomaly_meta_register();

    gobject_class->set_property = gst_anomaly_export_set_property;
    gobject_class->get_property = gst_anomaly_export_get_property;
    gobject_class->finalize = gst_anomaly_export_finalize;

    g_object_class_install_property(
        gobject_class, PROP_LOCATION,
        g_param_spec_string("location", "File location",
                            "JSON-lines file to write, one object per frame (truncated at start)", NULL,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
    g_object_class_install_property(
        gobject_class, PROP_SKIP_UNSCORED,
        g_param_spec_boolean("skip-unscored", "Skip unscored",
                             "Write no line for frames without an anomaly score (by default they are written with "
                             "null score, threshold and anomalous)",
                             DEFAULT_SKIP_UNSCORED, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_SUMMARY,
        g_param_spec_boolean("summary", "Summary line",
                             "At EOS also write a last line {\"summary\": {frames, scored, flagged, labelled, "
                             "positives, auc, pixel-labelled-frames, pixel-skipped-frames, pixel-auc, pixel-aupro, "
                             "...}} (the same as the anomalyexport-summary message)",
                             DEFAULT_SUMMARY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_FLUSH_INTERVAL,
        g_param_spec_uint("flush-interval", "Flush interval",
                          "Flush the file every this many lines, so it can be followed live (0: only at EOS)", 0,
                          G_MAXUINT, DEFAULT_FLUSH_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_MAX_PIXEL_SAMPLES,
        g_param_spec_uint("max-pixel-samples", "Most pixel samples",
                          "The most heat-map pixels kept for the pixel ROC AUC and AUPRO (5 bytes each while "
                          "streaming); beyond it a uniform random sample of whole frames is ranked "
                          "(pixel-sampled-frames < pixel-labelled-frames). 0: no pixel metrics",
                          0, G_MAXINT32, DEFAULT_MAX_PIXEL_SAMPLES,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

    gst_element_class_set_static_metadata(
        element_class, "Anomaly export", "Filter/Analyzer/Video",
        "Writes each frame's anomaly score and ground truth as JSON lines and posts the ROC AUC (and, with "
        "anomalyinject's truth masks and heat maps, the pixel ROC AUC and AUPRO) at EOS",
        "sgad");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);

    trans_class->start = GST_DEBUG_FUNCPTR(gst_anomaly_export_start);
    trans_class->stop = GST_DEBUG_FUNCPTR(gst_anomaly_export_stop);
    trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_anomaly_export_sink_event);
    trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_anomaly_export_set_caps);
    trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_anomaly_export_transform_ip);
    trans_class->transform_ip_on_passthrough = TRUE;
    trans_class->passthrough_on_same_caps = TRUE;
}

static void gst_anomaly_export_init(GstAnomalyExport *self)
{
    self->skip_unscored = DEFAULT_SKIP_UNSCORED;
    self->summary = DEFAULT_SUMMARY;
    self->flush_interval = DEFAULT_FLUSH_INTERVAL;
    self->pair_scores = g_array_new(FALSE, FALSE, sizeof(gfloat));
    self->pair_truths = g_array_new(FALSE, FALSE, sizeof(guint8));
    self->max_pixel_samples = DEFAULT_MAX_PIXEL_SAMPLES;
    sgad_pixel_sample_init(&self->pixels, DEFAULT_MAX_PIXEL_SAMPLES);
    self->labels = g_array_new(FALSE, FALSE, sizeof(guint8));
    gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
