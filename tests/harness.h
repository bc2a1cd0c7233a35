/* A small test harness for the engine tests.
 *
 * Each test program opens the device (with the validation layer when the suite
 * sets SGAD_VALIDATION=1), runs its checks, and fails if any check failed or the
 * validation layer said anything. Checks print one line each. */
#ifndef SGAD_TEST_HARNESS_H
#define SGAD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sgad/ref.h"
#include "sgad/sgad.h"

extern sg_device *t_dev;
extern int t_failures;
extern int t_checks;

/* Open the device; exits 77 (skipped) only if no Vulkan device exists. */
void t_begin(const char *name);
/* Close the device, count validation messages as failures, return exit code. */
int t_end(void);

/* Run `cases` again on a second device that reads every tensor through buffer
 * references (the path of tensors over a device's texel limit): meanwhile
 * t_dev is that device and t_reads says so ("[buffer reads] ", else ""), for
 * the checks' names; then every tensor there must have been freed. */
extern const char *t_reads;
void t_again_with_buffer_reads(void (*cases)(void));
/* The same on a device that reads texels but writes every tensor through
 * buffer references, never storage-buffer descriptors (the path of tensors
 * over a device's maxStorageBufferRange): t_reads is "[buffer stores] ". */
void t_again_with_buffer_stores(void (*cases)(void));
/* The same on a device whose convolutions take their forwards in shared-memory
 * workgroup tiles (conv_fwd_tiled, the GPU form): t_reads is "[tiled convolutions] ". */
void t_again_with_tiled_convs(void (*cases)(void));

/* Record a check (prints "ok - what" or "FAIL - what: detail"). */
bool t_check(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stop the test if status is not SG_OK (prints the engine's message). */
void t_ok(sg_status s, const char *what);

/* A fresh private folder "<prefix>-XXXXXX" under $TMPDIR (else /tmp); the
 * caller frees the returned path. Exits when it cannot be made. */
char *t_tmpdir(const char *prefix);
/* "dir/name" in one of 4 static buffers used in turn (a call may take two or
 * three such paths at once); exits when the path does not fit. */
const char *t_path_in(const char *dir, const char *name);

/* Deterministic pseudo-random data in [lo, hi). */
void t_random(float *x, size_t n, float lo, float hi, uint64_t seed);
float *t_alloc(size_t n); /* zeroed; exits on failure */
float *t_random_array(size_t n, float lo, float hi, uint64_t seed); /* t_alloc + t_random */
float *t_copy_array(const float *src, size_t n);
/* n images of 3 x size x size: a soft bright disc (peak 0.8) at a random place
 * (8..24 px) on a field of uniform noise in [-noise, noise) */
float *t_disc_images(size_t n, int size, float noise, uint64_t seed);

/* A call recorded into a fresh sequence `seq` must fail with `want` and a
 * message naming the op, and the sequence must then refuse to run. */
#define T_REFUSED(want, opname, call)                                                             \
    do {                                                                                          \
        sg_seq *seq;                                                                              \
        t_ok(sg_seq_create(t_dev, &seq), "sg_seq_create");                                      \
        sg_status st_ = (call);                                                                   \
        t_check(st_ == (want) && strstr(sg_error_message(), opname) != NULL, "%s refused: %s",   \
                #call, sg_error_message());                                                       \
        t_check(sg_seq_run(seq) == (want), "a sequence with a refused op does not run");        \
        sg_seq_destroy(seq);                                                                      \
    } while (0)

/* Tensor from host data / to host (the returned array is malloc'd). */
sg_tensor *t_tensor(sg_shape s, const float *data);
sg_tensor *t_tensor_fill(sg_shape s, float value);
float *t_download(const sg_tensor *t);

/* Compare got against want: every |got-want| <= atol + rtol*|want|.
 * Prints the worst element; returns true when within tolerance. */
bool t_close(const char *what, const float *got, const float *want, size_t n, double atol,
             double rtol);

/* Central finite differences. `forward` recomputes the outputs into y from the
 * current inputs (which the check perturbs in place, one element at a time);
 * the loss is L = sum_i r[i] * y[i]. For up to `samples` elements j of `param`
 * the numeric dL/dparam[j] is compared with analytic[j]. */
typedef void (*t_forward_fn)(void *ctx, float *y);
bool t_grad_check(const char *what, t_forward_fn forward, void *ctx, float *param, size_t n,
                  const float *analytic, const float *r, size_t ny, float eps, double atol,
                  double rtol, int samples);

/* Record one op into a fresh sequence, run it, check the status. */
#define T_RUN(call)                                                                              \
    do {                                                                                         \
        sg_seq *t_seq_;                                                                          \
        t_ok(sg_seq_create(t_dev, &t_seq_), "sg_seq_create");                                  \
        sg_seq *seq = t_seq_;                                                                    \
        t_ok((call), #call);                                                                     \
        t_ok(sg_seq_run(seq), "sg_seq_run");                                                   \
        sg_seq_destroy(seq);                                                                     \
    } while (0)

#endif
