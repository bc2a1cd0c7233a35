/* Pixel-level truth for heat maps (pixeltruth.h). */
#include "pixeltruth.h"

#include <string.h>

/* Per axis: the frame pixels [lo[i], hi[i]) of the region (0 .. length-1)
 * whose centres fall in map pixel i (the centre of x is at (x + 0.5) / length
 * of the region, as the preprocessing's area average takes it); a map pixel
 * no centre falls in gets the one frame pixel under its own centre. */
static void axis_ranges(gint length, guint cells, gint *lo, gint *hi)
{
    for (guint i = 0; i < cells; i++)
        lo[i] = G_MAXINT, hi[i] = 0;
    for (gint x = 0; x < length; x++) {
        guint cell = (guint)(((2 * (gint64)x + 1) * cells) / (2 * (gint64)length));
        lo[cell] = MIN(lo[cell], x);
        hi[cell] = x + 1;
    }
    for (guint i = 0; i < cells; i++)
        if (lo[i] >= hi[i]) {
            lo[i] = (gint)(((2 * (gint64)i + 1) * length) / (2 * (gint64)cells));
            hi[i] = lo[i] + 1;
        }
}

gboolean sgad_pixel_truth_labels(const guint8 *mask, guint mask_width, guint mask_height, gint roi_x, gint roi_y,
                                 gint roi_width, gint roi_height, guint map_width, guint map_height, guint8 *labels)
{
    if (roi_width <= 0 || roi_height <= 0 || roi_x < 0 || roi_y < 0 || map_width == 0 || map_height == 0 ||
        (gint64)roi_x + roi_width > mask_width || (gint64)roi_y + roi_height > mask_height)
        return FALSE;
    gint *xlo = g_new(gint, 2 * (gsize)map_width), *xhi = xlo + map_width;
    gint *ylo = g_new(gint, 2 * (gsize)map_height), *yhi = ylo + map_height;
    axis_ranges(roi_width, map_width, xlo, xhi);
    axis_ranges(roi_height, map_height, ylo, yhi);
    for (guint j = 0; j < map_height; j++)
        for (guint i = 0; i < map_width; i++) {
            guint64 painted = 0, area = (guint64)(xhi[i] - xlo[i]) * (guint64)(yhi[j] - ylo[j]);
            for (gint y = ylo[j]; y < yhi[j]; y++) {
                const guint8 *row = mask + (gsize)(roi_y + y) * mask_width + roi_x;
                for (gint x = xlo[i]; x < xhi[i]; x++)
                    painted += row[x] != 0;
            }
            labels[(gsize)j * map_width + i] =
                painted * SGAD_PIXEL_TRUTH_COVERAGE_DEN >= area * SGAD_PIXEL_TRUTH_COVERAGE_NUM && painted > 0;
        }
    g_free(xlo);
    g_free(ylo);
    return TRUE;
}

void sgad_pixel_sample_init(SgadPixelSample *s, guint64 max_pixels)
{
    memset(s, 0, sizeof *s);
    s->maps = g_array_new(FALSE, FALSE, sizeof(gfloat));
    s->labels = g_array_new(FALSE, FALSE, sizeof(guint8));
    s->rand = g_rand_new();
    sgad_pixel_sample_reset(s, max_pixels);
}

void sgad_pixel_sample_reset(SgadPixelSample *s, guint64 max_pixels)
{
    s->width = s->height = s->capacity = s->kept = 0;
    s->offered = 0;
    s->max_pixels = max_pixels;
    /* release the memory: a long stream's sample may have been large */
    g_array_set_size(s->maps, 0);
    g_array_set_size(s->labels, 0);
    g_rand_set_seed(s->rand, 0x5eed);
}

void sgad_pixel_sample_clear(SgadPixelSample *s)
{
    g_array_unref(s->maps);
    g_array_unref(s->labels);
    g_rand_free(s->rand);
    memset(s, 0, sizeof *s);
}

SgadPixelSampleOutcome sgad_pixel_sample_offer(SgadPixelSample *s, const gfloat *map, const guint8 *labels,
                                               guint width, guint height)
{
    const gsize plane = (gsize)width * height;
    if (s->width == 0) {
        if (plane == 0 || plane > s->max_pixels)
            return SGAD_PIXEL_SAMPLE_TOO_LARGE;
        s->width = width, s->height = height;
        s->capacity = (guint)MIN(s->max_pixels / plane, G_MAXUINT);
    } else if (width != s->width || height != s->height) {
        return SGAD_PIXEL_SAMPLE_SIZE_CHANGED;
    }
    guint64 slot = s->offered++;
    if (slot >= s->capacity) {
        /* reservoir sampling: the new frame is kept with probability capacity / offered */
        slot = (guint64)(g_rand_double(s->rand) * (gdouble)s->offered);
        if (slot >= s->capacity)
            return SGAD_PIXEL_SAMPLE_OFFERED;
    } else {
        g_array_set_size(s->maps, (guint)((slot + 1) * plane));
        g_array_set_size(s->labels, (guint)((slot + 1) * plane));
        s->kept++;
    }
    memcpy(&g_array_index(s->maps, gfloat, slot * plane), map, plane * sizeof(gfloat));
    memcpy(&g_array_index(s->labels, guint8, slot * plane), labels, plane);
    return SGAD_PIXEL_SAMPLE_OFFERED;
}

sg_status sgad_pixel_sample_metrics(const SgadPixelSample *s, sg_pixel_metrics *out)
{
    /* the engine refuses no maps, a missing class and NaN with a message */
    return sg_pixel_metrics_compute((const float *)(const void *)s->maps->data,
                                    (const uint8_t *)(const void *)s->labels->data, s->kept, (int)s->width,
                                    (int)s->height, SGAD_PIXEL_TRUTH_FPR_LIMIT, out);
}
