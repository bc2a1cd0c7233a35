/* skipganomaly mode=train on a short synthetic stream: frames pass untouched,
 * the reservoir keeps at most train-frames, progress is reported, and EOS
 * leaves the element only after a calibrated checkpoint is on disk; a training
 * that diverges stops with an error and leaves the last checkpoint loadable. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sgad/anomalymeta.h>
#include "common.h"

static gboolean file_at_eos;

/* A harness around a parsed training line, its messages on *bus, fed RGB
 * frames of width x height at 30 fps. */
static GstHarness *training_harness(const gchar *line, gint width, gint height, GstBus **bus)
{
    GstHarness *h = gst_harness_new_parse(line);
    *bus = gst_bus_new();
    gst_element_set_bus(h->element, *bus);
    gchar *caps = g_strdup_printf("video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1", width, height);
    gst_harness_set_src_caps_str(h, caps);
    g_free(caps);
    return h;
}

/* Frames 0..count-1 in, each passed on. */
/* The harness and the bus that training_harness made, released. */
static void training_harness_teardown(GstHarness *h, GstBus *bus)
{
    gst_element_set_bus(h->element, NULL);
    gst_object_unref(bus);
    gst_harness_teardown(h);
}

static void push_frames(GstHarness *h, gint width, gint height, guint count)
{
    for (guint i = 0; i < count; i++) {
        fail_unless_equals_int(gst_harness_push(h, make_frame(GST_VIDEO_FORMAT_RGB, width, height, i)), GST_FLOW_OK);
        gst_buffer_unref(gst_harness_pull(h));
    }
}

/* The next PROGRESS message left on the bus: its type and text (g_free);
 * FALSE when none is left. An error message on the way fails the test. */
static gboolean pop_progress(GstBus *bus, GstProgressType *type, gchar **text)
{
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_PROGRESS | GST_MESSAGE_ERROR);
    if (!m)
        return FALSE;
    fail_if(GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR, "training posted an error");
    gchar *code;
    gst_message_parse_progress(m, type, &code, text);
    g_free(code);
    gst_message_unref(m);
    return TRUE;
}

/* The element of `line` trained on 20 frames of 48x40 (2 held out), to the EOS
 * that starts the training; the caller reads the bus, then tears down. */
static GstHarness *train_on_20_frames(const gchar *line, GstBus **bus)
{
    GstHarness *h = training_harness(line, 48, 40, bus);
    push_frames(h, 48, 40, 20);
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    return h;
}

/* The training steps the bus reported (PROGRESS continue), each of whose text
 * must end with `suffix` when it is not NULL. */
static guint reported_steps(GstBus *bus, const gchar *suffix)
{
    guint steps = 0;
    GstProgressType type;
    gchar *text;
    while (pop_progress(bus, &type, &text)) {
        if (type == GST_PROGRESS_TYPE_CONTINUE) {
            fail_unless(!suffix || g_str_has_suffix(text, suffix), "continue: %s", text);
            steps++;
        }
        g_free(text);
    }
    return steps;
}

static GstPadProbeReturn eos_probe(GstPad *pad, GstPadProbeInfo *info, gpointer path)
{
    (void)pad;
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
        file_at_eos = g_file_test(path, G_FILE_TEST_EXISTS);
    return GST_PAD_PROBE_OK;
}

/* Run 40 frames through; train-frames 12 with batch 8: 1 held out for
 * calibration, one step of 8 (the rest of the batch dropped). */
