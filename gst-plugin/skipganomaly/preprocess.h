/* Frame -> model input, in one pass on the CPU: the region of interest is
 * converted to the model's colour (RGB, or luma for gray models) and resampled
 * to a grid of tiles x tiles model-sized images (C x S x S floats, x/127.5 - 1).
 *
 * Resampling the region to (tiles*S) x (tiles*S) and cutting that into tiles is
 * the same as resampling each tile, so one plan covers both. Each output pixel
 * averages the source pixels its footprint covers (area) when shrinking, and
 * interpolates the four nearest (bilinear, pixel centres aligned) otherwise; at
 * equal sizes the pixels are copied exactly. YUV frames are converted with the
 * caps' colorimetry matrix and range (BT.601 limited when unknown). */
#ifndef SGAD_PREPROCESS_H
#define SGAD_PREPROCESS_H

#include <gst/video/video.h>

#include "rect.h"

typedef struct {
    gint first, count; /* source pixels first .. first+count-1 */
    gint weights;      /* offset of their weights in SgadAxis.w */
} SgadTap;

typedef struct {
    guint n;      /* output samples: tiles * S */
    SgadTap *taps;
    gfloat *w;
} SgadAxis;

typedef struct SgadPlan {
    GstVideoFormat format;
    gint channels, size, tiles; /* C, S, grid */
    SgadRect region;            /* in frame pixels, clipped */
    SgadAxis ax, ay;
    /* YUV -> RGB (or luma) for I420/NV12 */
    gfloat y_off, y_scale, c_scale, kr, kb;
    /* packed RGB: byte offsets of R, G, B within a pixel and the pixel stride */
    gint off_r, off_g, off_b, pstride;
} SgadPlan;

/* Build a plan for frames of `info`; roi NULL or empty (width 0) = whole frame.
 * FALSE with *why set (static text or a g_strdup'ed message the caller frees)
 * when the format is not supported or the ROI lies outside the frame. */
gboolean sgad_plan_init(SgadPlan *plan, const GstVideoInfo *info, const SgadRect *roi, gint tiles, gint channels,
                        gint size, gchar **why);
void sgad_plan_clear(SgadPlan *plan);

/* Write tiles*tiles images (row-major grid), each C x S x S, into out. */
void sgad_preprocess(const SgadPlan *plan, const GstVideoFrame *frame, gfloat *out);

/* Floats of one run's output: tiles^2 * C * S * S. */
static inline gsize sgad_plan_floats(const SgadPlan *plan)
{
    return (gsize)plan->tiles * plan->tiles * plan->channels * plan->size * plan->size;
}

/* The raw formats the element accepts, as a caps string list. */
#define SGAD_PREPROCESS_FORMATS "{ RGB, BGR, RGBA, BGRA, ARGB, ABGR, RGBx, BGRx, xRGB, xBGR, GRAY8, I420, NV12 }"

#endif
