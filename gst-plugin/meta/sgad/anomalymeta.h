/* GstAnomalyMeta: the per-frame anomaly result that travels with a buffer.
 *
 * Applications get these helpers from libsgadmeta-1.0 (pkg-config sgadmeta-1.0,
 * #include <sgad/anomalymeta.h>), as GStreamer's own metas come from their
 * libraries (libgstvideo): the plugin itself exports nothing but its entry point.
 *
 * It is a GstCustomMeta named "GstAnomalyMeta" holding a GstStructure, so it is
 * readable from C (the typed helpers below) and from Python through GObject
 * introspection:
 *
 *   meta = buf.get_custom_meta("GstAnomalyMeta")
 *   s = meta.get_structure()
 *   s.get_double("score"), s.get_boolean("anomalous"), s.get_value("heatmap")  # GLib.Bytes of float32
 *
 * Fields (docs/elements.md):
 *   score, threshold (gdouble); anomalous (gboolean);
 *   score-valid (gboolean): FALSE when the score is not a finite number (NaN or
 *     infinite: a model whose arithmetic overflowed); such a frame is always
 *     anomalous=TRUE, never normal. Absent means TRUE.
 *   tiles-x, tiles-y (guint) and tile-scores (GstValueArray of gdouble, row-major;
 *     also as tile-scores-f32, GBytes of float32, for C readers);
 *   heatmap (GBytes of native float32, row-major), heatmap-width, heatmap-height (guint):
 *     per-pixel squared reconstruction error over the scored region;
 *   roi-x, roi-y, roi-width, roi-height (gint): the scored region in frame pixels;
 *   frame (guint64): the element's frame counter;
 *   truth (gint, set by anomalyinject: 0 normal, 1 defect painted) and defect (string);
 *   truth-mask (GBytes of guint8, row-major), truth-mask-width, truth-mask-height (guint):
 *     where the defect was painted, in the pixels of the frame anomalyinject painted:
 *     1 where the painting changed the pixel, 0 elsewhere. Only on frames with
 *     truth 1 (a normal frame carries none: all zero); setting the truth again
 *     removes it;
 *   result-frame (guint64): the frame the result was computed on (<= frame: a live stream
 *     scored asynchronously, or interval > 1, carries an earlier frame's result),
 *     result-age (guint64 ns): this frame's timestamp minus that frame's (0 when the same),
 *     result-pending (gboolean): TRUE when no result is ready yet (then no score fields).
 * A buffer may carry a result, a truth, or both (one meta). */
#ifndef SGAD_ANOMALY_META_H
#define SGAD_ANOMALY_META_H

#include <gst/gst.h>

G_BEGIN_DECLS

#ifdef SGAD_META_BUILDING
#define SGAD_META_API __attribute__((visibility("default")))
#else
#define SGAD_META_API
#endif

#define SGAD_ANOMALY_META_NAME "GstAnomalyMeta"

typedef struct {
    gdouble score, threshold;
    gboolean anomalous;
    gboolean score_invalid; /* the score is not a finite number: anomalous is then TRUE (set and read so) */
    guint tiles_x, tiles_y;
    const gfloat *tile_scores; /* tiles_x * tiles_y */
    guint heatmap_width, heatmap_height;
    const gfloat *heatmap;     /* heatmap_width * heatmap_height, may be NULL */
    gint roi_x, roi_y, roi_width, roi_height;
    guint64 frame;
} SgadAnomalyResult;

/* Register the meta (idempotent, thread-safe). */
SGAD_META_API void sgad_anomaly_meta_register(void);

/* Attach (or update) the result on a writable buffer; arrays are copied. */
SGAD_META_API void sgad_buffer_set_anomaly_result(GstBuffer *buffer, const SgadAnomalyResult *result);
/* Read the result; the arrays in *out stay valid as long as the buffer's meta.
 * FALSE when the buffer carries no result. */
SGAD_META_API gboolean sgad_buffer_get_anomaly_result(GstBuffer *buffer, SgadAnomalyResult *out);

/* Ground truth (anomalyinject): truth 0/1 and the defect kind (may be NULL). */
SGAD_META_API void sgad_buffer_set_anomaly_truth(GstBuffer *buffer, gboolean anomalous, const gchar *defect);
/* -1 when unknown; *defect (optional) points into the meta. */
SGAD_META_API gint sgad_buffer_get_anomaly_truth(GstBuffer *buffer, const gchar **defect);

/* The painted pixels of a defective frame (anomalyinject): mask holds width *
 * height bytes, row-major, nonzero where the defect changed the frame. The meta
 * keeps a reference (no copy). Set it after the truth: setting the truth
 * removes any mask. */
SGAD_META_API void sgad_buffer_set_anomaly_truth_mask(GstBuffer *buffer, GBytes *mask, guint width, guint height);
/* The mask, valid as long as the buffer's meta; NULL when the buffer carries
 * none (then *width and *height are 0) or one whose size is not width * height. */
SGAD_META_API const guint8 *sgad_buffer_get_anomaly_truth_mask(GstBuffer *buffer, guint *width, guint *height);

/* Which frame the result was computed on and how old it is (ns of stream time). */
SGAD_META_API void sgad_buffer_set_anomaly_source(GstBuffer *buffer, guint64 result_frame, GstClockTime result_age);
/* FALSE when the buffer does not say (then the result, if any, is its own). */
SGAD_META_API gboolean sgad_buffer_get_anomaly_source(GstBuffer *buffer, guint64 *result_frame,
                                                      GstClockTime *result_age);
/* No result yet for this frame (asynchronous scoring has not delivered one). */
SGAD_META_API void sgad_buffer_set_anomaly_pending(GstBuffer *buffer, guint64 frame);

G_END_DECLS

#endif
