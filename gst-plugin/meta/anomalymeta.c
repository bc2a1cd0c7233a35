#include <sgad/anomalymeta.h>

#include <math.h>
#include <string.h>

static gboolean transform(GstBuffer *dst, GstCustomMeta *meta, GstBuffer *src, GQuark type, gpointer data,
                          gpointer user_data)
{
    (void)src;
    (void)data;
    (void)user_data;
    /* copies keep everything; the result describes the frame, not its bytes,
     * so it also survives other transforms (e.g. a converted or scaled copy) */
    (void)type;
    GstCustomMeta *out = gst_buffer_add_custom_meta(dst, SGAD_ANOMALY_META_NAME);
    if (!out)
        return FALSE;
    GstStructure *from = gst_custom_meta_get_structure(meta), *to = gst_custom_meta_get_structure(out);
    gint n = gst_structure_n_fields(from);
    for (gint i = 0; i < n; i++) {
        const gchar *name = gst_structure_nth_field_name(from, i);
        gst_structure_set_value(to, name, gst_structure_get_value(from, name));
    }
    return TRUE;
}

void sgad_anomaly_meta_register(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        static const gchar *tags[] = {NULL};
        /* another copy of this code (a test program linking it too) may have registered it */
        if (!gst_meta_get_info(SGAD_ANOMALY_META_NAME))
            gst_meta_register_custom(SGAD_ANOMALY_META_NAME, tags, transform, NULL, NULL);
        g_once_init_leave(&done, 1);
    }
}

static GstStructure *writable_structure(GstBuffer *buffer)
{
    sgad_anomaly_meta_register();
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buffer, SGAD_ANOMALY_META_NAME);
    if (!meta)
        meta = gst_buffer_add_custom_meta(buffer, SGAD_ANOMALY_META_NAME);
    return meta ? gst_custom_meta_get_structure(meta) : NULL;
}

void sgad_buffer_set_anomaly_result(GstBuffer *buffer, const SgadAnomalyResult *r)
{
    g_return_if_fail(gst_buffer_is_writable(buffer));
    GstStructure *s = writable_structure(buffer);
    if (!s)
        return;
    GValue tiles = G_VALUE_INIT;
    gst_value_array_init(&tiles, r->tiles_x * r->tiles_y);
    for (guint i = 0; r->tile_scores && i < r->tiles_x * r->tiles_y; i++) {
        GValue v = G_VALUE_INIT;
        g_value_init(&v, G_TYPE_DOUBLE);
        g_value_set_double(&v, r->tile_scores[i]);
        gst_value_array_append_and_take_value(&tiles, &v);
    }
    /* a score that is not a number never reads as normal, whoever produced it */
    const gboolean invalid = r->score_invalid || !isfinite(r->score);
    gst_structure_set(s, "score", G_TYPE_DOUBLE, r->score, "threshold", G_TYPE_DOUBLE, r->threshold, "anomalous",
                      G_TYPE_BOOLEAN, r->anomalous || invalid, "score-valid", G_TYPE_BOOLEAN, !invalid, "tiles-x", G_TYPE_UINT, r->tiles_x, "tiles-y", G_TYPE_UINT,
                      r->tiles_y, "roi-x", G_TYPE_INT, r->roi_x, "roi-y", G_TYPE_INT, r->roi_y, "roi-width", G_TYPE_INT,
                      r->roi_width, "roi-height", G_TYPE_INT, r->roi_height, "frame", G_TYPE_UINT64, r->frame, NULL);
    gst_structure_take_value(s, "tile-scores", &tiles);
    /* the same as float32 bytes, so C readers get an array without copying */
    if (r->tile_scores && r->tiles_x && r->tiles_y) {
        GBytes *b = g_bytes_new(r->tile_scores, sizeof(gfloat) * r->tiles_x * r->tiles_y);
        gst_structure_set(s, "tile-scores-f32", G_TYPE_BYTES, b, NULL);
        g_bytes_unref(b);
    }
    if (r->heatmap && r->heatmap_width && r->heatmap_height) {
        GBytes *bytes = g_bytes_new(r->heatmap, sizeof(gfloat) * r->heatmap_width * r->heatmap_height);
        gst_structure_set(s, "heatmap", G_TYPE_BYTES, bytes, "heatmap-width", G_TYPE_UINT, r->heatmap_width,
                          "heatmap-height", G_TYPE_UINT, r->heatmap_height, NULL);
        g_bytes_unref(bytes);
    }
}

