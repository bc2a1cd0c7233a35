/* anomalyexport: every line parses back (json-glib) with the documented fields,
 * skip-unscored drops frames without a score, the summary message and line
 * carry the counts and the AUC, an unwritable location fails at start naming
 * the file; at pixel level, heat maps that are exactly (or exactly against)
 * the painted mask carried onto their grid rank at 1 (or 0), under a sample
 * cap too, and frames that cannot be matched are counted and said, not ranked.
 * The AUC itself (the engine's sg_metrics_compute) is tested in
 * tests/test_metrics.c, the pixel metrics in tests/test_pixel_metrics.c. */
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

/* --- pixel level ------------------------------------------------------------ */

#define FW 64
#define FH 48

typedef struct {
    gint roi_x, roi_y, roi_width, roi_height;
    guint map_width, map_height;
} Geometry;

/* A heat map on the export's grid rule, written out independently: a map
 * pixel is a defect where at least a quarter of the region's frame pixels whose
 * centres fall in it are painted; a map pixel no centre falls in (a region
 * smaller than the map) takes the frame pixel under its own centre. */
static void expected_labels(const guint8 *mask, const Geometry *g, guint8 *labels)
{
    for (guint j = 0; j < g->map_height; j++)
        for (guint i = 0; i < g->map_width; i++) {
            guint painted = 0, total = 0;
            for (gint y = 0; y < g->roi_height; y++)
                for (gint x = 0; x < g->roi_width; x++)
                    if ((guint)floor((x + 0.5) * g->map_width / g->roi_width) == i &&
                        (guint)floor((y + 0.5) * g->map_height / g->roi_height) == j) {
                        total++;
                        painted += mask[(g->roi_y + y) * FW + g->roi_x + x] != 0;
                    }
            if (total == 0) {
                gint x = (gint)floor((i + 0.5) * g->roi_width / g->map_width);
                gint y = (gint)floor((j + 0.5) * g->roi_height / g->map_height);
                total = 1;
                painted = mask[(g->roi_y + y) * FW + g->roi_x + x] != 0;
            }
            labels[j * g->map_width + i] = painted > 0 && 4 * painted >= total;
        }
}

/* a few rectangles of 1-9 pixels a side in the region, seeded: regions that
 * cover some map pixels wholly, some by a quarter or more, some by less */
static void paint_mask(GRand *rand, const Geometry *g, guint8 *mask)
{
    memset(mask, 0, FW * FH);
    for (gint n = g_rand_int_range(rand, 1, 4); n > 0; n--) {
        gint w = g_rand_int_range(rand, 1, MIN(10, g->roi_width));
        gint h = g_rand_int_range(rand, 1, MIN(10, g->roi_height));
        gint x0 = g->roi_x + g_rand_int_range(rand, 0, g->roi_width - w + 1);
        gint y0 = g->roi_y + g_rand_int_range(rand, 0, g->roi_height - h + 1);
        for (gint y = y0; y < y0 + h; y++)
            memset(mask + y * FW + x0, 1, (gsize)w);
    }
}

/* one frame: a result with a heat map (NULL: none) computed on result frame
 * `source` (G_MAXUINT64: the meta does not say), the truth, the mask */
static void push_heat(Fixture *f, guint64 frame, guint64 source, const Geometry *g, const gfloat *heat, gint truth,
                      const guint8 *mask, guint mask_width, guint mask_height)
{
    GstBuffer *b = gst_buffer_new_allocate(NULL, 16, NULL);
    SgadAnomalyResult r = {.score = 0.5,
                           .threshold = 1,
                           .heatmap = heat,
                           .heatmap_width = g->map_width,
                           .heatmap_height = g->map_height,
                           .roi_x = g->roi_x,
                           .roi_y = g->roi_y,
                           .roi_width = g->roi_width,
                           .roi_height = g->roi_height,
                           .frame = frame};
    sgad_buffer_set_anomaly_result(b, &r);
    if (source != G_MAXUINT64)
        sgad_buffer_set_anomaly_source(b, source, 0);
    if (truth >= 0)
        sgad_buffer_set_anomaly_truth(b, truth, truth ? "spot" : NULL);
    if (mask) {
        GBytes *bytes = g_bytes_new(mask, (gsize)mask_width * mask_height);
        sgad_buffer_set_anomaly_truth_mask(b, bytes, mask_width, mask_height);
        g_bytes_unref(bytes);
    }
    fail_unless_equals_int(gst_harness_push(f->h, b), GST_FLOW_OK);
    gst_buffer_unref(gst_harness_pull(f->h));
}

