/* A field-of-view mask (endoscopy's round picture, a porthole, a part's
 * outline): the model sees mid-grey instead of the pixels outside it, in
 * training and in scoring alike, so nothing outside can be learnt or raise a
 * score, and the heat map is zero there. Given as
 *   "circle:CX,CY,R" or "ellipse:CX,CY,RX,RY"   in frame pixels, or
 *   the path of a PNG file                       white (or opaque) = inside,
 *                                                stretched over the frame. */
#ifndef SGAD_MASK_H
#define SGAD_MASK_H

#include <cairo.h>
#include <glib.h>

#include "rect.h"

typedef enum { SGAD_MASK_NONE, SGAD_MASK_ELLIPSE, SGAD_MASK_PNG } SgadMaskKind;

typedef struct {
    SgadMaskKind kind;
    gdouble cx, cy, rx, ry;  /* ellipse, frame pixels */
    cairo_surface_t *png;    /* PNG */
} SgadMask;

/* "" or NULL: no mask. FALSE with *why (g_free it) naming the text or the file. */
gboolean sgad_mask_parse(const gchar *text, SgadMask *out, gchar **why);
void sgad_mask_clear(SgadMask *m);

/* Which model pixels lie inside, for the region resampled to a grid of tiles
 * x tiles images of size x size: (tiles*size)^2 bytes, row-major over the
 * stitched grid (g_free it). */
guint8 *sgad_mask_sample(const SgadMask *m, const SgadRect *region, gint frame_width, gint frame_height, gint tiles,
                         gint size);

/* Set the pixels outside to 0 (mid-grey) in tiles^2 images of channels x size x size. */
void sgad_mask_apply_images(const guint8 *inside, gfloat *images, gint tiles, gint channels, gint size);
/* Zero the stitched heat map ((tiles*size)^2) outside. */
void sgad_mask_apply_heat(const guint8 *inside, gfloat *heat, gint tiles, gint size);

#endif
