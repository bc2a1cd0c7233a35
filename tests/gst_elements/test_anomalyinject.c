/* anomalyinject: the fraction of defective frames over 200 frames, the truth on
 * every frame, seeded reproducibility (same seed: same bytes; another seed:
 * other bytes), every listed format painted in place, the roi respected, and
 * the truth mask exactly the pixels the painting changed. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <sgad/anomalymeta.h>
#include "frames.h"

#define W 64
#define H 48

static const gchar *formats[] = {"RGB",  "BGR",  "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR",
                                 "GRAY8", "I420", "YV12", "NV12", "NV21", "Y42B", "Y444", "YUY2", "UYVY"};

static GstHarness *inject(const GstVideoInfo *info)
{
    GstHarness *h = gst_harness_new("anomalyinject");
    gchar *caps = frames_caps_string(info);
    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
    return h;
}

/* a mid-grey frame in the format's own components (YUV grey: U = V = 128) */
static GstBuffer *grey(const GstVideoInfo *info)
{
    return frames_flat(info, 128, 128, 128);
}

/* runs n grey frames, returns the outputs (truth checked on every one) */
static GPtrArray *run(const GstVideoInfo *info, guint n, const gchar *first_prop, ...)
{
    GstHarness *h = inject(info);
    va_list args;
    va_start(args, first_prop);
    if (first_prop)
        g_object_set_valist(G_OBJECT(h->element), first_prop, args);
    va_end(args);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
    for (guint i = 0; i < n; i++) {
        fail_unless_equals_int(gst_harness_push(h, grey(info)), GST_FLOW_OK);
        GstBuffer *b = gst_harness_pull(h);
        const gchar *defect = NULL;
        gint truth = sgad_buffer_get_anomaly_truth(b, &defect);
        fail_unless(truth == 0 || truth == 1, "frame %u has no truth", i);
        fail_unless(defect != NULL);
        if (truth)
            fail_unless(g_strv_contains((const gchar *[]){"scratch", "spot", "missing", "color-shift", NULL}, defect),
                        "unknown defect \"%s\"", defect);
        else
            fail_unless_equals_string(defect, "");
        g_ptr_array_add(out, b);
    }
    gst_harness_teardown(h);
    return out;
}

static guint count_defective(GPtrArray *frames)
{
    guint n = 0;
    for (guint i = 0; i < frames->len; i++)
        n += sgad_buffer_get_anomaly_truth(g_ptr_array_index(frames, i), NULL) == 1;
    return n;
}

GST_START_TEST(test_fraction_respected)
{
    GstVideoInfo info = frames_info("I420", 32, 24);
    /* 200 Bernoulli(0.25) draws: mean 50, sd 6.1; +-20 is over 3 sd */
    for (guint seed = 1; seed <= 5; seed++) {
        GPtrArray *f = run(&info, 200, "fraction", 0.25, "seed", seed, NULL);
        guint n = count_defective(f);
        fail_unless(n >= 30 && n <= 70, "seed %u: %u of 200 frames defective at fraction 0.25", seed, n);
        g_ptr_array_unref(f);
    }
    GPtrArray *none = run(&info, 50, "fraction", 0.0, NULL);
    fail_unless_equals_int(count_defective(none), 0);
    g_ptr_array_unref(none);
    GPtrArray *all = run(&info, 50, "fraction", 1.0, NULL);
    fail_unless_equals_int(count_defective(all), 50);
    g_ptr_array_unref(all);
}
GST_END_TEST;

GST_START_TEST(test_seed_reproducible)
{
    GstVideoInfo info = frames_info("RGB", W, H);
    GPtrArray *a = run(&info, 40, "fraction", 0.5, "seed", 42, NULL);
    GPtrArray *b = run(&info, 40, "fraction", 0.5, "seed", 42, NULL);
    GPtrArray *c = run(&info, 40, "fraction", 0.5, "seed", 43, NULL);
    gboolean any_differs = FALSE;
    for (guint i = 0; i < a->len; i++) {
        GstBuffer *fa = g_ptr_array_index(a, i), *fb = g_ptr_array_index(b, i), *fc = g_ptr_array_index(c, i);
        const gchar *da, *db;
        fail_unless_equals_int(sgad_buffer_get_anomaly_truth(fa, &da), sgad_buffer_get_anomaly_truth(fb, &db));
        fail_unless_equals_string(da, db);
        fail_unless(frames_equal(fa, fb), "frame %u differs between two runs with seed 42", i);
        any_differs |= !frames_equal(fa, fc);
    }
    fail_unless(any_differs, "seeds 42 and 43 painted identical streams");
    g_ptr_array_unref(a);
    g_ptr_array_unref(b);
    g_ptr_array_unref(c);
}
GST_END_TEST;

