/* The element's preprocessing and reservoir sampling, called directly: ROI and
 * tiles geometry, area/bilinear resampling, YUV conversion, luma, the ROI
 * string, and the reservoir's memory bound and uniformity. */
#include <math.h>
#include <string.h>

#include <gst/check/gstcheck.h>

#include "preprocess.h"
#include "training.h"

#define SUITE_TIMEOUT 60

/* Map a buffer of `format` whose byte at (x, y) of plane 0 is f(x, y). */
typedef guint8 (*PixelFn)(gint x, gint y, gint c);

static GstBuffer *frame_of(GstVideoInfo *info, GstVideoFormat f, gint w, gint h, PixelFn fn)
{
    gst_video_info_set_format(info, f, w, h);
    GstBuffer *buf = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(info), NULL);
    GstVideoFrame frame;
    fail_unless(gst_video_frame_map(&frame, info, buf, GST_MAP_WRITE));
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&frame); p++) {
        guint8 *d = GST_VIDEO_FRAME_PLANE_DATA(&frame, p);
        gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, p);
        gint ph = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, p), pw = GST_VIDEO_FRAME_COMP_WIDTH(&frame, p);
        gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE(&frame, p);
        for (gint y = 0; y < ph; y++)
            for (gint x = 0; x < pw * ps; x++)
                d[y * stride + x] = fn(x / ps, y, p * 4 + x % ps);
    }
    gst_video_frame_unmap(&frame);
    return buf;
}

static void run(const GstVideoInfo *info, GstBuffer *buf, const SgadRect *roi, gint tiles, gint C, gint S,
                gfloat **out, SgadPlan *plan)
{
    gchar *why = NULL;
    fail_unless(sgad_plan_init(plan, info, roi, tiles, C, S, &why), "%s", why);
    *out = g_new(gfloat, sgad_plan_floats(plan));
    GstVideoFrame frame;
    fail_unless(gst_video_frame_map(&frame, (GstVideoInfo *)info, buf, GST_MAP_READ));
    sgad_preprocess(plan, &frame, *out);
    gst_video_frame_unmap(&frame);
}

static guint8 coords(gint x, gint y, gint c)
{
    /* GRAY8: the value tells the pixel: x + 2 y (for small frames) */
    (void)c;
    return (guint8)(x + 2 * y);
}

/* GRAY8 96x80, ROI (8,4) 64x64, 2x2 tiles of 32: tile (tx,ty) pixel (px,py)
 * is frame pixel (8 + 32 tx + px, 4 + 32 ty + py), copied exactly. */
GST_START_TEST(test_roi_tiles_geometry)
{
    GstVideoInfo info;
    GstBuffer *buf = frame_of(&info, GST_VIDEO_FORMAT_GRAY8, 96, 80, coords);
    SgadRect roi = {8, 4, 64, 64};
    SgadPlan plan;
    gfloat *out;
    run(&info, buf, &roi, 2, 1, 32, &out, &plan);
    for (gint t = 0; t < 4; t++)
        for (gint py = 0; py < 32; py++)
            for (gint px = 0; px < 32; px++) {
                gint x = 8 + 32 * (t % 2) + px, y = 4 + 32 * (t / 2) + py;
                gfloat want = (guint8)(x + 2 * y) / 127.5f - 1.0f;
                fail_unless(out[(t * 32 + py) * 32 + px] == want, "tile %d (%d,%d)", t, px, py);
            }
    /* a ROI partly outside is clipped; wholly outside is refused */
    SgadPlan clipped;
    gchar *why = NULL;
    SgadRect part = {80, 70, 100, 100}, none = {200, 0, 5, 5};
    fail_unless(sgad_plan_init(&clipped, &info, &part, 1, 1, 32, &why));
    fail_unless(clipped.region.x == 80 && clipped.region.y == 70 && clipped.region.width == 16 &&
                clipped.region.height == 10);
    sgad_plan_clear(&clipped);
    fail_if(sgad_plan_init(&clipped, &info, &none, 1, 1, 32, &why));
    fail_unless(strstr(why, "outside") != NULL, "%s", why);
    g_free(why);
    sgad_plan_clear(&plan);
    g_free(out);
    gst_buffer_unref(buf);
}
GST_END_TEST;

static guint8 checker(gint x, gint y, gint c)
{
    (void)c;
    return ((x / 2 + y / 2) % 2) ? 200 : 0;
}

static guint8 ramp(gint x, gint y, gint c)
{
    (void)y;
    (void)c;
    return (guint8)(x * 8);
}

/* Shrinking averages (a 2x2 checker of 64x64 at 32x32 becomes uniform 100 per
 * 2x2 cell... exactly the cell mean); enlarging interpolates linearly. */
