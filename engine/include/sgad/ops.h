/* Tensor operations, recorded into a sequence (see seq.h).
 *
 * Conventions
 * - All tensors are fp32 NCHW. Per-channel vectors (bias, BN parameters) have
 *   shape (1, C, 1, 1) or any shape with C elements; their count is what is checked.
 * - Forward calls overwrite their output.
 * - Backward calls ADD into every gradient tensor they are given (dx, dw, ...),
 *   like autograd accumulation: zero gradients with sg_fill() before a step.
 *   Any gradient pointer may be NULL when that gradient is not needed.
 * - Each op has a plain-C reference of the same math in ref.h; the tests hold
 *   the two against each other and the backward passes against finite differences.
 * - Every call validates shapes and returns SG_ERR_SHAPE / SG_ERR_ARGUMENT with a
 *   message rather than recording anything wrong. */
#ifndef SGAD_OPS_H
#define SGAD_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "seq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution ------------------------------------------------------- */

typedef struct sg_conv2d {
    int kernel_h, kernel_w;
    int stride, padding, dilation; /* same in both spatial directions */
} sg_conv2d;

/* Output spatial size of a convolution (<= 0 when the input is too small). */
int sg_conv2d_out_size(int in, int kernel, int stride, int padding, int dilation);

/* y = conv(x, w) + b.  x (N,Ci,H,W), w (Co,Ci,kh,kw), b (Co) or NULL, y (N,Co,Ho,Wo). */
sg_status sg_conv2d_forward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                            const sg_tensor *w, const sg_tensor *b, sg_tensor *y);
sg_status sg_conv2d_backward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                             const sg_tensor *w, const sg_tensor *dy, sg_tensor *dx,
                             sg_tensor *dw, sg_tensor *db);

/* Transposed convolution (PyTorch ConvTranspose2d, output_padding 0):
 * x (N,Ci,H,W), w (Ci,Co,kh,kw), b (Co) or NULL,
 * y (N,Co,(H-1)*s - 2p + d*(kh-1) + 1, ...). */
int sg_conv_transpose2d_out_size(int in, int kernel, int stride, int padding, int dilation);
sg_status sg_conv_transpose2d_forward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                                      const sg_tensor *w, const sg_tensor *b, sg_tensor *y);
sg_status sg_conv_transpose2d_backward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                                       const sg_tensor *w, const sg_tensor *dy, sg_tensor *dx,
                                       sg_tensor *dw, sg_tensor *db);

/* Eval-mode inference: a convolution (or transposed one) followed by batch
 * norm with running statistics and optionally ReLU / LeakyReLU, in one pass:
 *   y = act((conv(x, w) + b - mean) * gamma / sqrt(var + eps) + beta)
 * The batch norm is folded into the weights and bias as the packed weights are
 * made. That happens at every run of seq, from the current parameters, unless
 * `pack` names another sequence: the packing and folding are then recorded
 * there, and its owner runs it before seq whenever w, b or the batch norm
 * tensors changed (sg_tensor_generation tells), saving a pass over the weights
 * per run. gamma, beta, mean, var: one per output channel; b may be NULL.
 * With accumulate, the result is added into y before the activation:
 *   y = act(y + (conv(x, w) + b - mean) * gamma / sqrt(var + eps) + beta)
 * (a residual or branch sum recorded as part of the convolution's store). */
typedef struct sg_conv_epilogue {
    const sg_tensor *gamma, *beta, *mean, *var; /* batch norm; all NULL for none */
    float eps;
    bool activate; /* then y = y >= 0 ? y : slope * y (ReLU: slope 0) */
    float slope;
    sg_seq *pack;  /* NULL: pack in seq, at every run */
    bool accumulate; /* add into y (before the activation) instead of overwriting it */
} sg_conv_epilogue;
sg_status sg_conv2d_forward_fused(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x, const sg_tensor *w,
                                  const sg_tensor *b, const sg_conv_epilogue *e, sg_tensor *y);
sg_status sg_conv_transpose2d_forward_fused(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                                            const sg_tensor *w, const sg_tensor *b, const sg_conv_epilogue *e,
                                            sg_tensor *y);

/* ---- batch normalisation ---------------------------------------------- */

typedef struct sg_batchnorm {
    float eps;      /* 1e-5 */
    float momentum; /* 0.1: running = (1-m)*running + m*batch (unbiased variance) */
} sg_batchnorm;