static void run_training(const gchar *train_on, guint expect_seen)
{
    gchar *path = g_build_filename(test_dir(), "trained.safetensors", NULL);
    gchar *line = g_strdup_printf("skipganomaly name=sg mode=train model=\"%s\" epochs=1 batch-size=8 "
                                  "train-frames=12 input-size=32 train-on=%s",
                                  path, train_on);
    GstBus *bus;
    GstHarness *h = training_harness(line, 48, 40, &bus);
    GstElement *sg = gst_bin_get_by_name(GST_BIN(h->element), "sg");
    GstPad *src = gst_element_get_static_pad(sg, "src");
    file_at_eos = FALSE;
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, eos_probe, path, NULL);

    for (guint i = 0; i < 40; i++) {
        GstBuffer *in = make_frame(GST_VIDEO_FORMAT_RGB, 48, 40, i);
        GstBuffer *copy = gst_buffer_copy_deep(in);
        fail_unless_equals_int(gst_harness_push(h, in), GST_FLOW_OK);
        GstBuffer *out = gst_harness_pull(h);
        SgadAnomalyResult r;
        fail_if(sgad_buffer_get_anomaly_result(out, &r), "train mode attaches no result");
        GstMapInfo a, b;
        gst_buffer_map(copy, &a, GST_MAP_READ);
        gst_buffer_map(out, &b, GST_MAP_READ);
        fail_unless(a.size == b.size && memcmp(a.data, b.data, a.size) == 0, "frame %u changed", i);
        gst_buffer_unmap(copy, &a);
        gst_buffer_unmap(out, &b);
        gst_buffer_unref(copy);
        gst_buffer_unref(out);
    }
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    fail_unless(file_at_eos, "EOS went downstream before the checkpoint existed");
    /* progress: START naming the sample, CONTINUE per step, COMPLETE */
    GstMessage *m;
    guint starts = 0, steps = 0, completes = 0, warnings = 0;
    while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_PROGRESS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
        fail_if(GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR, "training posted an error");
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) { /* 1 held-out frame cannot make a 0.995 quantile */
            GError *err = NULL;
            gst_message_parse_warning(m, &err, NULL);
            fail_unless(strstr(err->message, "Only 1 of the 12 training frames are held out") != NULL, "warning: %s",
                        err->message);
            g_error_free(err);
            gst_message_unref(m);
            warnings++;
            continue;
        }
        GstProgressType type;
        gchar *code, *text;
        gst_message_parse_progress(m, &type, &code, &text);
        fail_unless_equals_string(code, "training");
        if (type == GST_PROGRESS_TYPE_START) {
            gchar *want = g_strdup_printf("training on 12 of %u frames", expect_seen);
            fail_unless(strstr(text, want) != NULL, "start: %s (want %s)", text, want);
            g_free(want);
            starts++;
        } else if (type == GST_PROGRESS_TYPE_CONTINUE) {
            /* one held-out frame: no held-out loss (batch statistics need 2) */
            fail_unless(g_str_has_prefix(text, "epoch 1/1 step 1/1: step 1/1, ") &&
                            strstr(text, " steps/s, 0:00 left, con ") && strstr(text, " held-out -, G "),
                        "continue: %s", text);
            steps++;
        } else if (type == GST_PROGRESS_TYPE_COMPLETE) {
            fail_unless(strstr(text, path) != NULL, "complete: %s", text);
            completes++;
        }
        g_free(code);
        g_free(text);
        gst_message_unref(m);
    }
    fail_unless_equals_int(starts, 1);
    fail_unless_equals_int(steps, 1);
    fail_unless_equals_int(completes, 1);
    fail_unless_equals_int(warnings, 1);

    /* the checkpoint loads, has the requested geometry and is calibrated */
    sg_model *model = NULL;
    fail_unless(sg_model_load(test_device(), path, &model) == SG_OK, "%s", sg_error_message());
    const sg_model_config *c = sg_model_get_config(model);
    fail_unless_equals_int(c->size, 32);
    fail_unless_equals_int(c->channels, 3);
    const sg_calibration *cal = sg_model_calibration(model);
    fail_unless(cal->valid, "the trained checkpoint is calibrated");
    fail_unless_equals_int(cal->samples, 1);
    fail_unless(isfinite(cal->threshold));
    fail_unless_equals_int(sg_model_training_state(model)->epoch, 1);
    sg_model_destroy(model);

    gst_object_unref(src);
    gst_object_unref(sg);
    training_harness_teardown(h, bus);
    g_free(line);
    g_free(path);
    test_device_check();
}

GST_START_TEST(test_train_on_eos)
{
    /* 40 frames seen, a uniform 12 of them kept */
    run_training("eos", 40);
}
GST_END_TEST;

/* drop-skips=1,2 adversarial=false score-lambda=1: the checkpoint is a model
 * without its upper skips, scored on the reconstruction alone, calibrated; the
 * steps say the discriminator was not trained (its loss is not measured: 0);
 * steps=3 trains the whole epochs that take. */
