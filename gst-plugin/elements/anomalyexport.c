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
 * where truth/defect appear only on frames that carry them. Frames without a
 * score are written with nulls unless skip-unscored=true. The element message
 * "anomalyexport-summary" (frames, scored, flagged, labelled, positives and,
 * when both classes were scored, auc) is posted before EOS goes downstream, as
 * level posts its messages, so the application reads it before the pipeline's
 * EOS. */
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
#include "resultjson.h"
#include "sgad/metrics.h"

GST_DEBUG_CATEGORY_STATIC(anomaly_export_debug);
#define GST_CAT_DEFAULT anomaly_export_debug

#define GST_TYPE_ANOMALY_EXPORT (gst_anomaly_export_get_type())
G_DECLARE_FINAL_TYPE(GstAnomalyExport, gst_anomaly_export, GST, ANOMALY_EXPORT, GstBaseTransform)

#define DEFAULT_SKIP_UNSCORED FALSE
#define DEFAULT_SUMMARY FALSE
#define DEFAULT_FLUSH_INTERVAL 1

struct _GstAnomalyExport {
    GstBaseTransform parent;

    /* properties, under the object lock */
    gchar *location;
    gboolean skip_unscored, summary;
    guint flush_interval;

    /* streaming state */
    FILE *file;
    gboolean closed_at_eos; /* frames after EOS (a flushing seek) append */
    guint64 frames, scored, flagged, labelled, positives;
    guint unflushed;
    GArray *pair_scores; /* gfloat: frames with both a score and a truth */
    GArray *pair_truths; /* guint8 */
};

enum { PROP_0, PROP_LOCATION, PROP_SKIP_UNSCORED, PROP_SUMMARY, PROP_FLUSH_INTERVAL };

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
    }
    if (!scored && skip_unscored)
        return GST_FLOW_OK;

    /* the schema anomalypublish sends too (resultjson.h) */
    gsize len = 0;
    gchar *text = sgad_result_json_frame(frame, GST_BUFFER_PTS(buf), scored ? &r : NULL, truth, defect, &len);
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

static void post_summary(GstAnomalyExport *self)
{
    gdouble auc = current_auc(self);
    GstStructure *s = gst_structure_new("anomalyexport-summary", "frames", G_TYPE_UINT64, self->frames, "scored",
                                        G_TYPE_UINT64, self->scored, "flagged", G_TYPE_UINT64, self->flagged,
                                        "labelled", G_TYPE_UINT64, self->labelled, "positives", G_TYPE_UINT64,
                                        self->positives, NULL);
    /* absent rather than NaN when undefined: no scored frame of one class */
    if (!isnan(auc))
        gst_structure_set(s, "auc", G_TYPE_DOUBLE, auc, NULL);
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
    } counts[] = {{"frames", self->frames},       {"scored", self->scored},      {"flagged", self->flagged},
                  {"labelled", self->labelled}, {"positives", self->positives}};
    for (gsize i = 0; i < G_N_ELEMENTS(counts); i++) {
        json_builder_set_member_name(b, counts[i].name);
        json_builder_add_int_value(b, (gint64)counts[i].value);
    }
    json_builder_set_member_name(b, "auc");
    add_double_or_null(b, auc);
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
                             "positives, auc}} (the same as the anomalyexport-summary message)",
                             DEFAULT_SUMMARY, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_FLUSH_INTERVAL,
        g_param_spec_uint("flush-interval", "Flush interval",
                          "Flush the file every this many lines, so it can be followed live (0: only at EOS)", 0,
                          G_MAXUINT, DEFAULT_FLUSH_INTERVAL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

    gst_element_class_set_static_metadata(
        element_class, "Anomaly export", "Filter/Analyzer/Video",
        "Writes each frame's anomaly score and ground truth as JSON lines and posts the ROC AUC at EOS", "sgad");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);

    trans_class->start = GST_DEBUG_FUNCPTR(gst_anomaly_export_start);
    trans_class->stop = GST_DEBUG_FUNCPTR(gst_anomaly_export_stop);
    trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_anomaly_export_sink_event);
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
    gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}
