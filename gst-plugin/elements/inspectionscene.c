/* The conveyor scene behind inspectionsrc (see inspectionscene.h).
 *
 * A frame is made in three passes, each cheap enough for far above real time:
 *  1. the belt: a grey texture precomputed once per size (twice the frame wide,
 *     periodic), scrolled by the belt's travel and expanded through a colour
 *     table; the rails are constant along a row, so scrolling leaves them still;
 *  2. the objects, drawn with cairo straight into the frame (cairo's RGB24);
 *  3. the light: a fixed vignette and side gradient times a brightness that
 *     drifts slowly, plus faint camera noise, written in the output byte order.
 * Everything random comes from hash(seed, what, index), so nothing depends on
 * which frames were drawn before. */
#include "inspectionscene.h"

#include <math.h>
#include <string.h>

#include <cairo.h>
#include <sgad/util.h>

#define REF_WIDTH 320.0 /* speed and sizes are given at this width */
#define NOISE_LEN 4096  /* camera noise table, read at a random offset per row */
#define GRAIN 128       /* object surface grain texture, repeated */
#define SPRITES 6       /* cached object drawings: more than are ever in view at once */

/* An object looks the same all the way across (the light comes later), so it
 * is drawn once, with its shadow and its sub-pixel offset, and then copied at
 * whole-pixel steps as the belt moves. A sprite depends only on what its key
 * names, so the cache never changes a frame's bytes. */
typedef struct {
    cairo_surface_t *surface; /* NULL: an empty slot */
    gint64 k;
    SgadSceneObject object;
    gdouble variation;
    guint64 used;
} Sprite;

struct _SgadScene {
    guint seed;
    gint width, height;
    gint period; /* the belt pattern repeats every period pixels of travel */
    gint rail;   /* rows of steel rail at the top and at the bottom */
    guint8 *tile;
    guint32 lut_belt[256], lut_rail[256]; /* grey level -> cairo RGB24 pixel */
    gint32 *gx;                           /* horizontal light falloff, Q10 */
    gdouble *gy;                          /* vertical light falloff */
    gint16 noise[NOISE_LEN];              /* camera noise, 1/64 grey level */
    gdouble phase[2];                     /* of the brightness drift */
    cairo_surface_t *grain;
    Sprite sprites[SPRITES];
    guint64 uses; /* counts sprite look-ups, for least-recently-used replacement */
};

/* splitmix64: a good 64-bit mix, the same on every platform */
static guint64 mix(guint64 x)
{
    return sg_splitmix64_at(x, 0);
}

static guint64 hash(guint seed, guint64 what, guint64 index)
{
    return mix(mix(mix(seed) ^ what) ^ index);
}

static gdouble unit(guint64 h) /* [0, 1) */
{
    return (gdouble)(h >> 11) * (1.0 / 9007199254740992.0);
}

static gdouble sym(guint64 h) /* [-1, 1) */
{
    return 2.0 * unit(h) - 1.0;
}

static guint8 clamp8(gdouble v)
{
    return (guint8)CLAMP(v + 0.5, 0.0, 255.0);
}

static gdouble smooth(gdouble t)
{
    return t * t * (3.0 - 2.0 * t);
}

enum { H_TILE = 1, H_MOTTLE, H_SEAM, H_RAIL, H_LIGHT, H_NOISE, H_GRAIN, H_OBJECT, H_FRAME };

/* belt rubber: grey-slate mottled, fine grain streaked along the travel,
 * lap seams across it; rails: brushed steel, rounded, shadowed at the belt */
