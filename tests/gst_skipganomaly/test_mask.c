/* skipganomaly mask=: pixels outside the field of view are neither scored nor
 * trained on. Two frames that differ only outside the mask get the same score
 * and heat map, the heat map is zero outside, a PNG mask equals the circle it
 * draws, two trainings on streams that differ only outside the mask write the
 * same checkpoint, and a bad mask is a clear error. */
#include <cairo.h>
#include <string.h>

#include <sgad/anomalymeta.h>
#include "common.h"

#define SIDE 32
#define CX 15.0
#define CY 17.0
#define R 10.0

static gboolean inside(gint x, gint y)
{
    const gdouble dx = x + 0.5 - CX, dy = y + 0.5 - CY;
    return dx * dx + dy * dy <= R * R;
}

/* Frame `seed` with the pixels outside the circle taken from frame `outside_seed`. */
static GstBuffer *masked_frame(guint seed, guint outside_seed)
{
    GstBuffer *a = make_frame(GST_VIDEO_FORMAT_RGB, SIDE, SIDE, seed);
    GstBuffer *b = make_frame(GST_VIDEO_FORMAT_RGB, SIDE, SIDE, outside_seed);
    GstMapInfo ma, mb;
    gst_buffer_map(a, &ma, GST_MAP_WRITE);
    gst_buffer_map(b, &mb, GST_MAP_READ);
    const gint stride = GST_ROUND_UP_4(SIDE * 3);
    for (gint y = 0; y < SIDE; y++)
        for (gint x = 0; x < SIDE; x++)
            if (!inside(x, y))
                memcpy(ma.data + y * stride + x * 3, mb.data + y * stride + x * 3, 3);
    gst_buffer_unmap(a, &ma);
    gst_buffer_unmap(b, &mb);
    gst_buffer_unref(b);
    return a;
}

typedef struct {
    gdouble score;
    gfloat heat[SIDE * SIDE];
} Scored;

static void score_frames(const gchar *model, const gchar *mask, GstBuffer **frames, gint n, Scored *out)
{
    gchar *line = g_strdup_printf("skipganomaly scoring=sync model=\"%s\" mask=\"%s\"", model, mask);
    GstHarness *h = gst_harness_new_parse(line);
    gchar *caps = caps_string(GST_VIDEO_FORMAT_RGB, SIDE, SIDE);
    gst_harness_set_src_caps_str(h, caps);
    for (gint i = 0; i < n; i++) {
        fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(frames[i])), GST_FLOW_OK);
        GstBuffer *b = gst_harness_pull(h);
        SgadAnomalyResult r;
        fail_unless(sgad_buffer_get_anomaly_result(b, &r));
        fail_unless_equals_int(r.heatmap_width, SIDE);
        out[i].score = r.score;
        memcpy(out[i].heat, r.heatmap, sizeof out[i].heat);
        gst_buffer_unref(b);
    }
    gst_harness_teardown(h);
    g_free(caps);
    g_free(line);
}