static const GstStructure *summary_message(Fixture *f, GstMessage **keep)
{
    *keep = gst_bus_pop_filtered(f->bus, GST_MESSAGE_ELEMENT);
    fail_unless(*keep != NULL, "no summary message");
    const GstStructure *st = gst_message_get_structure(*keep);
    fail_unless(gst_structure_has_name(st, "anomalyexport-summary"));
    return st;
}

static JsonObject *summary_line(Fixture *f)
{
    gchar **lines = read_lines(f->path);
    JsonObject *o = parse_line(lines[g_strv_length(lines) - 1]);
    JsonObject *s = json_object_ref(json_object_get_object_member(o, "summary"));
    json_object_unref(o);
    g_strfreev(lines);
    return s;
}

/* n frames over one geometry, every third defective, each heat map exactly its
 * labels (inverted: 1 - labels); returns the defect pixels of all maps */
static guint push_stream(Fixture *f, const Geometry *g, guint n, gboolean inverted)
{
    GRand *rand = g_rand_new_with_seed(11);
    const gsize plane = (gsize)g->map_width * g->map_height;
    guint8 *mask = g_malloc(FW * FH), *labels = g_malloc(plane);
    gfloat *heat = g_new(gfloat, plane);
    guint positives = 0;
    for (guint i = 0; i < n; i++) {
        gboolean defective = i % 3 == 1;
        if (defective) {
            paint_mask(rand, g, mask);
            expected_labels(mask, g, labels);
        } else {
            memset(labels, 0, plane);
        }
        for (gsize p = 0; p < plane; p++) {
            heat[p] = inverted ? 1.0f - labels[p] : labels[p];
            positives += labels[p];
        }
        push_heat(f, i, i, g, heat, defective, defective ? mask : NULL, FW, FH);
    }
    g_free(mask), g_free(labels), g_free(heat);
    g_rand_free(rand);
    return positives;
}

/* Heat maps equal to the labels rank every defect pixel above every normal
 * one (pixel AUC 1, AUPRO 1) only if the export's labels are those exactly;
 * the inverted maps give 0 and 0. Three geometries: 4:1 over the whole frame,
 * 2.5:1 over an offset region, and a region smaller than the map. */
GST_START_TEST(test_pixel_metrics_exact_and_inverted)
{
    const Geometry geometries[] = {
        {0, 0, FW, FH, 16, 12},
        {6, 4, 40, 40, 16, 16},
        {10, 6, 10, 7, 24, 16},
    };
    for (gsize k = 0; k < G_N_ELEMENTS(geometries); k++)
        for (int inverted = 0; inverted <= 1; inverted++) {
            Fixture f = setup("summary", TRUE, NULL);
            gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
            guint positives = push_stream(&f, &geometries[k], 30, inverted);
            fail_unless(positives > 0, "geometry %zu: no defect pixel on the map", k);
            fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));
            GstMessage *m;
            const GstStructure *st = summary_message(&f, &m);
            guint64 labelled = 0, sampled = 0, skipped = 1, regions = 0;
            gdouble auc = -1, aupro = -1;
            fail_unless(gst_structure_get_uint64(st, "pixel-labelled-frames", &labelled) && labelled == 30);
            fail_unless(gst_structure_get_uint64(st, "pixel-sampled-frames", &sampled) && sampled == 30);
            fail_unless(gst_structure_get_uint64(st, "pixel-skipped-frames", &skipped) && skipped == 0);
            fail_unless(gst_structure_get_uint64(st, "pixel-regions", &regions) && regions >= 10);
            fail_unless(gst_structure_get_double(st, "pixel-auc", &auc));
            fail_unless(gst_structure_get_double(st, "pixel-aupro", &aupro));
            const gdouble want = inverted ? 0.0 : 1.0;
            fail_unless(fabs(auc - want) < 1e-12 && fabs(aupro - want) < 1e-12,
                        "geometry %zu%s: pixel AUC %g, AUPRO %g, want %g", k, inverted ? " inverted" : "", auc,
                        aupro, want);
            gst_message_unref(m);
            JsonObject *line = summary_line(&f);
            fail_unless(fabs(json_object_get_double_member(line, "pixel-auc") - want) < 1e-12);
            fail_unless(fabs(json_object_get_double_member(line, "pixel-aupro") - want) < 1e-12);
            fail_unless_equals_int(json_object_get_int_member(line, "pixel-labelled-frames"), 30);
            json_object_unref(line);
            teardown(&f);
        }
}
GST_END_TEST;