static void build_tile(SgadScene *s)
{
    gint w = s->period, h = s->height, top = s->rail, bottom = s->height - s->rail;
    gdouble scale = s->width / REF_WIDTH;
    gint ncx = MAX(4, (gint)(w / (22.0 * scale) + 0.5)); /* mottle cells across the period */
    gdouble cell = (gdouble)w / ncx;
    gint seam_w = MAX(1, (gint)(scale + 0.5)), seam[4];
    for (gint j = 0; j < 4; j++)
        seam[j] = j * w / 4 + (gint)(sym(hash(s->seed, H_SEAM, j)) * w / 16);
    gdouble *white = g_new(gdouble, w);
    for (gint y = 0; y < h; y++) {
        guint8 *row = s->tile + (gsize)y * w;
        if (y < top || y >= bottom) {
            gdouble t = y < top ? (y + 0.5) / top : (y - bottom + 0.5) / s->rail;
            gdouble v = 92.0 + 78.0 * sin(G_PI * t) + 9.0 * sym(hash(s->seed, H_RAIL, y));
            if (y == top - 1 || y == bottom)
                v *= 0.45;
            memset(row, clamp8(v), w);
            continue;
        }
        for (gint x = 0; x < w; x++)
            white[x] = sym(hash(s->seed, H_TILE, (guint64)y * w + x));
        gdouble fy = (y - top) / cell;
        gint cy = (gint)fy;
        gdouble sy = smooth(fy - cy), edge = MIN(y - top, bottom - 1 - y) / (3.0 * scale);
        for (gint x = 0; x < w; x++) {
            gdouble fx = x / cell;
            gint cx = (gint)fx;
            gdouble sx = smooth(fx - cx);
            gint c0 = cx % ncx, c1 = (cx + 1) % ncx;
            gdouble m0 = sym(hash(s->seed, H_MOTTLE, (guint64)cy * ncx + c0)),
                    m1 = sym(hash(s->seed, H_MOTTLE, (guint64)cy * ncx + c1)),
                    m2 = sym(hash(s->seed, H_MOTTLE, (guint64)(cy + 1) * ncx + c0)),
                    m3 = sym(hash(s->seed, H_MOTTLE, (guint64)(cy + 1) * ncx + c1));
            gdouble mottle = (m0 + (m1 - m0) * sx) * (1 - sy) + (m2 + (m3 - m2) * sx) * sy;
            gdouble streak = (white[(x + w - 2) % w] + 2 * white[(x + w - 1) % w] + 3 * white[x] +
                              2 * white[(x + 1) % w] + white[(x + 2) % w]) / 9.0;
            gdouble v = 68.0 + 6.0 * mottle + 4.0 * white[x] + 12.0 * streak;
            for (gint j = 0; j < 4; j++) {
                gint dx = ((x - seam[j]) % w + w) % w;
                v += dx < seam_w ? -20.0 : dx < 2 * seam_w ? 9.0 : 0.0;
            }
            if (edge < 1.0)
                v -= 14.0 * (1.0 - edge);
            row[x] = clamp8(v);
        }
    }
    g_free(white);
}

static guint32 rgb24(gdouble r, gdouble g, gdouble b)
{
    return 0xff000000u | (guint32)clamp8(r) << 16 | (guint32)clamp8(g) << 8 | clamp8(b);
}

SgadScene *sgad_scene_new(guint seed, gint width, gint height)
{
    g_return_val_if_fail(width > 0 && height > 0, NULL);
    SgadScene *s = g_new0(SgadScene, 1);
    s->seed = seed;
    s->width = width;
    s->height = height;
    s->period = MAX(64, (width + 1) / 2 * 4);
    s->rail = MAX(2, (gint)(0.10 * height + 0.5));
    s->tile = g_malloc((gsize)s->period * height);
    build_tile(s);
    for (gint v = 0; v < 256; v++) {
        s->lut_belt[v] = rgb24(0.90 * v, 0.97 * v, 1.05 * v);
        s->lut_rail[v] = rgb24(0.98 * v, 1.00 * v, 1.03 * v);
    }
    gdouble slope = 0.07 * sym(hash(seed, H_LIGHT, 0)); /* the lamp sits a little to one side */
    s->gx = g_new(gint32, width);
    s->gy = g_new(gdouble, height);
    for (gint x = 0; x < width; x++) {
        gdouble u = 2.0 * (x + 0.5) / width - 1.0;
        s->gx[x] = (gint32)(1024.0 * (1.0 - 0.20 * u * u) * (1.0 + slope * u) + 0.5);
    }
    for (gint y = 0; y < height; y++) {
        gdouble v = 2.0 * (y + 0.5) / height - 1.0;
        s->gy[y] = 1.08 * (1.0 - 0.16 * v * v) * (1.0 - 0.03 * v);
    }
    for (gint i = 0; i < NOISE_LEN; i++) { /* about normal, sd 2 levels, within +-6 */
        gdouble sum = unit(hash(seed, H_NOISE, 3 * i)) + unit(hash(seed, H_NOISE, 3 * i + 1)) +
                      unit(hash(seed, H_NOISE, 3 * i + 2));
        s->noise[i] = (gint16)lround((sum - 1.5) * 4.0 * 64.0);
    }
    s->phase[0] = 2 * G_PI * unit(hash(seed, H_LIGHT, 1));
    s->phase[1] = 2 * G_PI * unit(hash(seed, H_LIGHT, 2));

    /* speckles: white or black at a low alpha, premultiplied */
    s->grain = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, GRAIN, GRAIN);
    cairo_surface_flush(s->grain);
    guint8 *g = cairo_image_surface_get_data(s->grain);
    gint gstride = cairo_image_surface_get_stride(s->grain);
    for (gint y = 0; y < GRAIN; y++)
        for (gint x = 0; x < GRAIN; x++) {
            gdouble u = sym(hash(seed, H_GRAIN, (guint64)y * GRAIN + x));
            guint32 a = clamp8(fabs(u) * u * u * 150.0), c = u > 0 ? a : 0;
            ((guint32 *)(g + y * gstride))[x] = a << 24 | c << 16 | c << 8 | c;
        }
    cairo_surface_mark_dirty(s->grain);
    return s;
}

