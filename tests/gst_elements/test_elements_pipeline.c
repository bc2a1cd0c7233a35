/* A real gst-launch-1.0 run of the elements from the build tree, fed by
 * videotestsrc and then by inspectionsrc:
 *   <source> num-buffers=30 ! anomalyinject ! anomalyoverlay ! anomalyexport location=... ! fakesink
 * It must exit 0, print the anomalyexport-summary message (-m) for 30 frames,
 * and leave 30 JSON lines, each with a truth, plus the summary line. Frames
 * carry no score here (no scorer), so the overlay must pass them through.
 *
 * With "pixel MODEL": the generated line scored by the bundled model,
 *   inspectionsrc ! anomalyinject ! videoconvert ! I420 ! skipganomaly ! anomalyexport summary=true
 * must give pixel metrics on every frame (the truth-mask survives the colour
 * conversion), finite and where the model's are (docs/training.md: pixel AUC
 * 0.79, AUPRO 0.57 on the line's four kinds; a mask misplaced on the heat map
 * would rank near 0.5 and 0). */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* source: the pipeline up to anomalyinject, NULL-terminated; returns the failures */
static int check_pipeline(const gchar *launch, const gchar *const *source)
{
    gchar *dir = g_dir_make_tmp("elements-pipeline-XXXXXX", NULL);
    gchar *path = g_build_filename(dir, "run.jsonl", NULL);
    gchar *location = g_strdup_printf("location=%s", path);
    const gchar *rest[] = {"!", "anomalyinject", "fraction=0.5", "seed=3", "!", "videoconvert", "!", "anomalyoverlay",
                           "!", "anomalyexport", location, "summary=true", "!", "fakesink", NULL};
    GPtrArray *args = g_ptr_array_new();
    g_ptr_array_add(args, (gpointer)launch);
    g_ptr_array_add(args, "-e");
    g_ptr_array_add(args, "-m");
    for (const gchar *const *a = source; *a; a++)
        g_ptr_array_add(args, (gpointer)*a);
    for (const gchar *const *a = rest; *a; a++)
        g_ptr_array_add(args, (gpointer)*a);
    g_ptr_array_add(args, NULL);
    gchar *out = NULL, *err = NULL;
    gint status = 0;
    GError *error = NULL;
    int failures = 0;
    g_printerr("%s: ", source[0]);
    if (!g_spawn_sync(NULL, (gchar **)args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error)) {
        g_printerr("could not run %s: %s\n", launch, error->message);
        return 1;
    }
    g_ptr_array_unref(args);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_printerr("gst-launch-1.0 failed:\n%s\n%s\n", out, err);
        failures++;
    }
    if (!strstr(out, "anomalyexport-summary") || !strstr(out, "frames=(guint64)30")) {
        g_printerr("no summary message for 30 frames in:\n%s\n", out);
        failures++;
    }

    gchar *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        g_printerr("no output file %s\n", path);
        return 1;
    }
    gchar **lines = g_strsplit(g_strchomp(text), "\n", -1);
    guint n = g_strv_length(lines), positives = 0;
    if (n != 31) {
        g_printerr("%u lines, expected 30 frames and a summary\n", n);
        failures++;
    }
    for (guint i = 0; i < n; i++) {
        JsonParser *p = json_parser_new();
        if (!json_parser_load_from_data(p, lines[i], -1, NULL) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
            g_printerr("line %u is not a JSON object: %s\n", i, lines[i]);
            failures++;
            g_object_unref(p);
            continue;
        }
        JsonObject *o = json_node_get_object(json_parser_get_root(p));
        if (i < 30) {
            if (json_object_get_int_member_with_default(o, "frame", -1) != i ||
                !json_object_has_member(o, "truth") || !json_object_has_member(o, "pts")) {
                g_printerr("line %u lacks frame/pts/truth: %s\n", i, lines[i]);
                failures++;
            }
            positives += json_object_get_int_member_with_default(o, "truth", 0) == 1;
        } else {
            JsonObject *s = json_object_get_object_member(o, "summary");
            if (!s || json_object_get_int_member(s, "frames") != 30 ||
                json_object_get_int_member(s, "positives") != positives) {
                g_printerr("bad summary line: %s\n", lines[i]);
                failures++;
            }
        }
        g_object_unref(p);
    }
    /* fraction 0.5 over 30 frames, seed 3: some of each */
    if (positives == 0 || positives == 30) {
        g_printerr("%u of 30 frames defective at fraction 0.5\n", positives);
        failures++;
    }
    g_strfreev(lines);
    g_free(text);
    g_unlink(path);
    g_rmdir(dir);
    g_free(location);
    g_free(path);
    g_free(dir);
    g_free(out);
    g_free(err);
    g_printerr("%s\n", failures ? "failed" : "ok");
    return failures;
}

