/* Reference math of the losses (PyTorch semantics, mean reduction).
 * Sums in double; the gradient added into dpred is scale * d(mean loss)/d(pred). */
#include <math.h>

#include "sgad/ref.h"

/* mean |p - t|; d/dp = sign(p - t) / n, with sign(0) = 0 as PyTorch */
float sg_ref_l1_loss(size_t n, const float *pred, const float *target, float scale, float *dpred)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - target[i];
        sum += fabs(d);
        if (dpred)
            dpred[i] += (float)(scale * (double)((d > 0) - (d < 0)) / (double)n);
    }
    return (float)(sum / (double)n);
}

/* mean (p - t)^2; d/dp = 2 (p - t) / n, d/dt = -2 (p - t) / n */
float sg_ref_mse_loss(size_t n, const float *pred, const float *target, float scale, float *dpred,
                      float *dtarget)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)pred[i] - target[i];
        sum += d * d;
        double g = scale * 2.0 * d / (double)n;
        if (dpred)
            dpred[i] += (float)g;
        if (dtarget)
            dtarget[i] -= (float)g;
    }
    return (float)(sum / (double)n);
}

/* mean of -(t log p + (1-t) log(1-p)) with each log clamped at -100, and
 * d/dp = (p - t) / max(p (1-p), 1e-12) / n, exactly as torch.nn.BCELoss */
float sg_ref_bce_loss(size_t n, const float *pred, float target, float scale, float *dpred)
{
    double t = target, sum = 0;
    for (size_t i = 0; i < n; i++) {
        double p = pred[i];
        double log_p = fmax(log(p), -100.0);       /* log(0) = -inf -> -100 */
        double log_1mp = fmax(log1p(-p), -100.0);
        sum += -(t * log_p + (1.0 - t) * log_1mp);
        if (dpred)
            dpred[i] += (float)(scale * (p - t) / fmax(p * (1.0 - p), 1e-12) / (double)n);
    }
    return (float)(sum / (double)n);
}

/* out[n] = mean over C,H,W of (a - b)^2 */
void sg_ref_mse_per_sample(sg_shape s, const float *a, const float *b, float *out)
{
    size_t m = (size_t)s.c * s.h * s.w;
    for (int n = 0; n < s.n; n++) {
        double sum = 0;
        for (size_t j = 0; j < m; j++) {
            double d = (double)a[n * m + j] - b[n * m + j];
            sum += d * d;
        }
        out[n] = (float)(sum / (double)m);
    }
}

/* out[n,0,y,x] = mean over c of (a - b)^2 at (n,c,y,x) */
void sg_ref_mse_per_pixel(sg_shape s, const float *a, const float *b, float *out)
{
    size_t plane = (size_t)s.h * s.w;
    for (int n = 0; n < s.n; n++)
        for (size_t px = 0; px < plane; px++) {
            double sum = 0;
            for (int c = 0; c < s.c; c++) {
                size_t i = ((size_t)n * s.c + c) * plane + px;
                double d = (double)a[i] - b[i];
                sum += d * d;
            }
            out[n * plane + px] = (float)(sum / s.c);
        }
}
