/* anomalyinject: paints synthetic defects (scratches, spots, missing regions,
 * colour shifts) into a chosen fraction of the frames of any stream and records
 * the ground truth on every frame in GstAnomalyMeta (truth 1 and the defect's
 * kind where one was painted, 0 elsewhere), so a line can be validated before
 * deployment: score and truth travel together to anomalyexport, which gives the
 * ROC AUC. A defective frame also carries where the defect was painted (the
 * meta's truth-mask: 1 on every frame pixel the painting changed), so
 * anomalyexport can rank the heat map's pixels too (pixel ROC AUC, AUPRO).
 *
 *   videotestsrc ! anomalyinject fraction=0.2 seed=7 defects=scratch+spot ! skipganomaly ! anomalyexport ...
 *
 * Frame n of the stream (counted from the start) is decided and drawn from a
 * generator seeded with (seed, n) alone, so the same seed gives the same
 * defects on the same frames, whatever came before or the pipeline's timing. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <stdio.h>

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include <sgad/anomalymeta.h>
#include "defects.h"
#include "rect.h"

GST_DEBUG_CATEGORY_STATIC(anomaly_inject_debug);
#define GST_CAT_DEFAULT anomaly_inject_debug

#define GST_TYPE_ANOMALY_INJECT (gst_anomaly_inject_get_type())
G_DECLARE_FINAL_TYPE(GstAnomalyInject, gst_anomaly_inject, GST, ANOMALY_INJECT, GstVideoFilter)

#define GST_TYPE_ANOMALY_INJECT_DEFECTS (gst_anomaly_inject_defects_get_type())

#define DEFAULT_FRACTION 0.1
#define DEFAULT_SEED 0
#define DEFAULT_DEFECTS SGAD_DEFECT_ALL
#define DEFAULT_SIZE 0.1
#define DEFAULT_TRUTH_MASK TRUE

struct _GstAnomalyInject {
    GstVideoFilter parent;

    /* properties, under the object lock */
    gdouble fraction, size;
    guint seed;
    guint defects; /* SgadDefectKind flags */
    gboolean truth_mask;
    gint roi_x, roi_y, roi_width, roi_height; /* roi_width 0: the whole frame */

    guint64 frame; /* frames seen since start */
};

enum { PROP_0, PROP_FRACTION, PROP_SEED, PROP_DEFECTS, PROP_SIZE, PROP_ROI, PROP_TRUTH_MASK };

/* 8 bits per component, in the formats people feed inspection lines with */
#define FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, GRAY8, I420, YV12, NV12, NV21, Y42B, Y444, YUY2, UYVY }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(FORMATS)));

