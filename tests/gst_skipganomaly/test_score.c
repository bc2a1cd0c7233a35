/* skipganomaly in score mode, through GstHarness: every accepted format, the
 * meta against the engine's own score, ROI and tiles geometry, interval reuse,
 * messages, resolution changes, hot reload and concurrent instances. */
#include <math.h>
#include <string.h>

#include <sgad/anomalymeta.h>
#include "common.h"
#include "skipganomaly/device_pool.h"

/* GstHarness answers the LATENCY query as a live source, which would pick
 * asynchronous scoring (test_live.c): these tests check each frame's own result */
static GstHarness *new_harness(const gchar *path, const gchar *extra)
{
    gchar *line = g_strdup_printf("skipganomaly name=sg scoring=sync model=\"%s\" %s", path, extra ? extra : "");
    GstHarness *h = gst_harness_new_parse(line);
    g_free(line);
    return h;
}

/* The element inside the harness's bin. */
static GstElement *element_of(GstHarness *h)
{
    GstElement *e = gst_bin_get_by_name(GST_BIN(h->element), "sg");
    fail_unless(e != NULL);
    gst_object_unref(e); /* the bin keeps it alive */
    return e;
}

static void set_caps(GstHarness *h, GstVideoFormat f, gint w, gint ht)
{
    gchar *caps = caps_string(f, w, ht);
    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
}

/* Push a frame; return the output (caller unrefs) and check the pixels kept. */
static GstBuffer *push_frame(GstHarness *h, GstVideoFormat f, gint w, gint ht, guint seed, GstClockTime pts)
{
    GstBuffer *in = make_frame(f, w, ht, seed);
    GST_BUFFER_PTS(in) = pts;
    GST_BUFFER_DURATION(in) = GST_SECOND / 30;
    GstBuffer *copy = gst_buffer_copy_deep(in);
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    fail_unless(out != NULL);
    GstMapInfo a, b;
    gst_buffer_map(copy, &a, GST_MAP_READ);
    gst_buffer_map(out, &b, GST_MAP_READ);
    fail_unless_equals_int(a.size, b.size);
    fail_unless(memcmp(a.data, b.data, a.size) == 0, "%s: pixels changed", gst_video_format_to_string(f));
    gst_buffer_unmap(copy, &a);
    gst_buffer_unmap(out, &b);
    gst_buffer_unref(copy);
    return out;
}

static SgadAnomalyResult get_result(GstBuffer *buf)
{
    SgadAnomalyResult r;
    fail_unless(sgad_buffer_get_anomaly_result(buf, &r), "no GstAnomalyMeta result on the buffer");
    return r;
}

/* The float image (C x 32 x 32) of a packed RGB or GRAY8 32x32 buffer. */
static void image_of(GstBuffer *buf, GstVideoFormat f, gint x0, gint y0, gint stride_px, gint rows, gfloat *out)
{
    (void)rows;
    GstMapInfo m;
    gst_buffer_map(buf, &m, GST_MAP_READ);
    gint bpp = f == GST_VIDEO_FORMAT_GRAY8 ? 1 : 3, C = bpp;
    gint stride = GST_ROUND_UP_4(stride_px * bpp);
    for (gint y = 0; y < 32; y++)
        for (gint x = 0; x < 32; x++)
            for (gint c = 0; c < C; c++)
                out[(c * 32 + y) * 32 + x] = m.data[(y0 + y) * stride + (x0 + x) * bpp + c] / 127.5f - 1.0f;
    gst_buffer_unmap(buf, &m);
}

/* Push one frame in each format through one harness (caps change each time). */
static void check_formats(const GstVideoFormat *formats, guint n)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    GstHarness *h = new_harness(path, NULL);
    for (guint i = 0; i < n; i++) {
        set_caps(h, formats[i], 40, 32);
        GstBuffer *out = push_frame(h, formats[i], 40, 32, i + 1, i * GST_SECOND);
        SgadAnomalyResult r = get_result(out);
        fail_unless(isfinite(r.score) && r.score >= 0, "%s: score %g", gst_video_format_to_string(formats[i]),
                    r.score);
        fail_unless_equals_float(r.threshold, 0.5);
        fail_unless_equals_int(r.frame, i);
        fail_unless_equals_int(r.roi_width, 40);
        fail_unless_equals_int(r.roi_height, 32);
        fail_unless_equals_int(r.heatmap_width, 32);
        gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
    g_free(path);
    test_device_check();
}

