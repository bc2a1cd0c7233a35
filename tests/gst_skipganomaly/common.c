/* Helpers shared by the skipganomaly tests. */
#include "common.h"

#include <string.h>
#include <sgad/safetensors.h>

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static sg_device *dev;
static gchar *dir;

sg_device *test_device(void)
{
    if (!dev) {
        sg_device_options o = {.quiet = true};
        if (sg_device_create(&o, &dev) != SG_OK)
            g_error("no Vulkan device for the test: %s", sg_error_message());
    }
    return dev;
}

void test_device_check(void)
{
    if (dev)
        fail_unless_equals_int(sg_device_validation_messages(dev), 0);
}

/* Checkpoints are tens of MB: remove the folder when the test process exits. */
void test_dir_remove(void)
{
    if (!dir)
        return;
    GDir *d = g_dir_open(dir, 0, NULL);
    const gchar *name;
    while (d && (name = g_dir_read_name(d))) {
        gchar *path = g_build_filename(dir, name, NULL);
        g_unlink(path);
        g_free(path);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
    g_clear_pointer(&dir, g_free);
}

const gchar *test_dir(void)
{
    if (!dir) {
        GError *err = NULL;
        dir = g_dir_make_tmp("skipganomaly-XXXXXX", &err);
        fail_unless(dir != NULL, "temporary folder: %s", err ? err->message : "?");
        atexit(test_dir_remove); /* also when a test fails half-way */
    }
    return dir;
}

gchar *make_model(const gchar *name, gint channels, guint64 seed, gdouble threshold)
{
    sg_model_config c = sg_model_config_default();
    c.channels = channels;
    sg_model *m = NULL;
    fail_unless(sg_model_create(test_device(), &c, seed, &m) == SG_OK, "%s", sg_error_message());
    if (threshold >= 0) {
        sg_calibration *cal = sg_model_calibration(m);
        cal->valid = true;
        cal->threshold = (float)threshold;
        cal->quantile = 0.995f;
        cal->samples = 1;
    }
    gchar *path = g_build_filename(test_dir(), name, NULL);
    fail_unless(sg_model_save(m, path) == SG_OK, "%s", sg_error_message());
    sg_model_destroy(m);
    return path;
}

gchar *mutate_model(const gchar *src, const gchar *name, const gchar *tensor, gsize first, gsize count,
                    gfloat value, const gchar *meta_key, const gchar *meta_value)
{
    sg_st_file f;
    fail_unless(sg_st_read(src, &f) == SG_OK, "%s", sg_error_message());
    if (tensor) {
        const sg_st_tensor *t = sg_st_find(&f, tensor);
        fail_unless(t && t->dtype == SG_ST_F32 && (first + count) * sizeof(gfloat) <= t->nbytes, "%s", tensor);
        for (gsize i = first; i < first + count; i++)
            ((gfloat *)t->data)[i] = value;
    }
    const gchar **keys = g_new0(const gchar *, f.meta_count + 1), **values = g_new0(const gchar *, f.meta_count + 1);
    gsize n = 0;
    gboolean replaced = FALSE;
    for (gsize i = 0; i < f.meta_count; i++, n++) {
        keys[n] = f.meta_keys[i];
        values[n] = f.meta_values[i];
        if (meta_key && strcmp(keys[n], meta_key) == 0)
            values[n] = meta_value, replaced = TRUE;
    }
    if (meta_key && !replaced)
        keys[n] = meta_key, values[n++] = meta_value;
    gchar *path = g_build_filename(test_dir(), name, NULL);
    fail_unless(sg_st_write(path, f.tensors, f.count, keys, values, n) == SG_OK, "%s", sg_error_message());
    g_free(keys);
    g_free(values);
    sg_st_free(&f);
    return path;
}

void engine_score(const gchar *path, const gfloat *images, gint count, gfloat *scores, gfloat *heatmaps)
{
    sg_model *m = NULL;
    sg_scorer *s = NULL;
    fail_unless(sg_model_load(test_device(), path, &m) == SG_OK, "%s", sg_error_message());
    fail_unless(sg_scorer_create(m, count, &s) == SG_OK, "%s", sg_error_message());
    fail_unless(sg_scorer_run(s, images, count, scores, heatmaps, NULL) == SG_OK, "%s", sg_error_message());
    sg_scorer_destroy(s);
    sg_model_destroy(m);
}

GstBuffer *make_frame(GstVideoFormat format, gint width, gint height, guint seed)
{
    GstVideoInfo info;
    gst_video_info_set_format(&info, format, width, height);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    /* a smooth gradient plus seeded noise: every byte differs between seeds */
    GRand *r = g_rand_new_with_seed(seed);
    for (gsize i = 0; i < map.size; i++)
        map.data[i] = (guint8)((i * 7 + seed * 31) % 200 + g_rand_int_range(r, 0, 56));
    g_rand_free(r);
    gst_buffer_unmap(buf, &map);
    gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, format, width, height,
                                   GST_VIDEO_INFO_N_PLANES(&info), info.offset, info.stride);
    return buf;
}

gchar *caps_string(GstVideoFormat format, gint width, gint height)
{
    return g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1",
                           gst_video_format_to_string(format), width, height);
}

GstMessage *pop_element_message(GstBus *bus, const gchar *name)
{
    GstMessage *msg;
    while ((msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT))) {
        if (gst_message_has_name(msg, name))
            return msg;
        gst_message_unref(msg);
    }
    return NULL;
}
