/* anomalyoverlay: frames without a result pass byte for byte; a result changes
 * pixels where the heat map lies (hot red, cold blue with the jet map) and not
 * outside its ROI; anomalous frames get a pure red border in every supported
 * channel order, normal ones none. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <sgad/anomalymeta.h>
#include "frames.h"

#define W 64
#define H 48

static const gchar *formats[] = {"BGRx", "BGRA", "RGBx", "RGBA", "xRGB", "ARGB", "xBGR", "ABGR"};

static GstHarness *overlay(const GstVideoInfo *info)
{
    GstHarness *h = gst_harness_new("anomalyoverlay");
    gchar *caps = frames_caps_string(info);
    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
    return h;
}

static GstBuffer *push(GstHarness *h, GstBuffer *in)
{
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    fail_unless(out != NULL);
    return out;
}

GST_START_TEST(test_no_meta_passes_unchanged)
{
    for (gsize f = 0; f < G_N_ELEMENTS(formats); f++) {
        GstVideoInfo info = frames_info(formats[f], W, H);
        GstHarness *h = overlay(&info);
        GstBuffer *in = frames_flat(&info, 90, 120, 150);
        GstBuffer *expect = gst_buffer_copy_deep(in);
        GstBuffer *out = push(h, in);
        fail_unless(frames_equal(out, expect), "%s: a frame without meta was changed", formats[f]);
        gst_buffer_unref(out);
        gst_buffer_unref(expect);
        gst_harness_teardown(h);
    }
}
GST_END_TEST;

/* an 8x8 heat map over the ROI (16,8)-(48,40): hot left half, cold right half */
static void set_heat_result(GstBuffer *buf, gboolean anomalous)
{
    static gfloat heat[64];
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++)
            heat[y * 8 + x] = x < 4 ? 1.0f : 0.0f;
    SgadAnomalyResult r = {.score = anomalous ? 0.9 : 0.1, .threshold = 0.5, .anomalous = anomalous,
                          .heatmap_width = 8, .heatmap_height = 8, .heatmap = heat,
                          .roi_x = 16, .roi_y = 8, .roi_width = 32, .roi_height = 32};
    sgad_buffer_set_anomaly_result(buf, &r);
}

GST_START_TEST(test_heatmap_where_the_meta_says)
{
    for (gsize f = 0; f < G_N_ELEMENTS(formats); f++) {
        GstVideoInfo info = frames_info(formats[f], W, H);
        GstHarness *h = overlay(&info);
        g_object_set(h->element, "show-score", FALSE, "show-bar", FALSE, "show-roi", FALSE, "heatmap-alpha", 0.8,
                        "colormap", 0 /* jet */, NULL);
        GstBuffer *in = frames_flat(&info, 60, 60, 60);
        set_heat_result(in, FALSE);
        GstBuffer *out = push(h, in);
        /* outside the ROI: untouched grey */
        for (guint c = 0; c < 3; c++) {
            fail_unless_equals_int(frames_component(&info, out, c, 4, 4), 60);
            fail_unless_equals_int(frames_component(&info, out, c, 60, 44), 60);
        }
        /* hot side (jet's top: dark red); cold side (no error) left as it is: the map is as opaque as the
         * error is high, so well-reconstructed parts of the frame show through */
        guint8 hr = frames_component(&info, out, 0, 22, 24), hb = frames_component(&info, out, 2, 22, 24);
        guint8 cr = frames_component(&info, out, 0, 42, 24), cb = frames_component(&info, out, 2, 42, 24);
        fail_unless(hr > 60 + 30 && hb < 60 - 30, "%s: hot pixel R %u B %u", formats[f], hr, hb);
        fail_unless(cr == 60 && cb == 60, "%s: cold pixel R %u B %u", formats[f], cr, cb);
        if (GST_VIDEO_INFO_HAS_ALPHA(&info))
            fail_unless_equals_int(frames_component(&info, out, 3, 22, 24), 255);
        gst_buffer_unref(out);

        /* heatmap off: the same result leaves the ROI alone */
        g_object_set(h->element, "show-heatmap", FALSE, NULL);
        in = frames_flat(&info, 60, 60, 60);
        set_heat_result(in, FALSE);
        out = push(h, in);
        fail_unless_equals_int(frames_component(&info, out, 0, 22, 24), 60);
        fail_unless_equals_int(frames_component(&info, out, 2, 42, 24), 60);
        gst_buffer_unref(out);
        gst_harness_teardown(h);
    }
}
GST_END_TEST;