GST_START_TEST(test_formats_rgb)
{
    static const GstVideoFormat formats[] = {
        GST_VIDEO_FORMAT_RGB,  GST_VIDEO_FORMAT_BGR,  GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA,
        GST_VIDEO_FORMAT_ARGB, GST_VIDEO_FORMAT_ABGR, GST_VIDEO_FORMAT_RGBx, GST_VIDEO_FORMAT_BGRx,
        GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_xBGR,
    };
    check_formats(formats, G_N_ELEMENTS(formats));
}
GST_END_TEST;

GST_START_TEST(test_formats_gray_yuv)
{
    static const GstVideoFormat formats[] = {GST_VIDEO_FORMAT_GRAY8, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12};
    check_formats(formats, G_N_ELEMENTS(formats));
}
GST_END_TEST;

static void check_engine_equal(GstVideoFormat f, gint channels)
{
    gchar *path = make_model(channels == 3 ? "rgb.safetensors" : "gray.safetensors", channels, 7, 0.5);
    GstHarness *h = new_harness(path, NULL);
    set_caps(h, f, 32, 32);
    GstBuffer *in = make_frame(f, 32, 32, 3);
    gfloat image[3 * 32 * 32], score, heat[32 * 32];
    image_of(in, f, 0, 0, 32, 32, image);
    engine_score(path, image, 1, &score, heat);
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    SgadAnomalyResult r = get_result(out);
    fail_unless(fabs(r.score - score) <= 1e-5, "meta score %.8g, engine %.8g", r.score, score);
    fail_unless_equals_int(r.heatmap_width * r.heatmap_height, 32 * 32);
    for (gint i = 0; i < 32 * 32; i++)
        fail_unless(fabsf(r.heatmap[i] - heat[i]) <= 1e-5f, "heat map pixel %d: %g vs %g", i, r.heatmap[i], heat[i]);
    fail_unless_equals_int(r.anomalous, score > 0.5);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
    g_free(path);
}

GST_START_TEST(test_score_matches_engine)
{
    check_engine_equal(GST_VIDEO_FORMAT_RGB, 3);
    check_engine_equal(GST_VIDEO_FORMAT_GRAY8, 1);
    test_device_check();
}
GST_END_TEST;

/* ROI 64x64 at (8,4) of a 96x80 frame in 2x2 tiles: each tile is an exact
 * 32x32 crop, so its score and heat map must be the engine's for that crop. */
