/* skipganomaly's error paths: each must fail with a message a user can act on. */
#include <math.h>
#include <string.h>

#include "common.h"

/* Take a lone element to PAUSED; it must fail and post an error whose
 * message contains every string in `expect` (NULL-terminated). */
static void expect_start_error(GstElement *e, GQuark domain, gint code, const gchar *const *expect)
{
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(e, bus);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != NULL, "no error message posted");
    GError *err = NULL;
    gchar *debug = NULL;
    gst_message_parse_error(m, &err, &debug);
    GST_INFO("error: %s (%s)", err->message, debug);
    fail_unless(err->domain == domain && err->code == code, "error %s:%d: %s", g_quark_to_string(err->domain),
                err->code, err->message);
    gchar *all = g_strdup_printf("%s %s", err->message, debug ? debug : "");
    for (; *expect; expect++)
        fail_unless(strstr(all, *expect) != NULL, "\"%s\" not in \"%s\"", *expect, all);
    g_free(all);
    g_error_free(err);
    g_free(debug);
    gst_message_unref(m);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_element_set_bus(e, NULL);
    gst_object_unref(bus);
    gst_object_unref(e);
}

static GstElement *element(void)
{
    GstElement *e = gst_element_factory_make("skipganomaly", NULL);
    fail_unless(e != NULL, "skipganomaly not found: is GST_PLUGIN_PATH set?");
    return e;
}

GST_START_TEST(test_missing_model)
{
    gchar *path = g_build_filename(test_dir(), "no-such.safetensors", NULL);
    GstElement *e = element();
    g_object_set(e, "model", path, NULL);
    const gchar *expect[] = {path, "does not exist", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, expect);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_corrupt_model)
{
    gchar *path = g_build_filename(test_dir(), "corrupt.safetensors", NULL);
    /* a safetensors header length that runs past the end of the file */
    fail_unless(g_file_set_contents(path, "\xff\x00\x00\x00\x00\x00\x00\x00{\"a\":", 13, NULL));
    GstElement *e = element();
    g_object_set(e, "model", path, NULL);
    const gchar *expect[] = {path, "Cannot use model", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, expect);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_no_model_property)
{
    const gchar *expect[] = {"No model file", "model property", NULL};
    expect_start_error(element(), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, expect);
}
GST_END_TEST;

GST_START_TEST(test_uncalibrated_model)
{
    gchar *path = make_model("raw.safetensors", 3, 1, -1);
    GstElement *e = element();
    g_object_set(e, "model", path, NULL);
    const gchar *expect[] = {path, "no calibration", "threshold", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, expect);
    /* with an explicit threshold the same checkpoint is usable */
    e = element();
    g_object_set(e, "model", path, "threshold", 0.25, NULL);
    fail_unless(gst_element_set_state(e, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_object_unref(e);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* calibrate-frames below what a threshold at the model's quantile needs (each
 * tile an image; a standardised score needs twice as many): refused at start. */
GST_START_TEST(test_calibrate_too_few)
{
    gchar *path = make_model("m.safetensors", 3, 1, 0.5);
    GstElement *e = element();
    g_object_set(e, "model", path, "calibrate-frames", 199, NULL);
    const gchar *expect[] = {"calibrate-frames=199", "needs at least 200", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, expect);
    /* 50 frames of 2x2 tiles are 200 images */
    e = element();
    g_object_set(e, "model", path, "calibrate-frames", 50, "tiles", 2, NULL);
    fail_unless(gst_element_set_state(e, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_object_unref(e);
    /* the bundled model's standardised score: 200 for the statistics, 200 for the threshold */
    e = element();
    g_object_set(e, "model", SGAD_BUNDLED_MODEL, "calibrate-frames", 399, NULL);
    const gchar *expect_std[] = {"needs at least 400", "per-pixel statistics", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, expect_std);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

GST_START_TEST(test_unsupported_caps)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    gchar *line = g_strdup_printf("skipganomaly scoring=sync name=sg model=\"%s\"", path);
    GstHarness *h = gst_harness_new_parse(line);
    gst_harness_set_src_caps_str(h, "video/x-raw,format=UYVY,width=32,height=32,framerate=30/1");
    GstBuffer *b = gst_buffer_new_allocate(NULL, 32 * 32 * 2, NULL);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_NOT_NEGOTIATED);
    /* the sink pad states what it takes */
    GstElement *sg = gst_bin_get_by_name(GST_BIN(h->element), "sg");
    GstCaps *uyvy = gst_caps_from_string("video/x-raw,format=UYVY,width=32,height=32,framerate=30/1");
    GstPad *sink = gst_element_get_static_pad(sg, "sink");
    fail_if(gst_pad_query_accept_caps(sink, uyvy));
    gst_object_unref(sink);
    gst_caps_unref(uyvy);
    gst_object_unref(sg);
    gst_harness_teardown(h);
    g_free(line);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_roi_outside_frame)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    gchar *line = g_strdup_printf("skipganomaly scoring=sync model=\"%s\" roi=100,100,10,10", path);
    GstHarness *h = gst_harness_new_parse(line);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=32,height=32,framerate=30/1");
    fail_unless_equals_int(gst_harness_push(h, make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, 1)), GST_FLOW_ERROR);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != NULL);
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    fail_unless(strstr(err->message, "outside the 32x32 frame") != NULL, "%s", err->message);
    g_error_free(err);
    gst_message_unref(m);
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    g_free(line);
    g_free(path);
}
GST_END_TEST;

