/* Calibration on the stream (score mode): the next calibrate-frames frames are
 * taken as normal production (at start with calibrate-frames set, and again on
 * the `calibrate` action signal), prepared exactly as scoring prepares them,
 * and the model's threshold is measured again on them: its quantile of their
 * scores (and, for a standardised frame score, the per-pixel statistics from
 * the first half, the threshold from the rest), as `sgad calibrate` does on a
 * recording. The answer to a model trained on a short clip, whose own held-out
 * frames set a threshold that flags far more normal frames than it promises
 * (docs/training.md).
 *
 * Frames taken for the calibration, and those that pass while it is computed,
 * carry a pending result (no verdict, no frame message): they are declared
 * normal, and the calibration they would be judged by does not exist yet. The
 * computation runs on a thread of its own; with synchronous scoring (files)
 * the streaming thread waits for it, so every later frame is judged by it.
 * The new calibration is swapped in as a hot reload does (a copy of the model
 * file, calibrated); the file itself is not changed. A calibration that fails
 * (too few frames before EOS, scores that are not numbers) is a warning and
 * the model keeps the calibration it had. */
#ifndef SGAD_CALIBRATION_H
#define SGAD_CALIBRATION_H

#include <gst/video/video.h>
#include <sgad/model.h>

#include "../rect.h"

typedef struct _GstSkipGanomaly GstSkipGanomaly;

/* start: request a calibration on the first frames when calibrate-frames is
 * set; FALSE (with the element error posted) when that is too few for m. */
gboolean sgad_calibration_start(GstSkipGanomaly *self, sg_model *m);
/* The `calibrate` action signal. */
gboolean sgad_calibration_request(GstSkipGanomaly *self);
/* Every frame in score mode, before it is scored: take a request, collect,
 * hand over to the worker, take its result. *pending: the frame carries no
 * verdict (it is one of the calibration's, or the calibration is computed). */
GstFlowReturn sgad_calibration_frame(GstSkipGanomaly *self, GstVideoFrame *frame, const SgadRect *roi, gint tiles,
                                     gboolean *pending);
/* Whether a calibration is requested or under way (frames are taken one at a time). */
gboolean sgad_calibration_busy(GstSkipGanomaly *self);
/* EOS: a collection not complete is dropped (said); a computation is waited for. */
void sgad_calibration_eos(GstSkipGanomaly *self);
/* stop: wait for the worker, free the frames. */
void sgad_calibration_clear(GstSkipGanomaly *self);

#endif
