/* anomalyoverlay: draws a frame's GstAnomalyMeta onto the frame with cairo and
 * pango: the heat map through a colour map, ROI and tile outlines, a bar of
 * the score against the threshold along the bottom, the score as text above it,
 * and a red border with an "ANOMALY" label (top-left) on anomalous frames. Frames without a result pass unchanged.
 *
 *   ... ! skipganomaly ! videoconvert ! anomalyoverlay heatmap-alpha=0.4 ! videoconvert ! autovideosink
 *
 * Cairo draws on native-endian premultiplied ARGB32 (B,G,R,A bytes on little
 * endian). Frames in that layout are drawn on directly; other 32-bit RGB orders
 * (and straight alpha) are rearranged in place, drawn on, and put back. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <math.h>

#include <cairo.h>
#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>
#include <pango/pangocairo.h>

#include <sgad/anomalymeta.h>
#include "sgad/colormap.h"

GST_DEBUG_CATEGORY_STATIC(anomaly_overlay_debug);
#define GST_CAT_DEFAULT anomaly_overlay_debug

#define GST_TYPE_ANOMALY_OVERLAY (gst_anomaly_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstAnomalyOverlay, gst_anomaly_overlay, GST, ANOMALY_OVERLAY, GstVideoFilter)

typedef enum { COLORMAP_JET, COLORMAP_INFERNO } Colormap;
#define GST_TYPE_ANOMALY_OVERLAY_COLORMAP (gst_anomaly_overlay_colormap_get_type())

#define DEFAULT_SHOW_SCORE TRUE
#define DEFAULT_SHOW_BAR TRUE
#define DEFAULT_SHOW_HEATMAP TRUE
#define DEFAULT_HEATMAP_ALPHA 0.4
#define DEFAULT_HEATMAP_MAX 0.0
#define DEFAULT_COLORMAP COLORMAP_JET
#define DEFAULT_SHOW_ROI TRUE
#define DEFAULT_SHOW_TILES TRUE
#define DEFAULT_SHOW_VERDICT TRUE
#define DEFAULT_BORDER_WIDTH 0
#define DEFAULT_FONT_DESC "Sans Bold 12"

typedef struct {
    gboolean show_score, show_bar, show_heatmap, show_roi, show_tiles, show_verdict;
    gdouble heatmap_alpha, heatmap_max;
    Colormap colormap;
    guint border_width;
    PangoFontDescription *font;
} Settings;

struct _GstAnomalyOverlay {
    GstVideoFilter parent;
    Settings settings; /* under the object lock */
};

enum {
    PROP_0,
    PROP_SHOW_SCORE,
    PROP_SHOW_BAR,
    PROP_SHOW_HEATMAP,
    PROP_HEATMAP_ALPHA,
    PROP_HEATMAP_MAX,
    PROP_COLORMAP,
    PROP_SHOW_ROI,
    PROP_SHOW_TILES,
    PROP_SHOW_VERDICT,
    PROP_BORDER_WIDTH,
    PROP_FONT_DESC
};

#define FORMATS "{ BGRx, BGRA, RGBx, RGBA, xRGB, ARGB, xBGR, ABGR }"
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FORMATS)));

