/* Painting synthetic defects component by component in the frame's own format.
 * Each component plane is visited at its subsampled resolution and a sample is
 * inside the shape when its centre (in frame pixels) is, so a 4:2:0 chroma
 * sample follows the 2x2 luma block it covers. */
#include "defects.h"

#include <math.h>

gboolean sgad_defect_format_supported(GstVideoFormat format)
{
    const GstVideoFormatInfo *finfo = gst_video_format_get_info(format);
    if (!finfo || GST_VIDEO_FORMAT_INFO_HAS_PALETTE(finfo) || GST_VIDEO_FORMAT_INFO_IS_COMPLEX(finfo) ||
        GST_VIDEO_FORMAT_INFO_IS_TILED(finfo))
        return FALSE;
    for (guint c = 0; c < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(finfo); c++)
        if (GST_VIDEO_FORMAT_INFO_DEPTH(finfo, c) != 8 || GST_VIDEO_FORMAT_INFO_SHIFT(finfo, c) != 0)
            return FALSE;
    return TRUE;
}

const gchar *sgad_defect_kind_name(SgadDefectKind kind)
{
    switch (kind) {
    case SGAD_DEFECT_SCRATCH:
        return "scratch";
    case SGAD_DEFECT_SPOT:
        return "spot";
    case SGAD_DEFECT_MISSING:
        return "missing";
    case SGAD_DEFECT_COLOR_SHIFT:
        return "color-shift";
    }
    return "unknown";
}

/* dark (0..50) or bright (205..255), slightly tinted: a stain, a reflection */
static void random_extreme_colour(GRand *rand, gint rgb[3])
{
    gboolean dark = g_rand_boolean(rand);
    gint base = dark ? g_rand_int_range(rand, 0, 30) : g_rand_int_range(rand, 225, 256);
    for (int c = 0; c < 3; c++)
        rgb[c] = CLAMP(base + g_rand_int_range(rand, -20, 21), 0, 255);
}

void sgad_defect_generate(SgadDefect *d, SgadDefectKind kind, GRand *rand, gdouble size, gint clip_x, gint clip_y,
                          gint clip_width, gint clip_height)
{
    *d = (SgadDefect){.kind = kind, .clip_x = clip_x, .clip_y = clip_y, .clip_width = clip_width,
                      .clip_height = clip_height};
    /* at least a few pixels, or a small size on a small frame paints nothing */
    gdouble s = MAX(3.0, size * MIN(clip_width, clip_height));
    gdouble cx = clip_x + g_rand_double(rand) * clip_width;
    gdouble cy = clip_y + g_rand_double(rand) * clip_height;
    switch (kind) {
    case SGAD_DEFECT_SCRATCH: {
        gdouble len = s * g_rand_double_range(rand, 1.0, 2.0);
        gdouble angle = g_rand_double_range(rand, 0.0, G_PI);
        d->x0 = cx - 0.5 * len * cos(angle);
        d->y0 = cy - 0.5 * len * sin(angle);
        d->x1 = cx + 0.5 * len * cos(angle);
        d->y1 = cy + 0.5 * len * sin(angle);
        d->thickness = MAX(1.5, 0.08 * s);
        random_extreme_colour(rand, d->rgb);
        break;
    }
    case SGAD_DEFECT_SPOT:
        d->x0 = cx;
        d->y0 = cy;
        d->rx = 0.5 * s * g_rand_double_range(rand, 0.6, 1.0);
        d->ry = 0.5 * s * g_rand_double_range(rand, 0.6, 1.0);
        random_extreme_colour(rand, d->rgb);
        break;
    case SGAD_DEFECT_MISSING: {
        gdouble w = s * g_rand_double_range(rand, 0.7, 1.3), h = s * g_rand_double_range(rand, 0.7, 1.3);
        d->x0 = floor(cx - 0.5 * w);
        d->y0 = floor(cy - 0.5 * h);
        d->x1 = d->x0 + ceil(w);
        d->y1 = d->y0 + ceil(h);
        d->rgb[0] = d->rgb[1] = d->rgb[2] = 0;
        break;
    }
    case SGAD_DEFECT_COLOR_SHIFT: {
        d->x0 = cx;
        d->y0 = cy;
        d->rx = 0.5 * s * g_rand_double_range(rand, 0.8, 1.2);
        d->ry = 0.5 * s * g_rand_double_range(rand, 0.8, 1.2);
        /* one channel pushed hard, the others a little: a visible cast */
        gint strong = g_rand_int_range(rand, 0, 3);
        for (int c = 0; c < 3; c++) {
            gint sign = g_rand_boolean(rand) ? 1 : -1;
            d->rgb[c] = sign * (c == strong ? g_rand_int_range(rand, 60, 101) : g_rand_int_range(rand, 0, 31));
        }
        break;
    }
    }
}