GST_START_TEST(test_roi_tiles)
{
    gchar *path = make_model("rgb.safetensors", 3, 5, 0.5);
    GstHarness *h = new_harness(path, "roi=8,4,64,64 tiles=2");
    set_caps(h, GST_VIDEO_FORMAT_RGB, 96, 80);
    GstBuffer *in = make_frame(GST_VIDEO_FORMAT_RGB, 96, 80, 9);
    gfloat images[4 * 3 * 32 * 32], scores[4], heat[4 * 32 * 32];
    for (gint t = 0; t < 4; t++)
        image_of(in, GST_VIDEO_FORMAT_RGB, 8 + (t % 2) * 32, 4 + (t / 2) * 32, 96, 80, images + t * 3 * 32 * 32);
    engine_score(path, images, 4, scores, heat);
    fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull(h);
    SgadAnomalyResult r = get_result(out);
    fail_unless_equals_int(r.roi_x, 8);
    fail_unless_equals_int(r.roi_y, 4);
    fail_unless_equals_int(r.roi_width, 64);
    fail_unless_equals_int(r.roi_height, 64);
    fail_unless_equals_int(r.tiles_x, 2);
    fail_unless_equals_int(r.tiles_y, 2);
    fail_unless_equals_int(r.heatmap_width, 64);
    fail_unless_equals_int(r.heatmap_height, 64);
    gfloat best = 0;
    for (gint t = 0; t < 4; t++) {
        fail_unless(fabsf(r.tile_scores[t] - scores[t]) <= 1e-5f, "tile %d: %g vs %g", t, r.tile_scores[t],
                    scores[t]);
        best = MAX(best, scores[t]);
        for (gint y = 0; y < 32; y++)
            for (gint x = 0; x < 32; x++) {
                gfloat a = r.heatmap[((t / 2) * 32 + y) * 64 + (t % 2) * 32 + x], b = heat[(t * 32 + y) * 32 + x];
                fail_unless(fabsf(a - b) <= 1e-5f, "tile %d heat (%d,%d): %g vs %g", t, x, y, a, b);
            }
    }
    fail_unless(fabs(r.score - best) <= 1e-6, "frame score %g is not the worst tile's %g", r.score, best);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

GST_START_TEST(test_interval)
{
    gchar *path = make_model("rgb.safetensors", 3, 2, 0.5);
    GstHarness *h = new_harness(path, "interval=3 post-messages=true");
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    gdouble scores[4];
    for (guint i = 0; i < 4; i++) {
        GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 10 + i, i * GST_SECOND / 30);
        SgadAnomalyResult r = get_result(out);
        fail_unless_equals_int(r.frame, i);
        scores[i] = r.score;
        gst_buffer_unref(out);
    }
    fail_unless(scores[1] == scores[0] && scores[2] == scores[0], "frames 1, 2 reuse frame 0's result");
    fail_unless(scores[3] != scores[0], "frame 3 is scored anew");
    guint64 frames[2];
    for (gint i = 0; i < 2; i++) {
        GstMessage *m = pop_element_message(bus, "skipganomaly");
        fail_unless(m != NULL, "message %d of 2", i);
        gst_structure_get_uint64(gst_message_get_structure(m), "frame", &frames[i]);
        gst_message_unref(m);
    }
    fail_unless(pop_element_message(bus, "skipganomaly") == NULL, "only scored frames post messages");
    fail_unless_equals_int(frames[0], 0);
    fail_unless_equals_int(frames[1], 3);
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* A threshold between two frames' scores: low, high, low gives a
 * skipganomaly message per frame and anomaly-start/-end at the flips. */
GST_START_TEST(test_messages)
{
    gchar *path = make_model("rgb.safetensors", 3, 3, 0.5);
    GstBuffer *a = make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, 21), *b = make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, 22);
    gfloat images[2 * 3 * 32 * 32], s[2];
    image_of(a, GST_VIDEO_FORMAT_RGB, 0, 0, 32, 32, images);
    image_of(b, GST_VIDEO_FORMAT_RGB, 0, 0, 32, 32, images + 3 * 32 * 32);
    engine_score(path, images, 2, s, NULL);
    fail_unless(s[0] != s[1]);
    guint low = s[0] < s[1] ? 21 : 22, high = low == 21 ? 22 : 21;
    gchar *extra = g_strdup_printf("post-messages=true threshold=%.9g", (s[0] + s[1]) / 2.0);
    GstHarness *h = new_harness(path, extra);
    g_free(extra);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    const guint seeds[3] = {low, high, low};
    for (guint i = 0; i < 3; i++) {
        GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, seeds[i], i * GST_SECOND);
        fail_unless_equals_int(get_result(out).anomalous, i == 1);
        gst_buffer_unref(out);
    }
    /* in posting order */
    const gchar *expect[] = {"skipganomaly", "skipganomaly", "anomaly-start", "skipganomaly", "anomaly-end"};
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++) {
        GstMessage *m;
        /* the periodic skipganomaly-stats (test_live.c) come in between */
        while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) &&
               gst_structure_has_name(gst_message_get_structure(m), "skipganomaly-stats"))
            gst_message_unref(m);
        fail_unless(m != NULL, "message %u missing", i);
        const GstStructure *st = gst_message_get_structure(m);
        fail_unless_equals_string(gst_structure_get_name(st), expect[i]);
        guint64 ts, frame;
        gdouble score;
        fail_unless(gst_structure_get_uint64(st, "timestamp", &ts));
        fail_unless(gst_structure_get_uint64(st, "frame", &frame));
        fail_unless(gst_structure_get_double(st, "score", &score));
        fail_unless_equals_uint64(ts, frame * GST_SECOND);
        if (i == 2)
            fail_unless_equals_int(frame, 1);
        if (i == 4)
            fail_unless_equals_int(frame, 2);
        if (!strcmp(expect[i], "skipganomaly")) {
            guint64 rt, st_time, dur;
            gdouble thr;
            gboolean anomalous;
            fail_unless(gst_structure_get_uint64(st, "running-time", &rt));
            fail_unless(gst_structure_get_uint64(st, "stream-time", &st_time));
            fail_unless(gst_structure_get_uint64(st, "duration", &dur));
            fail_unless(gst_structure_get_double(st, "threshold", &thr));
            fail_unless(gst_structure_get_boolean(st, "anomalous", &anomalous));
            fail_unless_equals_uint64(rt, ts);
            fail_unless_equals_uint64(st_time, ts);
            fail_unless_equals_uint64(dur, GST_SECOND / 30);
            fail_unless_equals_int(anomalous, frame == 1);
        }
        gst_message_unref(m);
    }
    gst_buffer_unref(a);
    gst_buffer_unref(b);
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* A negative threshold is a threshold (a standardised score's can be, issue
 * 12): -0.5 flags a frame whose score is >= 0, and the frame's result carries
 * -0.5; -1 exactly uses the checkpoint's calibration (here 1e9: not flagged). */
