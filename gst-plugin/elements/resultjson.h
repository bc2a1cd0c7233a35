/* The JSON-lines schema of the results, shared by anomalyexport (a file) and
 * anomalypublish (an MQTT broker), one object per line:
 *
 *   frame lines: {"frame": n, "pts": ns|null, "score": x|null, "threshold": t|null,
 *                 "anomalous": bool|null, "score_valid": false, "result-age": ns,
 *                 "result-frame": m, "truth": 0|1, "defect": "..."}
 *     (truth/defect only on frames that carry them; null score, threshold and
 *     anomalous on frames without a result; score_valid only on a score that is
 *     not a number; result-age (ns) and result-frame (that frame's number,
 *     counted like "frame") only when the result was computed on an earlier
 *     frame: asynchronous scoring, interval > 1)
 *   event lines: {"event": "anomaly-start"|"anomaly-end", "frame": n, "pts": ns|null, "score": x|null}
 *
 * n is the writing element's frame count. Numbers that are not finite are null. */
#ifndef SGAD_RESULT_JSON_H
#define SGAD_RESULT_JSON_H

#include <gst/gst.h>

#include <sgad/anomalymeta.h>

/* One frame's line (no newline) from its buffer and meta: r its result (NULL
 * when it has none), truth -1 when it has none. g_free the result. */
gchar *sgad_result_json_frame(GstBuffer *buf, guint64 frame, const SgadAnomalyResult *r, gint truth,
                              const gchar *defect, gsize *length);
/* An anomaly-start/-end line. */
gchar *sgad_result_json_event(const gchar *event, guint64 frame, GstClockTime pts, gdouble score, gsize *length);

#endif
