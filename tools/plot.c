/* The two plots of eval, drawn with cairo into PNG files: the ROC curve and
 * the score histograms of normal and abnormal images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "cli.h"

/* Plot area inside the canvas. */
typedef struct frame {
    double x0, y0, w, h;          /* pixels: left, top, width, height */
    double xmin, xmax, ymin, ymax; /* data range */
} frame;

static double px(const frame *f, double x)
{
    return f->x0 + (x - f->xmin) / (f->xmax - f->xmin) * f->w;
}

static double py(const frame *f, double y)
{
    return f->y0 + f->h - (y - f->ymin) / (f->ymax - f->ymin) * f->h;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align_x, double align_y)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.width * align_x - e.x_bearing, y - e.height * align_y - e.y_bearing);
    cairo_show_text(cr, s);
}

/* Box, ticks with labels, axis titles and the title. */
static void axes(cairo_t *cr, const frame *f, int xticks, int yticks, const char *xlabel, const char *ylabel,
                 const char *title)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, f->x0, f->y0, f->w, f->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 11);
    char buf[32];
    for (int i = 0; i <= xticks; i++) {
        double v = f->xmin + (f->xmax - f->xmin) * i / xticks, x = px(f, v);
        cairo_move_to(cr, x, f->y0 + f->h);
        cairo_line_to(cr, x, f->y0 + f->h + 5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.3g", v);
        text_at(cr, x, f->y0 + f->h + 8, buf, 0.5, 0);
    }
    for (int i = 0; i <= yticks; i++) {
        double v = f->ymin + (f->ymax - f->ymin) * i / yticks, y = py(f, v);
        cairo_move_to(cr, f->x0 - 5, y);
        cairo_line_to(cr, f->x0, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.3g", v);
        text_at(cr, f->x0 - 8, y, buf, 1, 0.5);
    }
    cairo_set_font_size(cr, 13);
    text_at(cr, f->x0 + f->w / 2, f->y0 + f->h + 26, xlabel, 0.5, 0);
    cairo_save(cr);
    cairo_translate(cr, f->x0 - 48, f->y0 + f->h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, ylabel, 0.5, 0.5);
    cairo_restore(cr);
    cairo_set_font_size(cr, 14);
    text_at(cr, f->x0 + f->w / 2, f->y0 - 12, title, 0.5, 1);
}

static cairo_t *canvas(int w, int h, cairo_surface_t **surface)
{
    *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(*surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    return cr;
}

static bool finish(cairo_t *cr, cairo_surface_t *surface, const char *path)
{
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_write_to_png(surface, path);
    cairo_surface_destroy(surface);
    if (st != CAIRO_STATUS_SUCCESS) {
        cli_fail(SG_OK, "cannot write %s: %s", path, cairo_status_to_string(st));
        return false;
    }
    return true;
}

bool cli_plot_roc(const char *path, const sg_roc_point *points, size_t count, double auc, const char *title)
{
    cairo_surface_t *surface;
    cairo_t *cr = canvas(520, 520, &surface);
    frame f = {70, 40, 420, 420, 0, 1, 0, 1};
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6); /* chance */
    const double dash[] = {5, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, px(&f, 0), py(&f, 0));
    cairo_line_to(cr, px(&f, 1), py(&f, 1));
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    axes(cr, &f, 5, 5, "false positive rate", "true positive rate", title);
    cairo_set_source_rgb(cr, 31 / 255.0, 119 / 255.0, 180 / 255.0); /* over the frame: a perfect curve runs on it */
    cairo_set_line_width(cr, 2.5);
    for (size_t i = 0; i < count; i++)
        (i ? cairo_line_to : cairo_move_to)(cr, px(&f, points[i].fpr), py(&f, points[i].tpr));
    cairo_stroke(cr);
    char buf[64];
    snprintf(buf, sizeof buf, "AUC = %.4f", auc);
    cairo_set_font_size(cr, 16);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text_at(cr, f.x0 + f.w - 12, f.y0 + f.h - 12, buf, 1, 1);
    return finish(cr, surface, path);
}

bool cli_plot_histogram(const char *path, const float *scores, const uint8_t *truth, size_t n, float threshold,
                        const char *title)
{
    enum { BINS = 40 };
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(scores[i])) {
            lo = fmin(lo, scores[i]);
            hi = fmax(hi, scores[i]);
        }
    if (isfinite(threshold)) {
        lo = fmin(lo, threshold);
        hi = fmax(hi, threshold);
    }
    if (!(lo < hi)) { /* no finite score, or all equal */
        double c = isfinite(lo) ? lo : 0, d = fabs(c) > 0 ? fabs(c) * 0.5 : 1;
        lo = c - d;
        hi = c + d;
    }
    /* each class normalised to its own count: the classes differ in size */
    double frac[2][BINS] = {{0}}, total[2] = {0, 0}, ymax = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            continue;
        int b = (int)((scores[i] - lo) / (hi - lo) * BINS);
        b = b < 0 ? 0 : b >= BINS ? BINS - 1 : b;
        frac[truth[i] != 0][b] += 1;
        total[truth[i] != 0] += 1;
    }
    for (int c = 0; c < 2; c++)
        for (int b = 0; b < BINS; b++) {
            frac[c][b] /= total[c] > 0 ? total[c] : 1;
            ymax = fmax(ymax, frac[c][b]);
        }

    /* y ticks at a round step (1, 2 or 5 times a power of ten) */
    double raw = (ymax > 0 ? ymax : 1) / 4, step = pow(10, floor(log10(raw)));
    step *= raw / step > 5 ? 10 : raw / step > 2 ? 5 : raw / step > 1 ? 2 : 1;
    int yticks = (int)ceil((ymax > 0 ? ymax : 1) * 1.02 / step);

    cairo_surface_t *surface;
    cairo_t *cr = canvas(800, 440, &surface);
    frame f = {80, 40, 570, 340, lo, hi, 0, yticks * step};
    const double colour[2][3] = {{31 / 255.0, 119 / 255.0, 180 / 255.0}, {214 / 255.0, 39 / 255.0, 40 / 255.0}};
    for (int c = 0; c < 2; c++) {
        cairo_set_source_rgba(cr, colour[c][0], colour[c][1], colour[c][2], 0.55);
        for (int b = 0; b < BINS; b++) {
            double x0 = px(&f, lo + (hi - lo) * b / BINS), x1 = px(&f, lo + (hi - lo) * (b + 1) / BINS);
            cairo_rectangle(cr, x0, py(&f, frac[c][b]), x1 - x0, py(&f, 0) - py(&f, frac[c][b]));
        }
        cairo_fill(cr);
    }
    if (isfinite(threshold)) {
        const double dash[] = {6, 4};
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_line_width(cr, 1.5);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, px(&f, threshold), f.y0);
        cairo_line_to(cr, px(&f, threshold), f.y0 + f.h);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
    axes(cr, &f, 5, yticks, "anomaly score", "fraction of the class", title);
    /* legend, right of the plot so it hides no bar */
    char buf[64];
    cairo_set_font_size(cr, 12);
    for (int c = 0; c < 2; c++) {
        double y = f.y0 + 12 + 18 * c;
        cairo_set_source_rgba(cr, colour[c][0], colour[c][1], colour[c][2], 0.55);
        cairo_rectangle(cr, f.x0 + f.w + 14, y - 5, 14, 10);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%s (%.0f)", c ? "abnormal" : "normal", total[c]);
        text_at(cr, f.x0 + f.w + 34, y, buf, 0, 0.5);
    }
    if (isfinite(threshold)) {
        const double dash[] = {4, 2};
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, f.x0 + f.w + 14, f.y0 + 48);
        cairo_line_to(cr, f.x0 + f.w + 28, f.y0 + 48);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        snprintf(buf, sizeof buf, "threshold %.4g", threshold);
        text_at(cr, f.x0 + f.w + 34, f.y0 + 48, buf, 0, 0.5);
    }
    return finish(cr, surface, path);
}
