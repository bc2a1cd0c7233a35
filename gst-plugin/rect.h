/* A region of a frame, as the elements' roi properties spell it: "x,y,width,height"
 * in frame pixels (spaces allowed after numbers), or "" for the whole frame. */
#ifndef SGAD_RECT_H
#define SGAD_RECT_H

#include <glib.h>

typedef struct {
    gint x, y, width, height;
} SgadRect;

/* Parse "x,y,w,h" (w, h > 0; x, y >= 0); "" clears the ROI (width 0).
 * A width or height reaching past G_MAXINT is clipped there, so x + width and
 * y + height always fit in a gint; a region starting at G_MAXINT is refused. */
gboolean sgad_rect_parse(const gchar *text, SgadRect *out);

#endif
