/* inspectionsrc: a generated industrial inspection line, a camera over a
 * conveyor belt that carries crown caps (or tablets) past it, each object a
 * little different in place, turn, size, tone and surface, under a light that
 * drifts slowly. Clean frames to train on; anomalyinject then paints defects.
 *
 *   inspectionsrc num-buffers=300 seed=1 ! videoconvert ! skipganomaly mode=train ... ! fakesink
 *
 * Frame n is a pure function of (seed, n, width, height) and the properties,
 * whatever was produced before: a seek or a restart gives the same bytes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <gst/base/gstpushsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "inspectionscene.h"

GST_DEBUG_CATEGORY_STATIC(inspection_src_debug);
#define GST_CAT_DEFAULT inspection_src_debug

#define GST_TYPE_INSPECTION_SRC (gst_inspection_src_get_type())
G_DECLARE_FINAL_TYPE(GstInspectionSrc, gst_inspection_src, GST, INSPECTION_SRC, GstPushSrc)

#define GST_TYPE_INSPECTION_SRC_OBJECT (gst_inspection_src_object_get_type())

#define DEFAULT_SEED 0
#define DEFAULT_SPEED 4.0
#define DEFAULT_OBJECT SGAD_SCENE_CAP
#define DEFAULT_VARIATION 0.5
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_FIRST_FRAME 0

struct _GstInspectionSrc {
    GstPushSrc parent;

    /* properties, under the object lock */
    guint seed;
    guint64 first_frame; /* the line's frame that the stream's frame 0 shows */
    gdouble speed, variation;
    SgadSceneObject object;

    GstVideoInfo info; /* negotiated */
    SgadScene *scene;  /* for the negotiated size and the current seed */
    guint64 n;         /* the next frame's number */
};

enum { PROP_0, PROP_SEED, PROP_SPEED, PROP_OBJECT, PROP_VARIATION, PROP_IS_LIVE, PROP_FIRST_FRAME };

/* 4 bytes per pixel, as cairo draws; BGRx is cairo's own order on little-endian machines */
#define SRC_CAPS                                                                                                       \
    "video/x-raw, format=(string){ BGRx, RGBx, xRGB, xBGR, BGRA, RGBA, ARGB, ABGR }, width=(int)[ 32, 4096 ], "       \
    "height=(int)[ 32, 4096 ], framerate=(fraction)[ 0/1, 2147483647/1 ], pixel-aspect-ratio=(fraction)1/1"

static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(SRC_CAPS));

G_DEFINE_TYPE(GstInspectionSrc, gst_inspection_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE(inspectionsrc, "inspectionsrc", GST_RANK_NONE, GST_TYPE_INSPECTION_SRC);

static GType gst_inspection_src_object_get_type(void)
{
    static gsize type = 0;
    static const GEnumValue values[] = {
        {SGAD_SCENE_CAP, "Crown caps: a crimped steel skirt around a red printed top", "cap"},
        {SGAD_SCENE_TABLET, "Oblong white tablets with a score line", "tablet"},
        {0, NULL, NULL}};
    if (g_once_init_enter(&type)) {
        GType t = g_enum_register_static("GstInspectionSrcObject", values);
        g_once_init_leave(&type, t);
    }
    return type;
}

static GstCaps *gst_inspection_src_fixate(GstBaseSrc *bsrc, GstCaps *caps)
{
    caps = gst_caps_truncate(gst_caps_make_writable(caps));
    GstStructure *s = gst_caps_get_structure(caps, 0);
    gst_structure_fixate_field_nearest_int(s, "width", 320);
    gst_structure_fixate_field_nearest_int(s, "height", 240);
    gst_structure_fixate_field_nearest_fraction(s, "framerate", 30, 1);
    return GST_BASE_SRC_CLASS(gst_inspection_src_parent_class)->fixate(bsrc, caps);
}

static gboolean gst_inspection_src_set_caps(GstBaseSrc *bsrc, GstCaps *caps)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(bsrc);
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        GST_ERROR_OBJECT(self, "cannot parse caps %" GST_PTR_FORMAT, caps);
        return FALSE;
    }
    GST_OBJECT_LOCK(self);
    self->info = info;
    GST_OBJECT_UNLOCK(self);
    return TRUE;
}

