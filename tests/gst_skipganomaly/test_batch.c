/* skipganomaly score-batch: frames of a non-live stream held back and scored
 * several at once. Each frame must come out in order, with its own timestamp,
 * meta and message, and the score it gets at score-batch=1 (1e-5); EOS scores
 * the partial last batch, a flush drops what is held, a caps change scores it
 * with the old caps first. A batch is scored while the next one is taken, so
 * its frames go on when the next batch is full: the LATENCY query adds
 * 2 x score-batch - 1 frame times. */
#include <math.h>
#include <string.h>

#include <sgad/anomalymeta.h>
#include "common.h"

#define W 48
#define H 40

typedef struct {
    GMutex lock;
    GString *order; /* B for a buffer, C for caps, F for flush-stop, E for EOS, as they leave the element */
} Order;

static GstPadProbeReturn order_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    Order *o = data;
    gchar c = 0;
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        c = 'B';
    } else {
        switch (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info))) {
        case GST_EVENT_CAPS: c = 'C'; break;
        case GST_EVENT_FLUSH_STOP: c = 'F'; break;
        case GST_EVENT_EOS: c = 'E'; break;
        default: break;
        }
    }
    if (c) {
        g_mutex_lock(&o->lock);
        g_string_append_c(o->order, c);
        g_mutex_unlock(&o->lock);
    }
    return GST_PAD_PROBE_OK;
}

typedef struct {
    GstHarness *h;
    GstBus *bus;
    Order order;
} Run;

/* GstHarness answers LATENCY as a live source: scoring=sync, as a file would get */
static void run_start(Run *r, const gchar *path, guint batch)
{
    gchar *line = g_strdup_printf("skipganomaly name=sg scoring=sync post-messages=true model=\"%s\" score-batch=%u", path, batch);
    r->h = gst_harness_new_parse(line);
    g_free(line);
    r->bus = gst_bus_new();
    gst_element_set_bus(r->h->element, r->bus);
    g_mutex_init(&r->order.lock);
    r->order.order = g_string_new("");
    gst_pad_add_probe(r->h->sinkpad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_BOTH | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
                      order_probe,
                      &r->order, NULL);
}

static void set_caps(Run *r, GstVideoFormat f, gint w, gint h)
{
    gchar *caps = caps_string(f, w, h);
    gst_harness_set_src_caps_str(r->h, caps);
    g_free(caps);
}

static void push(Run *r, GstVideoFormat f, gint w, gint h, guint seed, GstClockTime pts)
{
    GstBuffer *in = make_frame(f, w, h, seed);
    GST_BUFFER_PTS(in) = pts;
    GST_BUFFER_DURATION(in) = GST_SECOND / 30;
    fail_unless_equals_int(gst_harness_push(r->h, in), GST_FLOW_OK);
}

typedef struct {
    GstClockTime pts;
    gdouble score;
    guint64 frame;
    guint roi_width;
    gdouble message_score; /* the score of its skipganomaly message */
    guint heat_side;       /* the heat map's width: the model's input size (one tile) */
} Out;

/* Pull every output frame so far, each with its meta and (in order) its message. */
static void pull(Run *r, GArray *outs)
{
    GstBuffer *b;
    while ((b = gst_harness_try_pull(r->h))) {
        SgadAnomalyResult res;
        fail_unless(sgad_buffer_get_anomaly_result(b, &res), "no GstAnomalyMeta on output %u", outs->len);
        Out o = {GST_BUFFER_PTS(b), res.score, res.frame, res.roi_width, NAN, res.heatmap_width};
        GstMessage *m = pop_element_message(r->bus, "skipganomaly");
        fail_unless(m != NULL, "no skipganomaly message for output %u", outs->len);
        const GstStructure *st = gst_message_get_structure(m);
        guint64 ts;
        fail_unless(gst_structure_get_double(st, "score", &o.message_score));
        fail_unless(gst_structure_get_uint64(st, "timestamp", &ts));
        fail_unless_equals_uint64(ts, o.pts);
        gst_message_unref(m);
        g_array_append_val(outs, o);
        gst_buffer_unref(b);
    }
}

static void run_finish(Run *r)
{
    gst_element_set_bus(r->h->element, NULL);
    gst_object_unref(r->bus);
    gst_harness_teardown(r->h);
    g_string_free(r->order.order, TRUE);
    g_mutex_clear(&r->order.lock);
}

