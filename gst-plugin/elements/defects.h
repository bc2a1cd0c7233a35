/* Synthetic defects painted into a video frame in its own pixel format, for
 * anomalyinject. A defect is a shape (where) and a paint (what happens there);
 * painting works on every 8-bit-per-component format GstVideoFormatInfo can
 * describe (packed RGB, grey, planar and semi-planar YUV), each component at
 * its own subsampling, so no conversion round trip alters the clean pixels. */
#ifndef SGAD_DEFECTS_H
#define SGAD_DEFECTS_H

#include <gst/video/video.h>

G_BEGIN_DECLS

typedef enum {
    SGAD_DEFECT_SCRATCH = 1 << 0,     /* a thin straight line, dark or bright */
    SGAD_DEFECT_SPOT = 1 << 1,        /* a filled ellipse, dark or bright */
    SGAD_DEFECT_MISSING = 1 << 2,     /* a rectangle blanked to black */
    SGAD_DEFECT_COLOR_SHIFT = 1 << 3, /* an ellipse whose colour is offset */
} SgadDefectKind;

#define SGAD_DEFECT_ALL (SGAD_DEFECT_SCRATCH | SGAD_DEFECT_SPOT | SGAD_DEFECT_MISSING | SGAD_DEFECT_COLOR_SHIFT)

typedef struct {
    SgadDefectKind kind;
    /* geometry in frame pixels: scratch from (x0,y0) to (x1,y1) with the given
     * thickness; spot/colour-shift ellipse centred on (x0,y0) with radii rx,ry;
     * missing rectangle [x0,x1) x [y0,y1) */
    gdouble x0, y0, x1, y1, rx, ry, thickness;
    /* painted colour (scratch, spot, missing) or, for colour shift, the offset
     * added to R, G, B */
    gint rgb[3];
    /* everything is clipped to this rectangle (the element's roi) */
    gint clip_x, clip_y, clip_width, clip_height;
} SgadDefect;

/* Whether painting supports this format (8 bits per component, no palette). */
gboolean sgad_defect_format_supported(GstVideoFormat format);

/* Draws the defect's parameters from rand for a clip rectangle; size is the
 * defect's scale relative to the rectangle's smaller side (0..1]. */
void sgad_defect_generate(SgadDefect *d, SgadDefectKind kind, GRand *rand, gdouble size, gint clip_x, gint clip_y,
                          gint clip_width, gint clip_height);

/* Paints the defect into a mapped, writable frame; returns the number of luma
 * (or RGB) samples inside the shape, so callers can tell a defect that fell on
 * nothing. mask (may be NULL): frame width x height bytes, row-major, zeroed by
 * the caller; every frame pixel whose value the painting changed (any
 * component, a subsampled chroma sample counting for every pixel it covers) is
 * set to 1, so the mask is exactly where the painted frame differs from the
 * clean one. */
guint sgad_defect_paint(const SgadDefect *d, GstVideoFrame *frame, guint8 *mask);

/* The defect kind's name, as recorded in the ground truth ("scratch", "spot",
 * "missing", "color-shift"). */
const gchar *sgad_defect_kind_name(SgadDefectKind kind);

G_END_DECLS

#endif
