/* Live streams: with a live upstream skipganomaly scores asynchronously by
 * default, so every frame goes on at once (timestamps intact, none dropped)
 * while a scorer thread takes the newest frame; each meta names the frame its
 * result came from (never a later one) and its age, or says none is ready;
 * scored + skipped = frames; the JSON lines name that frame and age too.
 * Sync scoring reports its scoring time in the
 * LATENCY query. Training with train-on=full runs beside the stream: frames
 * keep flowing while it trains and EOS still waits for the checkpoint.
 *
 * No bound here depends on the machine's speed: where a result must exist the
 * test holds the last frame back until the scorer has delivered one. */
#include <math.h>
#include <string.h>

#include <sgad/anomalymeta.h>
#include "common.h"

#define LIVE_FRAMES 60

typedef struct {
    GMutex lock;
    GCond cond;
    GArray *pts;          /* GstClockTime of every frame that left skipipganomaly */
    GPtrArray *metas;     /* GstStructure copies, one per frame */
    GstElement *scorer;   /* to wait for a first result */
    guint hold_frame;     /* the source's frame held until a result exists */
    guint64 source_count; /* frames seen leaving the source */
} LiveRun;

static GstPadProbeReturn source_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    (void)info;
    LiveRun *run = data;
    if (run->source_count++ != run->hold_frame)
        return GST_PAD_PROBE_OK;
    /* the last frame waits for the scorer's first result, so it must carry one */
    for (gint waited = 0; waited < 120000; waited += 10) {
        guint64 scored = 0;
        g_object_get(run->scorer, "frames-scored", &scored, NULL);
        if (scored > 0)
            break;
        g_usleep(10000);
    }
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn output_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    LiveRun *run = data;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstCustomMeta *meta = gst_buffer_get_custom_meta(buf, SGAD_ANOMALY_META_NAME);
    GstClockTime pts = GST_BUFFER_PTS(buf);
    g_mutex_lock(&run->lock);
    g_array_append_val(run->pts, pts);
    g_ptr_array_add(run->metas, meta ? gst_structure_copy(gst_custom_meta_get_structure(meta)) : NULL);
    g_cond_broadcast(&run->cond);
    g_mutex_unlock(&run->lock);
    return GST_PAD_PROBE_OK;
}

/* Run `frames` live frames (30/s, 320x240) through skipganomaly with `props`;
 * returns the last skipganomaly-stats message's structure. */
static GstStructure *run_live(const gchar *props, guint frames, gboolean live, LiveRun *run)
{
    gchar *json = g_build_filename(test_dir(), "live.jsonl", NULL);
    gchar *line = g_strdup_printf("inspectionsrc name=src is-live=%s num-buffers=%u ! "
                                  "video/x-raw,format=BGRx,width=320,height=240,framerate=30/1 ! "
                                  "skipganomaly name=sg %s ! anomalyexport location=\"%s\" ! fakesink sync=false",
                                  live ? "true" : "false", frames, props, json);
    g_free(json);
    GError *err = NULL;
    GstElement *pipe = gst_parse_launch(line, &err);
    fail_unless(pipe != NULL, "%s: %s", line, err ? err->message : "?");
    g_free(line);
    g_mutex_init(&run->lock);
    g_cond_init(&run->cond);
    run->pts = g_array_new(FALSE, FALSE, sizeof(GstClockTime));
    run->metas = g_ptr_array_new_with_free_func((GDestroyNotify)gst_structure_free);
    run->scorer = gst_bin_get_by_name(GST_BIN(pipe), "sg");
    run->hold_frame = frames - 1;
    run->source_count = 0;
    GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "src");
    GstPad *src_pad = gst_element_get_static_pad(src, "src");
    gst_pad_add_probe(src_pad, GST_PAD_PROBE_TYPE_BUFFER, source_probe, run, NULL);
    GstPad *out_pad = gst_element_get_static_pad(run->scorer, "src");
    gst_pad_add_probe(out_pad, GST_PAD_PROBE_TYPE_BUFFER, output_probe, run, NULL);

    GstBus *bus = gst_element_get_bus(pipe);
    fail_if(gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
    GstStructure *stats = NULL;
    for (;;) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND,
                                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
        fail_unless(m != NULL, "no EOS within 300 s");
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
            GError *e = NULL;
            gchar *dbg = NULL;
            gst_message_parse_error(m, &e, &dbg);
            fail_if(TRUE, "error: %s (%s)", e->message, dbg ? dbg : "");
        }
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
            gst_message_unref(m);
            break;
        }
        const GstStructure *s = gst_message_get_structure(m);
        if (gst_structure_has_name(s, "skipganomaly-stats")) {
            if (stats)
                gst_structure_free(stats);
            stats = gst_structure_copy(s);
        }
        gst_message_unref(m);
    }
    fail_unless(stats != NULL, "no skipganomaly-stats message by EOS");
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(src_pad);
    gst_object_unref(out_pad);
    gst_object_unref(src);
    gst_object_unref(run->scorer);
    gst_object_unref(pipe);
    return stats;
}