/* Past max-pixel-samples a uniform sample of whole frames is ranked: 12 of 60
 * frames kept, from the whole stream (30 exact heat maps, then 30 inverted:
 * the first 12 alone would rank at 1, the last alone at 0); 0 turns pixel
 * metrics off. */
GST_START_TEST(test_pixel_sample_cap)
{
    const Geometry g = {0, 0, FW, FH, 16, 12};
    Fixture f = setup("max-pixel-samples", 12 * 16 * 12 + 5, NULL);
    gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
    push_stream(&f, &g, 30, FALSE);
    push_stream(&f, &g, 30, TRUE);
    fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));
    GstMessage *m;
    const GstStructure *st = summary_message(&f, &m);
    guint64 labelled = 0, sampled = 0;
    gdouble auc = -1;
    fail_unless(gst_structure_get_uint64(st, "pixel-labelled-frames", &labelled) && labelled == 60);
    fail_unless(gst_structure_get_uint64(st, "pixel-sampled-frames", &sampled) && sampled == 12,
                "%" G_GUINT64_FORMAT " frames kept under a cap of 12", sampled);
    fail_unless(gst_structure_get_double(st, "pixel-auc", &auc) && auc > 0.0 && auc < 1.0,
                "pixel AUC %g: the sample is not from both halves", auc);
    gst_message_unref(m);
    teardown(&f);

    f = setup("max-pixel-samples", 0, "summary", TRUE, NULL);
    gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
    push_stream(&f, &g, 6, FALSE);
    fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));
    st = summary_message(&f, &m);
    fail_unless(gst_structure_get_uint64(st, "pixel-labelled-frames", &labelled) && labelled == 0);
    fail_if(gst_structure_has_field(st, "pixel-auc"));
    gst_message_unref(m);
    JsonObject *line = summary_line(&f);
    fail_unless(member_is_null(line, "pixel-auc") && member_is_null(line, "pixel-aupro"));
    json_object_unref(line);
    teardown(&f);
}
GST_END_TEST;

/* drains the bus (gst_bus_pop_filtered would drop what precedes its match):
 * the warnings and the summary message, in the order they were posted */
static guint count_warnings(Fixture *f, GstMessage **summary)
{
    guint n = 0;
    GstMessage *m;
    *summary = NULL;
    while ((m = gst_bus_pop(f->bus))) {
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
            GError *err = NULL;
            gst_message_parse_warning(m, &err, NULL);
            fail_unless(strstr(err->message, "left out of the pixel metrics") != NULL, "%s", err->message);
            g_error_free(err);
            n++;
        } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && !*summary) {
            *summary = gst_message_ref(m);
        }
        gst_message_unref(m);
    }
    fail_unless(*summary != NULL, "no summary message");
    return n;
}

/* Frames whose heat map cannot be matched with their truth are counted in
 * pixel-skipped-frames and said once per reason as a warning (not the earlier
 * frame's result of asynchronous scoring, which is expected); the good ones
 * are still ranked, and a caps change to another size takes the new size's
 * masks. */
