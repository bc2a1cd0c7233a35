#version 450
// Batch-norm backward, stage 1: per block of one channel (the blocks of
// bn_stats), the partial sums of dy and dy*xhat with xhat = (x-mean)*invstd
// (dy: the gradient of the batch norm's output, see grad_at).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats y;      // activate != 0: the activation's output (its sign gives the derivative)
    Floats mean;
    Floats invstd;
    Floats partials; // (C, B, 2): sum dy, sum dy*xhat
    uint C;
    uint HW;
    uint M;
    uint B;
    uint L;
    uint step_n;
    uint step_hw;
    uint x_base, dy_base;  // CONV_TEXEL: floats from the texel views' starts to x, to dy
    uint y_base;           // and to y
    uint activate;         // a ReLU / LeakyReLU after the batch norm (sg_batchnorm_act_backward)
    float slope;           // its slope for negative inputs (0: ReLU)
} p;

#ifdef CONV_TEXEL
// The _texel build reads x, dy (and y) as R32 texels (bindings 0-2): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
layout(set = 0, binding = 1) uniform samplerBuffer dy_floats;
layout(set = 0, binding = 2) uniform samplerBuffer y_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
#define Y_AT(i) texelFetch(y_floats, int(p.y_base + (i))).x
#else
#define X_AT(i) p.x.v[i]
#define DY_AT(i) p.dy.v[i]
#define Y_AT(i) p.y.v[i]
#endif

// The gradient of the batch norm's output at i: dy, or with an activation
// after it dy times the activation's derivative, 1 where y > 0 and the slope
// elsewhere (y > 0 exactly where the batch norm's output is > 0).
float grad_at(uint i)
{
    float d = DY_AT(i);
    if (p.activate != 0u && !(Y_AT(i) > 0.0))
        d *= p.slope;
    return d;
}

shared float s_dy[gl_WorkGroupSize.x];
shared float s_dyx[gl_WorkGroupSize.x];

void main()
{
    uint g = group_index();
    if (g >= p.C * p.B)
        return;
    uint c = g / p.B, b = g % p.B;
    uint lid = gl_LocalInvocationID.x;
    float mean = p.mean.v[c], invstd = p.invstd.v[c];
    uint first = b * p.L + lid, end = min(b * p.L + p.L, p.M);
    uint n = first / p.HW, hw = first % p.HW;
    float sdy = 0.0, sdyx = 0.0;
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint i = (n * p.C + c) * p.HW + hw;
        float d = grad_at(i);
        sdy += d;
        sdyx += d * (X_AT(i) - mean);
        n += p.step_n;
        hw += p.step_hw;
        if (hw >= p.HW) {
            hw -= p.HW;
            n++;
        }
    }
    s_dy[lid] = sdy;
    s_dyx[lid] = sdyx * invstd;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (lid < s) {
            s_dy[lid] += s_dy[lid + s];
            s_dyx[lid] += s_dyx[lid + s];
        }
        barrier();
    }
    if (lid == 0) {
        uint o = (c * p.B + b) * 2;
        p.partials.v[o] = s_dy[0];
        p.partials.v[o + 1] = s_dyx[0];
    }
}