/* an roi whose x + width overflows an int (issue 13) crashed reading outside
 * the frame: it must be refused as outside the frame, in both modes */
GST_START_TEST(test_roi_overflow)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    const gchar *modes[] = {"score", "train"};
    for (guint m_i = 0; m_i < G_N_ELEMENTS(modes); m_i++) {
        gchar *out = g_build_filename(test_dir(), "trained.safetensors", NULL);
        gchar *line = g_strdup_printf("skipganomaly mode=%s model=\"%s\" roi=2147483600,0,100,50", modes[m_i],
                                      m_i == 0 ? path : out);
        GstHarness *h = gst_harness_new_parse(line);
        GstBus *bus = gst_bus_new();
        gst_element_set_bus(h->element, bus);
        gst_harness_set_src_caps_str(h, "video/x-raw,format=RGB,width=160,height=120,framerate=30/1");
        fail_unless_equals_int(gst_harness_push(h, make_frame(GST_VIDEO_FORMAT_RGB, 160, 120, 1)), GST_FLOW_ERROR);
        GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
        fail_unless(m != NULL);
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        fail_unless(strstr(err->message, "outside the 160x120 frame") != NULL, "%s", err->message);
        g_error_free(err);
        gst_message_unref(m);
        gst_element_set_bus(h->element, NULL);
        gst_object_unref(bus);
        gst_harness_teardown(h);
        g_free(line);
        g_free(out);
    }
    g_free(path);
}
GST_END_TEST;

/* threshold=-0.5 silently meant "use the calibration" (issue 13): only -1,
 * exactly, does. A standardised frame score's threshold can be negative
 * (issue 12), so any other finite value is a threshold; NaN and infinities
 * are refused with a warning and the setting kept. */
GST_START_TEST(test_negative_threshold)
{
    GstElement *e = element();
    gdouble t = 0;
    const gdouble taken[] = {0.25, -0.5, -1e-12, -3.75, -1.0 - 1e-9, -1e300};
    for (guint i = 0; i < G_N_ELEMENTS(taken); i++) {
        g_object_set(e, "threshold", taken[i], NULL);
        g_object_get(e, "threshold", &t, NULL);
        fail_unless(t == taken[i], "threshold %g read back as %g", taken[i], t);
    }
    g_object_set(e, "threshold", 0.25, NULL);
    const gdouble refused[] = {NAN, INFINITY, -INFINITY};
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        ASSERT_WARNING(g_object_set(e, "threshold", refused[i], NULL));
        g_object_get(e, "threshold", &t, NULL);
        fail_unless_equals_float(t, 0.25);
    }
    /* from a string, as gst-launch sets it */
    ASSERT_WARNING(gst_util_set_object_arg(G_OBJECT(e), "threshold", "nan"));
    gst_util_set_object_arg(G_OBJECT(e), "threshold", "-2.5");
    g_object_get(e, "threshold", &t, NULL);
    fail_unless_equals_float(t, -2.5);
    g_object_set(e, "threshold", -1.0, NULL);
    g_object_get(e, "threshold", &t, NULL);
    fail_unless_equals_float(t, -1.0);
    gst_object_unref(e);
}
GST_END_TEST;

/* mode=train with a model path that is a folder or in a folder that cannot
 * be written failed only at the first save, after the training (issue 13) */
GST_START_TEST(test_train_path_unwritable)
{
    GstElement *e = element();
    g_object_set(e, "model", test_dir(), NULL);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "train");
    const gchar *folder[] = {test_dir(), "it is a folder", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE, folder);
    /* /proc takes no new files, even from root */
    e = element();
    g_object_set(e, "model", "/proc/sgad-model.safetensors", NULL);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "train");
    const gchar *readonly[] = {"/proc/sgad-model.safetensors", "cannot create a file in folder /proc", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE, readonly);
}
GST_END_TEST;

