/* The results' JSON lines (resultjson.h). */
#include "resultjson.h"

#include <json-glib/json-glib.h>
#include <math.h>

/* a JSON number, or null where JSON has none (NaN, infinities) */
static void add_double_or_null(JsonBuilder *b, gdouble v)
{
    if (isfinite(v))
        json_builder_add_double_value(b, v);
    else
        json_builder_add_null_value(b);
}

static void add_pts(JsonBuilder *b, GstClockTime pts)
{
    json_builder_set_member_name(b, "pts");
    if (GST_CLOCK_TIME_IS_VALID(pts))
        json_builder_add_int_value(b, (gint64)pts);
    else
        json_builder_add_null_value(b);
}

static gchar *finish(JsonBuilder *b, gsize *length)
{
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    JsonGenerator *gen = json_generator_new();
    json_generator_set_root(gen, root);
    gchar *text = json_generator_to_data(gen, length);
    g_object_unref(gen);
    json_node_unref(root);
    g_object_unref(b);
    return text;
}

/* ns since the frame the result was computed on, 0 when it is this frame's */
static guint64 result_age(GstBuffer *buf)
{
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buf, SGAD_ANOMALY_META_NAME);
    guint64 age = 0;
    if (meta)
        gst_structure_get_uint64(gst_custom_meta_get_structure(meta), "result-age", &age);
    return age;
}

/* how many frames before this one the result was computed on (the meta's
 * frame - result-frame), 0 when it is this frame's */
static guint64 frames_behind(GstBuffer *buf)
{
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buf, SGAD_ANOMALY_META_NAME);
    guint64 frame = 0, source = 0;
    if (!meta)
        return 0;
    const GstStructure *s = gst_custom_meta_get_structure(meta);
    if (!gst_structure_get_uint64(s, "frame", &frame) || !gst_structure_get_uint64(s, "result-frame", &source) ||
        source > frame)
        return 0;
    return frame - source;
}

gchar *sgad_result_json_frame(GstBuffer *buf, guint64 frame, const SgadAnomalyResult *r, gint truth,
                              const gchar *defect, gsize *length)
{
    const GstClockTime pts = GST_BUFFER_PTS(buf);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "frame");
    json_builder_add_int_value(b, (gint64)frame);
    add_pts(b, pts);
    json_builder_set_member_name(b, "score");
    if (r)
        add_double_or_null(b, r->score);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "threshold");
    if (r)
        add_double_or_null(b, r->threshold);
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "anomalous");
    if (r)
        json_builder_add_boolean_value(b, r->anomalous);
    else
        json_builder_add_null_value(b);
    if (r && r->score_invalid) {
        /* "score": null alone could be read as "not scored": say what happened */
        json_builder_set_member_name(b, "score_valid");
        json_builder_add_boolean_value(b, FALSE);
    }
    const guint64 age = r ? result_age(buf) : 0;
    if (age > 0) {
        json_builder_set_member_name(b, "result-age");
        json_builder_add_int_value(b, (gint64)age);
    }
    const guint64 behind = r ? frames_behind(buf) : 0;
    if (behind > 0 && behind <= frame) {
        /* in this line's own numbering, like "frame" */
        json_builder_set_member_name(b, "result-frame");
        json_builder_add_int_value(b, (gint64)(frame - behind));
    }
    if (truth >= 0) {
        json_builder_set_member_name(b, "truth");
        json_builder_add_int_value(b, truth ? 1 : 0);
        if (defect && *defect) {
            json_builder_set_member_name(b, "defect");
            json_builder_add_string_value(b, defect);
        }
    }
    return finish(b, length);
}

gchar *sgad_result_json_event(const gchar *event, guint64 frame, GstClockTime pts, gdouble score, gsize *length)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "frame");
    json_builder_add_int_value(b, (gint64)frame);
    add_pts(b, pts);
    json_builder_set_member_name(b, "score");
    add_double_or_null(b, score);
    return finish(b, length);
}
