/* Frame helpers shared by the element tests: make a frame of a flat colour in
 * any 8-bit format, read a pixel back as RGB-or-YUV components, and compare
 * two buffers byte for byte. Colour components go through GstVideoFormatInfo,
 * so a test reading "R" reads R whatever the format's byte order. */
#ifndef SGAD_TEST_FRAMES_H
#define SGAD_TEST_FRAMES_H

#include <string.h>

#include <gst/check/gstcheck.h>
#include <gst/video/video.h>

static inline GstVideoInfo frames_info(const gchar *format, gint width, gint height)
{
    GstVideoInfo info;
    fail_unless(gst_video_info_set_format(&info, gst_video_format_from_string(format), width, height));
    GST_VIDEO_INFO_FPS_N(&info) = 30;
    GST_VIDEO_INFO_FPS_D(&info) = 1;
    return info;
}

static inline gchar *frames_caps_string(const GstVideoInfo *info)
{
    GstCaps *caps = gst_video_info_to_caps(info);
    gchar *s = gst_caps_to_string(caps);
    gst_caps_unref(caps);
    return s;
}

/* components in the format's order (R,G,B,A or Y,U,V,A); alpha 255 */
static inline GstBuffer *frames_flat(const GstVideoInfo *info, guint8 c0, guint8 c1, guint8 c2)
{
    GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
    gst_buffer_memset(buf, 0, 0, gst_buffer_get_size(buf)); /* padding too */
    GstVideoFrame frame;
    fail_unless(gst_video_frame_map(&frame, (GstVideoInfo *)info, buf, GST_MAP_WRITE));
    const guint8 value[4] = {c0, c1, c2, 255};
    for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&frame); c++) {
        guint8 *data = GST_VIDEO_FRAME_COMP_DATA(&frame, c);
        gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&frame, c), ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, c);
        for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&frame, c); y++)
            for (gint x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&frame, c); x++)
                data[y * stride + x * ps] = value[c];
    }
    gst_video_frame_unmap(&frame);
    return buf;
}

/* every component a different slope over x and y, so a painted value sometimes
 * equals the one it replaces; alpha 255 */
static inline GstBuffer *frames_pattern(const GstVideoInfo *info)
{
    GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
    gst_buffer_memset(buf, 0, 0, gst_buffer_get_size(buf));
    GstVideoFrame frame;
    fail_unless(gst_video_frame_map(&frame, (GstVideoInfo *)info, buf, GST_MAP_WRITE));
    for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&frame); c++) {
        guint8 *data = GST_VIDEO_FRAME_COMP_DATA(&frame, c);
        gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&frame, c), ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, c);
        for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&frame, c); y++)
            for (gint x = 0; x < GST_VIDEO_FRAME_COMP_WIDTH(&frame, c); x++)
                data[y * stride + x * ps] = c == 3 ? 255 : (guint8)((5 + 2 * c) * x + (3 + c) * y + 60 * c);
    }
    gst_video_frame_unmap(&frame);
    return buf;
}

/* component c of the frame pixel (x, y) of a mapped frame */
static inline guint8 frames_sample(const GstVideoFrame *frame, guint c, gint x, gint y)
{
    const GstVideoFormatInfo *finfo = frame->info.finfo;
    gint sx = x >> GST_VIDEO_FORMAT_INFO_W_SUB(finfo, c), sy = y >> GST_VIDEO_FORMAT_INFO_H_SUB(finfo, c);
    const guint8 *data = GST_VIDEO_FRAME_COMP_DATA(frame, c);
    return data[sy * GST_VIDEO_FRAME_COMP_STRIDE(frame, c) + sx * GST_VIDEO_FRAME_COMP_PSTRIDE(frame, c)];
}

/* component c of the frame pixel (x, y), from its subsampled sample */
static inline guint8 frames_component(const GstVideoInfo *info, GstBuffer *buf, guint c, gint x, gint y)
{
    GstVideoFrame frame;
    fail_unless(gst_video_frame_map(&frame, (GstVideoInfo *)info, buf, GST_MAP_READ));
    const GstVideoFormatInfo *finfo = info->finfo;
    gint sx = x >> GST_VIDEO_FORMAT_INFO_W_SUB(finfo, c), sy = y >> GST_VIDEO_FORMAT_INFO_H_SUB(finfo, c);
    const guint8 *data = GST_VIDEO_FRAME_COMP_DATA(&frame, c);
    guint8 v = data[sy * GST_VIDEO_FRAME_COMP_STRIDE(&frame, c) + sx * GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, c)];
    gst_video_frame_unmap(&frame);
    return v;
}

static inline gboolean frames_equal(GstBuffer *a, GstBuffer *b)
{
    GstMapInfo ma, mb;
    fail_unless(gst_buffer_map(a, &ma, GST_MAP_READ));
    fail_unless(gst_buffer_map(b, &mb, GST_MAP_READ));
    gboolean eq = ma.size == mb.size && memcmp(ma.data, mb.data, ma.size) == 0;
    gst_buffer_unmap(a, &ma);
    gst_buffer_unmap(b, &mb);
    return eq;
}

#endif
