/* libFuzzer: the elements' roi property (sgad_rect_parse), then what
 * skipganomaly does with it: the sampling plan on a 160x120 RGB frame and
 * the preprocessing that reads the frame (where an overflowing roi read
 * outside it, issue 13). */
#include <string.h>

#include "fuzz_common.h"
#include "preprocess.h"
#include "rect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char text[257];
    memcpy(text, data, size);
    text[size] = 0;
    SgadRect r;
    if (!sgad_rect_parse(text, &r))
        return 0;
    static GstVideoInfo info;
    static GstBuffer *frame_buf;
    if (!frame_buf) {
        gst_init(NULL, NULL);
        gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, 160, 120);
        frame_buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
        gst_buffer_memset(frame_buf, 0, 128, GST_VIDEO_INFO_SIZE(&info));
    }
    for (gint tiles = 1; tiles <= 2; tiles++) {
        SgadPlan plan;
        gchar *why = NULL;
        if (!sgad_plan_init(&plan, &info, &r, tiles, 3, 32, &why)) {
            g_free(why);
            continue;
        }
        gfloat *out = g_new(gfloat, sgad_plan_floats(&plan));
        GstVideoFrame frame;
        if (gst_video_frame_map(&frame, &info, frame_buf, GST_MAP_READ)) {
            sgad_preprocess(&plan, &frame, out);
            gst_video_frame_unmap(&frame);
        }
        g_free(out);
        sgad_plan_clear(&plan);
    }
    return 0;
}
