/* anomalyexport: every line parses back (json-glib) with the documented fields,
 * skip-unscored drops frames without a score, the summary message and line
 * carry the counts and the AUC, an unwritable location fails at start naming
 * the file. The AUC itself (the engine's sg_metrics_compute) is tested in
 * tests/test_metrics.c. */
#include <math.h>

#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>

#include <sgad/anomalymeta.h>


/* --- the element -------------------------------------------------------------- */

typedef struct {
    gchar *dir, *path;
    GstHarness *h;
    GstBus *bus;
} Fixture;

static Fixture setup(const gchar *first_prop, ...)
{
    Fixture f;
    f.dir = g_dir_make_tmp("anomalyexport-XXXXXX", NULL);
    fail_unless(f.dir != NULL);
    f.path = g_build_filename(f.dir, "out.jsonl", NULL);
    GstElement *e = gst_element_factory_make("anomalyexport", NULL);
    fail_unless(e != NULL);
    g_object_set(e, "location", f.path, NULL);
    va_list args;
    va_start(args, first_prop);
    if (first_prop)
        g_object_set_valist(G_OBJECT(e), first_prop, args);
    va_end(args);
    f.bus = gst_bus_new();
    gst_element_set_bus(e, f.bus);
    f.h = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=4,height=4,framerate=30/1");
    return f;
}

static void teardown(Fixture *f)
{
    gst_harness_teardown(f->h);
    gst_object_unref(f->bus);
    g_unlink(f->path);
    g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
}

static void push_frame(Fixture *f, GstClockTime pts, gboolean scored, gdouble score, gint truth, const gchar *defect)
{
    GstBuffer *b = gst_buffer_new_allocate(NULL, 16, NULL);
    GST_BUFFER_PTS(b) = pts;
    if (scored) {
        SgadAnomalyResult r = {.score = score, .threshold = 0.5, .anomalous = score > 0.5};
        sgad_buffer_set_anomaly_result(b, &r);
    }
    if (truth >= 0)
        sgad_buffer_set_anomaly_truth(b, truth, defect);
    fail_unless_equals_int(gst_harness_push(f->h, b), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(f->h)); /* passthrough: the buffer comes out */
}

/* frames 0 unscored and unlabelled, 1 truth only, 2..5 scored and labelled */
static const gdouble scores[] = {0.1, 0.4, 0.35, 0.8};
static const gint truths[] = {0, 0, 1, 1};

static void push_all(Fixture *f)
{
    push_frame(f, 0, FALSE, 0, -1, NULL);
    push_frame(f, GST_CLOCK_TIME_NONE, FALSE, 0, 1, "spot");
    for (int i = 0; i < 4; i++)
        push_frame(f, (2 + i) * 1000, TRUE, scores[i], truths[i], truths[i] ? "scratch" : NULL);
    fail_unless(gst_harness_push_event(f->h, gst_event_new_eos()));
}

static JsonObject *parse_line(const gchar *line)
{
    JsonParser *p = json_parser_new();
    GError *err = NULL;
    fail_unless(json_parser_load_from_data(p, line, -1, &err), "not JSON: %s (%s)", line,
                err ? err->message : "");
    JsonNode *root = json_parser_get_root(p);
    fail_unless(JSON_NODE_HOLDS_OBJECT(root), "not an object: %s", line);
    JsonObject *o = json_object_ref(json_node_get_object(root));
    g_object_unref(p);
    return o;
}

static gchar **read_lines(const gchar *path)
{
    gchar *text = NULL;
    fail_unless(g_file_get_contents(path, &text, NULL, NULL));
    fail_unless(g_str_has_suffix(text, "\n"), "the file does not end with a newline");
    text[strlen(text) - 1] = '\0';
    gchar **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    return lines;
}

static gboolean member_is_null(JsonObject *o, const gchar *name)
{
    return json_object_has_member(o, name) && JSON_NODE_HOLDS_NULL(json_object_get_member(o, name));
}