GST_START_TEST(test_every_format_painted)
{
    GstBuffer *ref = NULL;
    for (gsize f = 0; f < G_N_ELEMENTS(formats); f++) {
        GstVideoInfo info = frames_info(formats[f], W, H);
        ref = grey(&info);
        /* each kind alone, so every painter runs in every format */
        const gchar *kinds[] = {"scratch", "spot", "missing", "color-shift"};
        for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
            GValue v = G_VALUE_INIT;
            GstElement *probe = gst_element_factory_make("anomalyinject", NULL);
            GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(probe), "defects");
            g_value_init(&v, spec->value_type);
            fail_unless(gst_value_deserialize(&v, kinds[k]));
            gst_object_unref(probe);
            GPtrArray *out = run(&info, 3, "fraction", 1.0, "size", 0.3, "defects", g_value_get_flags(&v), NULL);
            g_value_unset(&v);
            for (guint i = 0; i < out->len; i++) {
                GstBuffer *b = g_ptr_array_index(out, i);
                const gchar *defect;
                fail_unless_equals_int(sgad_buffer_get_anomaly_truth(b, &defect), 1);
                fail_unless_equals_string(defect, kinds[k]);
                fail_if(frames_equal(b, ref), "%s: %s painted nothing", formats[f], kinds[k]);
            }
            g_ptr_array_unref(out);
        }
        gst_buffer_unref(ref);
    }
}
GST_END_TEST;

/* with an roi (even-aligned, so whole chroma samples), every sample whose
 * pixel lies outside it keeps its value */
GST_START_TEST(test_roi_respected)
{
    const gchar *some[] = {"RGB", "BGRA", "GRAY8", "I420", "NV12", "YUY2"};
    for (gsize f = 0; f < G_N_ELEMENTS(some); f++) {
        GstVideoInfo info = frames_info(some[f], W, H);
        GstBuffer *ref = grey(&info);
        GPtrArray *out = run(&info, 12, "fraction", 1.0, "size", 0.5, "roi", "16,8,24,20", NULL);
        guint inside_changed = 0;
        for (guint i = 0; i < out->len; i++) {
            GstBuffer *b = g_ptr_array_index(out, i);
            for (guint c = 0; c < MIN(3u, GST_VIDEO_INFO_N_COMPONENTS(&info)); c++)
                for (gint y = 0; y < H; y++)
                    for (gint x = 0; x < W; x++) {
                        gboolean in = x >= 16 && x < 40 && y >= 8 && y < 28;
                        guint8 v = frames_component(&info, b, c, x, y), r = frames_component(&info, ref, c, x, y);
                        if (!in)
                            fail_unless(v == r, "%s frame %u: (%d,%d) component %u outside the roi changed",
                                        some[f], i, x, y, c);
                        else
                            inside_changed += v != r;
                    }
        }
        fail_unless(inside_changed > 0, "%s: nothing painted inside the roi", some[f]);
        g_ptr_array_unref(out);
        gst_buffer_unref(ref);
    }
}
GST_END_TEST;

GST_START_TEST(test_roi_outside_frame_is_an_error)
{
    GstVideoInfo info = frames_info("GRAY8", W, H);
    GstHarness *h = inject(&info);
    g_object_set(h->element, "roi", "100,100,10,10", NULL);
    fail_unless_equals_int(gst_harness_push(h, grey(&info)), GST_FLOW_ERROR);
    gst_harness_teardown(h);
}
GST_END_TEST;

/* an roi whose x + width overflows an int (issue 13): one reaching past the
 * frame is clipped to it and painted there, one starting past it is an error */