static gboolean inside(const SgadDefect *d, gdouble x, gdouble y)
{
    if (x < d->clip_x || y < d->clip_y || x >= d->clip_x + d->clip_width || y >= d->clip_y + d->clip_height)
        return FALSE;
    switch (d->kind) {
    case SGAD_DEFECT_SCRATCH: {
        gdouble dx = d->x1 - d->x0, dy = d->y1 - d->y0, len2 = dx * dx + dy * dy;
        gdouble t = len2 > 0 ? CLAMP(((x - d->x0) * dx + (y - d->y0) * dy) / len2, 0.0, 1.0) : 0.0;
        gdouble ex = x - (d->x0 + t * dx), ey = y - (d->y0 + t * dy);
        return ex * ex + ey * ey <= 0.25 * d->thickness * d->thickness;
    }
    case SGAD_DEFECT_SPOT:
    case SGAD_DEFECT_COLOR_SHIFT: {
        gdouble u = (x - d->x0) / d->rx, v = (y - d->y0) / d->ry;
        return u * u + v * v <= 1.0;
    }
    case SGAD_DEFECT_MISSING:
        return x >= d->x0 && x < d->x1 && y >= d->y0 && y < d->y1;
    }
    return FALSE;
}

/* the shape's bounding box in frame pixels, clipped: [x0,x1) x [y0,y1) */
static void bounds(const SgadDefect *d, gint *x0, gint *y0, gint *x1, gint *y1)
{
    gdouble bx0, by0, bx1, by1;
    switch (d->kind) {
    case SGAD_DEFECT_SCRATCH:
        bx0 = MIN(d->x0, d->x1) - d->thickness;
        bx1 = MAX(d->x0, d->x1) + d->thickness;
        by0 = MIN(d->y0, d->y1) - d->thickness;
        by1 = MAX(d->y0, d->y1) + d->thickness;
        break;
    case SGAD_DEFECT_MISSING:
        bx0 = d->x0, bx1 = d->x1, by0 = d->y0, by1 = d->y1;
        break;
    default:
        bx0 = d->x0 - d->rx, bx1 = d->x0 + d->rx, by0 = d->y0 - d->ry, by1 = d->y0 + d->ry;
        break;
    }
    *x0 = MAX(d->clip_x, (gint)floor(bx0));
    *y0 = MAX(d->clip_y, (gint)floor(by0));
    *x1 = MIN(d->clip_x + d->clip_width, (gint)ceil(bx1) + 1);
    *y1 = MIN(d->clip_y + d->clip_height, (gint)ceil(by1) + 1);
}

/* The colour (or offset) in the frame's own components: R,G,B for RGB formats,
 * Y,U,V (BT.601, the frame's range) for YUV and grey. Offsets have no bias. */