/* Training mode: normalise with the batch statistics, save them for backward
 * (save_mean, save_invstd: C each) and update running_mean/var (C each, or NULL). */
sg_status sg_batchnorm_forward_train(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                     const sg_tensor *gamma, const sg_tensor *beta,
                                     sg_tensor *running_mean, sg_tensor *running_var,
                                     sg_tensor *save_mean, sg_tensor *save_invstd, sg_tensor *y);
/* Eval mode: normalise with the running statistics. */
sg_status sg_batchnorm_forward_eval(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                    const sg_tensor *gamma, const sg_tensor *beta,
                                    const sg_tensor *running_mean, const sg_tensor *running_var,
                                    sg_tensor *y);
/* Eval mode followed by ReLU (slope 0) or LeakyReLU (slope in (0, 1)) in one
 * pass: y = act((x - mean) * gamma / sqrt(var + eps) + beta). */
sg_status sg_batchnorm_act_forward_eval(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                        const sg_tensor *gamma, const sg_tensor *beta,
                                        const sg_tensor *running_mean, const sg_tensor *running_var, float slope,
                                        sg_tensor *y);
/* Backward of the training-mode forward. */
sg_status sg_batchnorm_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *gamma,
                                const sg_tensor *save_mean, const sg_tensor *save_invstd,
                                const sg_tensor *dy, sg_tensor *dx, sg_tensor *dgamma,
                                sg_tensor *dbeta);
/* Training mode followed by ReLU (slope 0) or LeakyReLU (slope in (0, 1)) in
 * one pass: y = act(batchnorm_train(x)); the batch norm's own output is never
 * stored. */
sg_status sg_batchnorm_act_forward_train(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                         const sg_tensor *gamma, const sg_tensor *beta,
                                         sg_tensor *running_mean, sg_tensor *running_var,
                                         sg_tensor *save_mean, sg_tensor *save_invstd, float slope,
                                         sg_tensor *y);
/* Its backward: dy is the gradient of the activated y, and the activation's
 * derivative (1 where y > 0, else slope) is applied inside the batch norm's
 * gradient kernels, read from y's sign (y > 0 exactly where the batch norm's
 * output is > 0, for any slope >= 0). Adds into dx, dgamma, dbeta as
 * sg_batchnorm_backward does. */
sg_status sg_batchnorm_act_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *gamma,
                                    const sg_tensor *save_mean, const sg_tensor *save_invstd,
                                    const sg_tensor *y, float slope, const sg_tensor *dy, sg_tensor *dx,
                                    sg_tensor *dgamma, sg_tensor *dbeta);

/* ---- activations (y may alias x in forward) ---------------------------- */

typedef enum sg_activation {
    SG_ACT_RELU = 0,
    SG_ACT_LEAKY_RELU, /* slope for x < 0 given by `slope` */
    SG_ACT_SIGMOID,
    SG_ACT_TANH,
} sg_activation;

sg_status sg_activation_forward(sg_seq *seq, sg_activation act, float slope,
                                const sg_tensor *x, sg_tensor *y);
/* Needs x for ReLU/LeakyReLU and y for sigmoid/tanh; pass both (either may be
 * NULL when the activation does not need it). */
sg_status sg_activation_backward(sg_seq *seq, sg_activation act, float slope,
                                 const sg_tensor *x, const sg_tensor *y,
                                 const sg_tensor *dy, sg_tensor *dx);

/* ---- elementwise ------------------------------------------------------- */

/* y = a + b (same shape; y may alias a or b). */
sg_status sg_add_forward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *y);
/* y = a * b, where b has a's shape or is per-channel (N,C,1,1) broadcast over H,W. */
sg_status sg_mul_forward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *y);
/* da += dy*b, db += dy*a (summed over H,W when b is per-channel). */
sg_status sg_mul_backward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b,
                          const sg_tensor *dy, sg_tensor *da, sg_tensor *db);
/* y += alpha * x (same element count). The backward of add is two of these. */
sg_status sg_axpy(sg_seq *seq, float alpha, const sg_tensor *x, sg_tensor *y);
/* Every element of t set to value (zeroing gradients). */
sg_status sg_fill(sg_seq *seq, sg_tensor *t, float value);
/* dst = src (same element count). */
sg_status sg_copy(sg_seq *seq, const sg_tensor *src, sg_tensor *dst);

