/* inspectionsrc, through real pipelines ending in appsink: the default caps;
 * the same seed gives the same bytes and another seed other bytes; the scene
 * moves right by the speed (scaled with the width) and nothing else changes
 * between frames beyond the light and noise; frame n is the same after a
 * restart or a seek straight to it; every format and some odd sizes fill the
 * whole frame with the same colours; num-buffers, timestamps, framerate 0/1,
 * and a live source that keeps to the clock. */
#include <math.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

static const gchar *formats[] = {"BGRx", "RGBx", "xRGB", "xBGR", "BGRA", "RGBA", "ARGB", "ABGR"};

/* inspectionsrc <props> ! <caps> ! appsink, playing */
static GstElement *start(const gchar *props, const gchar *caps, gboolean sync, guint max_buffers)
{
    gchar *desc = g_strdup_printf("inspectionsrc name=src %s ! %s ! appsink name=sink sync=%s max-buffers=%u", props,
                                  caps ? caps : "video/x-raw", sync ? "true" : "false", max_buffers);
    GError *err = NULL;
    GstElement *p = gst_parse_launch(desc, &err);
    fail_unless(p != NULL && err == NULL, "%s: %s", desc, err ? err->message : "");
    g_free(desc);
    fail_unless(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    return p;
}

static GstAppSink *sink_of(GstElement *p)
{
    GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
    gst_object_unref(sink); /* the pipeline keeps it */
    return GST_APP_SINK(sink);
}

/* the next frame's buffer (a reference), NULL at EOS; fills info from its caps */
static GstBuffer *pull(GstElement *p, GstVideoInfo *info)
{
    GstSample *sample = gst_app_sink_try_pull_sample(sink_of(p), 30 * GST_SECOND);
    if (!sample)
        return NULL;
    if (info)
        fail_unless(gst_video_info_from_caps(info, gst_sample_get_caps(sample)));
    GstBuffer *b = gst_buffer_ref(gst_sample_get_buffer(sample));
    gst_sample_unref(sample);
    return b;
}

static void stop(GstElement *p)
{
    GstBus *bus = gst_element_get_bus(p);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (m) {
        GError *err = NULL;
        gst_message_parse_error(m, &err, NULL);
        fail("pipeline error: %s", err->message);
    }
    gst_object_unref(bus);
    fail_unless_equals_int(gst_element_set_state(p, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref(p);
}

/* the n frames of a run with num-buffers=n, which must end right after them */
static GPtrArray *run(const gchar *props, const gchar *caps, guint n, GstVideoInfo *info)
{
    gchar *all = g_strdup_printf("num-buffers=%u %s", n, props);
    GstElement *p = start(all, caps, FALSE, 0);
    g_free(all);
    GPtrArray *frames = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
    GstBuffer *b;
    while ((b = pull(p, info)))
        g_ptr_array_add(frames, b);
    fail_unless(gst_app_sink_is_eos(sink_of(p)), "no EOS after %u frames", frames->len);
    fail_unless_equals_int(frames->len, n);
    stop(p);
    return frames;
}

static gboolean same_bytes(GstBuffer *a, GstBuffer *b)
{
    GstMapInfo ma, mb;
    fail_unless(gst_buffer_map(a, &ma, GST_MAP_READ) && gst_buffer_map(b, &mb, GST_MAP_READ));
    gboolean eq = ma.size == mb.size && memcmp(ma.data, mb.data, ma.size) == 0;
    gst_buffer_unmap(a, &ma);
    gst_buffer_unmap(b, &mb);
    return eq;
}

/* mean |a(x + shift, y) - b(x, y)| over R, G, B where both exist */
static gdouble mean_diff(const GstVideoInfo *info, GstBuffer *a, GstBuffer *b, gint shift)
{
    GstVideoFrame fa, fb;
    fail_unless(gst_video_frame_map(&fa, (GstVideoInfo *)info, a, GST_MAP_READ));
    fail_unless(gst_video_frame_map(&fb, (GstVideoInfo *)info, b, GST_MAP_READ));
    gint w = GST_VIDEO_INFO_WIDTH(info), h = GST_VIDEO_INFO_HEIGHT(info);
    guint64 sum = 0, count = 0;
    for (guint c = 0; c < 3; c++) {
        const guint8 *da = GST_VIDEO_FRAME_COMP_DATA(&fa, c), *db = GST_VIDEO_FRAME_COMP_DATA(&fb, c);
        gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&fa, c);
        for (gint y = 0; y < h; y++)
            for (gint x = 0; x + shift < w; x++) {
                sum += ABS(da[y * stride + 4 * (x + shift)] - db[y * stride + 4 * x]);
                count++;
            }
    }
    gst_video_frame_unmap(&fa);
    gst_video_frame_unmap(&fb);
    return (gdouble)sum / count;
}

GST_START_TEST(test_default_caps)
{
    GstVideoInfo info;
    GPtrArray *f = run("", NULL, 1, &info);
    fail_unless_equals_string(gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)), "BGRx");
    fail_unless_equals_int(GST_VIDEO_INFO_WIDTH(&info), 320);
    fail_unless_equals_int(GST_VIDEO_INFO_HEIGHT(&info), 240);
    fail_unless_equals_int(GST_VIDEO_INFO_FPS_N(&info), 30);
    fail_unless_equals_int(GST_VIDEO_INFO_FPS_D(&info), 1);
    g_ptr_array_unref(f);
}
GST_END_TEST;