static void live_run_clear(LiveRun *run)
{
    g_array_unref(run->pts);
    g_ptr_array_unref(run->metas);
    g_mutex_clear(&run->lock);
    g_cond_clear(&run->cond);
}

static void check_async_run(const gchar *model)
{
    LiveRun run = {0};
    gchar *props = g_strdup_printf("model=\"%s\"", model); /* no scoring property: live upstream picks async */
    GstStructure *stats = run_live(props, LIVE_FRAMES, TRUE, &run);
    g_free(props);

    fail_unless_equals_int(run.pts->len, LIVE_FRAMES);
    guint with_result = 0;
    for (guint i = 0; i < run.pts->len; i++) {
        /* the source's own timestamps, untouched: a frame time apart (basesrc
         * offsets a live source's by the running time of its first frame) */
        const GstClockTime first = g_array_index(run.pts, GstClockTime, 0);
        GstClockTime want = first + gst_util_uint64_scale(i, GST_SECOND, 30);
        fail_unless_equals_uint64(g_array_index(run.pts, GstClockTime, i), want);
        GstStructure *s = g_ptr_array_index(run.metas, i);
        fail_unless(s != NULL, "frame %u has no meta", i);
        guint64 frame = G_MAXUINT64;
        gboolean pending = TRUE;
        fail_unless(gst_structure_get_uint64(s, "frame", &frame));
        fail_unless_equals_uint64(frame, i);
        fail_unless(gst_structure_get_boolean(s, "result-pending", &pending), "frame %u: no result-pending", i);
        if (pending) {
            fail_if(gst_structure_has_field(s, "score"), "frame %u: a pending result with a score", i);
            continue;
        }
        with_result++;
        guint64 source = G_MAXUINT64, age = G_MAXUINT64;
        gdouble score = NAN;
        fail_unless(gst_structure_get_uint64(s, "result-frame", &source));
        fail_unless(gst_structure_get_uint64(s, "result-age", &age));
        fail_unless(gst_structure_get_double(s, "score", &score));
        fail_unless(source <= frame, "frame %u carries the result of a later frame %" G_GUINT64_FORMAT, i, source);
        fail_unless_equals_uint64(age, want - g_array_index(run.pts, GstClockTime, source));
    }
    /* the last frame was held until the scorer had a result */
    fail_unless(with_result >= 1, "no frame carries a result");
    GstStructure *last = g_ptr_array_index(run.metas, LIVE_FRAMES - 1);
    gboolean pending = TRUE;
    fail_unless(gst_structure_get_boolean(last, "result-pending", &pending) && !pending);

    guint64 frames = 0, scored = 0, skipped = 0, dropped = 1;
    fail_unless(gst_structure_get_uint64(stats, "frames", &frames));
    fail_unless(gst_structure_get_uint64(stats, "scored", &scored));
    fail_unless(gst_structure_get_uint64(stats, "skipped", &skipped));
    fail_unless(gst_structure_get_uint64(stats, "dropped", &dropped));
    fail_unless_equals_string(gst_structure_get_string(stats, "scoring"), "async");
    fail_unless_equals_uint64(frames, LIVE_FRAMES);
    fail_unless_equals_uint64(scored + skipped, LIVE_FRAMES);
    fail_unless(scored >= 1);
    fail_unless_equals_uint64(dropped, 0);

    /* the JSON lines say how old a result is when it is an earlier frame's */
    gchar *json = g_build_filename(test_dir(), "live.jsonl", NULL), *text = NULL;
    fail_unless(g_file_get_contents(json, &text, NULL, NULL));
    gchar **lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; i < LIVE_FRAMES; i++) {
        GstStructure *s = g_ptr_array_index(run.metas, i);
        guint64 age = 0;
        gst_structure_get_uint64(s, "result-age", &age);
        gchar *want = g_strdup_printf("\"result-age\":%" G_GUINT64_FORMAT, age);
        fail_unless(lines[i] != NULL);
        /* and on which frame: the export counts frames as skipganomaly does here */
        guint64 source = i;
        gst_structure_get_uint64(s, "result-frame", &source);
        gchar *want_frame = g_strdup_printf("\"result-frame\":%" G_GUINT64_FORMAT, source);
        if (age > 0)
            fail_unless(strstr(lines[i], want) != NULL, "line %u: %s (want %s)", i, lines[i], want);
        else
            fail_unless(strstr(lines[i], "result-age") == NULL, "line %u: %s", i, lines[i]);
        const gchar *at = strstr(lines[i], want_frame);
        if (source < i)
            fail_unless(at && !g_ascii_isdigit(at[strlen(want_frame)]), "line %u: %s (want %s)", i, lines[i],
                        want_frame);
        else
            fail_unless(strstr(lines[i], "result-frame") == NULL, "line %u: %s", i, lines[i]);
        g_free(want_frame);
        g_free(want);
    }
    g_strfreev(lines);
    g_free(text);
    g_free(json);
    GST_INFO("%" G_GUINT64_FORMAT " scored, %" G_GUINT64_FORMAT " skipped, %u frames with a result", scored, skipped,
             with_result);
    gst_structure_free(stats);
    live_run_clear(&run);
}