static void to_format_space(const GstVideoFrame *frame, const gint rgb[3], gboolean offset, gdouble out[3])
{
    const GstVideoFormatInfo *finfo = frame->info.finfo;
    gdouble r = rgb[0], g = rgb[1], b = rgb[2];
    if (GST_VIDEO_FORMAT_INFO_IS_RGB(finfo)) {
        out[0] = r, out[1] = g, out[2] = b;
        return;
    }
    gboolean full = GST_VIDEO_FORMAT_INFO_IS_GRAY(finfo) || frame->info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
    if (full) {
        out[0] = 0.299 * r + 0.587 * g + 0.114 * b;
        out[1] = -0.168736 * r - 0.331264 * g + 0.5 * b;
        out[2] = 0.5 * r - 0.418688 * g - 0.081312 * b;
    } else {
        out[0] = (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
        out[1] = (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
        out[2] = (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    }
    if (!offset) {
        out[0] += full ? 0.0 : 16.0;
        out[1] += 128.0;
        out[2] += 128.0;
    }
}

/* Marks, in a frame-sized mask, the frame pixels one component sample covers
 * (a 4:2:0 chroma sample covers a 2x2 block, cut at the frame's edge). */
static void mark_sample(guint8 *mask, gint width, gint height, gint cx, gint cy, guint ws, guint hs)
{
    gint x0 = cx << ws, y0 = cy << hs;
    gint x1 = MIN(width, (cx + 1) << ws), y1 = MIN(height, (cy + 1) << hs);
    for (gint y = y0; y < y1; y++)
        for (gint x = x0; x < x1; x++)
            mask[(gsize)y * width + x] = 1;
}

guint sgad_defect_paint(const SgadDefect *d, GstVideoFrame *frame, guint8 *mask)
{
    const GstVideoFormatInfo *finfo = frame->info.finfo;
    gboolean shift = d->kind == SGAD_DEFECT_COLOR_SHIFT;
    gdouble value[3];
    to_format_space(frame, d->rgb, shift, value);

    const gint width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);
    gint bx0, by0, bx1, by1;
    bounds(d, &bx0, &by0, &bx1, &by1);
    bx0 = MAX(bx0, 0);
    by0 = MAX(by0, 0);
    bx1 = MIN(bx1, width);
    by1 = MIN(by1, height);
    if (bx0 >= bx1 || by0 >= by1)
        return 0;

    guint covered = 0;
    for (guint c = 0; c < MIN(3u, GST_VIDEO_FORMAT_INFO_N_COMPONENTS(finfo)); c++) {
        guint ws = GST_VIDEO_FORMAT_INFO_W_SUB(finfo, c), hs = GST_VIDEO_FORMAT_INFO_H_SUB(finfo, c);
        guint8 *data = GST_VIDEO_FRAME_COMP_DATA(frame, c);
        gint stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, c), pstride = GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c);
        gint cw = GST_VIDEO_FRAME_COMP_WIDTH(frame, c), ch = GST_VIDEO_FRAME_COMP_HEIGHT(frame, c);
        gint cx0 = bx0 >> ws, cx1 = MIN(cw, ((bx1 - 1) >> ws) + 1);
        gint cy0 = by0 >> hs, cy1 = MIN(ch, ((by1 - 1) >> hs) + 1);
        gdouble half_w = 0.5 * (1 << ws), half_h = 0.5 * (1 << hs);
        for (gint cy = cy0; cy < cy1; cy++) {
            gdouble fy = (gdouble)(cy << hs) + half_h;
            guint8 *row = data + (gsize)cy * stride;
            for (gint cx = cx0; cx < cx1; cx++) {
                if (!inside(d, (gdouble)(cx << ws) + half_w, fy))
                    continue;
                guint8 *p = row + (gsize)cx * pstride;
                gdouble v = shift ? *p + value[c] : value[c];
                guint8 painted = (guint8)CLAMP(lrint(v), 0, 255);
                covered += c == 0;
                /* the mask is what changed, read off the write itself: a dark
                 * spot on a pixel already that dark leaves it out */
                if (painted == *p)
                    continue;
                *p = painted;
                if (mask)
                    mark_sample(mask, width, height, cx, cy, ws, hs);
            }
        }
    }
    return covered;
}
