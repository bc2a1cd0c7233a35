#version 450
// One Adam step (PyTorch formulation, no weight decay, amsgrad off):
//   m += (1-b1)*(g - m)                 (PyTorch's lerp; = b1*m + (1-b1)*g)
//   v  = b2*v + (1-b2)*g^2
//   denom = sqrt(v)/sqrt(1 - b2^t) + eps
//   p -= (lr/(1 - b1^t)) * m/denom
// The step t is read from a tensor so that a recorded sequence replays.
// Each invocation does 4 consecutive parameters with vec4 loads and stores
// where all 4 exist (tensors start on 16 bytes), the same arithmetic per
// component: on lavapipe a load or store costs tens of FMAs whatever its width.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats param;
    Floats grad;
    Floats m;
    Floats v;
    Floats step;
    uint count;
    float lr;
    float beta2;
    float one_minus_beta1;
    float one_minus_beta2;
    float eps;
    float log_beta1; // ln(b1) and ln(b2), from the host in double precision
    float log_beta2;
} p;

// 1 - b^t = -expm1(t*ln b). For small |y| the series (to y^9, exact to float
// precision for |y| < 0.5) avoids the cancellation of 1 - pow(b, t), which would
// cost e.g. three digits of 1 - 0.999^t; beyond that 1 - exp(y) is well conditioned.
float one_minus_pow(float log_b, float t)
{
    float y = t * log_b;
    if (abs(y) < 0.5) {
        float s = 1.0 / 362880.0;
        s = 1.0 / 40320.0 + y * s;
        s = 1.0 / 5040.0 + y * s;
        s = 1.0 / 720.0 + y * s;
        s = 1.0 / 120.0 + y * s;
        s = 1.0 / 24.0 + y * s;
        s = 1.0 / 6.0 + y * s;
        s = 0.5 + y * s;
        s = 1.0 + y * s;
        return -y * s;
    }
    return 1.0 - exp(y);
}

void main()
{
    uint q = global_index(), first = q * 4u;
    if (first >= p.count)
        return;
    float t = p.step.v[0];
    float step_size = p.lr / one_minus_pow(p.log_beta1, t);
    float bc2_sqrt = sqrt(one_minus_pow(p.log_beta2, t));

    if (first + 4u <= p.count) {
        Vec4s param4 = Vec4s(uint64_t(p.param)), m4 = Vec4s(uint64_t(p.m)), v4 = Vec4s(uint64_t(p.v));
        vec4 g = Vec4s(uint64_t(p.grad)).v[q];
        vec4 m = m4.v[q];
        m += p.one_minus_beta1 * (g - m);
        vec4 v = p.beta2 * v4.v[q] + p.one_minus_beta2 * g * g;
        m4.v[q] = m;
        v4.v[q] = v;
        vec4 denom = sqrt(v) / bc2_sqrt + p.eps;
        param4.v[q] -= step_size * m / denom;
        return;
    }
    for (uint i = first; i < p.count; i++) {
        float g = p.grad.v[i];
        float m = p.m.v[i];
        m += p.one_minus_beta1 * (g - m);
        float v = p.beta2 * p.v.v[i] + p.one_minus_beta2 * g * g;
        p.m.v[i] = m;
        p.v.v[i] = v;
        float denom = sqrt(v) / bc2_sqrt + p.eps;
        p.param.v[i] -= step_size * m / denom;
    }
}