G_DEFINE_TYPE(GstAnomalyOverlay, gst_anomaly_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(anomalyoverlay, "anomalyoverlay", GST_RANK_NONE, GST_TYPE_ANOMALY_OVERLAY);

static GType gst_anomaly_overlay_colormap_get_type(void)
{
    static gsize type = 0;
    static const GEnumValue values[] = {{COLORMAP_JET, "Jet: blue, cyan, yellow, red", "jet"},
                                        {COLORMAP_INFERNO, "Inferno: black, purple, orange, yellow", "inferno"},
                                        {0, NULL, NULL}};
    if (g_once_init_enter(&type)) {
        GType t = g_enum_register_static("GstAnomalyOverlayColormap", values);
        g_once_init_leave(&type, t);
    }
    return type;
}

/* --- pixel layout: the frame's 32-bit RGB order <-> cairo's ------------------- */

typedef struct {
    gint r, g, b, a;    /* byte offsets of the frame's components in a pixel */
    gboolean has_alpha; /* straight alpha in the frame, premultiplied in cairo */
    gboolean native;    /* already cairo's byte order */
} Layout;

/* cairo's ARGB32 is a native-endian word 0xAARRGGBB */
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
static const Layout cairo_layout = {2, 1, 0, 3, TRUE, TRUE};
#else
static const Layout cairo_layout = {1, 2, 3, 0, TRUE, TRUE};
#endif

static Layout frame_layout(const GstVideoFormatInfo *finfo)
{
    Layout l = {GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_R),
                GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_G),
                GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_B), 0, GST_VIDEO_FORMAT_INFO_HAS_ALPHA(finfo),
                FALSE};
    /* the padding byte of an x format is the one R, G and B leave */
    l.a = l.has_alpha ? (gint)GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_A) : 6 - l.r - l.g - l.b;
    l.native = l.r == cairo_layout.r && l.g == cairo_layout.g && l.b == cairo_layout.b;
    return l;
}

static void to_cairo(const Layout *l, guint8 *data, gint width, gint height, gint stride)
{
    for (gint y = 0; y < height; y++) {
        guint8 *p = data + (gsize)y * stride;
        for (gint x = 0; x < width; x++, p += 4) {
            guint a = l->has_alpha ? p[l->a] : 255, r = p[l->r], g = p[l->g], b = p[l->b];
            if (a != 255) {
                r = (r * a + 127) / 255;
                g = (g * a + 127) / 255;
                b = (b * a + 127) / 255;
            }
            p[cairo_layout.r] = r, p[cairo_layout.g] = g, p[cairo_layout.b] = b, p[cairo_layout.a] = a;
        }
    }
}

static void from_cairo(const Layout *l, guint8 *data, gint width, gint height, gint stride)
{
    for (gint y = 0; y < height; y++) {
        guint8 *p = data + (gsize)y * stride;
        for (gint x = 0; x < width; x++, p += 4) {
            guint a = p[cairo_layout.a], r = p[cairo_layout.r], g = p[cairo_layout.g], b = p[cairo_layout.b];
            if (!l->has_alpha)
                a = 255;
            else if (a != 255 && a != 0) {
                r = MIN(255u, (r * 255 + a / 2) / a);
                g = MIN(255u, (g * 255 + a / 2) / a);
                b = MIN(255u, (b * 255 + a / 2) / a);
            }
            p[l->r] = r, p[l->g] = g, p[l->b] = b, p[l->a] = a;
        }
    }
}

/* --- drawing ------------------------------------------------------------------ */

typedef struct {
    gdouble x, y, w, h;
} Rect;

static void draw_heatmap(cairo_t *cr, const SgadAnomalyResult *r, const Rect *roi, const Settings *s)
{
    guint hw = r->heatmap_width, hh = r->heatmap_height;
    gdouble top = s->heatmap_max;
    if (top <= 0.0) {
        /* auto: the frame's own maximum, so the hottest pixel is the map's top */
        for (gsize i = 0; i < (gsize)hw * hh; i++)
            if (isfinite(r->heatmap[i]))
                top = MAX(top, r->heatmap[i]);
        if (top <= 0.0)
            top = 1.0;
    }
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)hw, (int)hh);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return;
    }
    cairo_surface_flush(surf);
    guint8 *data = cairo_image_surface_get_data(surf);
    int stride = cairo_image_surface_get_stride(surf);
    for (guint y = 0; y < hh; y++) {
        guint32 *row = (guint32 *)(void *)(data + (gsize)y * stride);
        for (guint x = 0; x < hw; x++) {
            gfloat v = r->heatmap[(gsize)y * hw + x];
            gdouble t = isfinite(v) ? CLAMP(v / top, 0.0, 1.0) : 1.0;
            guint8 rgb[3];
            sg_colormap_rgb(s->colormap == COLORMAP_JET ? SG_COLORMAP_JET : SG_COLORMAP_INFERNO, t, rgb);
            /* as opaque as the error is high: where the reconstruction is good the frame shows as it is
             * (cairo's ARGB32 is premultiplied) */
            guint32 a = (guint32)lround(255.0 * t);
            row[x] = a << 24 | (rgb[0] * a / 255) << 16 | (rgb[1] * a / 255) << 8 | rgb[2] * a / 255;
        }
    }
    cairo_surface_mark_dirty(surf);

    cairo_save(cr);
    cairo_rectangle(cr, roi->x, roi->y, roi->w, roi->h);
    cairo_clip(cr);
    cairo_translate(cr, roi->x, roi->y);
    cairo_scale(cr, roi->w / hw, roi->h / hh);
    cairo_set_source_surface(cr, surf, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    /* pad, or the bilinear filter fades the map's edges into the frame */
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint_with_alpha(cr, s->heatmap_alpha);
    cairo_restore(cr);
    cairo_surface_destroy(surf);
}