/* ---- shape ops --------------------------------------------------------- */

/* y = concat(a, b) on channels, a first. */
sg_status sg_concat_forward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *y);
sg_status sg_concat_backward(sg_seq *seq, const sg_tensor *dy, sg_tensor *da, sg_tensor *db);
/* 2x2 max pool, stride 2 (odd trailing row/column dropped, as PyTorch). */
sg_status sg_maxpool2x2_forward(sg_seq *seq, const sg_tensor *x, sg_tensor *y);
sg_status sg_maxpool2x2_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *dy,
                                 sg_tensor *dx);
/* Nearest-neighbour x2 upsampling. */
sg_status sg_upsample2x_forward(sg_seq *seq, const sg_tensor *x, sg_tensor *y);
sg_status sg_upsample2x_backward(sg_seq *seq, const sg_tensor *dy, sg_tensor *dx);
/* Global average pool: x (N,C,H,W) -> y (N,C,1,1). */
sg_status sg_avgpool_global_forward(sg_seq *seq, const sg_tensor *x, sg_tensor *y);
sg_status sg_avgpool_global_backward(sg_seq *seq, const sg_tensor *dy, sg_tensor *dx);

/* Fully connected: x (N,In,1,1) or (N,In), w (Out,In), b (Out) or NULL, y (N,Out,1,1). */
sg_status sg_linear_forward(sg_seq *seq, const sg_tensor *x, const sg_tensor *w,
                            const sg_tensor *b, sg_tensor *y);
sg_status sg_linear_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *w,
                             const sg_tensor *dy, sg_tensor *dx, sg_tensor *dw, sg_tensor *db);

/* ---- losses and reductions -------------------------------------------- */
/* Each loss writes its mean value into `loss` (1 element; NULL to skip) and
 * ADDS scale * d(loss)/d(pred) into dpred (NULL to skip). */

/* mean |pred - target| */
sg_status sg_l1_loss(sg_seq *seq, const sg_tensor *pred, const sg_tensor *target,
                     float scale, sg_tensor *loss, sg_tensor *dpred);
/* mean (pred - target)^2; dtarget (may be NULL) gets the gradient w.r.t. target too. */
sg_status sg_mse_loss(sg_seq *seq, const sg_tensor *pred, const sg_tensor *target,
                      float scale, sg_tensor *loss, sg_tensor *dpred, sg_tensor *dtarget);
/* mean of -(t*log(p) + (1-t)*log(1-p)) against a constant target t, with
 * log clamped at -100 as PyTorch's BCELoss. */
sg_status sg_bce_loss(sg_seq *seq, const sg_tensor *pred, float target, float scale,
                      sg_tensor *loss, sg_tensor *dpred);
/* Per-sample mean of (a - b)^2 over C,H,W: out (N). */
sg_status sg_mse_per_sample(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *out);
/* Per-pixel mean over channels of (a - b)^2: out (N,1,H,W) (anomaly heat map). */
sg_status sg_mse_per_pixel(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *out);

/* ---- optimisation and initialisation ----------------------------------- */

typedef struct sg_adam {
    float lr, beta1, beta2, eps;
} sg_adam;

/* One Adam step over all elements of param (PyTorch semantics, no weight decay).
 * m and v: moments with param's count; step: a 1-element tensor holding the
 * step number t of this update (1 for the first); the caller advances it with
 * sg_step_increment() so that a recorded sequence can be replayed. */
sg_status sg_adam_update(sg_seq *seq, const sg_adam *p, sg_tensor *param, const sg_tensor *grad,
                         sg_tensor *m, sg_tensor *v, const sg_tensor *step);
/* t[0] += 1 */
sg_status sg_step_increment(sg_seq *seq, sg_tensor *t);

/* Immediate (not recorded) initialisation from a seeded generator; the same seed
 * gives the same values on every device. */
sg_status sg_init_normal(sg_tensor *t, float mean, float std, uint64_t seed);
sg_status sg_init_constant(sg_tensor *t, float value);

/* Non-finite check: flag (1 element) set to 1 if any element of x is NaN/Inf,
 * left unchanged otherwise (clear it with sg_fill before the sequence). */
sg_status sg_check_finite(sg_seq *seq, const sg_tensor *x, sg_tensor *flag);

#ifdef __cplusplus
}
#endif
#endif
