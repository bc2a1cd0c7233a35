/* Reference Adam step, as torch.optim.Adam (no weight decay, amsgrad off,
 * single-tensor path): bias corrections in double from the step number t, then
 *   m += (1-b1)*(g - m)          (PyTorch's lerp_; equals b1*m + (1-b1)*g)
 *   v  = b2*v + (1-b2)*g^2
 *   denom = sqrt(v)/sqrt(1 - b2^t) + eps
 *   p -= (lr/(1 - b1^t)) * m/denom */
#include <math.h>

#include "sgad/ref.h"

void sg_ref_adam_update(const sg_adam *p, size_t n, float *param, const float *grad, float *m,
                        float *v, float step)
{
    double bc1 = 1.0 - pow(p->beta1, step);
    double bc2 = 1.0 - pow(p->beta2, step);
    double step_size = p->lr / bc1;
    double bc2_sqrt = sqrt(bc2);
    for (size_t i = 0; i < n; i++) {
        double g = grad[i];
        m[i] = (float)(m[i] + (1.0 - p->beta1) * (g - m[i]));
        v[i] = (float)(p->beta2 * v[i] + (1.0 - p->beta2) * g * g);
        double denom = sqrt((double)v[i]) / bc2_sqrt + p->eps;
        param[i] = (float)(param[i] - step_size * m[i] / denom);
    }
}
