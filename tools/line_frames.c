/* The generated line's frames without a pipeline (line_frames.h). */
#include "line_frames.h"

#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "elements/defects.h"
#include "elements/inspectionscene.h"
#include "preprocess.h"

line_source line_source_default(void)
{
    /* inspectionsrc's defaults (and the demo's seed) */
    line_source s = {11, 320, 240, 4.0, 0.5, SGAD_SCENE_CAP};
    return s;
}

bool line_source_parse_size(const char *text, line_source *src)
{
    int w, h;
    if (sscanf(text, "%dx%d", &w, &h) != 2 || w < 32 || h < 32 || w > 4096 || h > 4096)
        return false;
    src->width = w, src->height = h;
    return true;
}

bool line_source_parse_object(const char *text, line_source *src)
{
    if (strcmp(text, "cap") == 0)
        src->object = SGAD_SCENE_CAP;
    else if (strcmp(text, "tablet") == 0)
        src->object = SGAD_SCENE_TABLET;
    else
        return false;
    return true;
}

/* anomalyinject's choice of kind among the enabled ones */
static SgadDefectKind pick_kind(unsigned flags, GRand *rand)
{
    unsigned n = 0;
    SgadDefectKind kinds[4];
    for (unsigned bit = SGAD_DEFECT_SCRATCH; bit <= SGAD_DEFECT_COLOR_SHIFT; bit <<= 1)
        if (flags & bit)
            kinds[n++] = (SgadDefectKind)bit;
    return kinds[g_rand_int_range(rand, 0, (gint32)n)];
}

/* anomalyinject's decision for stream frame n: paints, returns whether defective */
static bool inject(const line_defects *d, uint64_t n, GstVideoFrame *frame)
{
    guint32 key[3] = {d->seed, (guint32)n, (guint32)(n >> 32)};
    GRand *rand = g_rand_new_with_seed_array(key, G_N_ELEMENTS(key));
    bool defective = g_rand_double(rand) < d->fraction && d->kinds != 0;
    if (defective) {
        SgadDefect defect;
        gint w = GST_VIDEO_FRAME_WIDTH(frame), h = GST_VIDEO_FRAME_HEIGHT(frame);
        sgad_defect_generate(&defect, pick_kind(d->kinds, rand), rand, d->size, 0, 0, w, h);
        sgad_defect_paint(&defect, frame, NULL);
    }
    g_rand_free(rand);
    return defective;
}

/* The model-resolution mask of the pixels that differ between the clean and the
 * painted frame (each frame pixel counts in the model pixel its centre falls in,
 * as the preprocessing's area averaging takes it). */
static void painted_mask(const guint8 *clean, const GstVideoFrame *frame, int size, uint32_t *changed,
                         uint32_t *total, uint8_t *mask)
{
    int w = GST_VIDEO_FRAME_WIDTH(frame), h = GST_VIDEO_FRAME_HEIGHT(frame);
    int stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0);
    const guint8 *painted = GST_VIDEO_FRAME_PLANE_DATA(frame, 0);
    size_t plane = (size_t)size * size;
    memset(changed, 0, plane * sizeof *changed);
    memset(total, 0, plane * sizeof *total);
    for (int y = 0; y < h; y++) {
        size_t cy = (size_t)(((2 * (int64_t)y + 1) * size) / (2 * (int64_t)h));
        for (int x = 0; x < w; x++) {
            size_t cell = cy * size + (size_t)(((2 * (int64_t)x + 1) * size) / (2 * (int64_t)w));
            const guint8 *a = clean + (size_t)y * stride + 4 * (size_t)x, *b = painted + (size_t)y * stride + 4 * (size_t)x;
            total[cell]++;
            changed[cell] += a[0] != b[0] || a[1] != b[1] || a[2] != b[2];
        }
    }
    for (size_t p = 0; p < plane; p++)
        mask[p] = total[p] && changed[p] >= LINE_MASK_COVERAGE * total[p];
}

bool line_frames(const line_source *src, uint64_t first, size_t count, const line_defects *defects, int channels,
                 int size, float *out, uint8_t *truth, uint8_t *masks)
{
    gst_init(NULL, NULL);
    GstVideoInfo info;
    gst_video_info_set_format(&info, GST_VIDEO_FORMAT_BGRx, (guint)src->width, (guint)src->height);
    GstBuffer *buffer = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
    SgadScene *scene = sgad_scene_new(src->line_seed, src->width, src->height);
    SgadPlan plan;
    gchar *why = NULL;
    bool ok = buffer && scene;
    if (!ok)
        return cli_false(SG_OK, "out of memory for a %dx%d frame", src->width, src->height);
    if (!sgad_plan_init(&plan, &info, NULL, 1, channels, size, &why)) {
        cli_false(SG_OK, "cannot prepare %dx%d frames: %s", src->width, src->height, why);
        g_free(why); /* the plan's messages are g_strdup'ed */
        gst_buffer_unref(buffer);
        sgad_scene_free(scene);
        return false;
    }
    guint offsets[4];
    for (guint c = 0; c < 3; c++)
        offsets[c] = GST_VIDEO_FORMAT_INFO_POFFSET(info.finfo, c);
    offsets[3] = 6 - offsets[0] - offsets[1] - offsets[2];
    size_t image = (size_t)channels * size * size, plane = (size_t)size * size;
    guint8 *clean = masks ? g_malloc(GST_VIDEO_INFO_SIZE(&info)) : NULL;
    uint32_t *changed = masks ? g_malloc(plane * sizeof *changed) : NULL;
    uint32_t *total = masks ? g_malloc(plane * sizeof *total) : NULL;
    for (size_t i = 0; ok && i < count; i++) {
        GstVideoFrame frame;
        if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_READWRITE)) {
            ok = cli_false(SG_OK, "cannot map a %dx%d frame", src->width, src->height);
            break;
        }
        sgad_scene_render(scene, first + i, src->speed, (SgadSceneObject)src->object, src->variation,
                          GST_VIDEO_FRAME_PLANE_DATA(&frame, 0), GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), offsets);
        if (masks)
            memcpy(clean, GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                   (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0) * (size_t)src->height);
        bool defective = defects ? inject(defects, i, &frame) : false;
        if (truth)
            truth[i] = defective;
        if (masks && defective)
            painted_mask(clean, &frame, size, changed, total, masks + i * plane);
        else if (masks)
            memset(masks + i * plane, 0, plane);
        sgad_preprocess(&plan, &frame, out + i * image);
        gst_video_frame_unmap(&frame);
    }
    g_free(clean), g_free(changed), g_free(total);
    sgad_plan_clear(&plan);
    sgad_scene_free(scene);
    gst_buffer_unref(buffer);
    return ok;
}

bool line_parse_kinds(const char *s, unsigned *kinds)
{
    static const struct { const char *name; unsigned flag; } names[] = {
        {"scratch", SGAD_DEFECT_SCRATCH}, {"spot", SGAD_DEFECT_SPOT}, {"missing", SGAD_DEFECT_MISSING},
        {"color-shift", SGAD_DEFECT_COLOR_SHIFT}, {"all", SGAD_DEFECT_ALL}};
    *kinds = 0;
    char buf[256];
    if (!s || strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
        unsigned found = 0;
        for (size_t k = 0; k < G_N_ELEMENTS(names); k++)
            if (!strcmp(tok, names[k].name))
                found = names[k].flag;
        if (!found)
            return false;
        *kinds |= found;
    }
    return *kinds != 0;
}