GST_START_TEST(test_train_reconstruction_only)
{
    gchar *path = g_build_filename(test_dir(), "recon.safetensors", NULL);
    gchar *line = g_strdup_printf("skipganomaly name=sg mode=train model=\"%s\" steps=3 batch-size=8 "
                                  "train-frames=20 input-size=32 width=0.25 drop-skips=1,2 adversarial=false "
                                  "score-lambda=1 learning-rate=0.001", path);
    GstBus *bus;
    GstHarness *h = train_on_20_frames(line, &bus);
    /* 2 of the 20 held out: 18 frames, 2 steps of 8 an epoch; steps=3 takes 2 whole epochs */
    fail_unless_equals_int(reported_steps(bus, " D 0"), 4);
    sg_model *model = NULL;
    fail_unless(sg_model_load(test_device(), path, &model) == SG_OK, "%s", sg_error_message());
    fail_unless_equals_int(sg_model_get_config(model)->dropped_skips, 3);
    fail_unless_equals_float(sg_model_score_lambda(model), 1.0f);
    fail_unless(sg_model_calibration(model)->valid, "the checkpoint is calibrated");
    fail_unless_equals_int(sg_model_training_state(model)->d_reinits, 0);
    sg_model_destroy(model);
    training_harness_teardown(h, bus);
    g_free(line);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* steps=100 with epochs=1: the epochs win (2 steps of 8 on 18 frames), and
 * without them the default counts steps, not epochs: 400 steps of 16 on 18
 * kept frames would be 400 epochs; steps=3 takes 3 epochs of one step. */
GST_START_TEST(test_train_epochs_win_over_steps)
{
    const gchar *settings[] = {"epochs=1 steps=100 batch-size=8", "steps=3"};
    const guint want[] = {2, 3};
    for (int k = 0; k < 2; k++) {
        gchar *path = g_build_filename(test_dir(), "epochs.safetensors", NULL);
        gchar *line = g_strdup_printf("skipganomaly mode=train model=\"%s\" train-frames=20 input-size=32 %s "
                                      "eval-interval=0", path, settings[k]);
        GstBus *bus;
        GstHarness *h = train_on_20_frames(line, &bus);
        fail_unless_equals_int(reported_steps(bus, NULL), want[k]);
        training_harness_teardown(h, bus);
        g_free(line);
        g_free(path);
    }
    test_device_check();
}
GST_END_TEST;

GST_START_TEST(test_train_on_full)
{
    /* trains at the 12th frame; the remaining 28 pass through untouched */
    run_training("full", 12);
}
GST_END_TEST;

/* Train with learning-rate 1e6: the first step's update leaves every weight
 * about 1e6 off, so the second step's losses are NaN. 9 frames with batch 8 (1
 * held out) make one step per epoch: epoch 1 completes, epoch 2 diverges.
 * Returns the element's error message (g_free). */
static gchar *train_until_nan(const gchar *path, guint save_interval)
{
    gchar *line = g_strdup_printf("skipganomaly mode=train model=\"%s\" epochs=3 batch-size=8 train-frames=9 "
                                  "input-size=32 learning-rate=1e6 save-interval=%u",
                                  path, save_interval);
    GstBus *bus;
    GstHarness *h = training_harness(line, 32, 32, &bus);
    push_frames(h, 32, 32, 9);
    /* EOS runs the training; it fails, so the element does not forward the EOS */
    fail_if(gst_harness_push_event(h, gst_event_new_eos()), "EOS went through a diverged training");

    GstMessage *m;
    gchar *error = NULL;
    guint steps = 0, failed = 0;
    while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_PROGRESS | GST_MESSAGE_ERROR))) {
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
            GError *err = NULL;
            gchar *dbg = NULL;
            gst_message_parse_error(m, &err, &dbg);
            fail_unless(g_error_matches(err, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED), "%s", err->message);
            fail_unless(error == NULL, "a second error: %s", err->message);
            /* the details name the step and the losses */
            fail_unless(dbg && strstr(dbg, "not finite"), "debug: %s", dbg);
            error = g_strdup(err->message);
            g_error_free(err);
            g_free(dbg);
        } else {
            GstProgressType type;
            gchar *code, *text;
            gst_message_parse_progress(m, &type, &code, &text);
            steps += type == GST_PROGRESS_TYPE_CONTINUE;
            failed += type == GST_PROGRESS_TYPE_ERROR;
            g_free(code);
            g_free(text);
        }
        gst_message_unref(m);
    }
    /* the step of epoch 1 was reported; epoch 2's is the failed one */
    fail_unless_equals_int(steps, 1);
    fail_unless_equals_int(failed, 1);
    fail_unless(error != NULL, "no element error");
    fail_unless(strstr(error, "diverged in epoch 2") && strstr(error, "lower the learning-rate (now 1e+06)") &&
                    strstr(error, path),
                "error: %s", error);

    training_harness_teardown(h, bus);
    g_free(line);
    return error;
}

/* Names in the test folder besides `keep` (sg_model_save writes a temporary file and renames it). */
static guint other_files(const gchar *keep)
{
    GDir *d = g_dir_open(test_dir(), 0, NULL);
    const gchar *name;
    guint n = 0;
    while ((name = g_dir_read_name(d)))
        n += g_strcmp0(name, keep) != 0;
    g_dir_close(d);
    return n;
}