static void draw_tiles(cairo_t *cr, const SgadAnomalyResult *r, const Rect *roi, gdouble line)
{
    gdouble tw = roi->w / r->tiles_x, th = roi->h / r->tiles_y;
    cairo_save(cr);
    cairo_set_line_width(cr, line);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.5);
    for (guint i = 1; i < r->tiles_x; i++) {
        cairo_move_to(cr, roi->x + i * tw, roi->y);
        cairo_line_to(cr, roi->x + i * tw, roi->y + roi->h);
    }
    for (guint j = 1; j < r->tiles_y; j++) {
        cairo_move_to(cr, roi->x, roi->y + j * th);
        cairo_line_to(cr, roi->x + roi->w, roi->y + j * th);
    }
    cairo_stroke(cr);
    /* tiles over the threshold: where the frame's verdict comes from */
    if (r->tile_scores) {
        cairo_set_source_rgb(cr, 1, 0.2, 0.2);
        cairo_set_line_width(cr, 2 * line);
        for (guint j = 0; j < r->tiles_y; j++)
            for (guint i = 0; i < r->tiles_x; i++)
                if (r->tile_scores[j * r->tiles_x + i] > r->threshold)
                    cairo_rectangle(cr, roi->x + i * tw + line, roi->y + j * th + line, tw - 2 * line,
                                    th - 2 * line);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

static void draw_bar(cairo_t *cr, const SgadAnomalyResult *r, gdouble x, gdouble y, gdouble w, gdouble h)
{
    /* the threshold sits in the middle; scores past twice it fill the bar */
    gdouble range = r->threshold > 0 ? 2.0 * r->threshold : (r->score > 0 ? r->score : 1.0);
    gdouble fill = isfinite(r->score) ? CLAMP(r->score / range, 0.0, 1.0) : 1.0;
    cairo_save(cr);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
    if (r->anomalous)
        cairo_set_source_rgb(cr, 0.9, 0.1, 0.1);
    else
        cairo_set_source_rgb(cr, 0.1, 0.8, 0.2);
    cairo_rectangle(cr, x, y, w * fill, h);
    cairo_fill(cr);
    if (r->threshold > 0) {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, MAX(1.0, h / 6));
        cairo_move_to(cr, x + 0.5 * w, y - h / 4);
        cairo_line_to(cr, x + 0.5 * w, y + h + h / 4);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

/* text on a translucent box whose top-left corner is (x, y), or whose
 * bottom-left corner is when from_bottom */
static void draw_label(cairo_t *cr, const Settings *s, const gchar *text, gdouble x, gdouble y, gboolean from_bottom,
                       gdouble bg_r, gdouble bg_g, gdouble bg_b, gdouble bg_a)
{
    PangoLayout *layout = pango_cairo_create_layout(cr);
    pango_layout_set_font_description(layout, s->font);
    pango_layout_set_text(layout, text, -1);
    PangoRectangle ink, logical;
    pango_layout_get_pixel_extents(layout, &ink, &logical);
    gdouble pad = 3, w = logical.width + 2 * pad, h = logical.height + 2 * pad;
    if (from_bottom)
        y -= h;
    cairo_save(cr);
    cairo_set_source_rgba(cr, bg_r, bg_g, bg_b, bg_a);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, x + pad, y + pad);
    pango_cairo_show_layout(cr, layout);
    cairo_restore(cr);
    g_object_unref(layout);
}

static void draw_result(cairo_t *cr, gint width, gint height, const SgadAnomalyResult *r, const Settings *s)
{
    gboolean has_roi = r->roi_width > 0 && r->roi_height > 0;
    Rect roi = has_roi ? (Rect){r->roi_x, r->roi_y, r->roi_width, r->roi_height} : (Rect){0, 0, width, height};
    gdouble border = s->border_width ? (gdouble)s->border_width : MAX(3, MIN(width, height) / 60);
    gdouble margin = border + MAX(2, MIN(width, height) / 80);
    gdouble line = MAX(1.0, MIN(width, height) / 400.0);

    if (s->show_heatmap && r->heatmap && s->heatmap_alpha > 0)
        draw_heatmap(cr, r, &roi, s);
    if (s->show_tiles && r->tiles_x * r->tiles_y > 1)
        draw_tiles(cr, r, &roi, line);
    if (s->show_roi && has_roi) {
        cairo_set_source_rgb(cr, 1, 0.85, 0);
        cairo_set_line_width(cr, 2 * line);
        cairo_rectangle(cr, roi.x + line, roi.y + line, roi.w - 2 * line, roi.h - 2 * line);
        cairo_stroke(cr);
    }
    /* verdict top-left, score bottom-left above the bar: apart on any frame */
    gdouble bh = MAX(4, height / 40), bottom = height - margin;
    if (s->show_bar) {
        draw_bar(cr, r, margin, bottom - bh, width - 2 * margin, bh);
        bottom -= bh + 0.5 * bh;
    }
    if (s->show_score) {
        gchar *text = g_strdup_printf("score %.4g  threshold %.4g", r->score, r->threshold);
        draw_label(cr, s, text, margin, bottom, TRUE, 0, 0, 0, 0.6);
        g_free(text);
    }
    if (s->show_verdict && r->anomalous) {
        draw_label(cr, s, "ANOMALY", margin, margin, FALSE, 0.85, 0, 0, 0.85);
        /* the band [0, border) on every side, pixel-aligned */
        cairo_set_source_rgb(cr, 1, 0, 0);
        cairo_set_line_width(cr, border);
        cairo_rectangle(cr, border / 2, border / 2, width - border, height - border);
        cairo_stroke(cr);
    }
}

static GstFlowReturn gst_anomaly_overlay_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame)
{
    GstAnomalyOverlay *self = GST_ANOMALY_OVERLAY(filter);
    SgadAnomalyResult r;
    if (!sgad_buffer_get_anomaly_result(frame->buffer, &r))
        return GST_FLOW_OK;

    GST_OBJECT_LOCK(self);
    Settings s = self->settings;
    s.font = pango_font_description_copy(self->settings.font);
    GST_OBJECT_UNLOCK(self);

    gint width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
    guint8 *data = GST_VIDEO_FRAME_PLANE_DATA(frame, 0);
    Layout layout = frame_layout(frame->info.finfo);
    gboolean convert = !layout.native || layout.has_alpha;
    if (convert)
        to_cairo(&layout, data, width, height, stride);

    cairo_surface_t *surf = cairo_image_surface_create_for_data(
        data, layout.has_alpha ? CAIRO_FORMAT_ARGB32 : CAIRO_FORMAT_RGB24, width, height, stride);
    cairo_t *cr = cairo_create(surf);
    draw_result(cr, width, height, &r, &s);
    cairo_status_t status = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    cairo_surface_destroy(surf);

    if (convert)
        from_cairo(&layout, data, width, height, stride);
    pango_font_description_free(s.font);
    if (status != CAIRO_STATUS_SUCCESS)
        GST_WARNING_OBJECT(self, "drawing failed: %s", cairo_status_to_string(status));
    return GST_FLOW_OK;
}