GST_START_TEST(test_lines_and_summary)
{
    Fixture f = setup("summary", TRUE, NULL);
    push_all(&f);

    gchar **lines = read_lines(f.path);
    fail_unless_equals_int(g_strv_length(lines), 7); /* 6 frames + the summary */
    for (int i = 0; i < 6; i++) {
        JsonObject *o = parse_line(lines[i]);
        fail_unless_equals_int(json_object_get_int_member(o, "frame"), i);
        if (i == 1)
            fail_unless(member_is_null(o, "pts"));
        else
            fail_unless_equals_int(json_object_get_int_member(o, "pts"), i == 0 ? 0 : i * 1000);
        if (i < 2) {
            fail_unless(member_is_null(o, "score") && member_is_null(o, "threshold") &&
                        member_is_null(o, "anomalous"));
        } else {
            fail_unless(fabs(json_object_get_double_member(o, "score") - scores[i - 2]) < 1e-12);
            fail_unless(fabs(json_object_get_double_member(o, "threshold") - 0.5) < 1e-12);
            fail_unless_equals_int(json_object_get_boolean_member(o, "anomalous"), scores[i - 2] > 0.5);
        }
        if (i == 0) {
            fail_if(json_object_has_member(o, "truth") || json_object_has_member(o, "defect"));
        } else {
            gint t = i == 1 ? 1 : truths[i - 2];
            fail_unless_equals_int(json_object_get_int_member(o, "truth"), t);
            if (t) {
                fail_unless_equals_string(json_object_get_string_member(o, "defect"), i == 1 ? "spot" : "scratch");
            } else {
                fail_if(json_object_has_member(o, "defect"));
            }
        }
        json_object_unref(o);
    }
    JsonObject *o = parse_line(lines[6]);
    JsonObject *s = json_object_get_object_member(o, "summary");
    fail_unless(s != NULL);
    fail_unless_equals_int(json_object_get_int_member(s, "frames"), 6);
    fail_unless_equals_int(json_object_get_int_member(s, "scored"), 4);
    fail_unless_equals_int(json_object_get_int_member(s, "flagged"), 1);
    fail_unless_equals_int(json_object_get_int_member(s, "labelled"), 5);
    fail_unless_equals_int(json_object_get_int_member(s, "positives"), 3);
    fail_unless(fabs(json_object_get_double_member(s, "auc") - 0.75) < 1e-12);
    json_object_unref(o);
    g_strfreev(lines);

    /* the element message, as posted before EOS went on */
    GstMessage *m = gst_bus_pop_filtered(f.bus, GST_MESSAGE_ELEMENT);
    fail_unless(m != NULL, "no summary message");
    const GstStructure *st = gst_message_get_structure(m);
    fail_unless(gst_structure_has_name(st, "anomalyexport-summary"));
    guint64 v;
    gdouble auc;
    fail_unless(gst_structure_get_uint64(st, "frames", &v) && v == 6);
    fail_unless(gst_structure_get_uint64(st, "scored", &v) && v == 4);
    fail_unless(gst_structure_get_uint64(st, "flagged", &v) && v == 1);
    fail_unless(gst_structure_get_uint64(st, "positives", &v) && v == 3);
    fail_unless(gst_structure_get_double(st, "auc", &auc) && fabs(auc - 0.75) < 1e-12);
    gst_message_unref(m);
    teardown(&f);
}
GST_END_TEST;