GST_START_TEST(test_resampling)
{
    GstVideoInfo info;
    GstBuffer *buf = frame_of(&info, GST_VIDEO_FORMAT_GRAY8, 128, 128, checker);
    SgadPlan plan;
    gfloat *out;
    /* 128 -> 32: each output averages a 4x4 block = two black and two white 2x2 cells */
    run(&info, buf, NULL, 1, 1, 32, &out, &plan);
    for (gint i = 0; i < 32 * 32; i++)
        fail_unless(fabsf(out[i] - (100.0f / 127.5f - 1.0f)) < 1e-5f, "pixel %d: %g", i, out[i]);
    sgad_plan_clear(&plan);
    g_free(out);
    gst_buffer_unref(buf);

    /* 16 -> 32 (bilinear, centres aligned): ramp 8x becomes a ramp of 4 per pixel */
    buf = frame_of(&info, GST_VIDEO_FORMAT_GRAY8, 16, 16, ramp);
    run(&info, buf, NULL, 1, 1, 32, &out, &plan);
    for (gint x = 1; x < 31; x++) {
        gfloat v = (out[5 * 32 + x] + 1.0f) * 127.5f;
        gfloat want = CLAMP((x + 0.5f) * 0.5f - 0.5f, 0.0f, 15.0f) * 8.0f;
        fail_unless(fabsf(v - want) < 1e-3f, "x %d: %g want %g", x, v, want);
    }
    sgad_plan_clear(&plan);
    g_free(out);
    gst_buffer_unref(buf);
}
GST_END_TEST;

static guint8 yuv_const(gint x, gint y, gint c)
{
    (void)x;
    (void)y;
    /* plane 0 (Y) 120, plane 1 (U) 90, plane 2 (V) 200; NV12's plane 1 interleaves U, V */
    gint plane = c / 4, byte = c % 4;
    if (plane == 0)
        return 120;
    if (plane == 2)
        return 200;
    return byte % 2 ? 200 : 90;
}

/* A flat I420 / NV12 colour converts with BT.601 limited range when the caps
 * do not say, and with the caps' matrix (BT.709) when they do. */
GST_START_TEST(test_yuv_conversion)
{
    const GstVideoFormat formats[] = {GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_NV12};
    for (gint k = 0; k < 2; k++) {
        for (gint m = 0; m < 2; m++) {
            GstVideoInfo info;
            GstBuffer *buf = frame_of(&info, formats[k], 32, 32, yuv_const);
            info.colorimetry.range = GST_VIDEO_COLOR_RANGE_16_235;
            info.colorimetry.matrix = m ? GST_VIDEO_COLOR_MATRIX_BT709 : GST_VIDEO_COLOR_MATRIX_UNKNOWN;
            double kr = m ? 0.2126 : 0.299, kb = m ? 0.0722 : 0.114;
            double yn = (120 - 16) / 219.0, cb = (90 - 128) / 224.0, cr = (200 - 128) / 224.0;
            double r = yn + 2 * (1 - kr) * cr, b = yn + 2 * (1 - kb) * cb, g = (yn - kr * r - kb * b) / (1 - kr - kb);
            double want[3] = {r * 255, g * 255, b * 255};
            SgadPlan plan;
            gfloat *out;
            run(&info, buf, NULL, 1, 3, 32, &out, &plan);
            for (gint c = 0; c < 3; c++) {
                double v = (out[c * 1024 + 17 * 32 + 9] + 1.0) * 127.5;
                fail_unless(fabs(v - CLAMP(want[c], 0, 255)) < 1e-2, "%s matrix %d channel %d: %g want %g",
                            gst_video_format_to_string(formats[k]), m, c, v, want[c]);
            }
            sgad_plan_clear(&plan);
            g_free(out);
            gst_buffer_unref(buf);
        }
    }
}
GST_END_TEST;

static guint8 rgb_const(gint x, gint y, gint c)
{
    (void)x;
    (void)y;
    /* packed: byte order within the pixel, e.g. BGRx: B=10, G=100, R=200 */
    static const guint8 bgrx[4] = {10, 100, 200, 255};
    return bgrx[c % 4];
}

/* Gray models take luma: BT.601 weights of RGB, Y itself (range-expanded) of YUV. */
GST_START_TEST(test_gray_luma)
{
    GstVideoInfo info;
    GstBuffer *buf = frame_of(&info, GST_VIDEO_FORMAT_BGRx, 32, 32, rgb_const);
    SgadPlan plan;
    gfloat *out;
    run(&info, buf, NULL, 1, 1, 32, &out, &plan);
    gfloat want = 0.299f * 200 + 0.587f * 100 + 0.114f * 10;
    fail_unless(fabsf((out[100] + 1.0f) * 127.5f - want) < 1e-3f, "%g want %g", (out[100] + 1) * 127.5, want);
    sgad_plan_clear(&plan);
    g_free(out);
    gst_buffer_unref(buf);

    buf = frame_of(&info, GST_VIDEO_FORMAT_I420, 32, 32, yuv_const);
    info.colorimetry.range = GST_VIDEO_COLOR_RANGE_0_255;
    run(&info, buf, NULL, 1, 1, 32, &out, &plan);
    fail_unless(fabsf((out[100] + 1.0f) * 127.5f - 120.0f) < 1e-3f, "full-range Y is taken as is");
    sgad_plan_clear(&plan);
    g_free(out);
    gst_buffer_unref(buf);
}
GST_END_TEST;