G_DEFINE_TYPE(GstAnomalyInject, gst_anomaly_inject, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(anomalyinject, "anomalyinject", GST_RANK_NONE, GST_TYPE_ANOMALY_INJECT);

static GType gst_anomaly_inject_defects_get_type(void)
{
    static gsize type = 0;
    static const GFlagsValue values[] = {
        {SGAD_DEFECT_SCRATCH, "A thin straight line, dark or bright", "scratch"},
        {SGAD_DEFECT_SPOT, "A filled dark or bright ellipse", "spot"},
        {SGAD_DEFECT_MISSING, "A rectangle blanked to black", "missing"},
        {SGAD_DEFECT_COLOR_SHIFT, "An ellipse whose colour is offset", "color-shift"},
        {0, NULL, NULL}};
    if (g_once_init_enter(&type)) {
        GType t = g_flags_register_static("GstAnomalyInjectDefects", values);
        g_once_init_leave(&type, t);
    }
    return type;
}

static SgadDefectKind pick_kind(guint flags, GRand *rand)
{
    guint n = 0;
    SgadDefectKind kinds[4];
    for (guint bit = SGAD_DEFECT_SCRATCH; bit <= SGAD_DEFECT_COLOR_SHIFT; bit <<= 1)
        if (flags & bit)
            kinds[n++] = bit;
    return kinds[g_rand_int_range(rand, 0, (gint32)n)];
}

static GstFlowReturn gst_anomaly_inject_transform_frame_ip(GstVideoFilter *filter, GstVideoFrame *frame)
{
    GstAnomalyInject *self = GST_ANOMALY_INJECT(filter);
    GST_OBJECT_LOCK(self);
    gdouble fraction = self->fraction, size = self->size;
    guint seed = self->seed, flags = self->defects;
    gboolean with_mask = self->truth_mask;
    gint rx = self->roi_x, ry = self->roi_y, rw = self->roi_width, rh = self->roi_height;
    GST_OBJECT_UNLOCK(self);

    gint width = GST_VIDEO_FRAME_WIDTH(frame), height = GST_VIDEO_FRAME_HEIGHT(frame);
    if (rw == 0) {
        rx = ry = 0;
        rw = width;
        rh = height;
    }
    /* in 64 bits: x + width must not wrap around (sgad_rect_parse clips too) */
    gint cx0 = MAX(rx, 0), cy0 = MAX(ry, 0);
    gint cx1 = (gint)MIN((gint64)rx + rw, width), cy1 = (gint)MIN((gint64)ry + rh, height);
    if (cx0 >= cx1 || cy0 >= cy1) {
        GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("The roi %d,%d,%d,%d lies outside the %dx%d frame.", rx, ry, rw, rh,
                                                     width, height),
                          ("set roi to x,y,width,height inside the frame, or to \"\" for the whole frame"));
        return GST_FLOW_ERROR;
    }

    guint64 n = self->frame++;
    guint32 key[3] = {seed, (guint32)n, (guint32)(n >> 32)};
    GRand *rand = g_rand_new_with_seed_array(key, G_N_ELEMENTS(key));
    /* drawn even when no kind is enabled, so enabling kinds keeps the frames */
    gboolean defective = g_rand_double(rand) < fraction && flags != 0;
    const gchar *name = NULL;
    guint8 *mask = NULL;
    if (defective) {
        SgadDefect d;
        sgad_defect_generate(&d, pick_kind(flags, rand), rand, size, cx0, cy0, cx1 - cx0, cy1 - cy0);
        /* a zeroed frame-sized mask: about 0.3-0.6 ms more a defective 1920x1080 frame (docs/elements.md) */
        mask = with_mask ? g_malloc0((gsize)width * height) : NULL;
        guint covered = sgad_defect_paint(&d, frame, mask);
        name = sgad_defect_kind_name(d.kind);
        GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT ": %s over %u pixels", n, name, covered);
    }
    g_rand_free(rand);
    sgad_buffer_set_anomaly_truth(frame->buffer, defective, name);
    if (mask) {
        GBytes *bytes = g_bytes_new_take(mask, (gsize)width * height);
        sgad_buffer_set_anomaly_truth_mask(frame->buffer, bytes, (guint)width, (guint)height);
        g_bytes_unref(bytes);
    }
    return GST_FLOW_OK;
}

static gboolean gst_anomaly_inject_start(GstBaseTransform *trans)
{
    GST_ANOMALY_INJECT(trans)->frame = 0;
    return TRUE;
}

