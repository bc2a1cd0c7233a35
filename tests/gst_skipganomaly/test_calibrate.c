/* Calibration on the stream: calibrate-frames (at start) and the `calibrate`
 * action signal take the next frames as normal production and set the
 * threshold at the model's quantile of their scores, the answer to a model
 * whose own calibration flags far more normal frames than it promises.
 *
 * The frames are the harness's deterministic patterns (make_frame, a seed
 * each), scored first without calibration, so the threshold the element sets
 * is checked against the quantile of scores computed on another path (frame
 * by frame through the scorer, where the calibration scores in batches). */
#include <math.h>
#include <string.h>

#include <sgad/anomalymeta.h>
#include "common.h"

#define SIDE 32
#define CAL_FRAMES 200 /* the fewest a threshold at 0.995 takes */
#define AFTER 40       /* frames judged after it */

static GstHarness *harness(const gchar *model, const gchar *extra, GstBus **bus)
{
    gchar *line = g_strdup_printf("skipganomaly name=sg model=\"%s\" %s", model, extra);
    GstHarness *h = gst_harness_new_parse(line);
    g_free(line);
    *bus = gst_bus_new();
    gst_element_set_bus(h->element, *bus);
    gchar *caps = caps_string(GST_VIDEO_FORMAT_RGB, SIDE, SIDE);
    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
    return h;
}

static void teardown(GstHarness *h, GstBus *bus)
{
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    test_device_check();
}

static GstElement *element_of(GstHarness *h)
{
    GstElement *e = gst_bin_get_by_name(GST_BIN(h->element), "sg");
    fail_unless(e != NULL);
    gst_object_unref(e); /* the bin keeps it */
    return e;
}

/* Frame i (pattern seed i) in; its buffer out. */
static GstBuffer *push_pull(GstHarness *h, guint i)
{
    GstBuffer *b = make_frame(GST_VIDEO_FORMAT_RGB, SIDE, SIDE, i);
    GST_BUFFER_PTS(b) = i * GST_SECOND / 30;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    return gst_harness_pull(h);
}

/* A frame with no verdict: the meta says pending and carries no score. */
static gboolean is_pending(GstBuffer *b)
{
    SgadAnomalyResult r;
    GstCustomMeta *meta = gst_buffer_get_custom_meta(b, SGAD_ANOMALY_META_NAME);
    gboolean pending = FALSE;
    if (meta)
        gst_structure_get_boolean(gst_custom_meta_get_structure(meta), "result-pending", &pending);
    return pending && !sgad_buffer_get_anomaly_result(b, &r);
}

/* The scores of frames 0..n-1 with the model's own calibration (every one flagged: the check that calibration changes something). */
static gdouble *scores_without(const gchar *model, guint n)
{
    GstBus *bus;
    GstHarness *h = harness(model, "scoring=sync", &bus);
    gdouble *s = g_new(gdouble, n);
    for (guint i = 0; i < n; i++) {
        GstBuffer *b = push_pull(h, i);
        SgadAnomalyResult r;
        fail_unless(sgad_buffer_get_anomaly_result(b, &r), "frame %u: no result", i);
        fail_unless(r.anomalous, "frame %u: the model's own threshold (%g) is below every score: %g", i, r.threshold,
                    r.score);
        s[i] = r.score;
        gst_buffer_unref(b);
    }
    teardown(h, bus);
    return s;
}

static int compare_double(const void *a, const void *b)
{
    gdouble x = *(const gdouble *)a, y = *(const gdouble *)b;
    return (x > y) - (x < y);
}

/* The q quantile of v[0..n) with linear interpolation between order statistics (numpy's default). */
static gdouble quantile(const gdouble *v, guint n, gdouble q)
{
    gdouble *s = g_memdup2(v, n * sizeof *v);
    qsort(s, n, sizeof *s, compare_double);
    const gdouble pos = q * (n - 1);
    const guint lo = (guint)floor(pos), hi = MIN(lo + 1, n - 1);
    const gdouble r = s[lo] + (pos - lo) * (s[hi] - s[lo]);
    g_free(s);
    return r;
}

/* The skipganomaly-calibrated message (NULL if none was posted). */
static GstMessage *calibrated_message(GstBus *bus)
{
    return pop_element_message(bus, "skipganomaly-calibrated");
}