GST_START_TEST(test_rect_parse)
{
    SgadRect r;
    fail_unless(sgad_rect_parse("10,20,30,40", &r));
    fail_unless(r.x == 10 && r.y == 20 && r.width == 30 && r.height == 40);
    fail_unless(sgad_rect_parse("1, 2, 3, 4", &r) && r.height == 4);
    fail_unless(sgad_rect_parse("", &r) && r.width == 0);
    fail_if(sgad_rect_parse("1,2,3", &r));
    fail_if(sgad_rect_parse("1,2,0,4", &r));
    fail_if(sgad_rect_parse("-1,2,3,4", &r));
    fail_if(sgad_rect_parse("1,2,3,4,5", &r));
    fail_if(sgad_rect_parse("a,b,c,d", &r));

    /* x + width past G_MAXINT (issue 13): clipped, so no element's x + width
     * overflows; the region still starts where it said */
    fail_unless(sgad_rect_parse("2147483600,0,100,50", &r));
    fail_unless(r.x == 2147483600 && (gint64)r.x + r.width <= G_MAXINT && r.width > 0);
    fail_unless(sgad_rect_parse("100,0,2147483647,50", &r));
    fail_unless(r.x == 100 && r.width == G_MAXINT - 100);
    fail_unless(sgad_rect_parse("0,100,50,2147483647", &r) && r.height == G_MAXINT - 100);
    fail_if(sgad_rect_parse("2147483647,0,1,1", &r));

    /* and the plan made of them: outside a 160x120 frame, or clipped to it */
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, 160, 120);
    SgadPlan plan;
    gchar *why = NULL;
    fail_unless(sgad_rect_parse("2147483600,0,100,50", &r));
    fail_if(sgad_plan_init(&plan, &info, &r, 1, 3, 32, &why));
    fail_unless(why && strstr(why, "outside the 160x120 frame"), "%s", why);
    g_free(why);
    why = NULL;
    fail_unless(sgad_rect_parse("100,0,2147483647,50", &r));
    fail_unless(sgad_plan_init(&plan, &info, &r, 1, 3, 32, &why), "%s", why);
    fail_unless(plan.region.x == 100 && plan.region.width == 60 && plan.region.height == 50, "%d,%d %dx%d",
                plan.region.x, plan.region.y, plan.region.width, plan.region.height);
    sgad_plan_clear(&plan);
}
GST_END_TEST;

/* At most `capacity` images are ever allocated, and each of a long stream's
 * images is kept with probability capacity/n (checked over many runs). */
GST_START_TEST(test_reservoir)
{
    const guint cap = 10, n = 200, runs = 400;
    guint kept_first_half = 0;
    for (guint run_i = 0; run_i < runs; run_i++) {
        SgadReservoir r;
        sgad_reservoir_init(&r, cap, 1, 32, run_i + 1);
        gfloat img[32 * 32];
        for (guint i = 0; i < n; i++) {
            img[0] = (gfloat)i;
            fail_unless(sgad_reservoir_add(&r, img));
            fail_unless(r.allocated <= cap, "allocated %u > capacity", r.allocated);
        }
        fail_unless_equals_int(r.count, cap);
        fail_unless_equals_int(r.seen, n);
        for (guint k = 0; k < cap; k++)
            kept_first_half += r.images[k * 32 * 32] < n / 2;
        sgad_reservoir_clear(&r);
    }
    /* expected half of the kept images come from the first half: 2000 of 4000, sd ~32 */
    fail_unless(kept_first_half > 1850 && kept_first_half < 2150, "first half kept %u of %u", kept_first_half,
                cap * runs);
    /* a short stream allocates only what it needs */
    SgadReservoir r;
    sgad_reservoir_init(&r, 1000, 3, 32, 1);
    gfloat img[3 * 32 * 32] = {0};
    for (gint i = 0; i < 5; i++)
        sgad_reservoir_add(&r, img);
    fail_unless(r.allocated < 1000 && r.count == 5);
    sgad_reservoir_clear(&r);
}
GST_END_TEST;

static Suite *units_suite(void)
{
    Suite *s = suite_create("skipganomaly-units");
    TCase *tc = tcase_create("units");
    tcase_set_timeout(tc, SUITE_TIMEOUT);
    suite_add_tcase(s, tc);
    tcase_add_test(tc, test_roi_tiles_geometry);
    tcase_add_test(tc, test_resampling);
    tcase_add_test(tc, test_yuv_conversion);
    tcase_add_test(tc, test_gray_luma);
    tcase_add_test(tc, test_rect_parse);
    tcase_add_test(tc, test_reservoir);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_setenv("GST_CHECKS", argv[1], TRUE);
    gst_check_init(&argc, &argv);
    return gst_check_run_suite(units_suite(), "skipganomaly-units", __FILE__) ? 1 : 0;
}