static JsonObject *last_line_summary(const gchar *path, gchar **text)
{
    if (!g_file_get_contents(path, text, NULL, NULL))
        return NULL;
    gchar *last = strrchr(g_strchomp(*text), '\n');
    JsonParser *p = json_parser_new();
    JsonObject *s = NULL;
    if (last && json_parser_load_from_data(p, last + 1, -1, NULL) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
        s = json_object_get_object_member(json_node_get_object(json_parser_get_root(p)), "summary");
    if (s)
        json_object_ref(s);
    g_object_unref(p);
    return s;
}

static int check_pixel_pipeline(const gchar *launch, const gchar *model)
{
    gchar *dir = g_dir_make_tmp("elements-pixel-XXXXXX", NULL);
    gchar *path = g_build_filename(dir, "run.jsonl", NULL);
    gchar *location = g_strdup_printf("location=%s", path), *model_arg = g_strdup_printf("model=%s", model);
    const gchar *args[] = {launch, "-e", "inspectionsrc", "seed=11", "first-frame=1800", "num-buffers=40", "!",
                           "anomalyinject", "seed=1", "fraction=0.3", "size=0.25", "!", "videoconvert", "!",
                           "video/x-raw,format=I420", "!", "skipganomaly", "scoring=sync", model_arg, "!",
                           "anomalyexport", location, "summary=true", "!", "fakesink", NULL};
    gchar *out = NULL, *err = NULL, *text = NULL;
    gint status = 0;
    GError *error = NULL;
    int failures = 0;
    g_printerr("pixel metrics through skipganomaly: ");
    if (!g_spawn_sync(NULL, (gchar **)args, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error)) {
        g_printerr("could not run %s: %s\n", launch, error->message);
        return 1;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_printerr("gst-launch-1.0 failed:\n%s\n%s\n", out, err);
        failures++;
    }
    JsonObject *s = last_line_summary(path, &text);
    if (!s) {
        g_printerr("no summary line in %s\n", path);
        return 1;
    }
    gdouble auc = json_object_get_double_member_with_default(s, "pixel-auc", NAN);
    gdouble aupro = json_object_get_double_member_with_default(s, "pixel-aupro", NAN);
    gint64 labelled = json_object_get_int_member_with_default(s, "pixel-labelled-frames", -1);
    gint64 regions = json_object_get_int_member_with_default(s, "pixel-regions", -1);
    gint64 positives = json_object_get_int_member_with_default(s, "positives", -1);
    g_printerr("pixel AUC %.4f, AUPRO %.4f over %" G_GINT64_FORMAT " frames, %" G_GINT64_FORMAT " regions: ", auc,
               aupro, labelled, regions);
    if (labelled != 40 || regions < 1 || regions < positives || !(auc >= 0.7 && auc <= 1) ||
        !(aupro >= 0.3 && aupro <= 1)) {
        g_printerr("want 40 frames, a region per defective frame (%" G_GINT64_FORMAT "), pixel AUC in [0.7, 1] and "
                   "AUPRO in [0.3, 1]\n%s\n", positives, text);
        failures++;
    }
    json_object_unref(s);
    g_unlink(path);
    g_rmdir(dir);
    g_free(text), g_free(location), g_free(model_arg), g_free(path), g_free(dir), g_free(out), g_free(err);
    g_printerr("%s\n", failures ? "failed" : "ok");
    return failures;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[2], "pixel") == 0)
        return check_pixel_pipeline(argv[1], argv[3]) ? 1 : 0;
    if (argc != 2) {
        g_printerr("usage: %s /path/to/gst-launch-1.0 [pixel MODEL]\n", argv[0]);
        return 2;
    }
    const gchar *testsrc[] = {"videotestsrc", "num-buffers=30", "!", "video/x-raw,format=I420,width=64,height=48",
                              NULL};
    /* the generated line, converted to the I420 a camera would give */
    const gchar *line[] = {"inspectionsrc", "num-buffers=30", "seed=3", "!", "video/x-raw,width=64,height=48", "!",
                           "videoconvert", "!", "video/x-raw,format=I420", NULL};
    int failures = check_pipeline(argv[1], testsrc);
    failures += check_pipeline(argv[1], line);
    return failures ? 1 : 0;
}