GST_START_TEST(test_negative_threshold_scores)
{
    gchar *path = make_model("rgb.safetensors", 3, 3, 1e9);
    const gdouble thresholds[] = {-0.5, -1.0, -1.0 - 1e-6};
    const gdouble in_force[] = {-0.5, 1e9, -1.0 - 1e-6};
    for (guint i = 0; i < G_N_ELEMENTS(thresholds); i++) {
        gchar *extra = g_strdup_printf("threshold=%.17g", thresholds[i]);
        GstHarness *h = new_harness(path, extra);
        g_free(extra);
        set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
        GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 21, 0);
        SgadAnomalyResult r = get_result(out);
        fail_unless(r.score >= 0 && r.score < 1e9, "score %g", r.score);
        fail_unless(fabs(r.threshold - in_force[i]) <= 1e-9 * fabs(in_force[i]), "threshold %g: in force %g",
                    thresholds[i], r.threshold);
        fail_unless_equals_int(r.anomalous, in_force[i] < 0);
        gst_buffer_unref(out);
        gst_harness_teardown(h);
    }
    g_free(path);
    test_device_check();
}
GST_END_TEST;

GST_START_TEST(test_resolution_change)
{
    gchar *path = make_model("rgb.safetensors", 3, 4, 0.5);
    GstHarness *h = new_harness(path, NULL);
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 1, 0);
    fail_unless_equals_int(get_result(out).roi_width, 32);
    gst_buffer_unref(out);
    set_caps(h, GST_VIDEO_FORMAT_I420, 64, 48);
    out = push_frame(h, GST_VIDEO_FORMAT_I420, 64, 48, 2, GST_SECOND);
    SgadAnomalyResult r = get_result(out);
    fail_unless_equals_int(r.roi_width, 64);
    fail_unless_equals_int(r.roi_height, 48);
    fail_unless_equals_int(r.heatmap_width, 32);
    gst_buffer_unref(out);
    gst_harness_teardown(h);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* Switch models while playing: the next frame uses the new one; a corrupt
 * file posts a warning and the stream goes on with the model it had. */