/* a video pool of whole frames (basesrc alone would allocate blocksize bytes) */
static gboolean gst_inspection_src_decide_allocation(GstBaseSrc *bsrc, GstQuery *query)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(bsrc);
    GstBufferPool *pool = NULL;
    guint size = self->info.size, min = 0, max = 0;
    gboolean update = gst_query_get_n_allocation_pools(query) > 0;
    if (update) {
        gst_query_parse_nth_allocation_pool(query, 0, &pool, &size, &min, &max);
        size = MAX(size, self->info.size);
    }
    if (!pool)
        pool = gst_video_buffer_pool_new();
    GstStructure *config = gst_buffer_pool_get_config(pool);
    GstCaps *caps = NULL;
    gst_query_parse_allocation(query, &caps, NULL);
    if (caps)
        gst_buffer_pool_config_set_params(config, caps, size, min, max);
    if (gst_query_find_allocation_meta(query, GST_VIDEO_META_API_TYPE, NULL))
        gst_buffer_pool_config_add_option(config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    gst_buffer_pool_set_config(pool, config);
    if (update)
        gst_query_set_nth_allocation_pool(query, 0, pool, size, min, max);
    else
        gst_query_add_allocation_pool(query, pool, size, min, max);
    gst_object_unref(pool);
    return GST_BASE_SRC_CLASS(gst_inspection_src_parent_class)->decide_allocation(bsrc, query);
}

static gboolean gst_inspection_src_start(GstBaseSrc *bsrc)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(bsrc);
    GST_OBJECT_LOCK(self);
    self->n = 0;
    gst_video_info_init(&self->info);
    GST_OBJECT_UNLOCK(self);
    return TRUE;
}

static gboolean gst_inspection_src_is_seekable(GstBaseSrc *bsrc)
{
    (void)bsrc;
    return TRUE;
}

/* forward only: the first frame at or after the segment's position comes next */
static gboolean gst_inspection_src_do_seek(GstBaseSrc *bsrc, GstSegment *segment)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(bsrc);
    if (segment->rate < 0) {
        GST_WARNING_OBJECT(self, "cannot play backwards");
        return FALSE;
    }
    segment->time = segment->start;
    GST_OBJECT_LOCK(self);
    gint fps_n = GST_VIDEO_INFO_FPS_N(&self->info), fps_d = GST_VIDEO_INFO_FPS_D(&self->info);
    self->n = fps_n > 0 ? gst_util_uint64_scale_ceil(segment->position, fps_n, fps_d * (guint64)GST_SECOND) : 0;
    GST_OBJECT_UNLOCK(self);
    return TRUE;
}

/* a live source waits for each frame's time on the clock */
static void gst_inspection_src_get_times(GstBaseSrc *bsrc, GstBuffer *buffer, GstClockTime *start, GstClockTime *end)
{
    *start = *end = GST_CLOCK_TIME_NONE;
    if (gst_base_src_is_live(bsrc) && GST_BUFFER_PTS_IS_VALID(buffer)) {
        *start = GST_BUFFER_PTS(buffer);
        if (GST_BUFFER_DURATION_IS_VALID(buffer))
            *end = *start + GST_BUFFER_DURATION(buffer);
    }
}

static gboolean gst_inspection_src_query(GstBaseSrc *bsrc, GstQuery *query)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(bsrc);
    if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
        GST_OBJECT_LOCK(self);
        gint fps_n = GST_VIDEO_INFO_FPS_N(&self->info), fps_d = GST_VIDEO_INFO_FPS_D(&self->info);
        GST_OBJECT_UNLOCK(self);
        if (fps_n > 0) { /* a frame is ready one frame time after it began */
            GstClockTime latency = gst_util_uint64_scale(GST_SECOND, fps_d, fps_n);
            gst_query_set_latency(query, gst_base_src_is_live(bsrc), latency, latency);
            return TRUE;
        }
    }
    return GST_BASE_SRC_CLASS(gst_inspection_src_parent_class)->query(bsrc, query);
}

