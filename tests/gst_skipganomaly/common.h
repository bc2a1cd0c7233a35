/* Shared helpers of the skipganomaly tests: tiny checkpoints made on the test's
 * own engine device, frames of a known pattern, and bus helpers. */
#ifndef SGAD_TEST_SKIPGANOMALY_COMMON_H
#define SGAD_TEST_SKIPGANOMALY_COMMON_H

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <sgad/fit.h>
#include <sgad/model.h>

/* The test's engine device (the element opens its own through its pool). */
sg_device *test_device(void);
/* Fail the test if the validation layer spoke on the test's device. */
void test_device_check(void);

/* A fresh temporary folder for this test, removed with its files at exit. */
const gchar *test_dir(void);
/* Remove it now (each suite's teardown fixture). */
void test_dir_remove(void);

/* Create a random model (channels, 32x32, width 1) with seed; if threshold >= 0
 * store it as a valid calibration; save to dir/name; returns the path (g_free). */
gchar *make_model(const gchar *name, gint channels, guint64 seed, gdouble threshold);

/* Copy the checkpoint at src to dir/name with changes: when tensor is set, its
 * elements [first, first + count) become value; when meta_key is set, that
 * metadata entry becomes meta_value (added if missing). Returns the path. */
gchar *mutate_model(const gchar *src, const gchar *name, const gchar *tensor, gsize first, gsize count,
                    gfloat value, const gchar *meta_key, const gchar *meta_value);

/* Score images (C x 32 x 32 each) with the checkpoint at path, directly with the engine. */
void engine_score(const gchar *path, const gfloat *images, gint count, gfloat *scores, gfloat *heatmaps);

/* A buffer of format/width/height filled with a deterministic pattern. */
GstBuffer *make_frame(GstVideoFormat format, gint width, gint height, guint seed);
gchar *caps_string(GstVideoFormat format, gint width, gint height);

/* Pop the next element message whose structure is named `name` (NULL if none queued). */
GstMessage *pop_element_message(GstBus *bus, const gchar *name);

#endif

/* Programs that call the plugin's internals (the device pool) link the plugin
 * statically and register it (SGAD_TEST_STATIC_PLUGIN, set by meson): one copy
 * of the engine in the process; the others load it from GST_PLUGIN_PATH. */
#ifdef SGAD_TEST_STATIC_PLUGIN
GST_PLUGIN_STATIC_DECLARE(sgad);
#define SGAD_TEST_REGISTER_PLUGIN() GST_PLUGIN_STATIC_REGISTER(sgad)
#else
#define SGAD_TEST_REGISTER_PLUGIN() ((void)0)
#endif

/* Each test program is a gst-check suite; argv[1] names the one test to run
 * (meson runs them as separate tests, in parallel). */
#define SKIPGANOMALY_TEST_MAIN(suite_fn)                                                                             \
    int main(int argc, char **argv)                                                                                  \
    {                                                                                                                \
        if (argc > 1)                                                                                                \
            g_setenv("GST_CHECKS", argv[1], TRUE);                                                                   \
        gst_check_init(&argc, &argv);                                                                                \
        SGAD_TEST_REGISTER_PLUGIN();                                                                                 \
        return gst_check_run_suite(suite_fn(), "skipganomaly", __FILE__) ? 1 : 0;                                    \
    }

/* Add a test with a timeout fitting lavapipe. */
#define ADD_TEST(tc, fn) tcase_add_test(tc, fn)

#define SUITE_TIMEOUT 240
