/* The field-of-view mask (mask.h). */
#include "mask.h"

#include <stdlib.h>
#include <string.h>

static gboolean parse_numbers(const gchar *text, gdouble *v, gint want)
{
    gchar **parts = g_strsplit(text, ",", -1);
    gboolean ok = g_strv_length(parts) == (guint)want;
    for (gint i = 0; ok && i < want; i++) {
        gchar *end = NULL;
        v[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        ok = end && end != parts[i] && *end == '\0' && v[i] >= 0;
    }
    g_strfreev(parts);
    return ok;
}

gboolean sgad_mask_parse(const gchar *text, SgadMask *out, gchar **why)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return TRUE;
    gdouble v[4];
    if (g_str_has_prefix(text, "circle:")) {
        if (!parse_numbers(text + 7, v, 3) || v[2] <= 0) {
            *why = g_strdup_printf("mask \"%s\" is not \"circle:CX,CY,R\" (frame pixels, R > 0)", text);
            return FALSE;
        }
        *out = (SgadMask){.kind = SGAD_MASK_ELLIPSE, .cx = v[0], .cy = v[1], .rx = v[2], .ry = v[2]};
        return TRUE;
    }
    if (g_str_has_prefix(text, "ellipse:")) {
        if (!parse_numbers(text + 8, v, 4) || v[2] <= 0 || v[3] <= 0) {
            *why = g_strdup_printf("mask \"%s\" is not \"ellipse:CX,CY,RX,RY\" (frame pixels, RX, RY > 0)", text);
            return FALSE;
        }
        *out = (SgadMask){.kind = SGAD_MASK_ELLIPSE, .cx = v[0], .cy = v[1], .rx = v[2], .ry = v[3]};
        return TRUE;
    }
    if (!g_file_test(text, G_FILE_TEST_IS_REGULAR)) {
        *why = g_strdup_printf("mask file \"%s\" does not exist (or give \"circle:CX,CY,R\" or "
                               "\"ellipse:CX,CY,RX,RY\")",
                               text);
        return FALSE;
    }
    cairo_surface_t *s = cairo_image_surface_create_from_png(text);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        *why = g_strdup_printf("mask file \"%s\" is not a readable PNG: %s", text,
                               cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return FALSE;
    }
    cairo_surface_flush(s);
    *out = (SgadMask){.kind = SGAD_MASK_PNG, .png = s};
    return TRUE;
}

void sgad_mask_clear(SgadMask *m)
{
    if (m->png)
        cairo_surface_destroy(m->png);
    memset(m, 0, sizeof *m);
}

/* Is the frame point (x, y) inside? */
static gboolean inside_at(const SgadMask *m, gdouble x, gdouble y, gint frame_width, gint frame_height)
{
    if (m->kind == SGAD_MASK_ELLIPSE) {
        const gdouble dx = (x - m->cx) / m->rx, dy = (y - m->cy) / m->ry;
        return dx * dx + dy * dy <= 1.0;
    }
    const gint w = cairo_image_surface_get_width(m->png), h = cairo_image_surface_get_height(m->png);
    const gint px = CLAMP((gint)(x * w / frame_width), 0, w - 1), py = CLAMP((gint)(y * h / frame_height), 0, h - 1);
    const guint8 *row = cairo_image_surface_get_data(m->png) + (gsize)py * cairo_image_surface_get_stride(m->png);
    switch (cairo_image_surface_get_format(m->png)) {
    case CAIRO_FORMAT_A8:
        return row[px] > 127;
    case CAIRO_FORMAT_ARGB32:
    case CAIRO_FORMAT_RGB24: {
        /* native-endian 0xAARRGGBB, premultiplied: a white opaque pixel is inside */
        const guint32 p = ((const guint32 *)(const void *)row)[px];
        const guint r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;
        return (r + g + b) / 3 > 127;
    }
    default:
        return TRUE;
    }
}

guint8 *sgad_mask_sample(const SgadMask *m, const SgadRect *region, gint frame_width, gint frame_height, gint tiles,
                         gint size)
{
    const gint side = tiles * size;
    guint8 *inside = g_new(guint8, (gsize)side * side);
    for (gint j = 0; j < side; j++) {
        /* the centre of the model pixel, in frame pixels */
        const gdouble y = region->y + (j + 0.5) * region->height / side;
        for (gint i = 0; i < side; i++) {
            const gdouble x = region->x + (i + 0.5) * region->width / side;
            inside[(gsize)j * side + i] = inside_at(m, x, y, frame_width, frame_height);
        }
    }
    return inside;
}

void sgad_mask_apply_images(const guint8 *inside, gfloat *images, gint tiles, gint channels, gint size)
{
    const gint side = tiles * size;
    const gsize plane = (gsize)size * size;
    for (gint t = 0; t < tiles * tiles; t++) {
        const gint tx = t % tiles, ty = t / tiles;
        gfloat *image = images + (gsize)t * channels * plane;
        for (gint y = 0; y < size; y++)
            for (gint x = 0; x < size; x++)
                if (!inside[(gsize)(ty * size + y) * side + tx * size + x])
                    for (gint c = 0; c < channels; c++)
                        image[c * plane + (gsize)y * size + x] = 0.0f;
    }
}

void sgad_mask_apply_heat(const guint8 *inside, gfloat *heat, gint tiles, gint size)
{
    const gsize n = (gsize)tiles * size * tiles * size;
    for (gsize i = 0; i < n; i++)
        if (!inside[i])
            heat[i] = 0.0f;
}