static gdouble get_double(const GstStructure *st, const gchar *field)
{
    gdouble v = NAN;
    fail_unless(gst_structure_get_double(st, field, &v), "no %s", field);
    return v;
}

static guint get_uint(const GstStructure *st, const gchar *field)
{
    guint v = G_MAXUINT;
    fail_unless(gst_structure_get_uint(st, field, &v), "no %s", field);
    return v;
}

/* calibrate-frames with a stride: the calibration frames carry no verdict, the
 * threshold is the 0.995 quantile of their scores, later frames are judged by
 * it, the model file is not touched. */
static void check_calibration(guint stride)
{
    /* a threshold below every score: each frame flagged until calibrated */
    gchar *model = make_model("low.safetensors", 3, 21, 1e-6);
    gchar *before = NULL, *after = NULL;
    gsize before_len = 0, after_len = 0;
    fail_unless(g_file_get_contents(model, &before, &before_len, NULL));
    /* the last frame taken is the (CAL_FRAMES-1)*stride-th; the next is judged */
    const guint taken_span = (CAL_FRAMES - 1) * stride + 1, total = taken_span + AFTER;
    gdouble *own = scores_without(model, total);

    GstBus *bus;
    gchar *props = g_strdup_printf("scoring=sync calibrate-frames=%d calibrate-stride=%u", CAL_FRAMES, stride);
    GstHarness *h = harness(model, props, &bus);
    g_free(props);
    GstMessage *m = pop_element_message(bus, "skipganomaly-calibrating");
    fail_unless(m == NULL, "the calibration began before any frame");
    for (guint i = 0; i < taken_span; i++) {
        GstBuffer *b = push_pull(h, i);
        fail_unless(is_pending(b), "frame %u of the calibration carries a verdict", i);
        gst_buffer_unref(b);
        if (i == 0) {
            m = pop_element_message(bus, "skipganomaly-calibrating");
            fail_unless(m != NULL, "no skipganomaly-calibrating message");
            fail_unless_equals_int(get_uint(gst_message_get_structure(m), "frames"), CAL_FRAMES);
            gst_message_unref(m);
        }
    }
    /* the frames taken: every stride-th from the first */
    gdouble *taken = g_new(gdouble, CAL_FRAMES);
    for (guint k = 0; k < CAL_FRAMES; k++)
        taken[k] = own[k * stride];
    const gdouble expect = quantile(taken, CAL_FRAMES, 0.995);
    m = calibrated_message(bus);
    fail_unless(m != NULL, "no skipganomaly-calibrated message after the %u frames (scoring synchronously)",
                taken_span);
    const GstStructure *st = gst_message_get_structure(m);
    const gdouble threshold = get_double(st, "threshold");
    fail_unless(fabs(threshold - expect) <= 1e-5 * fabs(expect), "threshold %.9g, the 0.995 quantile of the frames' "
                "scores is %.9g", threshold, expect);
    fail_unless(fabs(get_double(st, "quantile") - 0.995) < 1e-6);
    fail_unless_equals_int(get_uint(st, "frames"), CAL_FRAMES);
    fail_unless_equals_int(get_uint(st, "images"), CAL_FRAMES);
    fail_unless_equals_int(get_uint(st, "statistics-images"), 0);
    fail_unless_equals_int(get_uint(st, "calibrations"), 1);
    gst_message_unref(m);

    guint flagged = 0;
    for (guint i = taken_span; i < total; i++) {
        GstBuffer *b = push_pull(h, i);
        SgadAnomalyResult r;
        fail_unless(sgad_buffer_get_anomaly_result(b, &r), "frame %u after the calibration: no verdict", i);
        fail_unless((gfloat)r.threshold == (gfloat)threshold, "frame %u judged by %g, not the calibration's %g", i,
                    r.threshold, threshold);
        fail_unless(fabs(r.score - own[i]) <= 1e-5 * fabs(own[i]), "frame %u: score %g, %g before", i, r.score,
                    own[i]);
        fail_unless(r.anomalous == (r.score > r.threshold), "frame %u: anomalous %d at %g against %g", i,
                    r.anomalous, r.score, r.threshold);
        flagged += r.anomalous;
        gst_buffer_unref(b);
    }
    /* the frames are alike (one pattern, other noise): at 0.995 few of 40 cross it,
     * where the model's own threshold flagged all */
    fail_unless(flagged <= AFTER / 4, "%u of %u later frames flagged", flagged, AFTER);
    teardown(h, bus);

    fail_unless(g_file_get_contents(model, &after, &after_len, NULL));
    fail_unless(before_len == after_len && memcmp(before, after, before_len) == 0, "the model file changed");
    g_free(before), g_free(after), g_free(taken), g_free(own), g_free(model);
}

