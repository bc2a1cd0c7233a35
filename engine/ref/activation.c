/* Reference math of the activations. */
#include <math.h>

#include "sgad/ref.h"

void sg_ref_activation_forward(sg_activation act, float slope, size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        switch (act) {
        case SG_ACT_RELU: y[i] = (float)(v > 0 ? v : 0); break;
        case SG_ACT_LEAKY_RELU: y[i] = (float)(v > 0 ? v : slope * v); break;
        case SG_ACT_SIGMOID: y[i] = (float)(1.0 / (1.0 + exp(-v))); break;
        case SG_ACT_TANH: y[i] = (float)tanh(v); break;
        }
    }
}

/* ReLU/LeakyReLU: f'(x) is 1 for x > 0, else 0 / slope (0 at x == 0, as PyTorch).
 * sigmoid: f' = y(1 - y); tanh: f' = 1 - y^2, written with the saved output. */
void sg_ref_activation_backward(sg_activation act, float slope, size_t n, const float *x,
                                const float *y, const float *dy, float *dx)
{
    if (!dx)
        return;
    for (size_t i = 0; i < n; i++) {
        double d = 0;
        switch (act) {
        case SG_ACT_RELU: d = x[i] > 0 ? 1 : 0; break;
        case SG_ACT_LEAKY_RELU: d = x[i] > 0 ? 1 : slope; break;
        case SG_ACT_SIGMOID: d = (double)y[i] * (1.0 - y[i]); break;
        case SG_ACT_TANH: d = 1.0 - (double)y[i] * y[i]; break;
        }
        dx[i] = (float)(dx[i] + dy[i] * d);
    }
}