GST_START_TEST(test_mask_circle)
{
    gchar *path = make_model("mask.safetensors", 3, 4, 0.5);
    GstBuffer *frames[3] = {masked_frame(1, 2), masked_frame(1, 9), make_frame(GST_VIDEO_FORMAT_RGB, SIDE, SIDE, 1)};
    Scored s[3], plain[3];
    gchar *mask = g_strdup_printf("circle:%g,%g,%g", CX, CY, R);
    score_frames(path, mask, frames, 3, s);
    score_frames(path, "", frames, 3, plain);
    /* what lies outside changes nothing */
    fail_unless(s[0].score == s[1].score && s[1].score == s[2].score, "%.9g %.9g %.9g", s[0].score, s[1].score,
                s[2].score);
    fail_unless(memcmp(s[0].heat, s[1].heat, sizeof s[0].heat) == 0);
    /* without the mask it does */
    fail_unless(plain[0].score != plain[1].score);
    gdouble in_sum = 0;
    for (gint y = 0; y < SIDE; y++)
        for (gint x = 0; x < SIDE; x++) {
            const gfloat v = s[0].heat[y * SIDE + x];
            if (inside(x, y))
                in_sum += v;
            else
                fail_unless(v == 0.0f, "heat %g outside at %d,%d", v, x, y);
        }
    fail_unless(in_sum > 0);

    /* a PNG of the same circle (white inside, black outside) is the same mask */
    cairo_surface_t *png = cairo_image_surface_create(CAIRO_FORMAT_RGB24, SIDE, SIDE);
    guint8 *data = cairo_image_surface_get_data(png);
    for (gint y = 0; y < SIDE; y++)
        for (gint x = 0; x < SIDE; x++)
            ((guint32 *)(void *)(data + y * cairo_image_surface_get_stride(png)))[x] = inside(x, y) ? 0xffffff : 0;
    cairo_surface_mark_dirty(png);
    gchar *png_path = g_build_filename(test_dir(), "mask.png", NULL);
    fail_unless_equals_int(cairo_surface_write_to_png(png, png_path), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(png);
    Scored p[1];
    score_frames(path, png_path, frames, 1, p);
    fail_unless(p[0].score == s[0].score, "PNG mask %.9g, circle %.9g", p[0].score, s[0].score);
    fail_unless(memcmp(p[0].heat, s[0].heat, sizeof p[0].heat) == 0);

    for (gint i = 0; i < 3; i++)
        gst_buffer_unref(frames[i]);
    g_free(png_path);
    g_free(mask);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* Train on 12 frames; frames differ from the other run only outside the mask. */
static gchar *train_masked(const gchar *name, guint outside_seed)
{
    gchar *path = g_build_filename(test_dir(), name, NULL);
    gchar *line = g_strdup_printf("skipganomaly mode=train model=\"%s\" epochs=1 batch-size=8 train-frames=12 "
                                  "width=0.25 mask=circle:%g,%g,%g",
                                  path, CX, CY, R);
    GstHarness *h = gst_harness_new_parse(line);
    gchar *caps = caps_string(GST_VIDEO_FORMAT_RGB, SIDE, SIDE);
    gst_harness_set_src_caps_str(h, caps);
    for (guint i = 0; i < 12; i++) {
        fail_unless_equals_int(gst_harness_push(h, masked_frame(100 + i, outside_seed + i)), GST_FLOW_OK);
        gst_buffer_unref(gst_harness_pull(h));
    }
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    fail_unless(g_file_test(path, G_FILE_TEST_EXISTS));
    gst_harness_teardown(h);
    g_free(caps);
    g_free(line);
    return path;
}

GST_START_TEST(test_mask_training)
{
    gchar *a = train_masked("a.safetensors", 500), *b = train_masked("b.safetensors", 900);
    gchar *da, *db;
    gsize la, lb;
    fail_unless(g_file_get_contents(a, &da, &la, NULL) && g_file_get_contents(b, &db, &lb, NULL));
    fail_unless(la == lb && memcmp(da, db, la) == 0, "the pixels outside the mask changed the trained model");
    g_free(da);
    g_free(db);
    g_free(a);
    g_free(b);
}
GST_END_TEST;

static gchar *start_error(const gchar *mask)
{
    gchar *path = make_model("err.safetensors", 3, 1, 0.5);
    GstElement *e = gst_element_factory_make("skipganomaly", NULL);
    g_object_set(e, "model", path, "mask", mask, NULL);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(e, bus);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != NULL);
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    gchar *text = g_strdup(err->message);
    g_error_free(err);
    gst_message_unref(m);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_element_set_bus(e, NULL);
    gst_object_unref(bus);
    gst_object_unref(e);
    g_free(path);
    return text;
}

GST_START_TEST(test_mask_errors)
{
    gchar *t = start_error("circle:10,10");
    fail_unless(strstr(t, "circle:CX,CY,R") && strstr(t, "\"circle:10,10\""), "%s", t);
    g_free(t);
    t = start_error("ellipse:1,2,0,4");
    fail_unless(strstr(t, "ellipse:CX,CY,RX,RY"), "%s", t);
    g_free(t);
    t = start_error("/nonexistent/fov.png");
    fail_unless(strstr(t, "\"/nonexistent/fov.png\" does not exist"), "%s", t);
    g_free(t);
    gchar *bad = g_build_filename(test_dir(), "notpng.png", NULL);
    g_file_set_contents(bad, "not a png", -1, NULL);
    t = start_error(bad);
    fail_unless(strstr(t, "is not a readable PNG"), "%s", t);
    g_free(t);
    g_free(bad);
}
GST_END_TEST;

static Suite *mask_suite(void)
{
    Suite *s = suite_create("skipganomaly-mask");
    TCase *tc = tcase_create("mask");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    ADD_TEST(tc, test_mask_circle);
    ADD_TEST(tc, test_mask_training);
    ADD_TEST(tc, test_mask_errors);
    suite_add_tcase(s, tc);
    return s;
}

SKIPGANOMALY_TEST_MAIN(mask_suite)
