/* Frame -> model input: plan (per caps, ROI, tiles and model) and one-pass run. */
#include "preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* how source pixels are read */
enum { KIND_PACKED_RGB, KIND_GRAY, KIND_I420, KIND_NV12 };

static gint format_kind(GstVideoFormat f)
{
    switch (f) {
    case GST_VIDEO_FORMAT_RGB:
    case GST_VIDEO_FORMAT_BGR:
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_RGBx:
    case GST_VIDEO_FORMAT_BGRx:
    case GST_VIDEO_FORMAT_xRGB:
    case GST_VIDEO_FORMAT_xBGR:
        return KIND_PACKED_RGB;
    case GST_VIDEO_FORMAT_GRAY8:
        return KIND_GRAY;
    case GST_VIDEO_FORMAT_I420:
        return KIND_I420;
    case GST_VIDEO_FORMAT_NV12:
        return KIND_NV12;
    default:
        return -1;
    }
}

/* Sampling of `len` source pixels starting at `start` onto n outputs. */
static void axis_init(SgadAxis *a, gint start, gint len, guint n)
{
    double scale = (double)len / n;
    gint max_taps = (gint)ceil(scale) + 2;
    a->n = n;
    a->taps = g_new(SgadTap, n);
    a->w = g_new(gfloat, (gsize)n * max_taps);
    gint used = 0;
    for (guint o = 0; o < n; o++) {
        SgadTap *t = &a->taps[o];
        t->weights = used;
        if (scale > 1.0) {
            /* area: every source pixel the footprint [a0, a1) overlaps, by overlap */
            double a0 = o * scale, a1 = (o + 1) * scale;
            gint first = (gint)floor(a0), last = MIN((gint)ceil(a1) - 1, len - 1);
            t->first = start + first;
            t->count = last - first + 1;
            for (gint i = first; i <= last; i++)
                a->w[used++] = (gfloat)((MIN(i + 1.0, a1) - MAX((double)i, a0)) / scale);
        } else {
            /* bilinear between the two nearest pixel centres */
            double c = CLAMP((o + 0.5) * scale - 0.5, 0.0, len - 1.0);
            gint i0 = (gint)floor(c);
            double f = c - i0;
            t->first = start + i0;
            if (f == 0.0 || i0 + 1 >= len) {
                t->count = 1;
                a->w[used++] = 1.0f;
            } else {
                t->count = 2;
                a->w[used++] = (gfloat)(1.0 - f);
                a->w[used++] = (gfloat)f;
            }
        }
    }
}

static void axis_clear(SgadAxis *a)
{
    g_clear_pointer(&a->taps, g_free);
    g_clear_pointer(&a->w, g_free);
}

gboolean sgad_plan_init(SgadPlan *plan, const GstVideoInfo *info, const SgadRect *roi, gint tiles, gint channels,
                        gint size, gchar **why)
{
    memset(plan, 0, sizeof *plan);
    GstVideoFormat f = GST_VIDEO_INFO_FORMAT(info);
    if (format_kind(f) < 0) {
        *why = g_strdup_printf("video format %s is not supported (supported: %s)", gst_video_format_to_string(f),
                               SGAD_PREPROCESS_FORMATS);
        return FALSE;
    }
    gint fw = GST_VIDEO_INFO_WIDTH(info), fh = GST_VIDEO_INFO_HEIGHT(info);
    SgadRect r = {0, 0, fw, fh};
    if (roi && roi->width > 0 && roi->height > 0) {
        /* in 64 bits: x + width must not wrap around (sgad_rect_parse clips too) */
        gint x1 = (gint)MIN((gint64)roi->x + roi->width, fw), y1 = (gint)MIN((gint64)roi->y + roi->height, fh);
        r.x = MAX(roi->x, 0);
        r.y = MAX(roi->y, 0);
        r.width = x1 - r.x;
        r.height = y1 - r.y;
        if (r.width <= 0 || r.height <= 0) {
            *why = g_strdup_printf("roi %d,%d,%d,%d lies outside the %dx%d frame", roi->x, roi->y, roi->width,
                                   roi->height, fw, fh);
            return FALSE;
        }
    }
    plan->format = f;
    plan->channels = channels;
    plan->size = size;
    plan->tiles = tiles;
    plan->region = r;
    axis_init(&plan->ax, r.x, r.width, (guint)(tiles * size));
    axis_init(&plan->ay, r.y, r.height, (guint)(tiles * size));

    gdouble kr = 0.299, kb = 0.114; /* BT.601 when the caps do not say */
    if (!gst_video_color_matrix_get_Kr_Kb(info->colorimetry.matrix, &kr, &kb)) {
        kr = 0.299;
        kb = 0.114;
    }
    plan->kr = (gfloat)kr;
    plan->kb = (gfloat)kb;
    gboolean full = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
    plan->y_off = full ? 0.0f : 16.0f;
    plan->y_scale = full ? 1.0f / 255.0f : 1.0f / 219.0f;
    plan->c_scale = full ? 1.0f / 255.0f : 1.0f / 224.0f;
    const GstVideoFormatInfo *fi = info->finfo;
    plan->off_r = fi->poffset[GST_VIDEO_COMP_R];
    plan->off_g = fi->poffset[GST_VIDEO_COMP_G];
    plan->off_b = fi->poffset[GST_VIDEO_COMP_B];
    plan->pstride = fi->pixel_stride[0];
    return TRUE;
}