static void gst_anomaly_inject_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
    GstAnomalyInject *self = GST_ANOMALY_INJECT(object);
    switch (prop_id) {
    case PROP_FRACTION:
        GST_OBJECT_LOCK(self);
        self->fraction = g_value_get_double(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_SEED:
        GST_OBJECT_LOCK(self);
        self->seed = g_value_get_uint(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_DEFECTS:
        GST_OBJECT_LOCK(self);
        self->defects = g_value_get_flags(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_SIZE:
        GST_OBJECT_LOCK(self);
        self->size = g_value_get_double(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_TRUTH_MASK:
        GST_OBJECT_LOCK(self);
        self->truth_mask = g_value_get_boolean(value);
        GST_OBJECT_UNLOCK(self);
        break;
    case PROP_ROI: {
        SgadRect roi;
        if (!sgad_rect_parse(g_value_get_string(value), &roi)) {
            g_warning("anomalyinject: roi must be \"x,y,width,height\" in pixels with width, height > 0, or \"\"; "
                      "got \"%s\"",
                      g_value_get_string(value));
            break;
        }
        GST_OBJECT_LOCK(self);
        self->roi_x = roi.x, self->roi_y = roi.y, self->roi_width = roi.width, self->roi_height = roi.height;
        GST_OBJECT_UNLOCK(self);
        break;
    }
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
}

static void gst_anomaly_inject_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
    GstAnomalyInject *self = GST_ANOMALY_INJECT(object);
    GST_OBJECT_LOCK(self);
    switch (prop_id) {
    case PROP_FRACTION:
        g_value_set_double(value, self->fraction);
        break;
    case PROP_SEED:
        g_value_set_uint(value, self->seed);
        break;
    case PROP_DEFECTS:
        g_value_set_flags(value, self->defects);
        break;
    case PROP_SIZE:
        g_value_set_double(value, self->size);
        break;
    case PROP_TRUTH_MASK:
        g_value_set_boolean(value, self->truth_mask);
        break;
    case PROP_ROI:
        if (self->roi_width)
            g_value_take_string(value, g_strdup_printf("%d,%d,%d,%d", self->roi_x, self->roi_y, self->roi_width,
                                                       self->roi_height));
        else
            g_value_set_string(value, "");
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
}

static void gst_anomaly_inject_class_init(GstAnomalyInjectClass *klass)
{
    GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
    GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

    GST_DEBUG_CATEGORY_INIT(anomaly_inject_debug, "anomalyinject", 0, "synthetic defect injection");
    sgad_anomaly_meta_register();

    gobject_class->set_property = gst_anomaly_inject_set_property;
    gobject_class->get_property = gst_anomaly_inject_get_property;

    const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_CONTROLLABLE;
    g_object_class_install_property(
        gobject_class, PROP_FRACTION,
        g_param_spec_double("fraction", "Fraction", "Probability that a frame gets a defect (each frame drawn apart)",
                            0.0, 1.0, DEFAULT_FRACTION, rw));
    g_object_class_install_property(
        gobject_class, PROP_SEED,
        g_param_spec_uint("seed", "Seed",
                          "Seed of the defects: the same seed paints the same defects on the same frames", 0,
                          G_MAXUINT32, DEFAULT_SEED, rw));
    g_object_class_install_property(
        gobject_class, PROP_DEFECTS,
        g_param_spec_flags("defects", "Defects", "Kinds of defect to paint, one per defective frame chosen evenly",
                           GST_TYPE_ANOMALY_INJECT_DEFECTS, DEFAULT_DEFECTS, rw));
    g_object_class_install_property(
        gobject_class, PROP_SIZE,
        g_param_spec_double("size", "Size", "Size of a defect relative to the smaller side of the roi (or frame); at least 3 pixels",
                            0.0, 1.0, DEFAULT_SIZE, rw));
    g_object_class_install_property(
        gobject_class, PROP_ROI,
        g_param_spec_string("roi", "Region of interest",
                            "Paint only inside \"x,y,width,height\" (frame pixels); empty for the whole frame", "",
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
    g_object_class_install_property(
        gobject_class, PROP_TRUTH_MASK,
        g_param_spec_boolean("truth-mask", "Truth mask",
                             "Record on each defective frame where the defect was painted (the meta's truth-mask: "
                             "a frame-sized byte mask, 1 where the painting changed the pixel), for anomalyexport's "
                             "pixel ROC AUC and AUPRO",
                             DEFAULT_TRUTH_MASK, rw));

    gst_element_class_set_static_metadata(
        element_class, "Anomaly injection", "Filter/Effect/Video",
        "Paints synthetic defects into a seeded fraction of the frames and records the ground truth in "
        "GstAnomalyMeta",
        "sgad");
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);

    trans_class->start = GST_DEBUG_FUNCPTR(gst_anomaly_inject_start);
    /* every frame gets its truth, so the element never passes buffers through untouched */
    trans_class->passthrough_on_same_caps = FALSE;
    filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR(gst_anomaly_inject_transform_frame_ip);

    gst_type_mark_as_plugin_api(GST_TYPE_ANOMALY_INJECT_DEFECTS, 0);
}

static void gst_anomaly_inject_init(GstAnomalyInject *self)
{
    self->fraction = DEFAULT_FRACTION;
    self->seed = DEFAULT_SEED;
    self->defects = DEFAULT_DEFECTS;
    self->size = DEFAULT_SIZE;
    self->truth_mask = DEFAULT_TRUTH_MASK;
    /* a frame dropped for lateness would carry no truth and shift the frame
     * count that the seeded defects follow */
    gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), FALSE);
}