static GstFlowReturn gst_inspection_src_fill(GstPushSrc *psrc, GstBuffer *buffer)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(psrc);
    GST_OBJECT_LOCK(self);
    GstVideoInfo info = self->info;
    guint seed = self->seed;
    gdouble speed = self->speed, variation = self->variation;
    SgadSceneObject object = self->object;
    guint64 n = self->n, first = self->first_frame;
    GST_OBJECT_UNLOCK(self);

    if (GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_UNKNOWN) {
        GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No format was agreed before the first frame."),
                          ("link inspectionsrc to an element that accepts video/x-raw in BGRx, RGBx or another "
                           "4-byte RGB format"));
        return GST_FLOW_NOT_NEGOTIATED;
    }
    gint fps_n = GST_VIDEO_INFO_FPS_N(&info), fps_d = GST_VIDEO_INFO_FPS_D(&info);
    if (fps_n == 0 && n > 0) /* framerate 0/1: one still picture */
        return GST_FLOW_EOS;

    gint width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
    if (!sgad_scene_fits(self->scene, seed, width, height)) {
        sgad_scene_free(self->scene);
        self->scene = sgad_scene_new(seed, width, height);
    }
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE)) {
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not map a %dx%d output buffer for writing.", width, height),
                          ("the buffer is smaller than the negotiated caps need or is read-only"));
        return GST_FLOW_ERROR;
    }
    guint offsets[4];
    for (guint c = 0; c < 3; c++)
        offsets[c] = GST_VIDEO_FORMAT_INFO_POFFSET(info.finfo, c);
    offsets[3] = 6 - offsets[0] - offsets[1] - offsets[2]; /* the byte left over: padding or alpha */
    sgad_scene_render(self->scene, first + n, speed, object, variation, GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                      GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), offsets);
    gst_video_frame_unmap(&frame);

    GstClockTime pts = fps_n > 0 ? gst_util_uint64_scale(n, fps_d * (guint64)GST_SECOND, fps_n) : 0;
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(buffer) =
        fps_n > 0 ? gst_util_uint64_scale(n + 1, fps_d * (guint64)GST_SECOND, fps_n) - pts : GST_CLOCK_TIME_NONE;
    GST_BUFFER_OFFSET(buffer) = n;
    GST_BUFFER_OFFSET_END(buffer) = n + 1;
    GST_OBJECT_LOCK(self);
    self->n = n + 1;
    GST_OBJECT_UNLOCK(self);
    return GST_FLOW_OK;
}

static void gst_inspection_src_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(object);
    if (prop_id == PROP_IS_LIVE) {
        gst_base_src_set_live(GST_BASE_SRC(self), g_value_get_boolean(value));
        return;
    }
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_FIRST_FRAME:
        self->first_frame = g_value_get_uint64(value);
        break;
    case PROP_SEED:
        self->seed = g_value_get_uint(value);
        break;
    case PROP_SPEED:
        self->speed = g_value_get_double(value);
        break;
    case PROP_OBJECT:
        self->object = g_value_get_enum(value);
        break;
    case PROP_VARIATION:
        self->variation = g_value_get_double(value);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_inspection_src_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstInspectionSrc *self = GST_INSPECTION_SRC(object);
    if (prop_id == PROP_IS_LIVE) {
        g_value_set_boolean(value, gst_base_src_is_live(GST_BASE_SRC(self)));
        return;
    }
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_FIRST_FRAME:
        g_value_set_uint64(value, self->first_frame);
        break;
    case PROP_SEED:
        g_value_set_uint(value, self->seed);
        break;
    case PROP_SPEED:
        g_value_set_double(value, self->speed);
        break;
    case PROP_OBJECT:
        g_value_set_enum(value, self->object);
        break;
    case PROP_VARIATION:
        g_value_set_double(value, self->variation);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_inspection_src_finalize(GObject *object)
{
    sgad_scene_free(GST_INSPECTION_SRC(object)->scene);
    G_OBJECT_CLASS(gst_inspection_src_parent_class)->finalize(object);
}