void sgad_scene_free(SgadScene *s)
{
    if (!s)
        return;
    cairo_surface_destroy(s->grain);
    for (gint i = 0; i < SPRITES; i++)
        if (s->sprites[i].surface)
            cairo_surface_destroy(s->sprites[i].surface);
    g_free(s->tile);
    g_free(s->gx);
    g_free(s->gy);
    g_free(s);
}

gboolean sgad_scene_fits(const SgadScene *s, guint seed, gint width, gint height)
{
    return s && s->seed == seed && s->width == width && s->height == height;
}

/* one object's natural variation, drawn from its number alone */
typedef struct {
    gdouble dx, dy, size, angle, tone, hue, tex_x, tex_y, tex_angle;
} Look;

static Look look_of(guint seed, gint64 k, gdouble v)
{
    guint64 id = (guint64)k;
    Look o = {
        .dx = 0.18 * v * sym(hash(seed, H_OBJECT, id * 16 + 0)), /* of the pitch */
        .dy = 0.70 * v * sym(hash(seed, H_OBJECT, id * 16 + 1)), /* of the free room across the belt */
        .size = 1.0 + 0.08 * v * sym(hash(seed, H_OBJECT, id * 16 + 2)),
        .angle = 0.30 * v * sym(hash(seed, H_OBJECT, id * 16 + 3)),
        .tone = 1.0 + 0.10 * v * sym(hash(seed, H_OBJECT, id * 16 + 4)),
        .hue = 0.06 * v * sym(hash(seed, H_OBJECT, id * 16 + 5)),
        .tex_x = GRAIN * unit(hash(seed, H_OBJECT, id * 16 + 6)),
        .tex_y = GRAIN * unit(hash(seed, H_OBJECT, id * 16 + 7)),
        .tex_angle = 2 * G_PI * unit(hash(seed, H_OBJECT, id * 16 + 8)),
    };
    return o;
}

/* paints the grain over the current path, placed and turned per object */
static void grain(cairo_t *cr, const SgadScene *s, const Look *o, gdouble alpha)
{
    cairo_save(cr);
    cairo_clip(cr);
    cairo_set_source_surface(cr, s->grain, 0, 0);
    cairo_pattern_t *p = cairo_get_source(cr);
    cairo_matrix_t m;
    cairo_matrix_init_rotate(&m, o->tex_angle);
    m.x0 = o->tex_x;
    m.y0 = o->tex_y;
    cairo_pattern_set_matrix(p, &m);
    cairo_pattern_set_extend(p, CAIRO_EXTEND_REPEAT);
    cairo_pattern_set_filter(p, CAIRO_FILTER_BILINEAR);
    cairo_paint_with_alpha(cr, alpha);
    cairo_restore(cr);
}