GST_START_TEST(test_live_async_bundled)
{
    check_async_run(SGAD_BUNDLED_MODEL);
}
GST_END_TEST;

GST_START_TEST(test_live_async_width1)
{
    gchar *path = make_model("w1.safetensors", 3, 7, 0.5);
    check_async_run(path);
    g_free(path);
}
GST_END_TEST;

/* scoring=sync on the live source: every frame carries its own result and the
 * element adds its scoring time to the LATENCY query's minimum */
GST_START_TEST(test_sync_reports_latency)
{
    gchar *path = make_model("sync.safetensors", 3, 3, 0.5);
    gchar *line = g_strdup_printf("inspectionsrc is-live=true num-buffers=8 ! "
                                  "video/x-raw,format=BGRx,width=320,height=240,framerate=30/1 ! "
                                  "skipganomaly name=sg scoring=sync model=\"%s\" ! fakesink name=sink sync=false",
                                  path);
    GstElement *pipe = gst_parse_launch(line, NULL);
    fail_unless(pipe != NULL);
    GstElement *sg = gst_bin_get_by_name(GST_BIN(pipe), "sg");
    fail_if(gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless(m != NULL && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS);
    gst_message_unref(m);

    GstPad *src = gst_element_get_static_pad(sg, "src"), *sink = gst_element_get_static_pad(sg, "sink");
    GstQuery *ours = gst_query_new_latency(), *upstream = gst_query_new_latency();
    fail_unless(gst_pad_query(src, ours));
    fail_unless(gst_pad_peer_query(sink, upstream));
    gboolean live_ours, live_up;
    GstClockTime min_ours, min_up;
    gst_query_parse_latency(ours, &live_ours, &min_ours, NULL);
    gst_query_parse_latency(upstream, &live_up, &min_up, NULL);
    fail_unless(live_ours && live_up);
    fail_unless(min_ours > min_up, "sync scoring adds no latency (%" GST_TIME_FORMAT ")", GST_TIME_ARGS(min_ours));
    guint64 scored = 0, skipped = 1;
    g_object_get(sg, "frames-scored", &scored, "frames-skipped", &skipped, NULL);
    fail_unless_equals_uint64(scored, 8);
    fail_unless_equals_uint64(skipped, 0);
    gst_query_unref(ours);
    gst_query_unref(upstream);
    gst_object_unref(src);
    gst_object_unref(sink);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(sg);
    gst_object_unref(pipe);
    g_free(line);
    g_free(path);
}
GST_END_TEST;

/* A file (not live) gets sync scoring by default: every frame its own result. */
GST_START_TEST(test_file_defaults_to_sync)
{
    gchar *path = make_model("file.safetensors", 3, 5, 0.5);
    LiveRun run = {0};
    gchar *props = g_strdup_printf("model=\"%s\"", path);
    GstStructure *stats = run_live(props, 6, FALSE, &run);
    fail_unless_equals_string(gst_structure_get_string(stats, "scoring"), "sync");
    fail_unless_equals_int(run.metas->len, 6);
    for (guint i = 0; i < run.metas->len; i++) {
        GstStructure *s = g_ptr_array_index(run.metas, i);
        guint64 source = G_MAXUINT64, age = 1;
        fail_unless(gst_structure_get_uint64(s, "result-frame", &source));
        fail_unless(gst_structure_get_uint64(s, "result-age", &age));
        fail_unless_equals_uint64(source, i);
        fail_unless_equals_uint64(age, 0);
    }
    gst_structure_free(stats);
    live_run_clear(&run);
    g_free(props);
    g_free(path);
}
GST_END_TEST;

/* A frame the base class drops for QoS (downstream said it is late) is counted
 * in frames-dropped and in the stats message, never silently lost. */
GST_START_TEST(test_qos_drops_counted)
{
    gchar *path = make_model("qos.safetensors", 3, 2, 0.5);
    gchar *line = g_strdup_printf("skipganomaly name=sg scoring=sync model=\"%s\"", path);
    GstHarness *h = gst_harness_new_parse(line);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    gchar *caps = caps_string(GST_VIDEO_FORMAT_RGB, 32, 32);
    gst_harness_set_src_caps_str(h, caps);
    GstElement *sg = gst_bin_get_by_name(GST_BIN(h->element), "sg");
    /* downstream is 1 s late at 0: frames up to about 2 s are too late to show */
    fail_unless(gst_harness_push_upstream_event(h, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 1.0, GST_SECOND, 0)));
    const GstClockTime pts[2] = {GST_SECOND / 10, 10 * GST_SECOND};
    for (gint i = 0; i < 2; i++) {
        GstBuffer *b = make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, 1 + i);
        GST_BUFFER_PTS(b) = pts[i];
        GST_BUFFER_DURATION(b) = GST_SECOND / 30;
        fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    }
    fail_unless_equals_int(gst_harness_buffers_received(h), 1);
    guint64 dropped = 0, scored = 0;
    g_object_get(sg, "frames-dropped", &dropped, "frames-scored", &scored, NULL);
    fail_unless_equals_uint64(dropped, 1);
    fail_unless_equals_uint64(scored, 1);
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    GstMessage *m = pop_element_message(bus, "skipganomaly-stats");
    fail_unless(m != NULL, "no stats message at EOS");
    fail_unless(gst_structure_get_uint64(gst_message_get_structure(m), "dropped", &dropped));
    fail_unless_equals_uint64(dropped, 1);
    gst_message_unref(m);
    gst_object_unref(sg);
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
    g_free(caps);
    g_free(line);
    g_free(path);
}
GST_END_TEST;

