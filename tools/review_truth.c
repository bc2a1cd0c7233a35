/* sgad review --truth: which frames of the recording hold a defect, and how the
 * scores rank them (review.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "cli.h"
#include "review.h"
#include "sgad/metrics.h"

/* Frame numbers past this are refused: a truth file is about a recording, and a
 * hostile number must not size an allocation. */
#define MAX_TRUTH_FRAME 10000000LL /* 92 hours at 30 frames/s */

static bool set_label(review_truth *t, int64_t frame, int8_t label, const char *path, long line)
{
    if (frame < 0 || frame > MAX_TRUTH_FRAME)
        return cli_false(SG_OK, "%s:%ld: frame %lld is out of range (0..%lld)", path, line, (long long)frame,
                         MAX_TRUTH_FRAME);
    if (frame >= t->frames) {
        int64_t cap = t->frames ? t->frames : 1024;
        while (cap <= frame)
            cap *= 2;
        int8_t *grown = realloc(t->label, (size_t)cap);
        if (!grown)
            return cli_false(SG_OK, "out of memory reading %s", path);
        memset(grown + t->frames, -1, (size_t)(cap - t->frames));
        t->label = grown;
        t->frames = cap;
    }
    t->label[frame] = label;
    if (frame + 1 > t->listed)
        t->listed = frame + 1;
    return true;
}

/* anomalyexport's JSON lines: {"frame": N, ..., "truth": 0|1}; lines without a
 * truth (or other events) say nothing. */
static bool parse_json_line(review_truth *t, const char *text, const char *path, long line)
{
    JsonParser *parser = json_parser_new();
    GError *err = NULL;
    bool ok = true;
    if (!json_parser_load_from_data(parser, text, -1, &err)) {
        ok = cli_false(SG_OK, "%s:%ld: not JSON: %s", path, line, err->message);
        g_error_free(err);
    } else {
        JsonNode *root = json_parser_get_root(parser);
        JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        if (o && json_object_has_member(o, "frame") && json_object_has_member(o, "truth")) {
            JsonNode *f = json_object_get_member(o, "frame"), *v = json_object_get_member(o, "truth");
            if (json_node_get_value_type(f) != G_TYPE_INT64 || json_node_get_value_type(v) != G_TYPE_INT64)
                ok = cli_false(SG_OK, "%s:%ld: \"frame\" and \"truth\" must be integers", path, line);
            else
                ok = set_label(t, json_node_get_int(f), json_node_get_int(v) ? 1 : 0, path, line);
        }
    }
    g_object_unref(parser);
    return ok;
}

/* A CSV of the frames with a defect: numbers or ranges "a-b", separated by commas
 * or lines; '#' starts a comment; a first line without a digit is a header. */
static bool parse_csv_line(review_truth *t, char *text, const char *path, long line)
{
    char *hash = strchr(text, '#');
    if (hash)
        *hash = '\0';
    if (line == 1 && !strpbrk(text, "0123456789"))
        return true;
    for (char *save = NULL, *tok = strtok_r(text, ", \t\r\n", &save); tok; tok = strtok_r(NULL, ", \t\r\n", &save)) {
        char *end;
        errno = 0;
        long long a = strtoll(tok, &end, 10), b = a;
        if (end != tok && *end == '-') {
            char *dash = end + 1;
            b = strtoll(dash, &end, 10);
            if (end == dash)
                end = tok;
        }
        if (end == tok || *end != '\0' || errno == ERANGE)
            return cli_false(SG_OK, "%s:%ld: '%s' is not a frame number or a range a-b", path, line, tok);
        if (b < a)
            return cli_false(SG_OK, "%s:%ld: the range %s ends before it starts", path, line, tok);
        if (b > MAX_TRUTH_FRAME || a < 0)
            return cli_false(SG_OK, "%s:%ld: frame %s is out of range (0..%lld)", path, line, tok, MAX_TRUTH_FRAME);
        for (long long f = a; f <= b; f++)
            if (!set_label(t, f, 1, path, line))
                return false;
    }
    return true;
}