GST_START_TEST(test_seed_reproducible)
{
    for (gint object = 0; object < 2; object++) {
        gchar *a = g_strdup_printf("seed=7 object=%d", object), *b = g_strdup_printf("seed=8 object=%d", object);
        GPtrArray *one = run(a, NULL, 20, NULL), *two = run(a, NULL, 20, NULL), *other = run(b, NULL, 20, NULL);
        for (guint i = 0; i < 20; i++) {
            fail_unless(same_bytes(one->pdata[i], two->pdata[i]), "object %d frame %u differs for the same seed",
                        object, i);
            fail_if(same_bytes(one->pdata[i], other->pdata[i]), "object %d frame %u is the same for seeds 7, 8",
                    object, i);
        }
        g_ptr_array_unref(one);
        g_ptr_array_unref(two);
        g_ptr_array_unref(other);
        g_free(a);
        g_free(b);
    }
    GPtrArray *cap = run("seed=7", NULL, 1, NULL), *tablet = run("seed=7 object=tablet", NULL, 1, NULL);
    fail_if(same_bytes(cap->pdata[0], tablet->pdata[0]), "caps and tablets look the same");
    g_ptr_array_unref(cap);
    g_ptr_array_unref(tablet);
}
GST_END_TEST;

/* belt and objects move together by speed * width / 320 pixels a frame: frame
 * n + 1 moved back by that is close to frame n (light and noise differ), far
 * closer than frame n + 1 itself; over 2 s the picture changes a lot */
GST_START_TEST(test_scene_moves)
{
    const struct { gint width, height; gdouble speed; gint shift; } cases[] = {
        {320, 240, 4.0, 4}, {640, 480, 4.0, 8}, {320, 240, 2.5, 0}};
    for (gsize c = 0; c < G_N_ELEMENTS(cases); c++) {
        gchar *props = g_strdup_printf("seed=1 speed=%g", cases[c].speed);
        gchar *caps = g_strdup_printf("video/x-raw,width=%d,height=%d", cases[c].width, cases[c].height);
        GstVideoInfo info;
        GPtrArray *f = run(props, caps, 61, &info);
        gdouble far = mean_diff(&info, f->pdata[60], f->pdata[0], 0);
        fail_unless(far > 8.0, "%s: frames 0 and 60 differ by %.2f on average", props, far);
        for (guint i = 0; i + 1 < 61; i++) {
            gdouble raw = mean_diff(&info, f->pdata[i + 1], f->pdata[i], 0);
            fail_unless(raw < far, "%s: frames %u and %u differ by %.2f", props, i, i + 1, raw);
            if (cases[c].shift) {
                gdouble moved = mean_diff(&info, f->pdata[i + 1], f->pdata[i], cases[c].shift);
                fail_unless(moved < 2.5 && moved < 0.4 * raw, "%s: frame %u moved %d pixels: %.2f, unmoved %.2f",
                            props, i, cases[c].shift, moved, raw);
            }
        }
        g_ptr_array_unref(f);
        g_free(props);
        g_free(caps);
    }
    /* without variation and motion nothing changes at all */
    GPtrArray *still = run("speed=0 variation=0", NULL, 5, NULL);
    for (guint i = 1; i < 5; i++)
        fail_unless(same_bytes(still->pdata[0], still->pdata[i]), "still scene: frame %u changed", i);
    g_ptr_array_unref(still);
    GPtrArray *drift = run("speed=0", NULL, 2, NULL);
    fail_if(same_bytes(drift->pdata[0], drift->pdata[1]), "light and noise do not vary");
    g_ptr_array_unref(drift);
}
GST_END_TEST;