/* ---- several streams in one dispatch ------------------------------------- */

#define BATCH_FRAMES 8

static GstPadProbeReturn score_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    GArray *scores = data;
    SgadAnomalyResult r;
    gdouble score = NAN;
    if (sgad_buffer_get_anomaly_result(GST_PAD_PROBE_INFO_BUFFER(info), &r))
        score = r.score;
    g_array_append_val(scores, score);
    return GST_PAD_PROBE_OK;
}

/* Two streams (different scenes) scored with the same model file; returns
 * each frame's score per stream and the batch counts of the last stats. */
static void run_two_streams(const gchar *model, gboolean batch, GArray *scores[2], guint64 *batches,
                            guint64 *images)
{
    GString *line = g_string_new(NULL);
    for (gint i = 0; i < 2; i++)
        g_string_append_printf(line,
                               "inspectionsrc seed=%d num-buffers=%d ! video/x-raw,format=BGRx,width=64,height=48,"
                               "framerate=30/1 ! skipganomaly name=sg%d model=\"%s\" batch-streams=%s "
                               "batch-timeout=10000 stats-interval=0 ! fakesink sync=false ",
                               3 + i, BATCH_FRAMES, i, model, batch ? "true" : "false");
    GstElement *pipe = gst_parse_launch(line->str, NULL);
    fail_unless(pipe != NULL, "%s", line->str);
    for (gint i = 0; i < 2; i++) {
        gchar *name = g_strdup_printf("sg%d", i);
        GstElement *sg = gst_bin_get_by_name(GST_BIN(pipe), name);
        GstPad *pad = gst_element_get_static_pad(sg, "src");
        scores[i] = g_array_new(FALSE, FALSE, sizeof(gdouble));
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, score_probe, scores[i], NULL);
        gst_object_unref(pad);
        gst_object_unref(sg);
        g_free(name);
    }
    GstBus *bus = gst_element_get_bus(pipe);
    fail_if(gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
    *batches = *images = 0;
    for (;;) {
        GstMessage *m = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND,
                                                   GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
        fail_unless(m != NULL && GST_MESSAGE_TYPE(m) != GST_MESSAGE_ERROR, "no EOS");
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
            gst_message_unref(m);
            break;
        }
        const GstStructure *st = gst_message_get_structure(m);
        if (gst_structure_has_name(st, "skipganomaly-stats")) {
            gst_structure_get_uint64(st, "batches", batches);
            gst_structure_get_uint64(st, "batched-images", images);
        }
        gst_message_unref(m);
    }
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(pipe);
    g_string_free(line, TRUE);
}