bool review_truth_load(const char *path, review_truth *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_false(SG_OK, "cannot read the truth file %s: %s", path, strerror(errno));
    char *text = NULL;
    size_t cap = 0;
    ssize_t len;
    long line = 0;
    bool ok = true, json = false, decided = false;
    while (ok && (len = getline(&text, &cap, f)) >= 0) {
        line++;
        if (strlen(text) != (size_t)len) {
            ok = cli_false(SG_OK, "%s:%ld: a NUL byte: not a text file", path, line);
            break;
        }
        const char *p = text + strspn(text, " \t\r\n");
        if (*p == '\0')
            continue;
        if (!decided) /* the first line that says anything decides the format */
            json = *p == '{', decided = true;
        ok = json ? parse_json_line(t, p, path, line) : parse_csv_line(t, text, path, line);
    }
    if (ok && ferror(f))
        ok = cli_false(SG_OK, "cannot read the truth file %s", path);
    free(text);
    fclose(f);
    t->json = json;
    if (ok && t->listed == 0)
        ok = cli_false(SG_OK, "%s names no frame%s", path, json ? " with a \"truth\"" : "");
    if (!ok)
        review_truth_clear(t);
    return ok;
}

void review_truth_clear(review_truth *t)
{
    free(t->label);
    memset(t, 0, sizeof *t);
}

/* A CSV lists the defects: every other scored frame is normal. JSON lines label
 * the frames they name; the rest are unknown. */
static int label_of(const review_truth *t, int64_t i)
{
    int label = i < t->frames ? t->label[i] : -1;
    if (label < 0 && !t->json)
        label = 0;
    return label;
}

bool review_truth_measure(const review_truth *t, const float *scores, const float *baseline, int64_t frames,
                          float threshold, review_truth_metrics *m)
{
    memset(m, 0, sizeof *m);
    float *ranked = malloc((size_t)(frames > 0 ? frames : 1) * sizeof *ranked);
    float *base = malloc((size_t)(frames > 0 ? frames : 1) * sizeof *base);
    uint8_t *truth = malloc((size_t)(frames > 0 ? frames : 1));
    if (!ranked || !base || !truth) {
        free(ranked), free(base), free(truth);
        return cli_false(SG_OK, "out of memory for the truth's metrics");
    }
    size_t n = 0;
    for (int64_t i = 0; i < frames; i++) {
        int label = label_of(t, i);
        if (label < 0) {
            m->unlabelled++;
            continue;
        }
        /* a score that is not a number ranks above every other: it never reads as normal */
        ranked[n] = isnan(scores[i]) ? INFINITY : scores[i];
        base[n] = baseline[i];
        truth[n++] = (uint8_t)label;
        bool flagged = review_is_anomalous(scores[i], threshold);
        if (label) {
            m->defects++;
            m->flagged += flagged;
        } else {
            m->normal++;
            m->stopped += flagged;
        }
    }
    for (int64_t i = frames; i < t->listed; i++)
        m->beyond += t->label[i] >= 0;
    if (m->defects > 0 && m->normal > 0) {
        sg_metrics mt;
        if (sg_metrics_compute(ranked, truth, n, &mt) == SG_OK) {
            m->ranked = true;
            m->auc = mt.auc;
            m->auprc = mt.auprc;
        }
        if (sg_metrics_compute(base, truth, n, &mt) == SG_OK)
            m->baseline_auc = mt.auc;
    }
    free(ranked), free(base), free(truth);
    return true;
}

void review_truth_print(FILE *f, const char *path, const review_truth_metrics *m)
{
    fprintf(f, "truth (%s): %zu frames with a defect, %zu without", path, m->defects, m->normal);
    if (m->unlabelled)
        fprintf(f, ", %zu not labelled", m->unlabelled);
    if (m->beyond)
        fprintf(f, ", %zu labelled past the recording's end (left out)", m->beyond);
    fprintf(f, "\n");
    if (m->ranked)
        fprintf(f, "  frame ROC AUC %.3f, AUPRC %.3f (frame difference, no model: ROC AUC %.3f)\n", m->auc, m->auprc,
                m->baseline_auc);
    else
        fprintf(f, "  no ROC AUC: it needs frames with and without a defect\n");
    if (m->defects)
        fprintf(f, "  at the threshold: %zu of %zu defects flagged (%.1f%%)", m->flagged, m->defects,
                100.0 * (double)m->flagged / (double)m->defects);
    if (m->normal)
        fprintf(f, "%s%zu of %zu good frames stopped (%.2f%%)", m->defects ? ", " : "  at the threshold: ", m->stopped,
                m->normal, 100.0 * (double)m->stopped / (double)m->normal);
    fprintf(f, "\n");
}
