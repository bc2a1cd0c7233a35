/* skipganomaly in real gst-launch-1.0 pipelines (a child process, as users run
 * it), and repeated state cycles in this process. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Run gst-launch-1.0 with `pipeline`; returns its exit status, output in *out. */
static gint launch(const gchar *pipeline, gchar **out)
{
    gchar *cmd = g_strdup_printf("%s -m %s", GST_LAUNCH, pipeline);
    gchar *so = NULL, *se = NULL;
    gint status = -1;
    GError *err = NULL;
    fail_unless(g_spawn_command_line_sync(cmd, &so, &se, &status, &err), "%s", err ? err->message : "");
    *out = g_strconcat(so, se, NULL);
    GST_INFO("%s\n%s", cmd, *out);
    g_free(so);
    g_free(se);
    g_free(cmd);
    return status;
}

GST_START_TEST(test_launch_score)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5), *out = NULL;
    gchar *p = g_strdup_printf("videotestsrc num-buffers=2 ! video/x-raw,format=NV12,width=64,height=48 ! "
                               "skipganomaly model=%s post-messages=true tiles=2 ! fakesink",
                               path);
    gint status = launch(p, &out);
    fail_unless(g_spawn_check_wait_status(status, NULL), "gst-launch failed:\n%s", out);
    /* one element message per frame, from the element, with its fields */
    const gchar *m1 = strstr(out, "skipganomaly, timestamp=");
    fail_unless(m1 != NULL, "no skipganomaly message:\n%s", out);
    fail_unless(strstr(m1 + 1, "skipganomaly, timestamp=") != NULL, "second frame's message missing");
    fail_unless(strstr(m1, "score=(double)") && strstr(m1, "anomalous=(boolean)") && strstr(m1, "frame=(guint64)0"));
    g_free(out);
    g_free(p);
    g_free(path);
}
GST_END_TEST;

/* The scores of the "skipganomaly" messages in gst-launch -m's output, in order. */
static GArray *message_scores(const gchar *out)
{
    GArray *scores = g_array_new(FALSE, FALSE, sizeof(gdouble));
    for (const gchar *m = strstr(out, "skipganomaly, timestamp="); m; m = strstr(m + 1, "skipganomaly, timestamp=")) {
        const gchar *sc = strstr(m, "score=(double)");
        fail_unless(sc != NULL, "a message without a score:\n%s", out);
        gdouble v = g_ascii_strtod(sc + strlen("score=(double)"), NULL);
        g_array_append_val(scores, v);
    }
    return scores;
}

/* A real file (Motion-JPEG in AVI, 7 frames: not a multiple of 4) through
 * score-batch=4 and 1: every frame scored, the same scores, the last 3 by EOS. */
GST_START_TEST(test_launch_score_batch)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5), *out = NULL;
    gchar *avi = g_build_filename(test_dir(), "clip.avi", NULL);
    gchar *p = g_strdup_printf("videotestsrc num-buffers=7 pattern=ball ! video/x-raw,width=64,height=48 ! "
                               "jpegenc ! avimux ! filesink location=%s",
                               avi);
    gint status = launch(p, &out);
    fail_unless(g_spawn_check_wait_status(status, NULL), "could not write the AVI:\n%s", out);
    g_free(out);
    g_free(p);
    GArray *scores[2];
    const guint batches[2] = {1, 4};
    for (gint i = 0; i < 2; i++) {
        p = g_strdup_printf("filesrc location=%s ! avidemux ! jpegdec ! videoconvert ! queue ! skipganomaly "
                            "model=%s post-messages=true score-batch=%u ! fakesink sync=false",
                            avi, path, batches[i]);
        status = launch(p, &out);
        fail_unless(g_spawn_check_wait_status(status, NULL), "gst-launch failed:\n%s", out);
        scores[i] = message_scores(out);
        fail_unless_equals_int(scores[i]->len, 7);
        fail_unless(strstr(out, "frame=(guint64)6") != NULL, "no message for the last frame:\n%s", out);
        g_free(out);
        g_free(p);
    }
    for (guint f = 0; f < 7; f++) {
        gdouble a = g_array_index(scores[0], gdouble, f), b = g_array_index(scores[1], gdouble, f);
        fail_unless(isfinite(a) && fabs(a - b) <= 1e-5 * fabs(a) + 1e-6, "frame %u: %.9g vs %.9g batched", f, a, b);
    }
    g_array_unref(scores[0]);
    g_array_unref(scores[1]);
    g_free(avi);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_launch_unsupported_caps)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5), *out = NULL;
    gchar *p = g_strdup_printf("videotestsrc num-buffers=1 ! video/x-raw,format=UYVY ! skipganomaly model=%s ! "
                               "fakesink",
                               path);
    gint status = launch(p, &out);
    fail_if(g_spawn_check_wait_status(status, NULL), "UYVY was accepted:\n%s", out);
    /* gst-launch names the element and the caps it could not take */
    fail_unless(strstr(out, "skipganomaly") && strstr(out, "UYVY"), "unclear failure:\n%s", out);
    g_free(out);
    g_free(p);
    g_free(path);
}
GST_END_TEST;

GST_START_TEST(test_launch_missing_model)
{
    gchar *out = NULL;
    gchar *path = g_build_filename(test_dir(), "missing.safetensors", NULL);
    gchar *p = g_strdup_printf("videotestsrc num-buffers=1 ! skipganomaly model=%s ! fakesink", path);
    gint status = launch(p, &out);
    fail_if(g_spawn_check_wait_status(status, NULL));
    fail_unless(strstr(out, path) && strstr(out, "does not exist"), "the error names the file:\n%s", out);
    g_free(out);
    g_free(p);
    g_free(path);
}
GST_END_TEST;

/* NULL -> PLAYING -> NULL 20 times: the model, scorer and device pool entry
 * are created and released each time, with the validation layer on (the leak
 * check of this path, 100 cycles under LeakSanitizer, is test_leak.c). */
GST_START_TEST(test_state_cycles)
{
    gchar *path = make_model("rgb.safetensors", 3, 1, 0.5);
    GstElement *e = gst_element_factory_make("skipganomaly", NULL);
    g_object_set(e, "model", path, NULL);
    for (gint i = 0; i < 20; i++) {
        fail_unless(gst_element_set_state(e, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE, "cycle %d", i);
        fail_unless_equals_int(gst_element_set_state(e, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    }
    gst_object_unref(e);
    g_free(path);
    test_device_check();
}
GST_END_TEST;

static Suite *skipganomaly_pipelines_suite(void)
{
    Suite *s = suite_create("skipganomaly-pipelines");
    TCase *tc = tcase_create("pipelines");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    tcase_add_checked_fixture(tc, NULL, test_dir_remove);
    suite_add_tcase(s, tc);
    ADD_TEST(tc, test_launch_score);
    ADD_TEST(tc, test_launch_score_batch);
    ADD_TEST(tc, test_launch_unsupported_caps);
    ADD_TEST(tc, test_launch_missing_model);
    ADD_TEST(tc, test_state_cycles);
    return s;
}

SKIPGANOMALY_TEST_MAIN(skipganomaly_pipelines_suite)