static void gst_inspection_src_class_init(GstInspectionSrcClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseSrcClass *bsrc_class = GST_BASE_SRC_CLASS(klass);

    GST_DEBUG_CATEGORY_INIT(inspection_src_debug, "inspectionsrc", 0, "generated inspection line");

    gobject_class->set_property = gst_inspection_src_set_property;
    gobject_class->get_property = gst_inspection_src_get_property;
    gobject_class->finalize = gst_inspection_src_finalize;

    const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;
    g_object_class_install_property(
        gobject_class, PROP_SEED,
        g_param_spec_uint("seed", "Seed",
                          "Seed of the scene (belt texture, objects, light): the same seed gives the same bytes for "
                          "the same frame number",
                          0, G_MAXUINT32, DEFAULT_SEED, rw));
    g_object_class_install_property(
        gobject_class, PROP_FIRST_FRAME,
        g_param_spec_uint64("first-frame", "First frame",
                            "Frame of the line (of this seed) that the stream starts with; timestamps still start at "
                            "0. Train on frames 0..N-1, then test from frame N on frames the model has not seen",
                            0, G_MAXUINT64 / 2, DEFAULT_FIRST_FRAME, rw));
    g_object_class_install_property(
        gobject_class, PROP_SPEED,
        g_param_spec_double("speed", "Speed",
                            "Belt travel in pixels per frame at 320 pixels wide (scaled with the width)", 0.0, 100.0,
                            DEFAULT_SPEED, rw));
    g_object_class_install_property(
        gobject_class, PROP_OBJECT,
        g_param_spec_enum("object", "Object", "Kind of object on the belt", GST_TYPE_INSPECTION_SRC_OBJECT,
                          DEFAULT_OBJECT, rw));
    g_object_class_install_property(
        gobject_class, PROP_VARIATION,
        g_param_spec_double("variation", "Variation",
                            "Natural variation: objects' place, turn, size, tone and surface, the light's drift and "
                            "camera noise (0: none, 1: the most a normal line shows)",
                            0.0, 1.0, DEFAULT_VARIATION, rw));
    g_object_class_install_property(
        gobject_class, PROP_IS_LIVE,
        g_param_spec_boolean("is-live", "Is live",
                             "Act as a live source: produce each frame at its time on the clock", DEFAULT_IS_LIVE,
                             G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

    gst_element_class_set_static_metadata(element_class, "Inspection line source", "Source/Video",
                                          "Generates a camera view of a conveyor carrying caps or tablets, with "
                                          "natural variation, for training and testing anomaly detection",
                                          "sgad");
    gst_element_class_add_static_pad_template(element_class, &src_template);

    bsrc_class->fixate = GST_DEBUG_FUNCPTR(gst_inspection_src_fixate);
    bsrc_class->set_caps = GST_DEBUG_FUNCPTR(gst_inspection_src_set_caps);
    bsrc_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_inspection_src_decide_allocation);
    bsrc_class->start = GST_DEBUG_FUNCPTR(gst_inspection_src_start);
    bsrc_class->is_seekable = GST_DEBUG_FUNCPTR(gst_inspection_src_is_seekable);
    bsrc_class->do_seek = GST_DEBUG_FUNCPTR(gst_inspection_src_do_seek);
    bsrc_class->get_times = GST_DEBUG_FUNCPTR(gst_inspection_src_get_times);
    bsrc_class->query = GST_DEBUG_FUNCPTR(gst_inspection_src_query);
    GST_PUSH_SRC_CLASS(klass)->fill = GST_DEBUG_FUNCPTR(gst_inspection_src_fill);

    gst_type_mark_as_plugin_api(GST_TYPE_INSPECTION_SRC_OBJECT, 0);
}

static void gst_inspection_src_init(GstInspectionSrc *self)
{
    self->seed = DEFAULT_SEED;
    self->first_frame = DEFAULT_FIRST_FRAME;
    self->speed = DEFAULT_SPEED;
    self->object = DEFAULT_OBJECT;
    self->variation = DEFAULT_VARIATION;
    gst_video_info_init(&self->info);
    gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
    gst_base_src_set_live(GST_BASE_SRC(self), DEFAULT_IS_LIVE);
}