static void check_same_scores(GArray *single, GArray *batched)
{
    fail_unless_equals_int(batched->len, single->len);
    for (guint i = 0; i < single->len; i++) {
        const Out *a = &g_array_index(single, Out, i), *b = &g_array_index(batched, Out, i);
        fail_unless_equals_uint64(b->pts, a->pts);
        fail_unless(isfinite(a->score) && fabs(a->score - b->score) <= 1e-5 * fabs(a->score) + 1e-7,
                    "output %u: %.9g at score-batch 1, %.9g batched", i, a->score, b->score);
        fail_unless_equals_float(b->message_score, b->score);
        fail_unless_equals_int(b->roi_width, a->roi_width);
    }
}

/* 10 frames (not a multiple of 4): the EOS scores the last 2. */
static void run_plain(const gchar *path, guint batch, GArray *outs, gchar **order)
{
    Run r;
    run_start(&r, path, batch);
    set_caps(&r, GST_VIDEO_FORMAT_RGB, W, H);
    for (guint i = 0; i < 10; i++) {
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
        /* held back for the batch, then while the device scores it: out once the next batch is full */
        if (batch == 4 && i < 7)
            fail_unless_equals_int(gst_harness_buffers_received(r.h), 0);
        if (batch == 4 && i == 7)
            fail_unless_equals_int(gst_harness_buffers_received(r.h), 4);
    }
    fail_unless(gst_harness_push_event(r.h, gst_event_new_eos()));
    pull(&r, outs);
    guint64 scored;
    GstElement *sg = gst_bin_get_by_name(GST_BIN(r.h->element), "sg");
    g_object_get(sg, "frames-scored", &scored, NULL);
    gst_object_unref(sg);
    fail_unless_equals_uint64(scored, 10);
    *order = g_strdup(r.order.order->str);
    run_finish(&r);
}

