/* The report of `sgad review`, for a person to open: index.html ties together
 * timeline.png (score over time, threshold, segments shaded), the segments as
 * segments.csv and segments.json, every frame's score in scores.csv, and the
 * peak frame of the top segments with its heat map (peak-N.png, drawn as the
 * anomalyoverlay element draws it: the same colour map, opacity rising with
 * the error), and with --clips those segments cut out as clip-N.avi. No script,
 * no network: the page shows from the folder alone.
 *
 * Everything is written into a temporary folder beside DIR and renamed to DIR
 * at the end; a failure (a full disk, say) removes the temporary folder, so a
 * report folder is either complete or absent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>

#include "cli.h"
#include "review.h"
#include "sgad/colormap.h"
#include "sgad/file.h"

/* anomalyoverlay's defaults: jet, at most 0.4 opaque */
#define HEAT_ALPHA 0.4
#define PEAK_MAX_WIDTH 640
#define TIMELINE_W 1200
#define TIMELINE_H 330
#define TABLE_MAX_ROWS 2000

static const double SCORE_RGB[3] = {31 / 255.0, 119 / 255.0, 180 / 255.0};   /* the plots' blue */
static const double SEGMENT_RGB[3] = {214 / 255.0, 39 / 255.0, 40 / 255.0};  /* the plots' red */

void review_format_time(char *buf, size_t size, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    int64_t ms = (ns + 500000) / 1000000;
    long long h = ms / 3600000, m = ms / 60000 % 60, sec = ms / 1000 % 60, milli = ms % 1000;
    if (h)
        snprintf(buf, size, "%lld:%02lld:%02lld.%03lld", h, m, sec, milli);
    else
        snprintf(buf, size, "%lld:%02lld.%03lld", m, sec, milli);
}

/* ---- the destination ------------------------------------------------------------------ */

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

static void parent_of(const char *dir, char *out, size_t size)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    snprintf(out, size, "%s", dirname(tmp));
}

bool review_report_check_destination(const char *dir)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return cli_false(SG_OK, "--out %s exists and is not a folder", dir);
        if (!dir_is_empty(dir))
            return cli_false(SG_OK, "--out %s exists and is not empty: a report is never written over another; "
                                    "choose a new folder or remove it", dir);
    }
    char parent[4096];
    parent_of(dir, parent, sizeof parent);
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_false(SG_OK, "cannot write the report %s: folder %s does not exist", dir, parent);
    /* the engine's check creates a file there: permission bits say nothing to root */
    if (sg_check_writable_dir(parent, false) != SG_OK)
        return cli_false(SG_OK, "cannot write the report %s: %s", dir, sg_error_message());
    return true;
}

/* ---- files in the temporary folder ---------------------------------------------------- */

typedef struct writer {
    const char *tmp; /* the temporary folder */
    const char *dir; /* the final name, for messages */
    bool failed;
} writer;

static void path_in(const writer *w, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", w->tmp, name);
}

static bool write_failed(writer *w, const char *name, int err)
{
    w->failed = true;
    return cli_false(SG_OK, "cannot write %s of the report %s: %s", name, w->dir, strerror(err));
}

static FILE *open_file(writer *w, const char *name)
{
    char path[4096];
    path_in(w, name, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f)
        write_failed(w, name, errno);
    return f;
}

