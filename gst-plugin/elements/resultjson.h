/* The JSON-lines schema of the results, shared by anomalyexport (a file) and
 * anomalypublish (an MQTT broker), one object per line:
 *
 *   frame lines: {"frame": n, "pts": ns|null, "score": x|null, "threshold": t|null,
 *                 "anomalous": bool|null, "truth": 0|1, "defect": "..."}
 *     (truth/defect only on frames that carry them; null score, threshold and
 *     anomalous on frames without a result)
 *   event lines: {"event": "anomaly-start"|"anomaly-end", "frame": n, "pts": ns|null, "score": x|null}
 *
 * n is the writing element's frame count. Numbers that are not finite are null. */
#ifndef SGAD_RESULT_JSON_H
#define SGAD_RESULT_JSON_H

#include <gst/gst.h>

#include <sgad/anomalymeta.h>

/* One frame's line (no newline); r NULL when the frame has no result, truth -1
 * when it has none. g_free the result. */
gchar *sgad_result_json_frame(guint64 frame, GstClockTime pts, const SgadAnomalyResult *r, gint truth,
                              const gchar *defect, gsize *length);
/* An anomaly-start/-end line. */
gchar *sgad_result_json_event(const gchar *event, guint64 frame, GstClockTime pts, gdouble score, gsize *length);

#endif