GST_START_TEST(test_batch_matches_single)
{
    gchar *path = make_model("batch.safetensors", 3, 21, 0.5);
    GArray *single = g_array_new(FALSE, FALSE, sizeof(Out)), *batched = g_array_new(FALSE, FALSE, sizeof(Out));
    gchar *order1, *order4;
    run_plain(path, 1, single, &order1);
    run_plain(path, 4, batched, &order4);
    fail_unless_equals_int(single->len, 10);
    check_same_scores(single, batched);
    for (guint i = 0; i < batched->len; i++) {
        const Out *b = &g_array_index(batched, Out, i);
        fail_unless_equals_uint64(b->frame, i);
        fail_unless_equals_uint64(b->pts, i * GST_SECOND / 30);
    }
    /* the frames differ, so equal scores are not one result repeated */
    fail_unless(g_array_index(single, Out, 0).score != g_array_index(single, Out, 1).score);
    fail_unless_equals_string(order4, "CBBBBBBBBBBE");
    fail_unless_equals_string(order1, order4);
    g_free(order1);
    g_free(order4);
    g_array_unref(single);
    g_array_unref(batched);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* 6 frames (4 handed to the device, 2 held back), a flush (as a flushing seek
 * sends), then 5 frames from a new segment: the 6 held back are dropped, never
 * pushed after the flush; the 5 come out with their batch-1 scores. */
static void run_flush(const gchar *path, guint batch, GArray *outs, gchar **order)
{
    Run r;
    run_start(&r, path, batch);
    set_caps(&r, GST_VIDEO_FORMAT_RGB, W, H);
    for (guint i = 0; i < 6; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
    pull(&r, outs);
    fail_unless(gst_harness_push_event(r.h, gst_event_new_flush_start()));
    fail_unless(gst_harness_push_event(r.h, gst_event_new_flush_stop(TRUE)));
    GstSegment seg;
    gst_segment_init(&seg, GST_FORMAT_TIME);
    seg.start = seg.time = 2 * GST_SECOND;
    fail_unless(gst_harness_push_event(r.h, gst_event_new_segment(&seg)));
    for (guint i = 0; i < 5; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, 100 + i, 2 * GST_SECOND + i * GST_SECOND / 30);
    fail_unless(gst_harness_push_event(r.h, gst_event_new_eos()));
    pull(&r, outs);
    *order = g_strdup(r.order.order->str);
    run_finish(&r);
}

GST_START_TEST(test_batch_flush)
{
    gchar *path = make_model("batch.safetensors", 3, 22, 0.5);
    GArray *single = g_array_new(FALSE, FALSE, sizeof(Out)), *batched = g_array_new(FALSE, FALSE, sizeof(Out));
    gchar *order1, *order4;
    run_flush(path, 1, single, &order1);
    run_flush(path, 4, batched, &order4);
    fail_unless_equals_int(single->len, 11);
    fail_unless_equals_string(order1, "CBBBBBBFBBBBBE");
    fail_unless_equals_string(order4, "CFBBBBBE");
    /* batched: only the 5 after the flush */
    g_array_remove_range(single, 0, 6);
    check_same_scores(single, batched);
    g_free(order1);
    g_free(order4);
    g_array_unref(single);
    g_array_unref(batched);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* 3 frames RGB 48x40, then caps I420 64x48 and 3 frames: the first 3 are
 * scored (with their own caps) and pushed before the new caps go on. */
static void run_caps(const gchar *path, guint batch, GArray *outs, gchar **order)
{
    Run r;
    run_start(&r, path, batch);
    set_caps(&r, GST_VIDEO_FORMAT_RGB, W, H);
    for (guint i = 0; i < 3; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
    set_caps(&r, GST_VIDEO_FORMAT_I420, 64, 48);
    for (guint i = 3; i < 6; i++)
        push(&r, GST_VIDEO_FORMAT_I420, 64, 48, i + 1, i * GST_SECOND / 30);
    fail_unless(gst_harness_push_event(r.h, gst_event_new_eos()));
    pull(&r, outs);
    *order = g_strdup(r.order.order->str);
    run_finish(&r);
}

GST_START_TEST(test_batch_caps_change)
{
    gchar *path = make_model("batch.safetensors", 3, 23, 0.5);
    GArray *single = g_array_new(FALSE, FALSE, sizeof(Out)), *batched = g_array_new(FALSE, FALSE, sizeof(Out));
    gchar *order1, *order4;
    run_caps(path, 1, single, &order1);
    run_caps(path, 4, batched, &order4);
    fail_unless_equals_string(order4, "CBBBCBBBE");
    fail_unless_equals_string(order1, order4);
    check_same_scores(single, batched);
    for (guint i = 0; i < 6; i++)
        fail_unless_equals_int(g_array_index(batched, Out, i).roi_width, i < 3 ? W : 64);
    g_free(order1);
    g_free(order4);
    g_array_unref(single);
    g_array_unref(batched);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* Before any frame was scored the element's own latency is the wait for the
 * rest of a batch and the whole next one: 7 frame times at 30 frames/s for
 * score-batch=4, none for 1. */
GST_START_TEST(test_batch_latency)
{
    gchar *path = make_model("batch.safetensors", 3, 24, 0.5);
    GstClockTime latency[2];
    const guint batches[2] = {1, 4};
    for (gint i = 0; i < 2; i++) {
        Run r;
        run_start(&r, path, batches[i]);
        set_caps(&r, GST_VIDEO_FORMAT_RGB, W, H);
        latency[i] = gst_harness_query_latency(r.h);
        run_finish(&r);
    }
    fail_unless_equals_uint64(latency[1] - latency[0], gst_util_uint64_scale_int(7, GST_SECOND, 30));
    g_free(path);
}
GST_END_TEST;

/* A live source (GstHarness answers LATENCY as one) gets asynchronous
 * scoring, which score-batch leaves alone: each frame goes on at once. */
GST_START_TEST(test_batch_not_live)
{
    gchar *path = make_model("batch.safetensors", 3, 25, 0.5);
    gchar *line = g_strdup_printf("skipganomaly model=\"%s\" score-batch=4", path);
    GstHarness *h = gst_harness_new_parse(line);
    g_free(line);
    gchar *caps = caps_string(GST_VIDEO_FORMAT_RGB, W, H);
    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
    for (guint i = 0; i < 3; i++) {
        GstBuffer *in = make_frame(GST_VIDEO_FORMAT_RGB, W, H, i + 1);
        GST_BUFFER_PTS(in) = i * GST_SECOND / 30;
        fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
        fail_unless_equals_int(gst_harness_buffers_received(h), i + 1);
    }
    gst_harness_teardown(h);
    g_free(path);
}
GST_END_TEST;

/* ---- many batches through a real pipeline, with a slow consumer ---------- */

typedef struct {
    GMutex lock;
    GArray *outs; /* Out, as the sink gets them */
} Sink;

static void on_handoff(GstElement *sink, GstBuffer *b, GstPad *pad, gpointer data)
{
    (void)sink;
    (void)pad;
    Sink *k = data;
    SgadAnomalyResult res;
    Out o = {GST_BUFFER_PTS(b), NAN, G_MAXUINT64, 0, NAN};
    if (sgad_buffer_get_anomaly_result(b, &res)) {
        o.score = res.score;
        o.frame = res.frame;
        o.roi_width = res.roi_width;
    }
    g_mutex_lock(&k->lock);
    g_array_append_val(k->outs, o);
    g_mutex_unlock(&k->lock);
}

/* 23 frames of a moving ball (decoded in their own thread: a queue before the
 * element) through skipganomaly at score-batch `batch`, then a consumer that
 * takes 15 ms a frame behind a 2-frame queue, so the element's pushes block
 * while its scoring thread works: whatever the timing, every frame must come
 * out once, in order, with its own timestamp and its batch-1 score. */
static GArray *run_slow_consumer(const gchar *path, guint batch)
{
    gchar *line = g_strdup_printf(
        "videotestsrc pattern=ball num-buffers=23 ! video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1 "
        "! queue ! skipganomaly model=\"%s\" score-batch=%u ! queue max-size-buffers=2 max-size-time=0 "
        "max-size-bytes=0 ! identity sleep-time=15000 ! fakesink name=out sync=false signal-handoffs=true",
        W, H, path, batch);
    GError *err = NULL;
    GstElement *pipe = gst_parse_launch(line, &err);
    fail_unless(pipe != NULL, "%s: %s", line, err ? err->message : "?");
    g_free(line);
    Sink k = {.outs = g_array_new(FALSE, FALSE, sizeof(Out))};
    g_mutex_init(&k.lock);
    GstElement *out = gst_bin_get_by_name(GST_BIN(pipe), "out");
    g_signal_connect(out, "handoff", G_CALLBACK(on_handoff), &k);
    gst_object_unref(out);
    GstBus *bus = gst_element_get_bus(pipe);
    fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 200 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless(m != NULL, "no EOS at score-batch %u", batch);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        GError *e = NULL;
        gst_message_parse_error(m, &e, NULL);
        fail("score-batch %u: %s", batch, e->message);
    }
    gst_message_unref(m);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipe);
    g_mutex_clear(&k.lock);
    return k.outs;
}

GST_START_TEST(test_batch_many_slow_consumer)
{
    gchar *path = make_model("batch.safetensors", 3, 26, 0.5);
    GArray *single = run_slow_consumer(path, 1);
    fail_unless_equals_int(single->len, 23);
    /* 5 batches of 4 and 3 frames at EOS */
    const guint batches[] = {4};
    for (guint b = 0; b < G_N_ELEMENTS(batches); b++) {
        GArray *batched = run_slow_consumer(path, batches[b]);
        for (guint i = 0; i < batched->len; i++) {
            const Out *o = &g_array_index(batched, Out, i);
            fail_unless_equals_uint64(o->frame, i);
            fail_unless_equals_uint64(o->pts, gst_util_uint64_scale_int(i, GST_SECOND, 30));
            o = &g_array_index(single, Out, i);
            fail_unless_equals_uint64(o->frame, i);
        }
        for (guint i = 0; i < single->len; i++)
            g_array_index(single, Out, i).message_score = g_array_index(single, Out, i).score;
        for (guint i = 0; i < batched->len; i++)
            g_array_index(batched, Out, i).message_score = g_array_index(batched, Out, i).score;
        check_same_scores(single, batched);
        g_array_unref(batched);
    }
    /* the ball moves: frames score differently, so matching scores mean matching frames */
    guint differ = 0;
    for (guint i = 1; i < single->len; i++)
        differ += g_array_index(single, Out, i).score != g_array_index(single, Out, i - 1).score;
    fail_unless(differ >= 18, "only %u of 22 neighbouring frames score differently", differ);
    g_array_unref(single);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* ---- a hot reload to another input size while batches are held --------- */

/* A random 64x64 model (width 0.25: quick) calibrated at 0.5. */
static gchar *make_model_64(const gchar *name, guint64 seed)
{
    sg_model_config c = sg_model_config_default();
    c.size = 64;
    c.width = 0.25f;
    sg_model *m = NULL;
    fail_unless(sg_model_create(test_device(), &c, seed, &m) == SG_OK, "%s", sg_error_message());
    sg_calibration *cal = sg_model_calibration(m);
    cal->valid = true;
    cal->threshold = 0.5f;
    cal->quantile = 0.995f;
    cal->samples = 1;
    gchar *path = g_build_filename(test_dir(), name, NULL);
    fail_unless(sg_model_save(m, path) == SG_OK, "%s", sg_error_message());
    sg_model_destroy(m);
    return path;
}

static void set_model(Run *r, const gchar *path)
{
    GstElement *sg = gst_bin_get_by_name(GST_BIN(r->h->element), "sg");
    g_object_set(sg, "model", path, NULL);
    gst_object_unref(sg);
}

/* score-batch 4: frames 0-3 (a batch handed to the scoring thread, which may
 * or may not have run it yet), then the model is switched to a 64x64 one, then
 * frames 4-11 and EOS. Frames 4-11 must have the new model's scores; frames
 * 0-3 the old model's, or, when their batch had not run before the switch, the
 * new one's (preprocessed again at 64x64): either way each frame's score is
 * the one the model its heat map comes from gives at score-batch 1. */
GST_START_TEST(test_batch_hot_reload_size)
{
    gchar *small = make_model("batch.safetensors", 3, 27, 0.5), *big = make_model_64("batch64.safetensors", 28);
    /* references at score-batch 1: old model on 0-3, new on 0-3 and 4-11 */
    Run r;
    GArray *ref = g_array_new(FALSE, FALSE, sizeof(Out));
    run_start(&r, small, 1);
    set_caps(&r, GST_VIDEO_FORMAT_RGB, W, H);
    for (guint i = 0; i < 4; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
    set_model(&r, big);
    for (guint i = 0; i < 12; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
    fail_unless(gst_harness_push_event(r.h, gst_event_new_eos()));
    pull(&r, ref);
    run_finish(&r);
    fail_unless_equals_int(ref->len, 16);
    for (guint i = 0; i < 16; i++)
        fail_unless_equals_int(g_array_index(ref, Out, i).heat_side, i < 4 ? 32 : 64);

    GArray *batched = g_array_new(FALSE, FALSE, sizeof(Out));
    run_start(&r, small, 4);
    set_caps(&r, GST_VIDEO_FORMAT_RGB, W, H);
    for (guint i = 0; i < 4; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
    set_model(&r, big);
    for (guint i = 4; i < 12; i++)
        push(&r, GST_VIDEO_FORMAT_RGB, W, H, i + 1, i * GST_SECOND / 30);
    fail_unless(gst_harness_push_event(r.h, gst_event_new_eos()));
    pull(&r, batched);
    run_finish(&r);
    fail_unless_equals_int(batched->len, 12);
    for (guint i = 0; i < 12; i++) {
        const Out *b = &g_array_index(batched, Out, i);
        fail_unless_equals_uint64(b->frame, i);
        fail_unless_equals_uint64(b->pts, i * GST_SECOND / 30);
        fail_unless(b->heat_side == 64 || (i < 4 && b->heat_side == 32), "frame %u: a %u-pixel heat map", i,
                    b->heat_side);
        /* the reference of this frame with the model its map says it was scored with */
        const Out *want = &g_array_index(ref, Out, b->heat_side == 32 ? i : 4 + i);
        fail_unless(fabs(want->score - b->score) <= 1e-5 * fabs(want->score) + 1e-7,
                    "frame %u (%u-pixel map): %.9g batched, %.9g at score-batch 1", i, b->heat_side, b->score,
                    want->score);
        fail_unless_equals_float(b->message_score, b->score);
    }
    g_array_unref(ref);
    g_array_unref(batched);
    g_free(small);
    g_free(big);
    test_device_check();
}
GST_END_TEST;

static Suite *batch_suite(void)
{
    Suite *s = suite_create("skipganomaly-batch");
    TCase *tc = tcase_create("batch");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    ADD_TEST(tc, test_batch_matches_single);
    ADD_TEST(tc, test_batch_flush);
    ADD_TEST(tc, test_batch_caps_change);
    ADD_TEST(tc, test_batch_latency);
    ADD_TEST(tc, test_batch_not_live);
    ADD_TEST(tc, test_batch_many_slow_consumer);
    ADD_TEST(tc, test_batch_hot_reload_size);
    suite_add_tcase(s, tc);
    return s;
}

SKIPGANOMALY_TEST_MAIN(batch_suite)