/* batch-streams: two streams' frames go through the model in one dispatch
 * each (a long batch-timeout, so each batch waits for both: 8 batches of 2),
 * and every frame's score is the one it gets scored alone. */
GST_START_TEST(test_batch_streams)
{
    gchar *path = make_model("batch.safetensors", 3, 11, 0.5);
    GArray *alone[2], *together[2];
    guint64 batches, images;
    run_two_streams(path, FALSE, alone, &batches, &images);
    fail_unless_equals_uint64(batches, 0);
    run_two_streams(path, TRUE, together, &batches, &images);
    fail_unless_equals_uint64(batches, BATCH_FRAMES);
    fail_unless_equals_uint64(images, 2 * BATCH_FRAMES);
    for (gint i = 0; i < 2; i++) {
        fail_unless_equals_int(alone[i]->len, BATCH_FRAMES);
        fail_unless_equals_int(together[i]->len, BATCH_FRAMES);
        for (guint f = 0; f < BATCH_FRAMES; f++) {
            gdouble a = g_array_index(alone[i], gdouble, f), b = g_array_index(together[i], gdouble, f);
            fail_unless(isfinite(a) && fabs(a - b) <= 1e-5 * fabs(a) + 1e-7,
                        "stream %d frame %u: %.9g alone, %.9g batched", i, f, a, b);
        }
        g_array_unref(alone[i]);
        g_array_unref(together[i]);
    }
    g_free(path);
}
GST_END_TEST;

/* ---- training beside the stream ------------------------------------------- */

typedef struct {
    GMutex lock;
    GCond cond;
    guint passed;          /* frames that left the element */
    guint needed;          /* the training waits for this many in its first step */
    gboolean flowed;       /* they all passed while the training ran */
    guint passed_training; /* frames passed when the first training step gave up waiting */
    gboolean complete_seen;
    gboolean file_at_eos, complete_before_eos;
    const gchar *path;
} TrainRun;