GST_START_TEST(test_train_nothing)
{
    gchar *path = g_build_filename(test_dir(), "m.safetensors", NULL);
    GstElement *e = element();
    g_object_set(e, "model", path, "steps", 0, "epochs", 0, NULL);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "train");
    const gchar *expect[] = {"steps=0", "epochs=0", "trains nothing", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, expect);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_train_patience_without_measurements)
{
    gchar *path = g_build_filename(test_dir(), "m.safetensors", NULL);
    GstElement *e = element();
    g_object_set(e, "model", path, "patience", 2, "eval-interval", 0, NULL);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "train");
    const gchar *expect[] = {"patience 2", "eval-interval=0", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, expect);
    g_free(path);
}
GST_END_TEST;

/* drop-skips: a list of levels read back as it is normalised; anything else is
 * refused with a warning and the setting kept. adversarial=false trains no
 * discriminator, so a score weighing its features is refused at start. */
GST_START_TEST(test_drop_skips_property)
{
    GstElement *e = element();
    gchar *text = NULL;
    g_object_get(e, "drop-skips", &text, NULL);
    fail_unless_equals_string(text, "1,2"); /* the default: docs/training.md, "Skips left out" */
    g_free(text);
    gst_util_set_object_arg(G_OBJECT(e), "drop-skips", "none");
    g_object_get(e, "drop-skips", &text, NULL);
    fail_unless_equals_string(text, "none");
    g_free(text);
    gst_util_set_object_arg(G_OBJECT(e), "drop-skips", "3,2");
    g_object_get(e, "drop-skips", &text, NULL);
    fail_unless_equals_string(text, "2,3");
    g_free(text);
    const gchar *refused[] = {"4", "1,1", "1;2", "all"};
    for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
        ASSERT_WARNING(gst_util_set_object_arg(G_OBJECT(e), "drop-skips", refused[i]));
        g_object_get(e, "drop-skips", &text, NULL);
        fail_unless_equals_string(text, "2,3");
        g_free(text);
    }
    gst_object_unref(e);
}
GST_END_TEST;

GST_START_TEST(test_train_lambda_needs_adversary)
{
    gchar *path = g_build_filename(test_dir(), "m.safetensors", NULL);
    GstElement *e = element();
    g_object_set(e, "model", path, "adversarial", FALSE, "score-lambda", 0.9, NULL);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "train");
    const gchar *expect[] = {"score-lambda 0.9", "adversarial=false", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, expect);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_train_folder_missing)
{
    GstElement *e = element();
    g_object_set(e, "model", "/no/such/folder/out.safetensors", NULL);
    gst_util_set_object_arg(G_OBJECT(e), "mode", "train");
    const gchar *expect[] = {"/no/such/folder", "does not exist", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE, expect);
}
GST_END_TEST;

GST_START_TEST(test_bad_device)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    GstElement *e = element();
    g_object_set(e, "model", path, "device", "no-such-gpu-anywhere", NULL);
    const gchar *expect[] = {"No usable Vulkan device", "no-such-gpu-anywhere", NULL};
    expect_start_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, expect);
    g_free(path);
}
GST_END_TEST;

static Suite *skipganomaly_errors_suite(void)
{
    Suite *s = suite_create("skipganomaly-errors");
    TCase *tc = tcase_create("errors");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    suite_add_tcase(s, tc);
    ADD_TEST(tc, test_missing_model);
    ADD_TEST(tc, test_corrupt_model);
    ADD_TEST(tc, test_no_model_property);
    ADD_TEST(tc, test_uncalibrated_model);
    ADD_TEST(tc, test_unsupported_caps);
    ADD_TEST(tc, test_roi_outside_frame);
    ADD_TEST(tc, test_roi_overflow);
    ADD_TEST(tc, test_negative_threshold);
    ADD_TEST(tc, test_train_folder_missing);
    ADD_TEST(tc, test_train_patience_without_measurements);
    ADD_TEST(tc, test_drop_skips_property);
    ADD_TEST(tc, test_train_lambda_needs_adversary);
    ADD_TEST(tc, test_train_nothing);
    ADD_TEST(tc, test_train_path_unwritable);
    ADD_TEST(tc, test_bad_device);
    ADD_TEST(tc, test_calibrate_too_few);
    return s;
}

SKIPGANOMALY_TEST_MAIN(skipganomaly_errors_suite)