/* frame n does not depend on which frames were made before it */
/* first-frame=30: the line's frames 30.. with timestamps from 0 (test a model on frames it did not train on) */
GST_START_TEST(test_first_frame)
{
    GstVideoInfo info;
    GPtrArray *ref = run("seed=9", NULL, 40, &info);
    GPtrArray *later = run("seed=9 first-frame=30", NULL, 10, &info);
    for (guint i = 0; i < 10; i++) {
        fail_unless(same_bytes(later->pdata[i], ref->pdata[30 + i]), "frame %u is not the line's frame %u", i, 30 + i);
        fail_unless_equals_uint64(GST_BUFFER_PTS((GstBuffer *)later->pdata[i]),
                                  GST_BUFFER_PTS((GstBuffer *)ref->pdata[i]));
    }
    g_ptr_array_unref(ref);
    g_ptr_array_unref(later);
}
GST_END_TEST

GST_START_TEST(test_restart_and_seek)
{
    GstVideoInfo info;
    GPtrArray *ref = run("seed=4 object=tablet", NULL, 50, &info);

    GstElement *p = start("seed=4 object=tablet", NULL, FALSE, 2);
    for (gint round = 0; round < 2; round++) {
        for (guint i = 0; i < 12; i++) {
            GstBuffer *b = pull(p, NULL);
            fail_unless(b != NULL);
            fail_unless(same_bytes(b, ref->pdata[i]), "round %d: frame %u differs", round, i);
            gst_buffer_unref(b);
        }
        /* restart */
        fail_unless(gst_element_set_state(p, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
        fail_unless(gst_element_set_state(p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    }

    /* straight to frame 37 (at its time, and a little before it), then on to 45 */
    GstClockTime at = GST_BUFFER_PTS((GstBuffer *)ref->pdata[37]);
    const GstClockTime targets[] = {at, at - GST_SECOND / 90};
    for (gsize t = 0; t < G_N_ELEMENTS(targets); t++) {
        fail_unless(gst_element_seek_simple(p, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                                            targets[t]));
        for (guint i = 37; i <= 45; i++) {
            GstBuffer *b = pull(p, NULL);
            fail_unless(b != NULL);
            fail_unless_equals_uint64(GST_BUFFER_PTS(b), GST_BUFFER_PTS((GstBuffer *)ref->pdata[i]));
            fail_unless(same_bytes(b, ref->pdata[i]), "seek %zu: frame %u differs", t, i);
            gst_buffer_unref(b);
        }
    }
    stop(p);
    g_ptr_array_unref(ref);
}
GST_END_TEST;

/* every format and size: the 4th byte is 255 on every pixel (so the whole frame
 * was written), R, G, B are those of BGRx, and the picture is neither black
 * nor blown out */
GST_START_TEST(test_formats_and_sizes)
{
    const gint sizes[][2] = {{320, 240}, {33, 47}, {101, 35}, {32, 32}, {257, 190}, {640, 360}};
    for (gsize s = 0; s < G_N_ELEMENTS(sizes); s++) {
        gint w = sizes[s][0], h = sizes[s][1];
        GstVideoInfo rinfo;
        gchar *rcaps = g_strdup_printf("video/x-raw,format=BGRx,width=%d,height=%d", w, h);
        GPtrArray *ref = run("seed=2", rcaps, 2, &rinfo);
        GstVideoFrame rf;
        fail_unless(gst_video_frame_map(&rf, &rinfo, ref->pdata[1], GST_MAP_READ));
        for (gsize f = 0; f < G_N_ELEMENTS(formats); f++) {
            GstVideoInfo info;
            gchar *caps = g_strdup_printf("video/x-raw,format=%s,width=%d,height=%d", formats[f], w, h);
            GPtrArray *out = run("seed=2", caps, 2, &info);
            fail_unless_equals_string(gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)), formats[f]);
            fail_unless(GST_VIDEO_INFO_WIDTH(&info) == w && GST_VIDEO_INFO_HEIGHT(&info) == h);
            GstVideoFrame vf;
            fail_unless(gst_video_frame_map(&vf, &info, out->pdata[1], GST_MAP_READ));
            fail_unless(gst_buffer_get_size(out->pdata[1]) >= GST_VIDEO_INFO_SIZE(&info));
            const GstVideoFormatInfo *fi = info.finfo;
            guint fourth = 6 - fi->poffset[0] - fi->poffset[1] - fi->poffset[2];
            guint64 sum = 0;
            for (gint y = 0; y < h; y++) {
                const guint8 *row = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&vf, 0) +
                                    y * GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);
                const guint8 *rrow = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA(&rf, 0) +
                                     y * GST_VIDEO_FRAME_PLANE_STRIDE(&rf, 0);
                for (gint x = 0; x < w; x++) {
                    const guint8 *px = row + 4 * x, *rpx = rrow + 4 * x;
                    fail_unless(px[fourth] == 255, "%s %dx%d: byte %u of pixel (%d,%d) is %u", formats[f], w, h,
                                fourth, x, y, px[fourth]);
                    /* BGRx: B, G, R at 0, 1, 2 */
                    fail_unless(px[fi->poffset[0]] == rpx[2] && px[fi->poffset[1]] == rpx[1] &&
                                    px[fi->poffset[2]] == rpx[0],
                                "%s %dx%d: pixel (%d,%d) differs from BGRx", formats[f], w, h, x, y);
                    fail_unless(px[0] + px[1] + px[2] + px[3] - px[fourth] > 0, "%s %dx%d: (%d,%d) is black",
                                formats[f], w, h, x, y);
                    sum += px[fi->poffset[1]];
                }
            }
            gdouble mean = (gdouble)sum / (w * h);
            fail_unless(mean > 30 && mean < 200, "%s %dx%d: mean green %.1f", formats[f], w, h, mean);
            gst_video_frame_unmap(&vf);
            g_ptr_array_unref(out);
            g_free(caps);
        }
        gst_video_frame_unmap(&rf);
        g_ptr_array_unref(ref);
        g_free(rcaps);
    }
}
GST_END_TEST;