GST_START_TEST(test_hot_reload)
{
    gchar *pa = make_model("a.safetensors", 3, 11, 0.5), *pb = make_model("b.safetensors", 3, 12, 0.5);
    gchar *bad = g_build_filename(test_dir(), "bad.safetensors", NULL);
    fail_unless(g_file_set_contents(bad, "this is not a checkpoint", -1, NULL));
    GstBuffer *probe = make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, 5);
    gfloat image[3 * 32 * 32], sa, sb;
    image_of(probe, GST_VIDEO_FORMAT_RGB, 0, 0, 32, 32, image);
    gst_buffer_unref(probe);
    engine_score(pa, image, 1, &sa, NULL);
    engine_score(pb, image, 1, &sb, NULL);

    GstHarness *h = new_harness(pa, NULL);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, 0);
    fail_unless(fabs(get_result(out).score - sa) <= 1e-5);
    gst_buffer_unref(out);

    g_object_set(element_of(h), "model", pb, NULL);
    out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, GST_SECOND);
    fail_unless(fabs(get_result(out).score - sb) <= 1e-5, "after reload: %g, model b %g", get_result(out).score, sb);
    gst_buffer_unref(out);

    g_object_set(element_of(h), "model", bad, NULL);
    GstMessage *w = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
    fail_unless(w != NULL, "a bad model posts a warning");
    GError *err = NULL;
    gst_message_parse_warning(w, &err, NULL);
    fail_unless(strstr(err->message, bad) != NULL, "warning names the file: %s", err->message);
    g_error_free(err);
    gst_message_unref(w);
    fail_unless(gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) == NULL);
    out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, 2 * GST_SECOND);
    fail_unless(fabs(get_result(out).score - sb) <= 1e-5, "the old model stays");
    gst_buffer_unref(out);
    gchar *now = NULL;
    g_object_get(element_of(h), "model", &now, NULL);
    fail_unless_equals_string(now, pb);
    g_free(now);

    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    g_free(pa);
    g_free(pb);
    g_free(bad);
    test_device_check();
}
GST_END_TEST;

/* Start the element with `bad`: it must refuse with a message naming the file and `why`. */
static void expect_refused_at_start(const gchar *bad, const gchar *why)
{
    GstElement *e = gst_element_factory_make("skipganomaly", NULL);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(e, bus);
    g_object_set(e, "model", bad, NULL);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != NULL, "%s: no error", bad);
    GError *err = NULL;
    gchar *debug = NULL;
    gst_message_parse_error(m, &err, &debug);
    gchar *all = g_strdup_printf("%s %s", err->message, debug ? debug : "");
    fail_unless(strstr(all, bad) && strstr(all, why), "\"%s\" not in \"%s\"", why, all);
    g_free(all);
    g_free(debug);
    g_error_free(err);
    gst_message_unref(m);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_element_set_bus(e, NULL);
    gst_object_unref(bus);
    gst_object_unref(e);
}

/* Hostile checkpoints (issue 13): a header nested 80,000 deep (crashed the
 * process), finite but huge weights (every score NaN, read as normal), a
 * negative threshold (every frame flagged). Each is refused at start, and on
 * a hot reload while playing the old model keeps scoring. */