/* Flush to the disk: a full disk shows here at the latest. */
static bool close_file(writer *w, const char *name, FILE *f)
{
    int err = 0;
    if (fflush(f) != 0 || ferror(f))
        err = errno ? errno : EIO;
    if (!err && fsync(fileno(f)) != 0)
        err = errno;
    if (fclose(f) != 0 && !err)
        err = errno;
    return err ? write_failed(w, name, err) : true;
}

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int length)
{
    FILE *f = closure;
    return fwrite(data, 1, length, f) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static bool write_png(writer *w, const char *name, cairo_surface_t *surface)
{
    FILE *f = open_file(w, name);
    if (!f)
        return false;
    errno = 0;
    cairo_status_t st = cairo_surface_write_to_png_stream(surface, png_write, f);
    int err = errno;
    if (st != CAIRO_STATUS_SUCCESS) {
        fclose(f);
        if (st == CAIRO_STATUS_WRITE_ERROR)
            return write_failed(w, name, err ? err : EIO);
        w->failed = true;
        return cli_false(SG_OK, "cannot draw %s of the report %s: %s", name, w->dir, cairo_status_to_string(st));
    }
    return close_file(w, name, f);
}

static void remove_tree(const char *tmp)
{
    DIR *d = opendir(tmp);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char path[4608];
            snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(tmp);
}

/* ---- text escaping -------------------------------------------------------------------- */

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* a score for JSON: null when not a number (JSON has no NaN) */
static void json_score(FILE *f, float v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void csv_field(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- the report's facts --------------------------------------------------------------- */

static double display_aspect(const review_stream_info *i)
{
    return (double)i->width * i->par_n / ((double)i->height * i->par_d);
}

static bool squashed(const review_stream_info *i)
{
    return fabs(display_aspect(i) - 1.0) > 0.01;
}

/* still slot -> its rank by peak score (1 = highest), from the segments that hold one */
static void still_ranks(const review_segments *g, int *rank_of_still)
{
    for (int i = 0; i < g->keep; i++)
        rank_of_still[i] = 0;
    for (int i = 0; i < g->keep; i++) {
        int owner = g->still_owner[i];
        if (owner < 0)
            continue;
        float mine = g->list[owner].peak_score;
        int r = 1;
        for (int j = 0; j < g->keep; j++) {
            int other = g->still_owner[j];
            if (j == i || other < 0)
                continue;
            float theirs = g->list[other].peak_score;
            double a = isnan(mine) ? INFINITY : mine, b = isnan(theirs) ? INFINITY : theirs;
            r += b > a || (b == a && other < owner);
        }
        rank_of_still[i] = r;
    }
}

static void peak_name(char *buf, size_t size, int rank)
{
    snprintf(buf, size, "peak-%d.png", rank);
}

static void clip_name(char *buf, size_t size, int rank)
{
    snprintf(buf, size, "clip-%d.avi", rank);
}

/* clip-N.avi: the segment and a margin either side, cut from the recording */
static bool write_clip(writer *w, const review_report *r, const review_segment *seg, int rank)
{
    char name[64], path[4200], why[512];
    clip_name(name, sizeof name, rank);
    path_in(w, name, path, sizeof path);
    int64_t margin = (int64_t)(REVIEW_CLIP_MARGIN_S * 1e9);
    int64_t start = seg->start_ns > margin ? seg->start_ns - margin : 0, stop = seg->end_ns + margin;
    if (!review_write_clip(r->video, start, stop, path, why, sizeof why)) {
        w->failed = true;
        return cli_false(SG_OK, "cannot write %s of the report %s: %s", name, w->dir, why);
    }
    int fd = open(path, O_RDONLY);
    int err = fd < 0 || fsync(fd) != 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    return err ? write_failed(w, name, err) : true;
}

/* ---- timeline.png --------------------------------------------------------------------- */

static void text_at(cairo_t *cr, double x, double y, const char *s, double align_x, double align_y)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.width * align_x - e.x_bearing, y - e.height * align_y - e.y_bearing);
    cairo_show_text(cr, s);
}

/* a round step (1, 2 or 5 times a power of ten) giving about `ticks` intervals over `range` */
static double round_step(double range, int ticks)
{
    double raw = range / ticks, step = pow(10, floor(log10(raw)));
    return step * (raw / step > 5 ? 10 : raw / step > 2 ? 5 : raw / step > 1 ? 2 : 1);
}

static bool write_timeline(writer *w, const review_report *r)
{
    const double x0 = 80, y0 = 40, pw = TIMELINE_W - 110, ph = TIMELINE_H - 100;
    const double t_end = r->end_ns > 0 ? r->end_ns * 1e-9 : 1;
    const float thr = r->threshold;
    double hi = 0;
    for (int64_t i = 0; i < r->frames; i++)
        if (isfinite(r->scores[i]) && r->scores[i] > hi)
            hi = r->scores[i];
    /* the threshold well inside; peaks far above it clipped, so the normal level stays readable */
    double top = thr > 0 ? fmax(1.5 * thr, fmin(hi, 5.0 * thr)) : (hi > 0 ? hi : 1);
    top *= 1.05;
    bool clipped = hi > top;

    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, TIMELINE_W, TIMELINE_H);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
#define PX(t) (x0 + (t) / t_end * pw)
#define PY(v) (y0 + ph - fmin(fmax((v) / top, 0.0), 1.0) * ph)
    /* segments shaded across the plot's height */
    const review_segments *g = r->segments;
    cairo_set_source_rgba(cr, SEGMENT_RGB[0], SEGMENT_RGB[1], SEGMENT_RGB[2], 0.3);
    for (size_t i = 0; i < g->count; i++) {
        double a = PX(g->list[i].start_ns * 1e-9), b = PX(g->list[i].end_ns * 1e-9);
        cairo_rectangle(cr, a, y0, fmax(b - a, 2.0), ph); /* at least 2 pixels: a one-frame event shows */
    }
    cairo_fill(cr);
    /* the score, one point per frame at its time */
    cairo_set_source_rgb(cr, SCORE_RGB[0], SCORE_RGB[1], SCORE_RGB[2]);
    cairo_set_line_width(cr, 1.5);
    bool drawing = false;
    for (int64_t i = 0; i < r->frames; i++) {
        if (!isfinite(r->scores[i])) {
            drawing = false;
            continue;
        }
        double x = PX(r->times_ns[i] * 1e-9), y = PY(r->scores[i]);
        (drawing ? cairo_line_to : cairo_move_to)(cr, x, y);
        drawing = true;
    }
    cairo_stroke(cr);
    /* scores that are not numbers: a red mark at the top (anomalous, never normal) */
    cairo_set_source_rgb(cr, SEGMENT_RGB[0], SEGMENT_RGB[1], SEGMENT_RGB[2]);
    bool any_nan = false;
    for (int64_t i = 0; i < r->frames; i++)
        if (!isfinite(r->scores[i])) {
            double x = PX(r->times_ns[i] * 1e-9);
            cairo_rectangle(cr, x - 1, y0, 2, 8);
            any_nan = true;
        }
    cairo_fill(cr);
    /* the threshold */
    const double dash[] = {6, 4};
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1.5);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, x0, PY(thr));
    cairo_line_to(cr, x0 + pw, PY(thr));
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);

    /* axes: time in m:ss, score */
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0, y0, pw, ph);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 11);
    char buf[160];
    double tstep = round_step(t_end, 10);
    for (double t = 0; t <= t_end + 1e-9; t += tstep) {
        double x = PX(t);
        cairo_move_to(cr, x, y0 + ph);
        cairo_line_to(cr, x, y0 + ph + 5);
        cairo_stroke(cr);
        if (tstep >= 1)
            snprintf(buf, sizeof buf, "%d:%02d", (int)(t + 0.5) / 60, (int)(t + 0.5) % 60);
        else
            snprintf(buf, sizeof buf, "%.3gs", t);
        text_at(cr, x, y0 + ph + 8, buf, 0.5, 0);
    }
    double ystep = round_step(top, 4);
    for (double v = 0; v <= top + 1e-12; v += ystep) {
        double y = PY(v);
        cairo_move_to(cr, x0 - 5, y);
        cairo_line_to(cr, x0, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.3g", v);
        text_at(cr, x0 - 8, y, buf, 1, 0.5);
    }
    cairo_set_font_size(cr, 13);
    text_at(cr, x0 + pw / 2, y0 + ph + 26, "time in the recording (m:ss)", 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, x0 - 56, y0 + ph / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, "anomaly score", 0.5, 0.5);
    cairo_restore(cr);
    char name[1024];
    snprintf(name, sizeof name, "%s", r->video);
    snprintf(buf, sizeof buf, "anomaly score over time: %s", basename(name));
    cairo_set_font_size(cr, 14);
    text_at(cr, x0 + pw / 2, y0 - 14, buf, 0.5, 1);
    /* legend under the axis title */
    double ly = TIMELINE_H - 13, lx = x0;
    cairo_set_font_size(cr, 12);
    cairo_set_source_rgb(cr, SCORE_RGB[0], SCORE_RGB[1], SCORE_RGB[2]);
    cairo_rectangle(cr, lx, ly - 2, 18, 3);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, lx + 24, ly, "score of each frame", 0, 0.5);
    lx += 190;
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, lx, ly);
    cairo_line_to(cr, lx + 18, ly);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    snprintf(buf, sizeof buf, "threshold %.4g", thr);
    text_at(cr, lx + 24, ly, buf, 0, 0.5);
    lx += 190;
    cairo_set_source_rgba(cr, SEGMENT_RGB[0], SEGMENT_RGB[1], SEGMENT_RGB[2], 0.3);
    cairo_rectangle(cr, lx, ly - 6, 18, 12);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    snprintf(buf, sizeof buf, "anomalous segment (%zu)", g->count);
    text_at(cr, lx + 24, ly, buf, 0, 0.5);
    lx += 220;
    if (clipped || any_nan) {
        snprintf(buf, sizeof buf, "%s%s%s", clipped ? "scores above the top drawn at the top" : "",
                 clipped && any_nan ? "; " : "", any_nan ? "red marks: scores that are not numbers" : "");
        text_at(cr, lx, ly, buf, 0, 0.5);
    }
