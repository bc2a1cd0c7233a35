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
// Built twice: with CONV_TEXEL defined (adam_update_texel, the name of the
// engine's descriptor builds) it reaches the four tensors through storage-buffer
// descriptors (bindings 4-7) instead of buffer references, where a float loaded
// or stored costs lavapipe a quarter to a fifth (docs/benchmarks.md); the same
// arithmetic.
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
    uint param_base, grad_base, m_base, v_base; // CONV_TEXEL: floats from the bindings' starts (multiples of 4)
    uint first; // the dispatch's first quad (ops/op_util.c: whole workgroups, then the rest)
} p;

// 1: a dispatch of whole workgroups of whole quads through the four storage
// buffers, with no condition before the stores (on lavapipe ~3x faster,
// add_forward.comp); the same arithmetic.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
layout(set = 0, binding = 4, std430) buffer Param4 { vec4 param4[]; };
layout(set = 0, binding = 4, std430) buffer Param1 { float param1[]; };
layout(set = 0, binding = 5, std430) readonly buffer Grad4 { vec4 grad4[]; };
layout(set = 0, binding = 5, std430) readonly buffer Grad1 { float grad1[]; };
layout(set = 0, binding = 6, std430) buffer M4 { vec4 m4[]; };
layout(set = 0, binding = 6, std430) buffer M1 { float m1[]; };
layout(set = 0, binding = 7, std430) buffer V4 { vec4 v4[]; };
layout(set = 0, binding = 7, std430) buffer V1 { float v1[]; };
#define PARAM4(q) param4[p.param_base / 4u + (q)]
#define GRAD4(q) grad4[p.grad_base / 4u + (q)]
#define M4(q) m4[p.m_base / 4u + (q)]
#define V4(q) v4[p.v_base / 4u + (q)]
#define PARAM1(i) param1[p.param_base + (i)]
#define GRAD1(i) grad1[p.grad_base + (i)]
#define M1(i) m1[p.m_base + (i)]
#define V1(i) v1[p.v_base + (i)]
#else
#define PARAM4(q) Vec4s(uint64_t(p.param)).v[q]
#define GRAD4(q) Vec4s(uint64_t(p.grad)).v[q]
#define M4(q) Vec4s(uint64_t(p.m)).v[q]
#define V4(q) Vec4s(uint64_t(p.v)).v[q]
#define PARAM1(i) p.param.v[i]
#define GRAD1(i) p.grad.v[i]
#define M1(i) p.m.v[i]
#define V1(i) p.v.v[i]
#endif

// 1 - b^t = -expm1(t*ln b). For small |y| the series (to y^9, exact to float
// precision for |y| < 0.5) avoids the cancellation of 1 - pow(b, t), which would
// cost e.g. three digits of 1 - 0.999^t; beyond that 1 - exp(y) is well conditioned.
float one_minus_pow(float log_b, float t)
{
    float y = t * log_b;
    // both, then a select: a branch here would make the stores after it loops
    // over the lanes on lavapipe (WHOLE_GROUPS above)
    float s = 1.0 / 362880.0;
    s = 1.0 / 40320.0 + y * s;
    s = 1.0 / 5040.0 + y * s;
    s = 1.0 / 720.0 + y * s;
    s = 1.0 / 120.0 + y * s;
    s = 1.0 / 24.0 + y * s;
    s = 1.0 / 6.0 + y * s;
    s = 0.5 + y * s;
    s = 1.0 + y * s;
    float series = -y * s, direct = 1.0 - exp(y);
    return abs(y) < 0.5 ? series : direct;
}

void update4(uint q, float step_size, float bc2_sqrt)
{
    vec4 g = GRAD4(q);
    vec4 m = M4(q);
    m += p.one_minus_beta1 * (g - m);
    vec4 v = p.beta2 * V4(q) + p.one_minus_beta2 * g * g;
    M4(q) = m;
    V4(q) = v;
    vec4 denom = sqrt(v) / bc2_sqrt + p.eps;
    PARAM4(q) -= step_size * m / denom;
}

void main()
{
    float t = p.step.v[0];
    float step_size = p.lr / one_minus_pow(p.log_beta1, t);
    float bc2_sqrt = sqrt(one_minus_pow(p.log_beta2, t));
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        update4(p.first + global_index(), step_size, bc2_sqrt);
        return;
    }
#endif
    uint q = p.first + global_index(), first = q * 4u;
    if (first >= p.count)
        return;
    if (first + 4u <= p.count) {
        update4(q, step_size, bc2_sqrt);
        return;
    }
    for (uint i = first; i < p.count; i++) {
        float g = GRAD1(i);
        float m = M1(i);
        m += p.one_minus_beta1 * (g - m);
        float v = p.beta2 * V1(i) + p.one_minus_beta2 * g * g;
        M1(i) = m;
        V1(i) = v;
        float denom = sqrt(v) / bc2_sqrt + p.eps;
        PARAM1(i) -= step_size * m / denom;
    }
}