static void gst_anomaly_overlay_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstAnomalyOverlay *self = GST_ANOMALY_OVERLAY(object);
    Settings *s = &self->settings;
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_SHOW_SCORE:
        s->show_score = g_value_get_boolean(value);
        break;
    case PROP_SHOW_BAR:
        s->show_bar = g_value_get_boolean(value);
        break;
    case PROP_SHOW_HEATMAP:
        s->show_heatmap = g_value_get_boolean(value);
        break;
    case PROP_HEATMAP_ALPHA:
        s->heatmap_alpha = g_value_get_double(value);
        break;
    case PROP_HEATMAP_MAX:
        s->heatmap_max = g_value_get_double(value);
        break;
    case PROP_COLORMAP:
        s->colormap = g_value_get_enum(value);
        break;
    case PROP_SHOW_ROI:
        s->show_roi = g_value_get_boolean(value);
        break;
    case PROP_SHOW_TILES:
        s->show_tiles = g_value_get_boolean(value);
        break;
    case PROP_SHOW_VERDICT:
        s->show_verdict = g_value_get_boolean(value);
        break;
    case PROP_BORDER_WIDTH:
        s->border_width = g_value_get_uint(value);
        break;
    case PROP_FONT_DESC: {
        const gchar *desc = g_value_get_string(value);
        pango_font_description_free(s->font);
        s->font = pango_font_description_from_string(desc ? desc : DEFAULT_FONT_DESC);
        break;
    }
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_anomaly_overlay_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstAnomalyOverlay *self = GST_ANOMALY_OVERLAY(object);
    Settings *s = &self->settings;
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_SHOW_SCORE:
        g_value_set_boolean(value, s->show_score);
        break;
    case PROP_SHOW_BAR:
        g_value_set_boolean(value, s->show_bar);
        break;
    case PROP_SHOW_HEATMAP:
        g_value_set_boolean(value, s->show_heatmap);
        break;
    case PROP_HEATMAP_ALPHA:
        g_value_set_double(value, s->heatmap_alpha);
        break;
    case PROP_HEATMAP_MAX:
        g_value_set_double(value, s->heatmap_max);
        break;
    case PROP_COLORMAP:
        g_value_set_enum(value, s->colormap);
        break;
    case PROP_SHOW_ROI:
        g_value_set_boolean(value, s->show_roi);
        break;
    case PROP_SHOW_TILES:
        g_value_set_boolean(value, s->show_tiles);
        break;
    case PROP_SHOW_VERDICT:
        g_value_set_boolean(value, s->show_verdict);
        break;
    case PROP_BORDER_WIDTH:
        g_value_set_uint(value, s->border_width);
        break;
    case PROP_FONT_DESC:
        g_value_take_string(value, pango_font_description_to_string(s->font));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_anomaly_overlay_finalize(GObject *object)
{
    pango_font_description_free(GST_ANOMALY_OVERLAY(object)->settings.font);
    G_OBJECT_CLASS(gst_anomaly_overlay_parent_class)->finalize(object);
}