void sgad_plan_clear(SgadPlan *plan)
{
    axis_clear(&plan->ax);
    axis_clear(&plan->ay);
}

static inline gfloat clamp255(gfloat v)
{
    return v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
}

void sgad_preprocess(const SgadPlan *plan, const GstVideoFrame *frame, gfloat *out)
{
    const gint kind = format_kind(plan->format);
    const gint C = plan->channels, S = plan->size, T = plan->tiles;
    const gsize plane = (gsize)S * S;
    const guint8 *p0 = GST_VIDEO_FRAME_PLANE_DATA(frame, 0);
    const guint8 *p1 = kind >= KIND_I420 ? GST_VIDEO_FRAME_PLANE_DATA(frame, 1) : NULL;
    const guint8 *p2 = kind == KIND_I420 ? GST_VIDEO_FRAME_PLANE_DATA(frame, 2) : NULL;
    const gint s0 = GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
    const gint s1 = kind >= KIND_I420 ? GST_VIDEO_FRAME_PLANE_STRIDE(frame, 1) : 0;
    const gint s2 = kind == KIND_I420 ? GST_VIDEO_FRAME_PLANE_STRIDE(frame, 2) : 0;
    const gint ps = plan->pstride, o_r = plan->off_r, o_g = plan->off_g, o_b = plan->off_b;

    for (guint oy = 0; oy < plan->ay.n; oy++) {
        const SgadTap *ty = &plan->ay.taps[oy];
        const gint tile_y = oy / S, py = oy % S;
        for (guint ox = 0; ox < plan->ax.n; ox++) {
            const SgadTap *tx = &plan->ax.taps[ox];
            /* accumulate the source's own components (R,G,B / Y / Y,U,V): the
             * colour conversion is affine, so it commutes with the weighted mean */
            gfloat a0 = 0.0f, a1 = 0.0f, a2 = 0.0f;
            for (gint j = 0; j < ty->count; j++) {
                const gint y = ty->first + j;
                const gfloat wy = plan->ay.w[ty->weights + j];
                const guint8 *r0 = p0 + (gsize)y * s0;
                const guint8 *r1 = p1 ? p1 + (gsize)(y / 2) * s1 : NULL;
                const guint8 *r2 = p2 ? p2 + (gsize)(y / 2) * s2 : NULL;
                gfloat b0 = 0.0f, b1 = 0.0f, b2 = 0.0f;
                for (gint i = 0; i < tx->count; i++) {
                    const gint x = tx->first + i;
                    const gfloat w = plan->ax.w[tx->weights + i];
                    switch (kind) {
                    case KIND_PACKED_RGB: {
                        const guint8 *px = r0 + (gsize)x * ps;
                        b0 += w * px[o_r];
                        b1 += w * px[o_g];
                        b2 += w * px[o_b];
                        break;
                    }
                    case KIND_GRAY:
                        b0 += w * r0[x];
                        break;
                    case KIND_I420:
                        b0 += w * r0[x];
                        b1 += w * r1[x / 2];
                        b2 += w * r2[x / 2];
                        break;
                    default: /* NV12 */
                        b0 += w * r0[x];
                        b1 += w * r1[(x / 2) * 2];
                        b2 += w * r1[(x / 2) * 2 + 1];
                        break;
                    }
                }
                a0 += wy * b0;
                a1 += wy * b1;
                a2 += wy * b2;
            }
            gfloat rgb[3];
            switch (kind) {
            case KIND_PACKED_RGB:
                rgb[0] = a0, rgb[1] = a1, rgb[2] = a2;
                break;
            case KIND_GRAY:
                rgb[0] = rgb[1] = rgb[2] = a0;
                break;
            default: {
                const gfloat yn = (a0 - plan->y_off) * plan->y_scale;
                const gfloat cb = (a1 - 128.0f) * plan->c_scale, cr = (a2 - 128.0f) * plan->c_scale;
                if (C == 1) {
                    rgb[0] = clamp255(yn * 255.0f);
                    break;
                }
                const gfloat kr = plan->kr, kb = plan->kb;
                const gfloat r = yn + 2.0f * (1.0f - kr) * cr, b = yn + 2.0f * (1.0f - kb) * cb;
                const gfloat g = (yn - kr * r - kb * b) / (1.0f - kr - kb);
                rgb[0] = clamp255(r * 255.0f);
                rgb[1] = clamp255(g * 255.0f);
                rgb[2] = clamp255(b * 255.0f);
                break;
            }
            }
            gfloat *img = out + ((gsize)(tile_y * T + ox / S) * C) * plane + (gsize)py * S + ox % S;
            if (C == 1) {
                /* luma: Y itself for YUV, else BT.601 weights as PIL's convert('L') */
                const gfloat l = kind >= KIND_I420 || kind == KIND_GRAY
                                     ? rgb[0]
                                     : 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
                img[0] = l / 127.5f - 1.0f;
            } else {
                for (gint c = 0; c < 3; c++)
                    img[c * plane] = rgb[c] / 127.5f - 1.0f;
            }
        }
    }
}