static void ring(cairo_t *cr, gdouble x, gdouble y, gdouble radius, gdouble width, gdouble grey, gdouble alpha)
{
    cairo_new_path(cr);
    cairo_arc(cr, x, y, radius, 0, 2 * G_PI);
    cairo_set_line_width(cr, width);
    cairo_set_source_rgba(cr, grey, grey, grey, alpha);
    cairo_stroke(cr);
}

/* a crown cap seen from above, diameter d, lit from the upper left */
static void draw_cap(cairo_t *cr, const SgadScene *s, const Look *o, gdouble d)
{
    gdouble r = 0.5 * d * o->size, t = o->tone;
    cairo_pattern_t *p = cairo_pattern_create_radial(0.06 * r, 0.10 * r, 0.80 * r, 0.06 * r, 0.10 * r, 1.16 * r);
    cairo_pattern_add_color_stop_rgba(p, 0, 0, 0, 0, 0.55);
    cairo_pattern_add_color_stop_rgba(p, 1, 0, 0, 0, 0);
    cairo_set_source(cr, p);
    cairo_arc(cr, 0.06 * r, 0.10 * r, 1.16 * r, 0, 2 * G_PI);
    cairo_fill(cr);
    cairo_pattern_destroy(p);

    /* the crimped skirt: 21 flutes */
    cairo_new_path(cr);
    for (gint i = 0; i < 42; i++) {
        gdouble a = o->angle + i * G_PI / 21, rr = i % 2 ? 0.93 * r : r;
        cairo_line_to(cr, rr * cos(a), rr * sin(a));
    }
    cairo_close_path(cr);
    p = cairo_pattern_create_radial(-0.30 * r, -0.35 * r, 0.05 * r, 0, 0, r);
    const gdouble metal[][2] = {{0, 0.92}, {0.55, 0.70}, {0.85, 0.55}, {1, 0.36}};
    for (gsize i = 0; i < G_N_ELEMENTS(metal); i++) {
        gdouble m = metal[i][1] * t;
        cairo_pattern_add_color_stop_rgb(p, metal[i][0], m, 0.99 * m, 0.95 * m);
    }
    cairo_set_source(cr, p);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(p);
    grain(cr, s, o, 0.6);

    /* the printed top */
    gdouble red[3] = {0.66 * t * (1 + o->hue), 0.11 * t, 0.10 * t * (1 - 2 * o->hue)};
    p = cairo_pattern_create_radial(-0.28 * r, -0.30 * r, 0.05 * r, 0, 0, 0.80 * r);
    cairo_pattern_add_color_stop_rgb(p, 0, 1.35 * red[0], 1.6 * red[1], 1.6 * red[2]);
    cairo_pattern_add_color_stop_rgb(p, 0.7, red[0], red[1], red[2]);
    cairo_pattern_add_color_stop_rgb(p, 1, 0.7 * red[0], 0.7 * red[1], 0.7 * red[2]);
    cairo_new_path(cr);
    cairo_arc(cr, 0, 0, 0.80 * r, 0, 2 * G_PI);
    cairo_set_source(cr, p);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(p);
    grain(cr, s, o, 0.35);
    ring(cr, 0, 0, 0.84 * r, 0.03 * r, 0, 0.25);
    ring(cr, 0, 0, 0.80 * r, 0.04 * r, 1, 0.30);
    ring(cr, 0.01 * r, 0.01 * r, 0.60 * r, 0.05 * r, 0, 0.22); /* embossed ring */
    ring(cr, -0.01 * r, -0.01 * r, 0.60 * r, 0.04 * r, 1, 0.20);

    /* the printed brand bar turns with the cap */
    cairo_save(cr);
    cairo_rotate(cr, o->angle);
    cairo_new_path(cr);
    cairo_move_to(cr, -0.36 * r, 0.04 * r);
    cairo_line_to(cr, 0.36 * r, 0.04 * r);
    cairo_set_line_width(cr, 0.16 * r);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_source_rgba(cr, 0.95, 0.90, 0.75, 0.85);
    cairo_stroke(cr);
    cairo_arc(cr, 0, -0.26 * r, 0.07 * r, 0, 2 * G_PI);
    cairo_fill(cr);
    cairo_restore(cr);
}