GST_START_TEST(test_roi_overflowing_int)
{
    GstVideoInfo info = frames_info("GRAY8", W, H);
    GstBuffer *ref = grey(&info);
    GPtrArray *out = run(&info, 6, "fraction", 1.0, "size", 0.5, "roi", "16,0,2147483647,20", NULL);
    fail_unless_equals_int(out->len, 6);
    guint inside_changed = 0;
    for (guint i = 0; i < out->len; i++)
        for (gint y = 0; y < H; y++)
            for (gint x = 0; x < W; x++) {
                gboolean in = x >= 16 && y < 20;
                guint8 v = frames_component(&info, g_ptr_array_index(out, i), 0, x, y);
                guint8 r = frames_component(&info, ref, 0, x, y);
                fail_unless(in || v == r, "frame %u: (%d,%d) outside the roi changed", i, x, y);
                inside_changed += v != r;
            }
    fail_unless(inside_changed > 0, "nothing painted inside the roi");
    g_ptr_array_unref(out);

    GstHarness *h = inject(&info);
    g_object_set(h->element, "roi", "2147483600,0,100,50", NULL);
    fail_unless_equals_int(gst_harness_push(h, gst_buffer_ref(ref)), GST_FLOW_ERROR);
    gst_harness_teardown(h);
    gst_buffer_unref(ref);
}
GST_END_TEST;

static guint kind_flags(const gchar *kinds)
{
    GstElement *probe = gst_element_factory_make("anomalyinject", NULL);
    GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(probe), "defects");
    GValue v = G_VALUE_INIT;
    g_value_init(&v, spec->value_type);
    fail_unless(gst_value_deserialize(&v, kinds));
    guint flags = g_value_get_flags(&v);
    g_value_unset(&v);
    gst_object_unref(probe);
    return flags;
}

/* Every defective frame's truth-mask is 1 exactly on the frame pixels that
 * differ from the clean input (any colour component; a chroma sample counts
 * for every pixel it covers), in every format and for every kind; the input
 * is a pattern, so some painted values equal the ones they replace. Odd sizes
 * cut chroma blocks at the edge. */
GST_START_TEST(test_truth_mask_is_the_painted_pixels)
{
    const gchar *kinds[] = {"scratch", "spot", "missing", "color-shift"};
    const struct {
        gint width, height;
    } sizes[] = {{W, H}, {33, 25}};
    for (gsize z = 0; z < G_N_ELEMENTS(sizes); z++)
        for (gsize f = 0; f < G_N_ELEMENTS(formats); f++) {
            const gint w = sizes[z].width, hgt = sizes[z].height;
            GstVideoInfo info = frames_info(formats[f], w, hgt);
            GstBuffer *clean = frames_pattern(&info);
            for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
                GstHarness *h = inject(&info);
                g_object_set(h->element, "fraction", 1.0, "size", 0.4, "seed", (guint)(7 + k),
                             "defects", kind_flags(kinds[k]), NULL);
                for (guint i = 0; i < 4; i++) {
                    fail_unless_equals_int(gst_harness_push(h, gst_buffer_copy(clean)), GST_FLOW_OK);
                    GstBuffer *b = gst_harness_pull(h);
                    fail_unless_equals_int(sgad_buffer_get_anomaly_truth(b, NULL), 1);
                    guint mw = 0, mh = 0;
                    const guint8 *mask = sgad_buffer_get_anomaly_truth_mask(b, &mw, &mh);
                    fail_unless(mask != NULL, "%s %s: no truth-mask", formats[f], kinds[k]);
                    fail_unless(mw == (guint)w && mh == (guint)hgt, "%s: mask %ux%u on a %dx%d frame", formats[f],
                                mw, mh, w, hgt);
                    guint marked = 0;
                    GstVideoFrame painted, before;
                    fail_unless(gst_video_frame_map(&painted, &info, b, GST_MAP_READ));
                    fail_unless(gst_video_frame_map(&before, &info, clean, GST_MAP_READ));
                    for (gint y = 0; y < hgt; y++)
                        for (gint x = 0; x < w; x++) {
                            gboolean changed = FALSE;
                            for (guint c = 0; c < MIN(3u, GST_VIDEO_INFO_N_COMPONENTS(&info)); c++)
                                changed |= frames_sample(&painted, c, x, y) != frames_sample(&before, c, x, y);
                            fail_unless(!mask[y * w + x] == !changed,
                                        "%s %dx%d %s frame %u: pixel (%d,%d) %s but the mask says %u", formats[f],
                                        w, hgt, kinds[k], i, x, y, changed ? "changed" : "did not change",
                                        mask[y * w + x]);
                            marked += mask[y * w + x] != 0;
                        }
                    gst_video_frame_unmap(&painted);
                    gst_video_frame_unmap(&before);
                    fail_unless(marked > 0, "%s %s frame %u: an empty mask", formats[f], kinds[k], i);
                    gst_buffer_unref(b);
                }
                gst_harness_teardown(h);
            }
            gst_buffer_unref(clean);
        }
}
GST_END_TEST;

