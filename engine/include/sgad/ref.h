/* Plain-C reference implementations of every op in ops.h, on host arrays.
 *
 * They are the specification the Vulkan shaders are tested against, written
 * for clarity (direct loops, double accumulators), not speed. Same shapes and
 * conventions as ops.h: forward overwrites its output, backward ADDS into the
 * gradients it is given (NULL to skip). Per-channel vectors are plain arrays. */
#ifndef SGAD_REF_H
#define SGAD_REF_H

#include <stdint.h>

#include "ops.h"

#ifdef __cplusplus
extern "C" {
#endif

void sg_ref_conv2d_forward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                           const float *w, const float *b, float *y);
void sg_ref_conv2d_backward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                            const float *w, const float *dy, float *dx, float *dw, float *db);
/* xs is the input shape; w is (Ci, Co, kh, kw) */
void sg_ref_conv_transpose2d_forward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                                     const float *w, const float *b, float *y);
void sg_ref_conv_transpose2d_backward(const sg_conv2d *p, sg_shape xs, const float *x, int out_c,
                                      const float *w, const float *dy, float *dx, float *dw,
                                      float *db);

void sg_ref_batchnorm_forward_train(const sg_batchnorm *p, sg_shape xs, const float *x,
                                    const float *gamma, const float *beta, float *running_mean,
                                    float *running_var, float *save_mean, float *save_invstd,
                                    float *y);
void sg_ref_batchnorm_forward_eval(const sg_batchnorm *p, sg_shape xs, const float *x,
                                   const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, float *y);
void sg_ref_batchnorm_backward(sg_shape xs, const float *x, const float *gamma,
                               const float *save_mean, const float *save_invstd, const float *dy,
                               float *dx, float *dgamma, float *dbeta);
/* the backward of y = act(batchnorm_train(x)), act ReLU (slope 0) or LeakyReLU */
void sg_ref_batchnorm_act_backward(sg_shape xs, const float *x, const float *gamma,
                                   const float *save_mean, const float *save_invstd, const float *y,
                                   float slope, const float *dy, float *dx, float *dgamma, float *dbeta);

void sg_ref_activation_forward(sg_activation act, float slope, size_t n, const float *x, float *y);
void sg_ref_activation_backward(sg_activation act, float slope, size_t n, const float *x,
                                const float *y, const float *dy, float *dx);

void sg_ref_add_forward(size_t n, const float *a, const float *b, float *y);
/* bs: b's shape, either as's shape or (N,C,1,1) */
void sg_ref_mul_forward(sg_shape as, const float *a, sg_shape bs, const float *b, float *y);
void sg_ref_mul_backward(sg_shape as, const float *a, sg_shape bs, const float *b,
                         const float *dy, float *da, float *db);
void sg_ref_axpy(size_t n, float alpha, const float *x, float *y);

void sg_ref_concat_forward(sg_shape as, const float *a, sg_shape bs, const float *b, float *y);
void sg_ref_concat_backward(sg_shape as, sg_shape bs, const float *dy, float *da, float *db);
void sg_ref_maxpool2x2_forward(sg_shape xs, const float *x, float *y);
void sg_ref_maxpool2x2_backward(sg_shape xs, const float *x, const float *dy, float *dx);
void sg_ref_upsample2x_forward(sg_shape xs, const float *x, float *y);
void sg_ref_upsample2x_backward(sg_shape xs, const float *dy, float *dx);
void sg_ref_avgpool_global_forward(sg_shape xs, const float *x, float *y);
void sg_ref_avgpool_global_backward(sg_shape xs, const float *dy, float *dx);
void sg_ref_linear_forward(int n, int in, int out, const float *x, const float *w,
                           const float *b, float *y);
void sg_ref_linear_backward(int n, int in, int out, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *db);

/* Losses: return the mean loss and add scale * gradient into dpred (if not NULL). */
float sg_ref_l1_loss(size_t n, const float *pred, const float *target, float scale, float *dpred);
float sg_ref_mse_loss(size_t n, const float *pred, const float *target, float scale, float *dpred,
                      float *dtarget);
float sg_ref_bce_loss(size_t n, const float *pred, float target, float scale, float *dpred);
void sg_ref_mse_per_sample(sg_shape s, const float *a, const float *b, float *out);
void sg_ref_mse_per_pixel(sg_shape s, const float *a, const float *b, float *out);

void sg_ref_adam_update(const sg_adam *p, size_t n, float *param, const float *grad, float *m,
                        float *v, float step);

/* The generator behind sg_init_normal: the same stream on host and device. */
void sg_ref_init_normal(size_t n, float *out, float mean, float std, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