static void capsule(cairo_t *cr, gdouble length, gdouble width)
{
    gdouble e = 0.5 * (length - width), r = 0.5 * width;
    cairo_new_path(cr);
    cairo_arc(cr, -e, 0, r, 0.5 * G_PI, 1.5 * G_PI);
    cairo_arc(cr, e, 0, r, -0.5 * G_PI, 0.5 * G_PI);
    cairo_close_path(cr);
}

/* an oblong scored tablet, length d along the belt */
static void draw_tablet(cairo_t *cr, const SgadScene *s, const Look *o, gdouble d)
{
    gdouble len = d * o->size, wid = 0.46 * len, t = o->tone;
    for (gint i = 0; i < 3; i++) { /* a soft shadow from three widening layers */
        cairo_save(cr);
        cairo_translate(cr, 0.05 * d, 0.08 * d);
        cairo_rotate(cr, o->angle);
        gdouble grow = (0.14 - 0.06 * i) * wid;
        capsule(cr, len + grow, wid + grow);
        cairo_set_source_rgba(cr, 0, 0, 0, 0.17);
        cairo_fill(cr);
        cairo_restore(cr);
    }
    cairo_rotate(cr, o->angle);
    gdouble c[3] = {0.84 * t * (1 + 0.5 * o->hue), 0.83 * t, 0.79 * t * (1 - o->hue)};
    cairo_pattern_t *p = cairo_pattern_create_linear(0, -0.5 * wid, 0, 0.5 * wid);
    const gdouble bevel[][2] = {{0, 0.74}, {0.2, 0.95}, {0.45, 1.0}, {0.8, 0.92}, {1, 0.66}};
    for (gsize i = 0; i < G_N_ELEMENTS(bevel); i++)
        cairo_pattern_add_color_stop_rgb(p, bevel[i][0], bevel[i][1] * c[0], bevel[i][1] * c[1], bevel[i][1] * c[2]);
    capsule(cr, len, wid);
    cairo_set_source(cr, p);
    cairo_fill_preserve(cr);
    cairo_pattern_destroy(p);
    grain(cr, s, o, 0.45);

    capsule(cr, len - 0.16 * wid, 0.84 * wid); /* the bevel's edge */
    cairo_set_line_width(cr, 0.02 * d);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.12);
    cairo_stroke(cr);
    cairo_set_line_width(cr, 0.022 * d); /* the score line, its far lip lit */
    cairo_move_to(cr, 0, -0.40 * wid);
    cairo_line_to(cr, 0, 0.40 * wid);
    cairo_set_source_rgba(cr, 0, 0, 0, 0.30);
    cairo_stroke(cr);
    cairo_set_line_width(cr, 0.014 * d);
    cairo_move_to(cr, 0.018 * d, -0.40 * wid);
    cairo_line_to(cr, 0.018 * d, 0.40 * wid);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.35);
    cairo_stroke(cr);
}

/* the drawing of object k, centred at (half + fx, half + fy) in a 2 half square */
static cairo_surface_t *sprite(SgadScene *s, gint64 k, SgadSceneObject object, gdouble v, const Look *o, gdouble d,
                               gint half, gdouble fx, gdouble fy)
{
    Sprite *slot = &s->sprites[0];
    for (gint i = 0; i < SPRITES; i++) {
        Sprite *t = &s->sprites[i];
        if (t->surface && t->k == k && t->object == object && t->variation == v) {
            t->used = ++s->uses;
            return t->surface;
        }
        if (!t->surface || t->used < slot->used)
            slot = t;
    }
    if (slot->surface)
        cairo_surface_destroy(slot->surface);
    *slot = (Sprite){cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 2 * half, 2 * half), k, object, v, ++s->uses};
    cairo_t *cr = cairo_create(slot->surface);
    cairo_translate(cr, half + fx, half + fy);
    if (object == SGAD_SCENE_CAP)
        draw_cap(cr, s, o, d);
    else
        draw_tablet(cr, s, o, d);
    cairo_destroy(cr);
    return slot->surface;
}

/* Object k sits k pitches behind the one that was at the left edge at frame 0,
 * on the belt: both move by whole pixels, floor(travel). */