GST_START_TEST(test_skip_unscored_and_no_auc)
{
    Fixture f = setup("skip-unscored", TRUE, NULL);
    push_frame(&f, 0, FALSE, 0, 0, NULL);
    push_frame(&f, 1, TRUE, 0.3, -1, NULL);
    push_frame(&f, 2, TRUE, 0.7, -1, NULL);
    fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));
    gchar **lines = read_lines(f.path);
    fail_unless_equals_int(g_strv_length(lines), 2); /* no summary line by default */
    for (int i = 0; i < 2; i++) {
        JsonObject *o = parse_line(lines[i]);
        fail_unless_equals_int(json_object_get_int_member(o, "frame"), i + 1);
        fail_if(json_object_has_member(o, "truth"));
        json_object_unref(o);
    }
    g_strfreev(lines);
    /* no truths with scores: the summary comes, without an auc */
    GstMessage *m = gst_bus_pop_filtered(f.bus, GST_MESSAGE_ELEMENT);
    fail_unless(m != NULL);
    fail_if(gst_structure_has_field(gst_message_get_structure(m), "auc"));
    gst_message_unref(m);
    teardown(&f);
}
GST_END_TEST;

/* A score that is not a number (issue 13): the meta reads it as anomalous with
 * score-valid FALSE whatever the producer said, and the line says so, not
 * "score": null with "anomalous": false. */
GST_START_TEST(test_nan_score_written_honestly)
{
    GstBuffer *b = gst_buffer_new();
    SgadAnomalyResult in = {.score = NAN, .threshold = 0.5, .anomalous = FALSE}, out;
    sgad_buffer_set_anomaly_result(b, &in);
    fail_unless(sgad_buffer_get_anomaly_result(b, &out));
    fail_unless(out.score_invalid && out.anomalous);
    SgadAnomalyResult fine = {.score = 0.25, .threshold = 0.5};
    sgad_buffer_set_anomaly_result(b, &fine);
    fail_unless(sgad_buffer_get_anomaly_result(b, &out));
    fail_unless(!out.score_invalid && !out.anomalous);
    gst_buffer_unref(b);

    Fixture f = setup(NULL);
    push_frame(&f, 0, TRUE, NAN, 0, NULL);
    push_frame(&f, 1, TRUE, INFINITY, -1, NULL);
    push_frame(&f, 2, TRUE, 0.25, 0, NULL);
    fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));
    gchar **lines = read_lines(f.path);
    fail_unless(g_strv_length(lines) >= 3);
    for (int i = 0; i < 3; i++) {
        JsonObject *o = parse_line(lines[i]);
        gboolean invalid = i < 2;
        fail_unless(member_is_null(o, "score") == invalid, "%s", lines[i]);
        fail_unless(json_object_get_boolean_member(o, "anomalous") == invalid, "%s", lines[i]);
        fail_unless(json_object_has_member(o, "score_valid") == invalid, "%s", lines[i]);
        if (invalid)
            fail_if(json_object_get_boolean_member(o, "score_valid"), "%s", lines[i]);
        json_object_unref(o);
    }
    g_strfreev(lines);
    teardown(&f);
}
GST_END_TEST;

GST_START_TEST(test_unwritable_location)
{
    GstElement *e = gst_element_factory_make("anomalyexport", NULL);
    const gchar *path = "/nonexistent-sgad-dir/out.jsonl";
    g_object_set(e, "location", path, NULL);
    GstBus *bus = gst_bus_new();
    gst_element_set_bus(e, bus);
    fail_unless_equals_int(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != NULL);
    GError *err = NULL;
    gst_message_parse_error(m, &err, NULL);
    fail_unless(strstr(err->message, path) != NULL, "the error does not name the file: %s", err->message);
    g_error_free(err);
    gst_message_unref(m);
    gst_element_set_state(e, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(e);
}
GST_END_TEST;

static Suite *anomalyexport_suite(void)
{
    Suite *s = suite_create("anomalyexport");
    TCase *tc = tcase_create("general");
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, test_lines_and_summary);
    tcase_add_test(tc, test_skip_unscored_and_no_auc);
    tcase_add_test(tc, test_unwritable_location);
    tcase_add_test(tc, test_nan_score_written_honestly);
    return s;
}

GST_CHECK_MAIN(anomalyexport);