GST_START_TEST(test_train_diverges)
{
    /* save-interval 1: epoch 1's checkpoint is on disk, beside the model path,
     * when epoch 2 diverges; the model path itself is never written */
    gchar *path = g_build_filename(test_dir(), "diverged.safetensors", NULL);
    gchar *partial = g_strconcat(path, ".partial", NULL);
    gchar *error = train_until_nan(path, 1);
    fail_unless(strstr(error, "diverged.safetensors.partial\" keeps the checkpoint of epoch 1"), "error: %s", error);
    fail_if(g_file_test(path, G_FILE_TEST_EXISTS), "an unfinished training wrote the model path");
    /* ...and it is the one left: it loads (no NaN in it) and is epoch 1's */
    sg_model *model = NULL;
    fail_unless(sg_model_load(test_device(), partial, &model) == SG_OK, "%s", sg_error_message());
    fail_unless_equals_int(sg_model_training_state(model)->epoch, 1);
    fail_if(sg_model_calibration(model)->valid, "calibration runs only at the end");
    sg_model_destroy(model);
    fail_unless_equals_int(other_files("diverged.safetensors.partial"), 0);
    g_free(error);
    g_free(partial);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

GST_START_TEST(test_train_diverges_before_checkpoint)
{
    /* save-interval 2: epoch 2 diverges before the first save, and the file a
     * previous run left at the path stays as it was, byte for byte */
    gchar *path = make_model("previous.safetensors", 3, 7, 0.5);
    gchar *before = NULL, *after = NULL;
    gsize before_len = 0, after_len = 0;
    fail_unless(g_file_get_contents(path, &before, &before_len, NULL));
    gchar *error = train_until_nan(path, 2);
    fail_unless(strstr(error, "before its first checkpoint") && strstr(error, "was not written"), "error: %s",
                error);
    fail_unless(g_file_get_contents(path, &after, &after_len, NULL));
    fail_unless(before_len == after_len && memcmp(before, after, before_len) == 0, "the previous file changed");
    fail_unless_equals_int(other_files("previous.safetensors"), 0);
    g_free(before);
    g_free(after);
    g_free(error);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

typedef struct {
    GstElement *pipeline;
    gchar *partial;
} Stopper;

/* Ctrl-C without -e: once the first intermediate checkpoint exists, take the
 * pipeline to NULL while it trains. */
static gpointer stop_when_saved(gpointer data)
{
    Stopper *st = data;
    for (guint i = 0; i < 6000 && !g_file_test(st->partial, G_FILE_TEST_EXISTS); i++)
        g_usleep(50 * 1000);
    gst_element_set_state(st->pipeline, GST_STATE_NULL);
    return NULL;
}

/* A train-on=full training stopped mid-way (issue 13) replaced the calibrated
 * model at the path with a 3-step uncalibrated one. Now the path keeps its
 * bytes, the unfinished state is beside it in PATH.partial, and the pipeline
 * ends with an error that says where. */
GST_START_TEST(test_train_interrupted)
{
    gchar *path = make_model("previous.safetensors", 3, 7, 0.5);
    gchar *before = NULL, *after = NULL;
    gsize before_len = 0, after_len = 0;
    fail_unless(g_file_get_contents(path, &before, &before_len, NULL));
    gchar *line = g_strdup_printf("skipganomaly mode=train model=\"%s\" epochs=100000 batch-size=8 train-frames=9 "
                                  "input-size=32 train-on=full save-interval=1", path);
    GstBus *bus;
    GstHarness *h = training_harness(line, 32, 32, &bus);
    Stopper st = {h->element, g_strconcat(path, ".partial", NULL)};
    GThread *stopper = g_thread_new("stopper", stop_when_saved, &st);
    /* the 9th frame fills the reservoir and trains until the stopper stops it */
    for (guint i = 0; i < 9; i++) {
        GstFlowReturn ret = gst_harness_push(h, make_frame(GST_VIDEO_FORMAT_RGB, 32, 32, i));
        if (i < 8) {
            fail_unless_equals_int(ret, GST_FLOW_OK);
            gst_buffer_unref(gst_harness_pull(h));
        }
    }
    g_thread_join(stopper);

    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != NULL, "an interrupted training posted no error");
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    fail_unless(strstr(err->message, st.partial) && strstr(err->message, "was not replaced"), "%s", err->message);
    g_error_free(err);
    gst_message_unref(m);
    fail_unless(g_file_get_contents(path, &after, &after_len, NULL));
    fail_unless(before_len == after_len && memcmp(before, after, before_len) == 0, "the previous model changed");
    sg_model *model = NULL;
    fail_unless(sg_model_load(test_device(), st.partial, &model) == SG_OK, "%s", sg_error_message());
    fail_unless(sg_model_training_state(model)->epoch >= 1);
    fail_if(sg_model_calibration(model)->valid, "the unfinished state is not calibrated");
    sg_model_destroy(model);

    training_harness_teardown(h, bus);
    g_free(st.partial);
    g_free(before);
    g_free(after);
    g_free(line);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

/* The schedule's properties reach the training, and the PROGRESS messages say
 * what tells a user it works (issue 12): every step its number of the planned
 * ones, the speed and the time left, the reconstruction loss on training and
 * held-out frames (every eval-interval steps), the warm-up's ramp; with a
 * patience, the model saved is the step with the lowest held-out loss. */
GST_START_TEST(test_train_schedule)
{
    gchar *path = g_build_filename(test_dir(), "schedule.safetensors", NULL);
    /* 20 frames: 2 held out, 18 to train, 4 steps of 4 an epoch, 8 steps */
    gchar *line = g_strdup_printf("skipganomaly name=sg mode=train model=\"%s\" epochs=2 batch-size=4 "
                                  "train-frames=20 input-size=32 width=0.25 learning-rate=0.002 warmup-steps=2 "
                                  "eval-interval=2 patience=3", path);
    GstBus *bus;
    GstHarness *h = train_on_20_frames(line, &bus);
    guint64 last_step = 0, best_step = 0;
    gdouble best = INFINITY;
    gchar *complete = NULL;
    GstProgressType type;
    gchar *text;
    while (pop_progress(bus, &type, &text)) {
        if (type == GST_PROGRESS_TYPE_CONTINUE) {
            guint e, es, k, ks;
            guint64 step, steps;
            gdouble speed, con, held = NAN;
            gchar left[32];
            gint n = sscanf(text, "epoch %u/%u step %u/%u: step %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
                            ", %lf steps/s, %31[0-9:] left, con %lf held-out %lf", &e, &es, &k, &ks, &step, &steps,
                            &speed, left, &con, &held);
            fail_unless(n >= 9 && es == 2 && ks == 4 && step == last_step + 1 && steps == 8 && speed > 0 &&
                            con > 0 && con < 2,
                        "continue: %s", text);
            /* measured after every 2nd step; the warm-up ramps over steps 0 and 1 */
            fail_unless((n == 10) == (step >= 2), "held-out loss from step 2 on: %s", text);
            fail_unless((step == 1) == (strstr(text, "warm-up 0.00") != NULL) &&
                            (step == 2) == (strstr(text, "warm-up 0.50") != NULL),
                        "the warm-up's ramp: %s", text);
            if (step % 2 == 0 && step > 2 && held < best) { /* a measurement after the warm-up */
                best = held;
                best_step = step;
            }
            last_step = step;
        } else if (type == GST_PROGRESS_TYPE_COMPLETE) {
            complete = g_strdup(text);
        }
        g_free(text);
    }
    fail_unless(complete != NULL, "no COMPLETE message");
    fail_unless(last_step == 8 || strstr(complete, "stopped early"), "%" G_GUINT64_FORMAT " steps: %s",
                last_step, complete);
    gchar *want = g_strdup_printf("%.4f", best);
    fail_unless(strstr(complete, want) != NULL, "the best held-out loss %s is in: %s", want, complete);
    g_free(want);
    sg_model *model = NULL;
    fail_unless(sg_model_load(test_device(), path, &model) == SG_OK, "%s", sg_error_message());
    fail_unless(sg_model_training_state(model)->step == best_step && sg_model_calibration(model)->valid,
                "saved step %" G_GUINT64_FORMAT ", the best measured was step %" G_GUINT64_FORMAT " (%s)",
                sg_model_training_state(model)->step, best_step, complete);
    sg_model_destroy(model);
    g_free(complete);
    training_harness_teardown(h, bus);
    g_free(line);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

static Suite *skipganomaly_train_suite(void)
{
    Suite *s = suite_create("skipganomaly-train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    suite_add_tcase(s, tc);
    ADD_TEST(tc, test_train_on_eos);
    ADD_TEST(tc, test_train_on_full);
    ADD_TEST(tc, test_train_reconstruction_only);
    ADD_TEST(tc, test_train_epochs_win_over_steps);
    ADD_TEST(tc, test_train_diverges);
    ADD_TEST(tc, test_train_diverges_before_checkpoint);
    ADD_TEST(tc, test_train_interrupted);
    ADD_TEST(tc, test_train_schedule);
    return s;
}

SKIPGANOMALY_TEST_MAIN(skipganomaly_train_suite)