GST_START_TEST(test_calibrate_frames)
{
    check_calibration(1);
}
GST_END_TEST;

GST_START_TEST(test_calibrate_stride)
{
    check_calibration(3);
}
GST_END_TEST;

/* A standardised frame score (the bundled model's max,std): the per-pixel
 * statistics from the first half of the frames, the threshold from the rest. */
GST_START_TEST(test_calibrate_standardised)
{
    GstBus *bus;
    GstHarness *h = harness(SGAD_BUNDLED_MODEL, "scoring=sync calibrate-frames=400 calibrate-stride=1", &bus);
    for (guint i = 0; i < 400; i++) {
        GstBuffer *b = push_pull(h, i);
        fail_unless(is_pending(b), "frame %u of the calibration carries a verdict", i);
        gst_buffer_unref(b);
    }
    GstMessage *m = calibrated_message(bus);
    fail_unless(m != NULL, "not calibrated");
    const GstStructure *st = gst_message_get_structure(m);
    fail_unless_equals_int(get_uint(st, "statistics-images"), 200);
    fail_unless_equals_int(get_uint(st, "images"), 200);
    const gdouble threshold = get_double(st, "threshold");
    fail_unless(isfinite(threshold));
    gst_message_unref(m);
    GstBuffer *b = push_pull(h, 400);
    SgadAnomalyResult r;
    fail_unless(sgad_buffer_get_anomaly_result(b, &r) && (gfloat)r.threshold == (gfloat)threshold);
    gst_buffer_unref(b);
    teardown(h, bus);
}
GST_END_TEST;

/* The stream ends before the frames are there: said, nothing calibrated. */
GST_START_TEST(test_calibrate_eos_early)
{
    gchar *model = make_model("m.safetensors", 3, 21, 0.5);
    GstBus *bus;
    GstHarness *h = harness(model, "scoring=sync calibrate-frames=200 calibrate-stride=1", &bus);
    for (guint i = 0; i < 30; i++) {
        GstBuffer *b = push_pull(h, i);
        fail_unless(is_pending(b));
        gst_buffer_unref(b);
    }
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    GstMessage *w = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
    fail_unless(w != NULL, "no warning");
    GError *err = NULL;
    gst_message_parse_warning(w, &err, NULL);
    fail_unless(strstr(err->message, "ended after 30 of the 200 frames") != NULL, "%s", err->message);
    g_error_free(err);
    gst_message_unref(w);
    fail_unless(calibrated_message(bus) == NULL);
    teardown(h, bus);
    g_free(model);
}
GST_END_TEST;

/* Scores that are not numbers calibrate nothing: a warning, the frames after
 * are judged as before, and such a score never reads as normal. */
GST_START_TEST(test_calibrate_nan_keeps_calibration)
{
    gchar *good = make_model("good.safetensors", 3, 11, 0.5);
    /* weights that overflow the arithmetic on white frames (test_score's nan_score_is_not_normal) */
    gchar *huge = mutate_model(good, "huge.safetensors", "G.c1.conv1.weight", 0, 16 * 27, 1e7f, NULL, NULL);
    GstBus *bus;
    GstHarness *h = harness(huge, "scoring=sync calibrate-frames=200 calibrate-stride=1", &bus);
    for (guint i = 0; i <= 200; i++) {
        GstBuffer *b = make_frame(GST_VIDEO_FORMAT_RGB, SIDE, SIDE, i);
        gst_buffer_memset(b, 0, 255, SIDE * SIDE * 3);
        GST_BUFFER_PTS(b) = i * GST_SECOND / 30;
        fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
        if (i < 200)
            gst_buffer_unref(gst_harness_pull(h));
    }
    GstMessage *w = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
    fail_unless(w != NULL, "no warning");
    GError *err = NULL;
    gst_message_parse_warning(w, &err, NULL);
    fail_unless(strstr(err->message, "Cannot calibrate") && strstr(err->message, "not a finite number"), "%s",
                err->message);
    g_error_free(err);
    gst_message_unref(w);
    fail_unless(calibrated_message(bus) == NULL);
    GstBuffer *b = gst_harness_pull(h);
    SgadAnomalyResult r;
    fail_unless(sgad_buffer_get_anomaly_result(b, &r), "no verdict after the failed calibration");
    fail_unless(r.score_invalid && r.anomalous && (gfloat)r.threshold == 0.5f, "score %g anomalous %d threshold %g",
                r.score, r.anomalous, r.threshold);
    gst_buffer_unref(b);
    teardown(h, bus);
    g_free(good), g_free(huge);
}
GST_END_TEST;