#undef PX
#undef PY
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    bool ok = st == CAIRO_STATUS_SUCCESS ? write_png(w, "timeline.png", surface)
                                         : cli_false(SG_OK, "cannot draw the timeline: %s", cairo_status_to_string(st));
    cairo_surface_destroy(surface);
    return ok;
}

/* ---- peak-N.png: the frame at the display aspect, the heat map over it ------------------ */

static bool write_peak(writer *w, const review_report *r, const review_segment *seg, const review_still *still,
                       int rank)
{
    double aspect = display_aspect(&r->stream);
    int out_w = (int)lround(fmin(PEAK_MAX_WIDTH, still->height * aspect));
    int out_h = (int)lround(out_w / aspect);
    cairo_surface_t *frame = cairo_image_surface_create_for_data(still->pixels, CAIRO_FORMAT_RGB24, still->width,
                                                                 still->height, still->stride);
    int S = still->heat_size;
    cairo_surface_t *heat = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, S, S);
    cairo_surface_flush(heat);
    /* as anomalyoverlay: the top of the colour map at the frame's own largest error, and the map as opaque
     * as the error is high, so the frame shows where the reconstruction is good */
    float top = 0;
    for (int i = 0; i < S * S; i++)
        if (isfinite(still->heat[i]) && still->heat[i] > top)
            top = still->heat[i];
    if (!(top > 0))
        top = 1;
    uint8_t *hd = cairo_image_surface_get_data(heat);
    int hs = cairo_image_surface_get_stride(heat);
    for (int y = 0; y < S; y++) {
        uint32_t *row = (uint32_t *)(void *)(hd + (size_t)y * hs);
        for (int x = 0; x < S; x++) {
            float v = still->heat[y * S + x];
            double t = isfinite(v) ? fmin(fmax(v / top, 0.0), 1.0) : 1.0;
            uint8_t rgb[3];
            sg_colormap_rgb(SG_COLORMAP_JET, t, rgb);
            uint32_t a = (uint32_t)lround(255.0 * t);
            row[x] = a << 24 | (rgb[0] * a / 255) << 16 | (rgb[1] * a / 255) << 8 | rgb[2] * a / 255;
        }
    }
    cairo_surface_mark_dirty(heat);

    cairo_surface_t *out = cairo_image_surface_create(CAIRO_FORMAT_RGB24, out_w, out_h);
    cairo_t *cr = cairo_create(out);
    cairo_save(cr);
    cairo_scale(cr, (double)out_w / still->width, (double)out_h / still->height);
    cairo_set_source_surface(cr, frame, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    /* the model saw the whole frame squashed to S x S: its heat map spans the whole frame */
    cairo_save(cr);
    cairo_scale(cr, (double)out_w / S, (double)out_h / S);
    cairo_set_source_surface(cr, heat, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint_with_alpha(cr, HEAT_ALPHA);
    cairo_restore(cr);
    /* a caption band: what and when */
    char when[32], buf[256];
    review_format_time(when, sizeof when, seg->peak_ns);
    if (isfinite(seg->peak_score))
        snprintf(buf, sizeof buf, "#%d  %s  frame %lld  score %.4g", rank, when, (long long)seg->peak_frame,
                 seg->peak_score);
    else
        snprintf(buf, sizeof buf, "#%d  %s  frame %lld  score not a number", rank, when, (long long)seg->peak_frame);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    double fs = fmax(10, fmin(16, out_w / 36.0));
    cairo_set_font_size(cr, fs);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
    cairo_rectangle(cr, 0, 0, out_w, fs + 10);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    text_at(cr, 6, (fs + 10) / 2, buf, 0, 0.5);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    char name[64];
    peak_name(name, sizeof name, rank);
    bool ok = st == CAIRO_STATUS_SUCCESS ? write_png(w, name, out)
                                         : cli_false(SG_OK, "cannot draw %s: %s", name, cairo_status_to_string(st));
    cairo_surface_destroy(out);
    cairo_surface_destroy(heat);
    cairo_surface_destroy(frame);
    return ok;
}

/* ---- segments.csv, segments.json, scores.csv ------------------------------------------- */

static bool write_segments_csv(writer *w, const review_report *r, const int *rank_of_still)
{
    FILE *f = open_file(w, "segments.csv");
    if (!f)
        return false;
    fputs("segment,start_s,end_s,start_frame,end_frame,peak_score,peak_frame,peak_s,anomalous_frames,image\n", f);
    const review_segments *g = r->segments;
    for (size_t i = 0; i < g->count; i++) {
        const review_segment *s = &g->list[i];
        char image[64] = "";
        if (s->still >= 0)
            peak_name(image, sizeof image, rank_of_still[s->still]);
        fprintf(f, "%zu,%.3f,%.3f,%lld,%lld,", i + 1, s->start_ns * 1e-9, s->end_ns * 1e-9,
                (long long)s->first_frame, (long long)s->last_frame);
        if (isfinite(s->peak_score))
            fprintf(f, "%.6g", s->peak_score);
        else
            fputs("nan", f);
        fprintf(f, ",%lld,%.3f,%lld,", (long long)s->peak_frame, s->peak_ns * 1e-9, (long long)s->anomalous_frames);
        csv_field(f, image);
        fputc('\n', f);
    }
    return close_file(w, "segments.csv", f);
}

static bool write_scores_csv(writer *w, const review_report *r)
{
    FILE *f = open_file(w, "scores.csv");
    if (!f)
        return false;
    fputs("frame,time_s,score,anomalous\n", f);
    for (int64_t i = 0; i < r->frames; i++) {
        fprintf(f, "%lld,%.3f,", (long long)i, r->times_ns[i] * 1e-9);
        if (isfinite(r->scores[i]))
            fprintf(f, "%.6g", r->scores[i]);
        else
            fputs("nan", f);
        fprintf(f, ",%d\n", review_is_anomalous(r->scores[i], r->threshold));
    }
    return close_file(w, "scores.csv", f);
}

static bool write_segments_json(writer *w, const review_report *r, const int *rank_of_still)
{
    FILE *f = open_file(w, "segments.json");
    if (!f)
        return false;
    fputs("{\n  \"video\": ", f);
    json_string(f, r->video);
    fputs(",\n  \"model\": ", f);
    json_string(f, r->model);
    fprintf(f,
            ",\n  \"threshold\": %.6g,\n  \"threshold_source\": \"%s\",\n  \"frames\": %lld,\n"
            "  \"duration_s\": %.3f,\n  \"frame_width\": %d,\n  \"frame_height\": %d,\n"
            "  \"display_aspect\": %.4f,\n  \"model_input\": [%d, %d, %d],\n  \"squashed_to_square\": %s,\n"
            "  \"segments\": [",
            r->threshold, r->threshold_from_model ? "model" : "command line", (long long)r->frames,
            r->end_ns * 1e-9, r->stream.width, r->stream.height, display_aspect(&r->stream), r->model_channels,
            r->model_size, r->model_size, squashed(&r->stream) ? "true" : "false");
    const review_segments *g = r->segments;
    for (size_t i = 0; i < g->count; i++) {
        const review_segment *s = &g->list[i];
        fprintf(f,
                "%s\n    {\"segment\": %zu, \"start_s\": %.3f, \"end_s\": %.3f, \"start_frame\": %lld, "
                "\"end_frame\": %lld, \"peak_score\": ",
                i ? "," : "", i + 1, s->start_ns * 1e-9, s->end_ns * 1e-9, (long long)s->first_frame,
                (long long)s->last_frame);
        json_score(f, s->peak_score);
        fprintf(f, ", \"peak_frame\": %lld, \"peak_s\": %.3f, \"anomalous_frames\": %lld, \"image\": ",
                (long long)s->peak_frame, s->peak_ns * 1e-9, (long long)s->anomalous_frames);
        if (s->still >= 0) {
            char image[64];
            peak_name(image, sizeof image, rank_of_still[s->still]);
            json_string(f, image);
        } else {
            fputs("null", f);
        }
        fputs(", \"clip\": ", f);
        if (s->still >= 0 && r->clips) {
            char clip[64];
            clip_name(clip, sizeof clip, rank_of_still[s->still]);
            json_string(f, clip);
        } else {
            fputs("null", f);
        }
        fputc('}', f);
    }
    fputs(g->count ? "\n  ]\n}\n" : "]\n}\n", f);
    return close_file(w, "segments.json", f);
}

/* ---- index.html ------------------------------------------------------------------------- */

static const char STYLE[] =
    "body{font-family:sans-serif;margin:24px;color:#222;background:#fff;max-width:1240px}"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:24px 0 8px}"
    ".facts{margin:4px 0;line-height:1.5}.note{background:#fff4d6;border-left:4px solid #e6a400;padding:6px 10px}"
    "img.timeline{width:100%;max-width:1200px;height:auto;border:1px solid #ccc}"
    ".peaks{display:flex;flex-wrap:wrap;gap:12px}.peaks figure{margin:0;width:380px}"
    ".peaks img{width:100%;height:auto;border:1px solid #ccc}.peaks figcaption{font-size:13px;margin-top:4px}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f0f0f0}tr.top td{background:#fde8e8}";