static void install_boolean(GObjectClass *klass, guint id, const gchar *name, const gchar *nick, const gchar *blurb,
                            gboolean def)
{
    g_object_class_install_property(
        klass, id,
        g_param_spec_boolean(name, nick, blurb, def,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE));
}

static void gst_anomaly_overlay_class_init(GstAnomalyOverlayClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
    GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

    GST_DEBUG_CATEGORY_INIT(anomaly_overlay_debug, "anomalyoverlay", 0, "anomaly result overlay");
    sgad_anomaly_meta_register();

    gobject_class->set_property = gst_anomaly_overlay_set_property;
    gobject_class->get_property = gst_anomaly_overlay_get_property;
    gobject_class->finalize = gst_anomaly_overlay_finalize;

    const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE;
    install_boolean(gobject_class, PROP_SHOW_SCORE, "show-score", "Show score",
                    "Write the score and threshold as text in the bottom-left corner, above the bar", DEFAULT_SHOW_SCORE);
    install_boolean(gobject_class, PROP_SHOW_BAR, "show-bar", "Show bar",
                    "Draw a bar of the score along the bottom; the threshold marks its middle", DEFAULT_SHOW_BAR);
    install_boolean(gobject_class, PROP_SHOW_HEATMAP, "show-heatmap", "Show heat map",
                    "Blend the per-pixel reconstruction error over the scored region through the colour map",
                    DEFAULT_SHOW_HEATMAP);
    g_object_class_install_property(
        gobject_class, PROP_HEATMAP_ALPHA,
        g_param_spec_double("heatmap-alpha", "Heat map opacity",
                            "Opacity of the heat map where the error is highest (0 transparent, 1 opaque); lower "
                            "errors are drawn fainter in proportion",
                            0.0, 1.0, DEFAULT_HEATMAP_ALPHA, rw));
    g_object_class_install_property(
        gobject_class, PROP_HEATMAP_MAX,
        g_param_spec_double("heatmap-max", "Heat map maximum",
                            "Error mapped to the top of the colour map, so frames compare; 0: each frame's own maximum",
                            0.0, G_MAXDOUBLE, DEFAULT_HEATMAP_MAX, rw));
    g_object_class_install_property(
        gobject_class, PROP_COLORMAP,
        g_param_spec_enum("colormap", "Colour map", "Colour ramp of the heat map, from low to high error",
                          GST_TYPE_ANOMALY_OVERLAY_COLORMAP, DEFAULT_COLORMAP, rw));
    install_boolean(gobject_class, PROP_SHOW_ROI, "show-roi", "Show ROI", "Outline the scored region of interest",
                    DEFAULT_SHOW_ROI);
    install_boolean(gobject_class, PROP_SHOW_TILES, "show-tiles", "Show tiles",
                    "Outline the tiles of a tiled result; tiles over the threshold in red", DEFAULT_SHOW_TILES);
    install_boolean(gobject_class, PROP_SHOW_VERDICT, "show-verdict", "Show verdict",
                    "Frame anomalous frames with a red border and an ANOMALY label", DEFAULT_SHOW_VERDICT);
    g_object_class_install_property(
        gobject_class, PROP_BORDER_WIDTH,
        g_param_spec_uint("border-width", "Border width",
                          "Width in pixels of the red border of anomalous frames; 0: from the frame size", 0, 1000,
                          DEFAULT_BORDER_WIDTH, rw));
    g_object_class_install_property(
        gobject_class, PROP_FONT_DESC,
        g_param_spec_string("font-desc", "Font description",
                            "Pango font description of the text, e.g. \"Sans Bold 12\"", DEFAULT_FONT_DESC,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

    gst_element_class_set_static_metadata(
        element_class, "Anomaly overlay", "Filter/Effect/Video",
        "Draws the anomaly score, threshold bar, heat map and verdict of GstAnomalyMeta onto the frames", "sgad");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);

    trans_class->passthrough_on_same_caps = FALSE;
    filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_anomaly_overlay_transform_frame_ip);

    gst_type_mark_as_plugin_api(GST_TYPE_ANOMALY_OVERLAY_COLORMAP, 0);
}

static void gst_anomaly_overlay_init(GstAnomalyOverlay *self)
{
    self->settings = (Settings){.show_score = DEFAULT_SHOW_SCORE,
                                .show_bar = DEFAULT_SHOW_BAR,
                                .show_heatmap = DEFAULT_SHOW_HEATMAP,
                                .show_roi = DEFAULT_SHOW_ROI,
                                .show_tiles = DEFAULT_SHOW_TILES,
                                .show_verdict = DEFAULT_SHOW_VERDICT,
                                .heatmap_alpha = DEFAULT_HEATMAP_ALPHA,
                                .heatmap_max = DEFAULT_HEATMAP_MAX,
                                .colormap = DEFAULT_COLORMAP,
                                .border_width = DEFAULT_BORDER_WIDTH,
                                .font = pango_font_description_from_string(DEFAULT_FONT_DESC)};
}