GST_START_TEST(test_hostile_models)
{
    gchar *good = make_model("good.safetensors", 3, 11, 0.5);
    gchar *nested = g_build_filename(test_dir(), "nested.safetensors", NULL);
    {
        gsize deep = 80000, len = 8 + 2 * deep;
        guint8 *bytes = g_malloc(len);
        guint64 n = 2 * deep;
        for (gint i = 0; i < 8; i++)
            bytes[i] = (guint8)(n >> (8 * i));
        memset(bytes + 8, '[', deep);
        memset(bytes + 8 + deep, ']', deep);
        fail_unless(g_file_set_contents(nested, (const gchar *)bytes, (gssize)len, NULL));
        g_free(bytes);
    }
    struct {
        gchar *path;
        const gchar *why;
    } bad[] = {
        {nested, "nests deeper than a safetensors header can"},
        {mutate_model(good, "huge-g.safetensors", "G.c1.conv1.weight", 0, 1, 3e38f, NULL, NULL), "not a finite number"},
        {mutate_model(good, "huge-d.safetensors", "D.conv3.weight", 0, 1, 2.3e25f, NULL, NULL), "not a finite number"},
        {mutate_model(good, "negative-threshold.safetensors", NULL, 0, 0, 0, "threshold", "-1"), "is negative"},
    };

    GstBuffer *probe = make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, 5);
    gfloat image[3 * 32 * 32], expected;
    image_of(probe, GST_VIDEO_FORMAT_RGB, 0, 0, 32, 32, image);
    gst_buffer_unref(probe);
    engine_score(good, image, 1, &expected, NULL);

    GstHarness *h = new_harness(good, NULL);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    gst_buffer_unref(push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, 0));
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        expect_refused_at_start(bad[i].path, bad[i].why);

        g_object_set(element_of(h), "model", bad[i].path, NULL);
        GstMessage *w = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
        fail_unless(w != NULL, "%s: no warning", bad[i].path);
        GError *err = NULL;
        gchar *debug = NULL;
        gst_message_parse_warning(w, &err, &debug);
        fail_unless(strstr(err->message, bad[i].path) && debug && strstr(debug, bad[i].why), "%s (%s)",
                    err->message, debug);
        g_error_free(err);
        g_free(debug);
        gst_message_unref(w);
        fail_unless(gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR) == NULL);
        GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, (i + 1) * GST_SECOND);
        SgadAnomalyResult r = get_result(out);
        fail_unless(fabs(r.score - expected) <= 1e-5 && r.threshold == 0.5, "%s: the old model stays (%g, %g)",
                    bad[i].path, r.score, r.threshold);
        gst_buffer_unref(out);
        g_free(bad[i].path);
    }
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    g_free(good);
    test_device_check();
}
GST_END_TEST;

/* A model finite on the probe image but whose arithmetic overflows on a white
 * frame (every first-layer weight 1e7: the probe scores 1e14, a white frame overflows to inf): that frame's score is NaN, and it
 * must read as anomalous with score-valid FALSE in the meta and the message,
 * with one warning, never as normal (issue 13). */
/* A harness on a model whose first layer overflows on a white frame (files
 * under `name`), with a bus of its own, RGB 32x32 caps */
static GstHarness *overflow_harness(const gchar *name, const gchar *props, GstBus **bus)
{
    gchar *good_name = g_strdup_printf("good-%s.safetensors", name);
    gchar *huge_name = g_strdup_printf("%s.safetensors", name);
    gchar *good = make_model(good_name, 3, 11, 0.5);
    gchar *huge = mutate_model(good, huge_name, "G.c1.conv1.weight", 0, 16 * 27, 1e7f, NULL, NULL);
    GstHarness *h = new_harness(huge, props);
    *bus = gst_bus_new();
    gst_element_set_bus(h->element, *bus);
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    g_free(good_name);
    g_free(huge_name);
    g_free(good);
    g_free(huge);
    return h;
}

static void push_white(GstHarness *h, guint i)
{
    GstBuffer *white = gst_buffer_new_allocate(NULL, 32 * 32 * 3, NULL);
    gst_buffer_memset(white, 0, 255, 32 * 32 * 3);
    GST_BUFFER_PTS(white) = i * GST_SECOND;
    fail_unless_equals_int(gst_harness_push(h, white), GST_FLOW_OK);
}

static void overflow_teardown(GstHarness *h, GstBus *bus)
{
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    test_device_check();
}