static bool write_html(writer *w, const review_report *r, const int *rank_of_still)
{
    FILE *f = open_file(w, "index.html");
    if (!f)
        return false;
    const review_segments *g = r->segments;
    char name[1024], dur[32], t0[32], t1[32], tp[32];
    snprintf(name, sizeof name, "%s", r->video);
    const char *base = basename(name);
    review_format_time(dur, sizeof dur, r->end_ns);
    size_t flagged = 0;
    for (int64_t i = 0; i < r->frames; i++)
        flagged += review_is_anomalous(r->scores[i], r->threshold);

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Review of ", f);
    html_text(f, base);
    fprintf(f, "</title><style>%s</style></head><body>\n<h1>Review of ", STYLE);
    html_text(f, base);
    fputs("</h1>\n<p class=\"facts\">Recording <code>", f);
    html_text(f, r->video);
    fprintf(f, "</code>: %lld frames, %s long, %dx%d (%s decoded).<br>Model <code>", (long long)r->frames, dur,
            r->stream.width, r->stream.height, r->stream.decoded_format);
    html_text(f, r->model);
    fprintf(f, "</code>: %dx%d input, %d channel%s; threshold %.4g (%s).<br>"
               "<b>%zu frames above the threshold, in %zu segment%s</b> (frames closer than the merge gap are one "
               "segment).</p>\n",
            r->model_size, r->model_size, r->model_channels, r->model_channels == 1 ? "" : "s", r->threshold,
            r->threshold_from_model ? "calibrated with the model" : "given on the command line", flagged, g->count,
            g->count == 1 ? "" : "s");
    if (squashed(&r->stream))
        fprintf(f, "<p class=\"note\">The frames (%dx%d, display aspect %.3g:1) were squashed to %dx%d squares for "
                   "the model, as the skipganomaly element does: shapes look %s to it than they are. The pictures "
                   "below show the frames at their own aspect.</p>\n",
                r->stream.width, r->stream.height, display_aspect(&r->stream), r->model_size, r->model_size,
                display_aspect(&r->stream) > 1 ? "narrower" : "wider");
    if (r->model_channels == 1 && !r->stream.gray)
        fputs("<p class=\"note\">The model takes one channel: the colour frames were reduced to luma.</p>\n", f);
    if (r->truth) {
        const review_truth_metrics *m = r->truth;
        fputs("<h2>Against the truth file</h2>\n<p class=\"facts\"><code>", f);
        html_text(f, r->truth_path);
        fprintf(f, "</code>: %zu frames with a defect, %zu without", m->defects, m->normal);
        if (m->unlabelled)
            fprintf(f, ", %zu not labelled (left out)", m->unlabelled);
        if (m->beyond)
            fprintf(f, ", %zu labelled past the recording's end (left out)", m->beyond);
        fputs(".<br>", f);
        if (m->ranked)
            fprintf(f, "<b>Frame ROC AUC %.3f</b>, AUPRC %.3f (the frame difference, which needs no model: ROC AUC "
                       "%.3f). ", m->auc, m->auprc, m->baseline_auc);
        else
            fputs("No ROC AUC: it needs frames with and without a defect. ", f);
        fprintf(f, "At the threshold: <b>%zu of %zu defects flagged</b>, %zu of %zu good frames stopped.</p>\n",
                m->flagged, m->defects, m->stopped, m->normal);
    }
    fputs("<h2>Score over time</h2>\n<img class=\"timeline\" src=\"timeline.png\" width=\"" 
          "1200\" height=\"330\" alt=\"anomaly score of every frame over the recording's time, the threshold "
          "dashed, anomalous segments shaded red\">\n", f);

    /* the top segments' peak frames, highest first */
    int shown = 0;
    for (int rank = 1; rank <= g->keep; rank++)
        for (int i = 0; i < g->keep; i++) {
            if (g->still_owner[i] < 0 || rank_of_still[i] != rank)
                continue;
            const review_segment *s = &g->list[g->still_owner[i]];
            if (!shown++)
                fputs("<h2>Top segments: the frame at the peak, heat map over it</h2>\n<div class=\"peaks\">\n", f);
            char image[64];
            peak_name(image, sizeof image, rank);
            review_format_time(t0, sizeof t0, s->start_ns);
            review_format_time(t1, sizeof t1, s->end_ns);
            review_format_time(tp, sizeof tp, s->peak_ns);
            fprintf(f, "<figure><img src=\"%s\" alt=\"frame %lld at %s with its heat map\"><figcaption><b>#%d at "
                       "%s</b> (frame %lld), score ",
                    image, (long long)s->peak_frame, tp, rank, tp, (long long)s->peak_frame);
            if (isfinite(s->peak_score))
                fprintf(f, "%.4g", s->peak_score);
            else
                fputs("not a number", f);
            fprintf(f, "; segment %zu: %s to %s", (size_t)(s - g->list) + 1, t0, t1);
            if (r->clips) {
                char clip[64];
                clip_name(clip, sizeof clip, rank);
                fprintf(f, " (<a href=\"%s\">clip</a>)", clip);
            }
            fputs("</figcaption></figure>\n", f);
        }
    if (shown)
        fputs("</div>\n", f);

    fprintf(f, "<h2>Segments (%zu)</h2>\n", g->count);
    if (g->count == 0) {
        fputs("<p>No frame scored above the threshold.</p>\n", f);
    } else {
        fputs("<table><tr><th>#</th><th>start</th><th>end</th><th>length (s)</th><th>frames above</th>"
              "<th>peak score</th><th>peak at</th><th>peak frame</th></tr>\n",
              f);
        for (size_t i = 0; i < g->count && i < TABLE_MAX_ROWS; i++) {
            const review_segment *s = &g->list[i];
            review_format_time(t0, sizeof t0, s->start_ns);
            review_format_time(t1, sizeof t1, s->end_ns);
            review_format_time(tp, sizeof tp, s->peak_ns);
            fprintf(f, "<tr%s><td>%zu</td><td>%s</td><td>%s</td><td>%.2f</td><td>%lld</td><td>",
                    s->still >= 0 ? " class=\"top\"" : "", i + 1, t0, t1, (s->end_ns - s->start_ns) * 1e-9,
                    (long long)s->anomalous_frames);
            if (isfinite(s->peak_score))
                fprintf(f, "%.4g", s->peak_score);
            else
                fputs("not a number", f);
            fprintf(f, "</td><td>%s</td><td>%lld</td></tr>\n", tp, (long long)s->peak_frame);
        }
        fputs("</table>\n", f);
        if (g->count > TABLE_MAX_ROWS)
            fprintf(f, "<p>The first %d of %zu segments; all are in segments.csv.</p>\n", TABLE_MAX_ROWS, g->count);
    }
    fprintf(f, "<h2>Files</h2>\n<p><a href=\"segments.csv\">segments.csv</a>, <a href=\"segments.json\">"
               "segments.json</a>, <a href=\"scores.csv\">scores.csv</a> (every frame). Scored in %.1f s, "
               "%.3g frames/s, batches of %d.</p>\n</body></html>\n",
            r->seconds, r->frames_per_second, r->batch);
    return close_file(w, "index.html", f);
}