gboolean sgad_buffer_get_anomaly_result(GstBuffer *buffer, SgadAnomalyResult *out)
{
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buffer, SGAD_ANOMALY_META_NAME);
    if (!meta)
        return FALSE;
    GstStructure *s = gst_custom_meta_get_structure(meta);
    memset(out, 0, sizeof *out);
    if (!gst_structure_get_double(s, "score", &out->score))
        return FALSE;
    gst_structure_get_double(s, "threshold", &out->threshold);
    gst_structure_get_boolean(s, "anomalous", &out->anomalous);
    gboolean valid = TRUE;
    gst_structure_get_boolean(s, "score-valid", &valid);
    out->score_invalid = !valid || !isfinite(out->score);
    out->anomalous = out->anomalous || out->score_invalid;
    gst_structure_get_uint(s, "tiles-x", &out->tiles_x);
    gst_structure_get_uint(s, "tiles-y", &out->tiles_y);
    gst_structure_get_int(s, "roi-x", &out->roi_x);
    gst_structure_get_int(s, "roi-y", &out->roi_y);
    gst_structure_get_int(s, "roi-width", &out->roi_width);
    gst_structure_get_int(s, "roi-height", &out->roi_height);
    gst_structure_get_uint64(s, "frame", &out->frame);
    const GValue *hv = gst_structure_get_value(s, "heatmap");
    if (hv && G_VALUE_HOLDS(hv, G_TYPE_BYTES)) {
        gsize size = 0;
        out->heatmap = g_bytes_get_data(g_value_get_boxed(hv), &size);
        gst_structure_get_uint(s, "heatmap-width", &out->heatmap_width);
        gst_structure_get_uint(s, "heatmap-height", &out->heatmap_height);
        if (size != sizeof(gfloat) * out->heatmap_width * out->heatmap_height) {
            out->heatmap = NULL;
            out->heatmap_width = out->heatmap_height = 0;
        }
    }
    const GValue *tv = gst_structure_get_value(s, "tile-scores-f32");
    if (tv && G_VALUE_HOLDS(tv, G_TYPE_BYTES)) {
        gsize size = 0;
        const gfloat *f = g_bytes_get_data(g_value_get_boxed(tv), &size);
        if (size == sizeof(gfloat) * out->tiles_x * out->tiles_y)
            out->tile_scores = f;
    }
    return TRUE;
}

void sgad_buffer_set_anomaly_truth(GstBuffer *buffer, gboolean anomalous, const gchar *defect)
{
    g_return_if_fail(gst_buffer_is_writable(buffer));
    GstStructure *s = writable_structure(buffer);
    if (s) {
        gst_structure_set(s, "truth", G_TYPE_INT, anomalous ? 1 : 0, "defect", G_TYPE_STRING, defect ? defect : "",
                          NULL);
        /* a mask describes the truth it was set with, never a later one */
        gst_structure_remove_fields(s, "truth-mask", "truth-mask-width", "truth-mask-height", NULL);
    }
}

void sgad_buffer_set_anomaly_truth_mask(GstBuffer *buffer, GBytes *mask, guint width, guint height)
{
    g_return_if_fail(gst_buffer_is_writable(buffer));
    g_return_if_fail(mask != NULL && g_bytes_get_size(mask) == (gsize)width * height);
    GstStructure *s = writable_structure(buffer);
    if (s)
        gst_structure_set(s, "truth-mask", G_TYPE_BYTES, mask, "truth-mask-width", G_TYPE_UINT, width,
                          "truth-mask-height", G_TYPE_UINT, height, NULL);
}

const guint8 *sgad_buffer_get_anomaly_truth_mask(GstBuffer *buffer, guint *width, guint *height)
{
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buffer, SGAD_ANOMALY_META_NAME);
    *width = *height = 0;
    if (!meta)
        return NULL;
    GstStructure *s = gst_custom_meta_get_structure(meta);
    const GValue *v = gst_structure_get_value(s, "truth-mask");
    guint w = 0, h = 0;
    if (!v || !G_VALUE_HOLDS(v, G_TYPE_BYTES) || !gst_structure_get_uint(s, "truth-mask-width", &w) ||
        !gst_structure_get_uint(s, "truth-mask-height", &h) || w == 0 || h == 0)
        return NULL;
    gsize size = 0;
    const guint8 *data = g_bytes_get_data(g_value_get_boxed(v), &size);
    if (size != (gsize)w * h)
        return NULL;
    *width = w, *height = h;
    return data;
}

gint sgad_buffer_get_anomaly_truth(GstBuffer *buffer, const gchar **defect)
{
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buffer, SGAD_ANOMALY_META_NAME);
    gint truth = -1;
    if (!meta || !gst_structure_get_int(gst_custom_meta_get_structure(meta), "truth", &truth))
        return -1;
    if (defect)
        *defect = gst_structure_get_string(gst_custom_meta_get_structure(meta), "defect");
    return truth;
}

void sgad_buffer_set_anomaly_source(GstBuffer *buffer, guint64 result_frame, GstClockTime result_age)
{
    g_return_if_fail(gst_buffer_is_writable(buffer));
    GstStructure *s = writable_structure(buffer);
    if (s)
        gst_structure_set(s, "result-frame", G_TYPE_UINT64, result_frame, "result-age", G_TYPE_UINT64, result_age,
                          "result-pending", G_TYPE_BOOLEAN, FALSE, NULL);
}

gboolean sgad_buffer_get_anomaly_source(GstBuffer *buffer, guint64 *result_frame, GstClockTime *result_age)
{
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buffer, SGAD_ANOMALY_META_NAME);
    guint64 frame = 0, age = 0;
    if (!meta || !gst_structure_get_uint64(gst_custom_meta_get_structure(meta), "result-frame", &frame))
        return FALSE;
    gst_structure_get_uint64(gst_custom_meta_get_structure(meta), "result-age", &age);
    if (result_frame)
        *result_frame = frame;
    if (result_age)
        *result_age = age;
    return TRUE;
}

void sgad_buffer_set_anomaly_pending(GstBuffer *buffer, guint64 frame)
{
    g_return_if_fail(gst_buffer_is_writable(buffer));
    GstStructure *s = writable_structure(buffer);
    if (s)
        gst_structure_set(s, "frame", G_TYPE_UINT64, frame, "result-pending", G_TYPE_BOOLEAN, TRUE, NULL);
}
