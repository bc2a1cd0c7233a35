/* Batch normalisation reference (PyTorch BatchNorm2d semantics).
 *
 * Per channel c, over its M = N*H*W values:
 *   train: mean = sum x / M, var = sum (x-mean)^2 / M (biased),
 *          invstd = 1/sqrt(var + eps), y = (x-mean)*invstd*gamma + beta,
 *          running_mean = (1-m)*running_mean + m*mean,
 *          running_var  = (1-m)*running_var  + m*var*M/(M-1)  (unbiased; needs M >= 2,
 *          which sg_batchnorm_forward_train enforces).
 *   eval:  the same normalisation with running_mean and running_var.
 *   backward (xhat = (x-mean)*invstd):
 *          dbeta += sum dy, dgamma += sum dy*xhat,
 *          dx += gamma*invstd/M * (M*dy - sum dy - xhat * sum dy*xhat).
 *   with an activation after it, y = act(z) (ReLU / LeakyReLU of slope >= 0):
 *          the same backward with dz = dy * (z > 0 ? 1 : slope), and z > 0
 *          exactly where y > 0. */
#include <math.h>
#include <stdlib.h>

#include "sgad/ref.h"

/* Index of element (n, c, i) where i runs over the H*W plane. */
static size_t at(sg_shape s, int n, int c, size_t i)
{
    return ((size_t)n * (size_t)s.c + (size_t)c) * (size_t)s.h * (size_t)s.w + i;
}

void sg_ref_batchnorm_forward_train(const sg_batchnorm *p, sg_shape xs, const float *x,
                                    const float *gamma, const float *beta, float *running_mean,
                                    float *running_var, float *save_mean, float *save_invstd,
                                    float *y)
{
    size_t hw = (size_t)xs.h * (size_t)xs.w;
    double m = (double)xs.n * (double)hw;
    for (int c = 0; c < xs.c; c++) {
        /* two passes: the mean first, then squared deviations from it */
        double sum = 0;
        for (int n = 0; n < xs.n; n++)
            for (size_t i = 0; i < hw; i++)
                sum += x[at(xs, n, c, i)];
        double mean = sum / m;
        double sq = 0;
        for (int n = 0; n < xs.n; n++)
            for (size_t i = 0; i < hw; i++) {
                double d = x[at(xs, n, c, i)] - mean;
                sq += d * d;
            }
        double var = sq / m;
        double invstd = 1.0 / sqrt(var + (double)p->eps);
        for (int n = 0; n < xs.n; n++)
            for (size_t i = 0; i < hw; i++) {
                size_t k = at(xs, n, c, i);
                y[k] = (float)((x[k] - mean) * invstd * gamma[c] + beta[c]);
            }
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        double mom = p->momentum;
        if (running_mean)
            running_mean[c] = (float)((1.0 - mom) * running_mean[c] + mom * mean);
        if (running_var)
            running_var[c] = (float)((1.0 - mom) * running_var[c] + mom * sq / (m - 1.0));
    }
}

void sg_ref_batchnorm_forward_eval(const sg_batchnorm *p, sg_shape xs, const float *x,
                                   const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, float *y)
{
    size_t hw = (size_t)xs.h * (size_t)xs.w;
    for (int c = 0; c < xs.c; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + (double)p->eps);
        for (int n = 0; n < xs.n; n++)
            for (size_t i = 0; i < hw; i++) {
                size_t k = at(xs, n, c, i);
                y[k] = (float)((x[k] - (double)running_mean[c]) * invstd * gamma[c] + beta[c]);
            }
    }
}

void sg_ref_batchnorm_backward(sg_shape xs, const float *x, const float *gamma,
                               const float *save_mean, const float *save_invstd, const float *dy,
                               float *dx, float *dgamma, float *dbeta)
{
    size_t hw = (size_t)xs.h * (size_t)xs.w;
    double m = (double)xs.n * (double)hw;
    for (int c = 0; c < xs.c; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        double sum_dy = 0, sum_dy_xhat = 0;
        for (int n = 0; n < xs.n; n++)
            for (size_t i = 0; i < hw; i++) {
                size_t k = at(xs, n, c, i);
                sum_dy += dy[k];
                sum_dy_xhat += dy[k] * (x[k] - mean) * invstd;
            }
        if (dbeta)
            dbeta[c] += (float)sum_dy;
        if (dgamma)
            dgamma[c] += (float)sum_dy_xhat;
        if (!dx)
            continue;
        double k0 = gamma[c] * invstd / m;
        for (int n = 0; n < xs.n; n++)
            for (size_t i = 0; i < hw; i++) {
                size_t k = at(xs, n, c, i);
                double xhat = (x[k] - mean) * invstd;
                dx[k] += (float)(k0 * (m * dy[k] - sum_dy - xhat * sum_dy_xhat));
            }
    }
}

void sg_ref_batchnorm_act_backward(sg_shape xs, const float *x, const float *gamma,
                                   const float *save_mean, const float *save_invstd, const float *y,
                                   float slope, const float *dy, float *dx, float *dgamma, float *dbeta)
{
    size_t n = sg_shape_count(xs);
    float *dz = malloc(n * sizeof *dz);
    if (!dz)
        abort(); /* tests only */
    for (size_t i = 0; i < n; i++)
        dz[i] = y[i] > 0 ? dy[i] : dy[i] * slope;
    sg_ref_batchnorm_backward(xs, x, gamma, save_mean, save_invstd, dz, dx, dgamma, dbeta);
    free(dz);
}
