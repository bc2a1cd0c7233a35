/* Recorded sequences of operations.
 *
 * Ops are not executed when called: they are recorded into a sequence (one
 * Vulkan command buffer, with the memory barriers the data dependencies need).
 * A finished sequence is replayed with sg_seq_run() as often as wanted, e.g.
 * once per training step; values that change between runs (the input batch,
 * Adam's step count) live in tensors, never in the recording.
 *
 *   sg_seq *seq; sg_seq_create(dev, &seq);
 *   sg_conv2d_forward(seq, &conv, x, w, b, y);   // recorded
 *   sg_relu_forward(seq, y, y);                  // recorded, after a barrier
 *   sg_seq_finish(seq);
 *   for (...) { sg_tensor_upload(x, batch); sg_seq_run(seq); }
 *
 * Temporary storage an op needs (packed weights, partial sums) is owned by the
 * sequence and lives as long as it. A sequence is used by one thread at a time;
 * several sequences on one device may run from several threads. */
#ifndef SGAD_SEQ_H
#define SGAD_SEQ_H

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_seq sg_seq;

sg_status sg_seq_create(sg_device *dev, sg_seq **out);
void sg_seq_destroy(sg_seq *seq);

/* End recording. Further op calls fail with SG_ERR_STATE. */
sg_status sg_seq_finish(sg_seq *seq);
/* Submit and wait for completion (finishes the recording first if needed). */
sg_status sg_seq_run(sg_seq *seq);
/* Submit without waiting; sg_seq_wait() blocks until done. */
sg_status sg_seq_submit(sg_seq *seq);
sg_status sg_seq_wait(sg_seq *seq);

/* Number of dispatches and barriers recorded (for tests and curiosity). */
uint32_t sg_seq_dispatch_count(const sg_seq *seq);
uint32_t sg_seq_barrier_count(const sg_seq *seq);

/* The first error met while recording (ops return it too); SG_OK if none. */
sg_status sg_seq_status(const sg_seq *seq);

/* GPU time of the last run in seconds, from timestamps (0 if unsupported). */
double sg_seq_last_gpu_seconds(const sg_seq *seq);

#ifdef __cplusplus
}
#endif
#endif
