/* The picture inspectionsrc sends: a camera looking down on a conveyor belt
 * between two steel rails, with objects of one kind riding on it from left to
 * right. Frame n is a pure function of (seed, n, width, height) and the
 * drawing parameters: every random choice is a hash of the seed and what it
 * decides (an object's number, a pixel), never a running generator, so any
 * frame can be drawn first and comes out byte for byte the same. No GStreamer
 * here; the element maps buffers and passes their bytes. */
#ifndef SGAD_INSPECTION_SCENE_H
#define SGAD_INSPECTION_SCENE_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SGAD_SCENE_CAP,    /* crown caps: a crimped steel skirt, a red printed top */
    SGAD_SCENE_TABLET, /* oblong white tablets with a score line */
} SgadSceneObject;

typedef struct _SgadScene SgadScene;

/* Precomputes what does not change from frame to frame at this size: the belt
 * texture, the lighting falloff, the noise tables. */
SgadScene *sgad_scene_new(guint seed, gint width, gint height);
void sgad_scene_free(SgadScene *scene);
gboolean sgad_scene_fits(const SgadScene *scene, guint seed, gint width, gint height);

/* Draws frame n into a width x height image of 4 bytes per pixel, rows stride
 * bytes apart (a multiple of 4). offsets[] are the byte positions of R, G, B
 * and of the fourth byte (padding or alpha, written 255) within a pixel.
 * speed: belt travel in pixels per frame at 320 pixels wide (scaled with the
 * width); variation: 0 (every object and frame alike) to 1. The scene keeps
 * drawings of the objects in view to reuse; they never change the result. */
void sgad_scene_render(SgadScene *scene, guint64 n, gdouble speed, SgadSceneObject object, gdouble variation,
                       guint8 *data, gint stride, const guint offsets[4]);

G_END_DECLS

#endif