/* normal frames carry no mask (all zero, light buffers); truth-mask=false
 * leaves it off defective frames too; a new truth removes an old mask; a
 * malformed one reads as none */
GST_START_TEST(test_truth_mask_only_where_painted)
{
    GstVideoInfo info = frames_info("I420", 32, 24);
    GPtrArray *out = run(&info, 40, "fraction", 0.5, "seed", 5, NULL);
    guint defective = 0;
    for (guint i = 0; i < out->len; i++) {
        GstBuffer *b = g_ptr_array_index(out, i);
        guint mw, mh;
        gboolean has_mask = sgad_buffer_get_anomaly_truth_mask(b, &mw, &mh) != NULL;
        gint truth = sgad_buffer_get_anomaly_truth(b, NULL);
        fail_unless(has_mask == (truth == 1), "frame %u: truth %d, mask %d", i, truth, has_mask);
        defective += truth == 1;
    }
    fail_unless(defective > 0 && defective < out->len);
    g_ptr_array_unref(out);

    out = run(&info, 10, "fraction", 1.0, "truth-mask", FALSE, NULL);
    for (guint i = 0; i < out->len; i++) {
        guint mw = 1, mh = 1;
        fail_unless(sgad_buffer_get_anomaly_truth_mask(g_ptr_array_index(out, i), &mw, &mh) == NULL);
        fail_unless(mw == 0 && mh == 0);
    }
    g_ptr_array_unref(out);

    GstBuffer *b = gst_buffer_new();
    guint8 ones[6] = {1, 1, 1, 1, 1, 1};
    GBytes *bytes = g_bytes_new(ones, sizeof ones);
    sgad_buffer_set_anomaly_truth(b, TRUE, "spot");
    sgad_buffer_set_anomaly_truth_mask(b, bytes, 3, 2);
    guint mw, mh;
    fail_unless(sgad_buffer_get_anomaly_truth_mask(b, &mw, &mh) != NULL && mw == 3 && mh == 2);
    sgad_buffer_set_anomaly_truth(b, FALSE, NULL);
    fail_unless(sgad_buffer_get_anomaly_truth_mask(b, &mw, &mh) == NULL);
    /* a mask whose bytes are not width x height (another producer's) reads as none */
    sgad_buffer_set_anomaly_truth(b, TRUE, "spot");
    GstStructure *st = gst_custom_meta_get_structure(gst_buffer_get_custom_meta(b, SGAD_ANOMALY_META_NAME));
    gst_structure_set(st, "truth-mask", G_TYPE_BYTES, bytes, "truth-mask-width", G_TYPE_UINT, 4,
                      "truth-mask-height", G_TYPE_UINT, 2, NULL);
    fail_unless(sgad_buffer_get_anomaly_truth_mask(b, &mw, &mh) == NULL && mw == 0 && mh == 0);
    g_bytes_unref(bytes);
    gst_buffer_unref(b);
}
GST_END_TEST;

static Suite *anomalyinject_suite(void)
{
    Suite *s = suite_create("anomalyinject");
    TCase *tc = tcase_create("general");
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, test_fraction_respected);
    tcase_add_test(tc, test_seed_reproducible);
    tcase_add_test(tc, test_every_format_painted);
    tcase_add_test(tc, test_roi_respected);
    tcase_add_test(tc, test_roi_outside_frame_is_an_error);
    tcase_add_test(tc, test_roi_overflowing_int);
    tcase_add_test(tc, test_truth_mask_is_the_painted_pixels);
    tcase_add_test(tc, test_truth_mask_only_where_painted);
    return s;
}

GST_CHECK_MAIN(anomalyinject);