static void draw_objects(SgadScene *s, cairo_t *cr, gint64 travel, SgadSceneObject object, gdouble v)
{
    gint w = s->width;
    gdouble band = s->height - 2 * s->rail;
    gboolean cap = object == SGAD_SCENE_CAP;
    gdouble d = cap ? MIN(0.30 * w, 0.50 * band) : MIN(0.32 * w, 0.74 * band); /* extent along the belt */
    gdouble across = cap ? d : 0.46 * d + 0.3 * d * v;                        /* with the turn */
    gdouble pitch = MAX(1.9 * d, 0.55 * w);
    gint half = (gint)ceil(0.75 * d) + 2; /* holds the largest object and its shadow */
    gdouble reach = half + 0.2 * pitch;
    gint64 k0 = (gint64)floor((travel - w - reach) / pitch), k1 = (gint64)ceil((travel + reach) / pitch);
    for (gint64 k = k0; k <= k1; k++) {
        Look o = look_of(s->seed, k, v);
        gdouble x = -(k + o.dx) * pitch;
        gdouble room = MAX(0.0, 0.5 * (band - across * o.size) - 3.0 * w / REF_WIDTH);
        gdouble y = 0.5 * s->height + o.dy * room;
        gint64 ix = travel + (gint64)floor(x);
        if (ix + half < 0 || ix - half > w)
            continue;
        cairo_surface_t *image = sprite(s, k, object, v, &o, d, half, x - floor(x), y - floor(y));
        cairo_set_source_surface(cr, image, (gdouble)(ix - half), floor(y) - half);
        cairo_paint(cr);
    }
}

void sgad_scene_render(SgadScene *s, guint64 n, gdouble speed, SgadSceneObject object, gdouble variation,
                       guint8 *data, gint stride, const guint offsets[4])
{
    gint w = s->width, h = s->height;
    gint64 travel = (gint64)floor((gdouble)n * speed * (w / REF_WIDTH)); /* whole pixels */
    gint i0 = (gint)((s->period - travel % s->period) % s->period);
    for (gint y = 0; y < h; y++) {
        guint32 *dst = (guint32 *)(data + (gsize)y * stride);
        const guint8 *src = s->tile + (gsize)y * s->period;
        const guint32 *lut = y < s->rail || y >= h - s->rail ? s->lut_rail : s->lut_belt;
        for (gint x = 0, i = i0; x < w; x++) {
            dst[x] = lut[src[i]];
            if (++i == s->period)
                i = 0;
        }
    }

    cairo_surface_t *surface = cairo_image_surface_create_for_data(data, CAIRO_FORMAT_RGB24, w, h, stride);
    cairo_t *cr = cairo_create(surface);
    draw_objects(s, cr, travel, object, variation);
    cairo_destroy(cr);
    cairo_surface_flush(surface);
    cairo_surface_destroy(surface);

    /* the light drifts over some hundred frames; Q20 arithmetic below */
    gdouble bright = 1.0 + 0.10 * variation *
                               (0.65 * sin(2 * G_PI * n / 347.0 + s->phase[0]) +
                                0.35 * sin(2 * G_PI * n / 113.0 + s->phase[1]));
    gint32 noise_amp = (gint32)(variation * 16384.0 + 0.5);
    guint ro = offsets[0], go = offsets[1], bo = offsets[2], xo = offsets[3];
    for (gint y = 0; y < h; y++) {
        guint8 *row = data + (gsize)y * stride;
        gint32 gyb = (gint32)(1024.0 * s->gy[y] * bright + 0.5);
        guint off = (guint)hash(s->seed, H_FRAME, n * 65536 + (guint64)y);
        for (gint x = 0; x < w; x++) {
            guint8 *px = row + 4 * x;
            guint32 p;
            memcpy(&p, px, 4); /* as cairo wrote it: 0xxxRRGGBB in native order */
            gint32 g = s->gx[x] * gyb, nz = s->noise[(off + x) % NOISE_LEN] * noise_amp + (1 << 19);
            gint32 r = ((gint32)((p >> 16) & 255) * g + nz) >> 20, gg = ((gint32)((p >> 8) & 255) * g + nz) >> 20,
                   b = ((gint32)(p & 255) * g + nz) >> 20;
            px[ro] = (guint8)CLAMP(r, 0, 255);
            px[go] = (guint8)CLAMP(gg, 0, 255);
            px[bo] = (guint8)CLAMP(b, 0, 255);
            px[xo] = 255;
        }
    }
}