GST_START_TEST(test_nan_score_is_not_normal)
{
    GstBus *bus;
    GstHarness *h = overflow_harness("huge", "post-messages=true", &bus);
    for (guint i = 0; i < 2; i++) {
        push_white(h, i);
        GstBuffer *out = gst_harness_pull(h);
        SgadAnomalyResult r = get_result(out);
        fail_unless(r.score_invalid && r.anomalous && !isfinite(r.score), "frame %u: score %g anomalous %d", i,
                    r.score, r.anomalous);
        gst_buffer_unref(out);
        /* one warning, posted before the first frame's messages (popping skips what comes before) */
        if (i == 0) {
            GstMessage *w = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
            fail_unless(w != NULL, "no warning about the score");
            gst_message_unref(w);
        }
        GstMessage *m = pop_element_message(bus, "skipganomaly");
        fail_unless(m != NULL);
        const GstStructure *st = gst_message_get_structure(m);
        gboolean valid = TRUE, anomalous = FALSE;
        fail_unless(gst_structure_get_boolean(st, "score-valid", &valid) && !valid);
        fail_unless(gst_structure_get_boolean(st, "anomalous", &anomalous) && anomalous);
        gst_message_unref(m);
    }
    fail_unless(gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING) == NULL, "warned more than once");
    overflow_teardown(h, bus);
}
GST_END_TEST;

/* With score-batch the warning names the batch's first frame that was not a
 * number, not the newest frame the element has taken in. */
GST_START_TEST(test_nan_score_batch_names_frame)
{
    GstBus *bus;
    GstHarness *h = overflow_harness("huge-batch", "score-batch=3", &bus);
    for (guint i = 0; i < 3; i++)
        push_white(h, i);
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    for (guint i = 0; i < 3; i++) {
        GstBuffer *out = gst_harness_pull(h);
        SgadAnomalyResult r = get_result(out);
        fail_unless(r.score_invalid && r.anomalous, "frame %u: score %g", i, r.score);
        gst_buffer_unref(out);
    }
    GstMessage *w = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
    fail_unless(w != NULL, "no warning about the score");
    gchar *debug = NULL;
    gst_message_parse_warning(w, NULL, &debug);
    fail_unless(debug && strstr(debug, "frame 0;"), "the warning names another frame: %s", debug);
    g_free(debug);
    gst_message_unref(w);
    overflow_teardown(h, bus);
}
GST_END_TEST;

typedef struct {
    GstHarness *h;
    guint seed;
    gdouble score;
} Camera;

typedef struct {
    GstElement *element;
    const gchar *path;
} Reload;

static gpointer reload_thread(gpointer data)
{
    Reload *r = data;
    g_object_set(r->element, "model", r->path, NULL);
    return NULL;
}

/* A reload builds the new scorer outside the engine lock, for the batch the
 * stream used when it began; when the stream grows the old scorer meanwhile
 * (more tiles), the swapped-in scorer must be grown again, not overrun (the
 * stream used to stop with "Scoring failed"). The stream's frame waits 20 ms so
 * that it lands while the reload builds. */
GST_START_TEST(test_hot_reload_tiles_grow)
{
    gchar *pa = make_model("a.safetensors", 3, 11, 0.5), *pb = make_model("b.safetensors", 3, 12, 0.5);
    GstHarness *h = new_harness(pa, "tiles=1");
    set_caps(h, GST_VIDEO_FORMAT_RGB, 32, 32);
    gst_buffer_unref(push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, 0));
    GstElement *e = element_of(h);
    for (guint tiles = 2; tiles <= 4; tiles++) {
        Reload r = {e, tiles % 2 ? pa : pb};
        GThread *t = g_thread_new("reload", reload_thread, &r);
        g_usleep(20000);
        g_object_set(e, "tiles", tiles, NULL);
        gst_buffer_unref(push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 5, tiles * GST_SECOND));
        g_thread_join(t);
        GstBuffer *out = push_frame(h, GST_VIDEO_FORMAT_RGB, 32, 32, 6, tiles * GST_SECOND + GST_SECOND / 2);
        SgadAnomalyResult res = get_result(out);
        fail_unless(res.tiles_x == tiles && isfinite(res.score), "tiles %u after the reload: %u, score %g", tiles,
                    res.tiles_x, res.score);
        gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
    g_free(pa);
    g_free(pb);
    test_device_check();
}
GST_END_TEST;