GST_START_TEST(test_num_buffers_and_timestamps)
{
    const gint rates[][2] = {{30, 1}, {25, 1}, {30000, 1001}, {1, 3}};
    for (gsize r = 0; r < G_N_ELEMENTS(rates); r++) {
        gchar *caps = g_strdup_printf("video/x-raw,width=64,height=48,framerate=%d/%d", rates[r][0], rates[r][1]);
        GPtrArray *f = run("", caps, 7, NULL); /* exactly 7, then EOS */
        for (guint i = 0; i < f->len; i++) {
            GstBuffer *b = f->pdata[i];
            GstClockTime pts = gst_util_uint64_scale(i, rates[r][1] * GST_SECOND, rates[r][0]),
                         next = gst_util_uint64_scale(i + 1, rates[r][1] * GST_SECOND, rates[r][0]);
            fail_unless_equals_uint64(GST_BUFFER_PTS(b), pts);
            fail_unless_equals_uint64(GST_BUFFER_DURATION(b), next - pts);
            fail_unless_equals_uint64(GST_BUFFER_OFFSET(b), i);
            fail_unless_equals_uint64(GST_BUFFER_OFFSET_END(b), i + 1);
        }
        g_ptr_array_unref(f);
        g_free(caps);
    }
    /* framerate 0/1: a single picture, then EOS, without num-buffers */
    GstElement *p = start("", "video/x-raw,width=64,height=48,framerate=0/1", FALSE, 0);
    GstBuffer *b = pull(p, NULL);
    fail_unless(b != NULL);
    fail_unless_equals_uint64(GST_BUFFER_PTS(b), 0);
    fail_if(GST_BUFFER_DURATION_IS_VALID(b));
    gst_buffer_unref(b);
    fail_unless(pull(p, NULL) == NULL && gst_app_sink_is_eos(sink_of(p)));
    stop(p);
}
GST_END_TEST;

/* is-live: the frames come at the clock's pace and the latency is one frame */
GST_START_TEST(test_live)
{
    gint64 begin = g_get_monotonic_time();
    GstElement *p = start("is-live=true num-buffers=10", "video/x-raw,width=64,height=48,framerate=50/1", TRUE, 0);
    for (guint i = 0; i < 10; i++) {
        GstBuffer *b = pull(p, NULL);
        fail_unless(b != NULL);
        gst_buffer_unref(b);
    }
    gint64 elapsed = g_get_monotonic_time() - begin;
    fail_unless(elapsed >= 170000, "10 live frames at 50/s came in %" G_GINT64_FORMAT " us", elapsed);
    GstQuery *q = gst_query_new_latency();
    fail_unless(gst_element_query(p, q));
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(q, &live, &min, &max);
    fail_unless(live);
    fail_unless_equals_uint64(min, GST_SECOND / 50);
    gst_query_unref(q);
    stop(p);

    GstElement *src = gst_element_factory_make("inspectionsrc", NULL);
    gboolean is_live = TRUE;
    g_object_get(src, "is-live", &is_live, NULL);
    fail_if(is_live, "is-live is on by default");
    gst_object_unref(src);
}
GST_END_TEST;

static Suite *inspectionsrc_suite(void)
{
    Suite *s = suite_create("inspectionsrc");
    TCase *tc = tcase_create("general");
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, test_default_caps);
    tcase_add_test(tc, test_seed_reproducible);
    tcase_add_test(tc, test_scene_moves);
    tcase_add_test(tc, test_restart_and_seek);
    tcase_add_test(tc, test_first_frame);
    tcase_add_test(tc, test_formats_and_sizes);
    tcase_add_test(tc, test_num_buffers_and_timestamps);
    tcase_add_test(tc, test_live);
    return s;
}

GST_CHECK_MAIN(inspectionsrc);