/* ---- the whole report ------------------------------------------------------------------- */

bool review_report_write(const char *dir_given, const review_report *r)
{
    if (!review_report_check_destination(dir_given)) /* again: the folder may have appeared meanwhile */
        return false;
    char dir[4096], tmp[4200];
    snprintf(dir, sizeof dir, "%s", dir_given);
    for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--) /* "out/": the suffix goes on the name */
        dir[len - 1] = 0;
    snprintf(tmp, sizeof tmp, "%s.partial-XXXXXX", dir);
    if (!mkdtemp(tmp))
        return cli_false(SG_OK, "cannot create a folder for the report beside %s: %s", dir, strerror(errno));
    chmod(tmp, 0755);
    writer w = {tmp, dir, false};
    const review_segments *g = r->segments;
    int *rank_of_still = calloc(g->keep > 0 ? (size_t)g->keep : 1, sizeof *rank_of_still);
    bool ok = rank_of_still != NULL;
    if (ok) {
        still_ranks(g, rank_of_still);
        ok = write_timeline(&w, r);
        for (int i = 0; ok && i < g->keep; i++)
            if (g->still_owner[i] >= 0) {
                ok = write_peak(&w, r, &g->list[g->still_owner[i]], &g->stills[i], rank_of_still[i]);
                if (ok && r->clips)
                    ok = write_clip(&w, r, &g->list[g->still_owner[i]], rank_of_still[i]);
            }
        ok = ok && write_segments_csv(&w, r, rank_of_still) && write_segments_json(&w, r, rank_of_still) &&
             write_scores_csv(&w, r) && write_html(&w, r, rank_of_still);
    } else {
        cli_fail(SG_OK, "out of memory writing the report");
    }
    free(rank_of_still);
    if (ok) {
        /* an empty folder at DIR is replaced; rename refuses anything else */
        struct stat st;
        if (stat(dir, &st) == 0 && rmdir(dir) != 0) {
            cli_fail(SG_OK, "cannot replace the empty folder %s: %s", dir, strerror(errno));
            ok = false;
        } else if (rename(tmp, dir) != 0) {
            cli_fail(SG_OK, "cannot rename the finished report %s to %s: %s", tmp, dir, strerror(errno));
            ok = false;
        } else {
            char parent[4096];
            parent_of(dir, parent, sizeof parent);
            int fd = open(parent, O_RDONLY | O_DIRECTORY);
            if (fd >= 0) {
                fsync(fd); /* the rename itself on the disk */
                close(fd);
            }
        }
    }
    if (!ok) {
        remove_tree(tmp);
        fprintf(stderr, "sgad: no report written: %s was not created\n", dir);
    }
    return ok;
}