GST_START_TEST(test_pixel_hostile_frames)
{
    const Geometry whole = {0, 0, FW, FH, 16, 12}, outside = {40, 30, 32, 32, 16, 12},
                   other_map = {0, 0, FW, FH, 8, 6}, small = {0, 0, FW / 2, FH / 2, 16, 12};
    const gsize plane = 16 * 12;
    guint8 *mask = g_malloc0(FW * FH), *labels = g_malloc(plane);
    for (gint y = 8; y < 24; y++)
        memset(mask + y * FW + 8, 1, 16);
    expected_labels(mask, &whole, labels);
    gfloat heat[16 * 12], nan_heat[16 * 12], zeros[16 * 12] = {0};
    for (gsize p = 0; p < plane; p++)
        heat[p] = nan_heat[p] = labels[p];
    nan_heat[5] = NAN;

    Fixture f = setup("summary", TRUE, NULL);
    gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
    push_heat(&f, 0, 0, &whole, heat, 1, mask, FW, FH);                /* ranked */
    push_heat(&f, 1, G_MAXUINT64, &whole, zeros, 0, NULL, 0, 0);        /* ranked: normal, all zero */
    push_heat(&f, 2, 2, &whole, heat, 1, mask, FW / 2, FH / 2);         /* mask of another size */
    push_heat(&f, 3, 3, &whole, NULL, 1, mask, FW, FH);                 /* no heat map: not counted */
    push_heat(&f, 4, 4, &outside, heat, 1, mask, FW, FH);               /* region partly outside */
    push_heat(&f, 5, 5, &outside, zeros, 0, NULL, 0, 0);                /* the same on a normal frame */
    push_heat(&f, 6, 6, &whole, heat, 1, NULL, 0, 0);                   /* a defect without a mask */
    push_heat(&f, 7, 6, &whole, heat, 1, mask, FW, FH);                 /* frame 6's result */
    push_heat(&f, 8, 8, &whole, nan_heat, 1, mask, FW, FH);             /* not finite */
    push_heat(&f, 9, 9, &other_map, heat, 0, NULL, 0, 0);               /* another map size */
    /* the caps change: now 32x24 masks are the frame's, 64x48 ones are not */
    gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=32,height=24,framerate=30/1");
    guint8 *small_mask = g_malloc0(FW / 2 * FH / 2);
    for (gint y = 4; y < 12; y++)
        memset(small_mask + y * (FW / 2) + 4, 1, 8);
    push_heat(&f, 10, 10, &small, heat, 1, small_mask, FW / 2, FH / 2); /* ranked */
    push_heat(&f, 11, 11, &small, heat, 1, mask, FW, FH);              /* the old size */
    fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));

    GstMessage *m;
    fail_unless_equals_int(count_warnings(&f, &m), 5); /* mask size, region, no mask, not finite, map size */
    const GstStructure *st = gst_message_get_structure(m);
    guint64 labelled = 0, skipped = 0;
    gdouble auc = NAN;
    fail_unless(gst_structure_get_uint64(st, "pixel-labelled-frames", &labelled) && labelled == 3,
                "%" G_GUINT64_FORMAT " frames ranked, want 3", labelled);
    fail_unless(gst_structure_get_uint64(st, "pixel-skipped-frames", &skipped) && skipped == 8,
                "%" G_GUINT64_FORMAT " frames skipped, want 8", skipped);
    fail_unless(gst_structure_get_double(st, "pixel-auc", &auc) && auc >= 0 && auc <= 1);
    gst_message_unref(m);
    teardown(&f);

    /* no heat maps at all: nothing ranked, no figures, and no warning */
    f = setup("summary", TRUE, NULL);
    gst_harness_set_src_caps_str(f.h, "video/x-raw,format=GRAY8,width=64,height=48,framerate=30/1");
    for (guint i = 0; i < 4; i++)
        push_heat(&f, i, i, &whole, NULL, i % 2, i % 2 ? mask : NULL, FW, FH);
    fail_unless(gst_harness_push_event(f.h, gst_event_new_eos()));
    fail_unless_equals_int(count_warnings(&f, &m), 0);
    st = gst_message_get_structure(m);
    fail_unless(gst_structure_get_uint64(st, "pixel-labelled-frames", &labelled) && labelled == 0);
    fail_unless(gst_structure_get_uint64(st, "pixel-skipped-frames", &skipped) && skipped == 0);
    fail_if(gst_structure_has_field(st, "pixel-auc") || gst_structure_has_field(st, "pixel-aupro"));
    gst_message_unref(m);
    JsonObject *line = summary_line(&f);
    fail_unless(member_is_null(line, "pixel-auc") && member_is_null(line, "pixel-aupro"));
    json_object_unref(line);
    teardown(&f);
    g_free(mask), g_free(small_mask), g_free(labels);
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
    tcase_add_test(tc, test_pixel_metrics_exact_and_inverted);
    tcase_add_test(tc, test_pixel_sample_cap);
    tcase_add_test(tc, test_pixel_hostile_frames);
    return s;
}

GST_CHECK_MAIN(anomalyexport);