/* The `calibrate` signal while scoring asynchronously (a live stream's way):
 * refused without calibrate-frames and while one is under way; the frames pass
 * on while the calibration is computed, and later results are judged by it. */
GST_START_TEST(test_calibrate_signal)
{
    gchar *model = make_model("low.safetensors", 3, 21, 1e-6);
    GstBus *bus;
    GstHarness *h = harness(model, "scoring=async calibrate-stride=1", &bus);
    GstElement *sg = element_of(h);
    gboolean ok = TRUE;
    guint i = 0;
    gst_buffer_unref(push_pull(h, i++)); /* playing, a model loaded */
    g_signal_emit_by_name(sg, "calibrate", &ok);
    fail_unless(!ok, "calibrate accepted with calibrate-frames=0");
    g_object_set(sg, "calibrate-frames", CAL_FRAMES, NULL);
    g_signal_emit_by_name(sg, "calibrate", &ok);
    fail_unless(ok, "calibrate refused");
    g_signal_emit_by_name(sg, "calibrate", &ok);
    fail_unless(!ok, "a second calibrate accepted while the first is under way");
    for (guint k = 0; k < CAL_FRAMES; k++, i++) {
        GstBuffer *b = push_pull(h, i);
        fail_unless(is_pending(b), "frame %u of the calibration carries a verdict", i);
        gst_buffer_unref(b);
    }
    /* a bound on waiting for the other threads, not a speed bound */
    const gint64 until = g_get_monotonic_time() + 200 * G_TIME_SPAN_SECOND;
    GstMessage *m = NULL;
    gdouble threshold = NAN;
    gboolean judged = FALSE;
    while (!judged && g_get_monotonic_time() < until) {
        GstBuffer *b = push_pull(h, i++);
        if (!m && (m = calibrated_message(bus)))
            threshold = get_double(gst_message_get_structure(m), "threshold");
        SgadAnomalyResult r;
        if (sgad_buffer_get_anomaly_result(b, &r)) {
            fail_unless(m != NULL, "frame %u carries a verdict before the calibration was swapped in", i - 1);
            fail_unless((gfloat)r.threshold == (gfloat)threshold, "frame %u judged by %g, not %g", i - 1,
                        r.threshold, threshold);
            judged = TRUE;
        } else {
            fail_unless(is_pending(b));
            g_usleep(20000);
        }
        gst_buffer_unref(b);
    }
    fail_unless(judged, "no frame judged by the calibration within 200 s");
    fail_unless(threshold > 1e-6, "threshold %g", threshold);
    gst_message_unref(m);
    g_signal_emit_by_name(sg, "calibrate", &ok);
    fail_unless(ok, "a calibration after the first one was refused");
    teardown(h, bus);
    g_free(model);
}
GST_END_TEST;

static Suite *skipganomaly_calibrate_suite(void)
{
    Suite *s = suite_create("skipganomaly-calibrate");
    TCase *tc = tcase_create("calibrate");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    suite_add_tcase(s, tc);
    ADD_TEST(tc, test_calibrate_frames);
    ADD_TEST(tc, test_calibrate_stride);
    ADD_TEST(tc, test_calibrate_standardised);
    ADD_TEST(tc, test_calibrate_eos_early);
    ADD_TEST(tc, test_calibrate_nan_keeps_calibration);
    ADD_TEST(tc, test_calibrate_signal);
    return s;
}

SKIPGANOMALY_TEST_MAIN(skipganomaly_calibrate_suite)