static GstPadProbeReturn train_output_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    (void)pad;
    TrainRun *t = data;
    g_mutex_lock(&t->lock);
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        t->passed++;
        g_cond_broadcast(&t->cond);
    } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
        t->file_at_eos = g_file_test(t->path, G_FILE_TEST_EXISTS);
        t->complete_before_eos = t->complete_seen;
    }
    g_mutex_unlock(&t->lock);
    return GST_PAD_PROBE_OK;
}

/* On the training's thread: its first step waits until every frame of the
 * stream has left the element (the old in-stream training could not pass one
 * while it trained, so this would time out). */
static GstBusSyncReply train_sync_handler(GstBus *bus, GstMessage *m, gpointer data)
{
    (void)bus;
    TrainRun *t = data;
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_PROGRESS)
        return GST_BUS_PASS;
    GstProgressType type;
    gst_message_parse_progress(m, &type, NULL, NULL);
    g_mutex_lock(&t->lock);
    if (type == GST_PROGRESS_TYPE_CONTINUE && !t->flowed) {
        gint64 until = g_get_monotonic_time() + 60 * G_TIME_SPAN_SECOND;
        while (t->passed < t->needed)
            if (!g_cond_wait_until(&t->cond, &t->lock, until))
                break;
        t->flowed = t->passed >= t->needed;
        t->passed_training = t->passed;
    } else if (type == GST_PROGRESS_TYPE_COMPLETE) {
        t->complete_seen = TRUE;
    }
    g_mutex_unlock(&t->lock);
    return GST_BUS_PASS;
}

GST_START_TEST(test_train_full_keeps_flowing)
{
    TrainRun t = {0};
    g_mutex_init(&t.lock);
    g_cond_init(&t.cond);
    gchar *path = g_build_filename(test_dir(), "live-trained.safetensors", NULL);
    t.path = path;
    t.needed = 40;
    gchar *line = g_strdup_printf("inspectionsrc num-buffers=40 ! video/x-raw,format=BGRx,width=64,height=48,"
                                  "framerate=30/1 ! skipganomaly name=sg mode=train train-on=full train-frames=12 "
                                  "epochs=1 batch-size=8 width=0.25 model=\"%s\" ! fakesink sync=false",
                                  path);
    GstElement *pipe = gst_parse_launch(line, NULL);
    fail_unless(pipe != NULL);
    GstElement *sg = gst_bin_get_by_name(GST_BIN(pipe), "sg");
    GstPad *out = gst_element_get_static_pad(sg, "src");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, train_output_probe, &t,
                      NULL);
    GstBus *bus = gst_element_get_bus(pipe);
    gst_bus_set_sync_handler(bus, train_sync_handler, &t, NULL);
    fail_if(gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 300 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless(m != NULL && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS, "the training run did not end with EOS");
    gst_message_unref(m);
    fail_unless(t.flowed, "frames stopped while the training ran (%u of %u passed)", t.passed_training, t.needed);
    fail_unless_equals_int(t.passed, 40);
    fail_unless(t.file_at_eos, "EOS went downstream before the checkpoint existed");
    fail_unless(t.complete_before_eos, "EOS went downstream before the training completed");
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_bus_set_sync_handler(bus, NULL, NULL, NULL);
    gst_object_unref(bus);
    gst_object_unref(out);
    gst_object_unref(sg);
    gst_object_unref(pipe);
    g_free(line);
    g_free(path);
    g_mutex_clear(&t.lock);
    g_cond_clear(&t.cond);
}
GST_END_TEST;

static void teardown(void)
{
    test_device_check();
    test_dir_remove();
}

static Suite *live_suite(void)
{
    Suite *s = suite_create("skipganomaly-live");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, teardown);
    ADD_TEST(tc, test_live_async_bundled);
    ADD_TEST(tc, test_live_async_width1);
    ADD_TEST(tc, test_sync_reports_latency);
    ADD_TEST(tc, test_file_defaults_to_sync);
    ADD_TEST(tc, test_train_full_keeps_flowing);
    ADD_TEST(tc, test_batch_streams);
    ADD_TEST(tc, test_qos_drops_counted);
    suite_add_tcase(s, tc);
    return s;
}

SKIPGANOMALY_TEST_MAIN(live_suite)