static gpointer camera_thread(gpointer data)
{
    Camera *c = data;
    GstBuffer *out = push_frame(c->h, GST_VIDEO_FORMAT_RGB, 32, 32, c->seed, 0);
    c->score = get_result(out).score;
    gst_buffer_unref(out);
    return NULL;
}

/* Two instances (two cameras) in one process score at the same time on the
 * shared device, each with its own scorer, and get the engine's scores. */
GST_START_TEST(test_concurrent_instances)
{
    gchar *path = make_model("rgb.safetensors", 3, 6, 0.5);
    Camera cams[2] = {{new_harness(path, NULL), 31, 0}, {new_harness(path, NULL), 32, 0}};
    gfloat images[2 * 3 * 32 * 32], expect[2];
    for (gint i = 0; i < 2; i++) {
        set_caps(cams[i].h, GST_VIDEO_FORMAT_RGB, 32, 32);
        GstBuffer *b = make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, cams[i].seed);
        image_of(b, GST_VIDEO_FORMAT_RGB, 0, 0, 32, 32, images + i * 3 * 32 * 32);
        gst_buffer_unref(b);
    }
    engine_score(path, images, 2, expect, NULL);
    GThread *t[2];
    for (gint i = 0; i < 2; i++)
        t[i] = g_thread_new("camera", camera_thread, &cams[i]);
    for (gint i = 0; i < 2; i++) {
        g_thread_join(t[i]);
        fail_unless(fabs(cams[i].score - expect[i]) <= 1e-5, "camera %d: %g vs %g", i, cams[i].score, expect[i]);
        gst_harness_teardown(cams[i].h);
    }
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* Selecting the same GPU by index and by name shares one pooled device (the
 * pool keys on the device's UUID, not on the selection string). */
GST_START_TEST(test_device_pool_same_gpu)
{
    sg_device *by_index = NULL, *by_name = NULL, *automatic = NULL;
    fail_unless(sgad_device_pool_acquire("0", &by_index) == SG_OK, "%s", sg_error_message());
    gchar *name = g_strdup(sg_device_get_info(by_index)->name);
    fail_unless(sgad_device_pool_acquire(name, &by_name) == SG_OK, "%s", sg_error_message());
    fail_unless(by_name == by_index, "\"0\" and \"%s\" opened two devices for one GPU", name);
    /* the automatic choice is one of the devices too: the same when it is device 0 */
    sg_device_info chosen;
    fail_unless(sg_device_identify(NULL, &chosen) == SG_OK, "%s", sg_error_message());
    fail_unless(sgad_device_pool_acquire(NULL, &automatic) == SG_OK, "%s", sg_error_message());
    fail_unless((automatic == by_index) == (chosen.index == 0), "automatic choice %u shares device 0: %d",
                chosen.index, automatic == by_index);
    sgad_device_pool_release(automatic);
    sgad_device_pool_release(by_name);
    sgad_device_pool_release(by_index);
    g_free(name);
    test_device_check();
}
GST_END_TEST;

static Suite *skipganomaly_score_suite(void)
{
    Suite *s = suite_create("skipganomaly-score");
    TCase *tc = tcase_create("score");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    suite_add_tcase(s, tc);
    ADD_TEST(tc, test_formats_rgb);
    ADD_TEST(tc, test_formats_gray_yuv);
    ADD_TEST(tc, test_score_matches_engine);
    ADD_TEST(tc, test_roi_tiles);
    ADD_TEST(tc, test_interval);
    ADD_TEST(tc, test_messages);
    ADD_TEST(tc, test_negative_threshold_scores);
    ADD_TEST(tc, test_resolution_change);
    ADD_TEST(tc, test_hot_reload);
    ADD_TEST(tc, test_hostile_models);
    ADD_TEST(tc, test_nan_score_is_not_normal);
    ADD_TEST(tc, test_nan_score_batch_names_frame);
    ADD_TEST(tc, test_concurrent_instances);
    ADD_TEST(tc, test_device_pool_same_gpu);
    ADD_TEST(tc, test_hot_reload_tiles_grow);
    return s;
}

SKIPGANOMALY_TEST_MAIN(skipganomaly_score_suite)
