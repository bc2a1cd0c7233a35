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

/* Host transfers that are part of every run, so that a run is one submission
 * and one wait on any device (a staged sg_tensor_upload or download, on a
 * device whose tensor memory the host cannot see, is a submission and a wait
 * of its own). Call them while recording, anywhere in it:
 * - sg_seq_stage_in: *host gets room for all of t's floats; what is written
 *   there before a run is submitted is t's value when the run begins;
 * - sg_seq_stage_out: *host gets count floats of t from element offset as they
 *   are when the run ends, to read after its wait (until the next submit).
 * Write and read the memory only between a run's wait and the next submit.
 * Where tensors are host-visible the memory is the tensor's own and nothing is
 * recorded; else the sequence owns a host-visible buffer per call. */
sg_status sg_seq_stage_in(sg_seq *seq, sg_tensor *t, float **host);
sg_status sg_seq_stage_out(sg_seq *seq, const sg_tensor *t, size_t offset, size_t count, const float **host);

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