GST_START_TEST(test_anomalous_red_border)
{
    const gint edge[][2] = {{0, H / 2}, {W - 1, H / 2}, {W / 2, 0}, {W / 2, H - 1}, {3, H / 2}};
    for (gsize f = 0; f < G_N_ELEMENTS(formats); f++) {
        GstVideoInfo info = frames_info(formats[f], W, H);
        GstHarness *h = overlay(&info);
        g_object_set(h->element, "show-heatmap", FALSE, "show-score", FALSE, "show-bar", FALSE, "show-roi", FALSE,
                        "border-width", 4, NULL);
        GstBuffer *in = frames_flat(&info, 100, 100, 100);
        set_heat_result(in, TRUE);
        GstBuffer *out = push(h, in);
        for (gsize i = 0; i < G_N_ELEMENTS(edge); i++) {
            guint8 r = frames_component(&info, out, 0, edge[i][0], edge[i][1]);
            guint8 g = frames_component(&info, out, 1, edge[i][0], edge[i][1]);
            guint8 b = frames_component(&info, out, 2, edge[i][0], edge[i][1]);
            fail_unless(r == 255 && g == 0 && b == 0, "%s: border pixel (%d,%d) is %u,%u,%u, not red", formats[f],
                        edge[i][0], edge[i][1], r, g, b);
        }
        /* inside the border, below the label (which spans the top of so small a frame): untouched */
        fail_unless_equals_int(frames_component(&info, out, 0, 8, H - 8), 100);
        gst_buffer_unref(out);

        /* the same frame scored normal: no border */
        in = frames_flat(&info, 100, 100, 100);
        set_heat_result(in, FALSE);
        out = push(h, in);
        for (gsize i = 0; i < G_N_ELEMENTS(edge); i++)
            fail_unless_equals_int(frames_component(&info, out, 0, edge[i][0], edge[i][1]), 100);
        gst_buffer_unref(out);
        gst_harness_teardown(h);
    }
}
GST_END_TEST;

/* everything on, tiles and text included: draws without error on a small and
 * a large frame, and changes the label and bar areas */
GST_START_TEST(test_everything_drawn)
{
    const gint sizes[][2] = {{W, H}, {640, 360}};
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        GstVideoInfo info = frames_info("BGRx", sizes[i][0], sizes[i][1]);
        GstHarness *h = overlay(&info);
        g_object_set(h->element, "font-desc", "Sans 8", "colormap", 1 /* inferno */, NULL);
        GstBuffer *in = frames_flat(&info, 128, 128, 128);
        const gfloat tiles[4] = {0.1f, 0.9f, 0.2f, 0.3f};
        gfloat heat[4 * 4] = {0};
        heat[5] = 2.0f;
        SgadAnomalyResult r = {.score = 0.9, .threshold = 0.5, .anomalous = TRUE, .tiles_x = 2, .tiles_y = 2,
                              .tile_scores = tiles, .heatmap_width = 4, .heatmap_height = 4, .heatmap = heat};
        sgad_buffer_set_anomaly_result(in, &r);
        GstBuffer *out = push(h, in);
        gint w = sizes[i][0], hh = sizes[i][1];
        /* the bar runs along the bottom, the label box sits top-left */
        gint bar_y = hh - MAX(2, MIN(w, hh) / 80) - MAX(3, MIN(w, hh) / 60) - 2;
        fail_if(frames_component(&info, out, 1, w / 4, bar_y) == 128, "no bar at (%d,%d)", w / 4, bar_y);
        gst_buffer_unref(out);
        gst_harness_teardown(h);
    }
}
GST_END_TEST;

static Suite *anomalyoverlay_suite(void)
{
    Suite *s = suite_create("anomalyoverlay");
    TCase *tc = tcase_create("general");
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, test_no_meta_passes_unchanged);
    tcase_add_test(tc, test_heatmap_where_the_meta_says);
    tcase_add_test(tc, test_anomalous_red_border);
    tcase_add_test(tc, test_everything_drawn);
    return s;
}

GST_CHECK_MAIN(anomalyoverlay);
