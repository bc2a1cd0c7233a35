#version 450
// Batch-norm backward, stage 3:
// dx += gamma*invstd/M * (M*dy - sum dy - xhat * sum dy*xhat), per block of
// one channel (the blocks of bn_stats); dy: the gradient of the batch norm's
// output, see grad_at.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats y;      // activate != 0: the activation's output (its sign gives the derivative)
    Floats mean;
    Floats invstd;
    Floats gamma;
    Floats sums; // (C, 2): sum dy, sum dy*xhat
    Floats dx;
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
    uint quads;            // H*W % 4 == 0: each lane takes 4 values of a plane at a time
    uint dx_base;          // CONV_TEXEL: floats from the storage buffer's start to dx (with quads a multiple of 4)
    uint stored;           // CONV_TEXEL: dx through the storage buffer (binding 4), else its buffer reference
    uint hw4_log2;         // WHOLE_GROUPS: log2(H*W/4)
} p;

// Bit 1: the whole form (bn_whole.glsl), through the texel and storage-buffer
// bindings in quads: straight-line, with no condition before the stores
// (bn_normalize.comp says why); bit 2: activate; bit 16: 16 quads a lane
// (bn_whole.glsl). The same arithmetic.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;
#include "bn_whole.glsl"

#ifdef CONV_TEXEL
// The _texel build reads x, dy (and y) as R32 texels (bindings 0-2): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
layout(set = 0, binding = 1) uniform samplerBuffer dy_floats;
layout(set = 0, binding = 2) uniform samplerBuffer y_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
#define Y_AT(i) texelFetch(y_floats, int(p.y_base + (i))).x
// with quads the views are RGBA32
#define X4_AT(q) texelFetch(x_floats, int(p.x_base / 4u + (q)))
#define DY4_AT(q) texelFetch(dy_floats, int(p.dy_base / 4u + (q)))
#define Y4_AT(q) texelFetch(y_floats, int(p.y_base / 4u + (q)))
// and adds into dx through a storage-buffer descriptor where it fits one: a
// float added into so costs lavapipe 29% of one through a buffer reference
// (docs/benchmarks.md). `stored` is a constant where these expand.
layout(set = 0, binding = 4, std430) buffer Stored { float dx_stored[]; };
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 dx_stored4[]; };
#define ADD(stored_, i_, val_) if (stored_) dx_stored[p.dx_base + (i_)] += (val_); else p.dx.v[i_] += (val_)
#define ADD4(stored_, q_, val_) \
    if (stored_) dx_stored4[p.dx_base / 4u + (q_)] += (val_); else Vec4s(uint64_t(p.dx)).v[q_] += (val_)
#else
#define X_AT(i) p.x.v[i]
#define DY_AT(i) p.dy.v[i]
#define Y_AT(i) p.y.v[i]
#define X4_AT(q) Vec4s(uint64_t(p.x)).v[q]
#define DY4_AT(q) Vec4s(uint64_t(p.dy)).v[q]
#define Y4_AT(q) Vec4s(uint64_t(p.y)).v[q]
#define ADD(stored_, i_, val_) p.dx.v[i_] += (val_)
#define ADD4(stored_, q_, val_) Vec4s(uint64_t(p.dx)).v[q_] += (val_)
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

// grad_at for the 4 values of quad q
vec4 grad4_at(uint q)
{
    vec4 d = DY4_AT(q);
    if (p.activate != 0u) {
        vec4 y = Y4_AT(q);
        for (int k = 0; k < 4; k++)
            if (!(y[k] > 0.0))
                d[k] *= p.slope;
    }
    return d;
}

// The same per value as the scalar loop of main, 4 values a lane: on
// lavapipe a vec4 load or store of dx costs what a float one does.
void grad_input_quads(bool stored, uint c, uint b, float mean, float invstd, float k, float mean_dy, float mean_dyx)
{
    uint hw4 = p.HW / 4u, step_n = gl_WorkGroupSize.x / hw4, step_hw = gl_WorkGroupSize.x % hw4;
    uint first = b * (p.L / 4u) + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M) / 4u;
    uint n = first / hw4, hw = first % hw4;
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint q = (n * p.C + c) * hw4 + hw;
        vec4 xhat = (X4_AT(q) - mean) * invstd;
        ADD4(stored, q, k * (grad4_at(q) - mean_dy - xhat * mean_dyx));
        n += step_n;
        hw += step_hw;
        if (hw >= hw4) {
            hw -= hw4;
            n++;
        }
    }
}

void grad_input_floats(bool stored, uint c, uint b, float mean, float invstd, float k, float mean_dy,
                       float mean_dyx)
{
    uint first = b * p.L + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M);
    uint n = first / p.HW, hw = first % p.HW;
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint i = (n * p.C + c) * p.HW + hw;
        float xhat = (X_AT(i) - mean) * invstd;
        ADD(stored, i, k * (grad_at(i) - mean_dy - xhat * mean_dyx));
        n += p.step_n;
        hw += p.step_hw;
        if (hw >= p.HW) {
            hw -= p.HW;
            n++;
        }
    }
}

// Channel c's terms: dx += k * (dy - mean_dy - xhat * mean_dyx), xhat = (x - mean) * invstd.
void channel_terms(uint c, out float mean, out float invstd, out float k, out float mean_dy, out float mean_dyx)
{
    mean = p.mean.v[c];
    invstd = p.invstd.v[c];
    k = p.gamma.v[c] * invstd;
    float inv_m = 1.0 / float(p.M);
    mean_dy = p.sums.v[c * 2] * inv_m;
    mean_dyx = p.sums.v[c * 2 + 1] * inv_m;
}

#ifdef CONV_TEXEL
// Quad k of the lane's 4 in the whole form.
void grad_input_whole(uint k, uint c, float mean, float invstd, float kk, float mean_dy, float mean_dyx)
{
    uint q = whole_quad(k, c);
    vec4 d = DY4_AT(q);
    if ((WHOLE_GROUPS & 2u) != 0u) // grad4_at's, as a select
        d = mix(d * p.slope, d, greaterThan(Y4_AT(q), vec4(0.0)));
    vec4 xhat = (X4_AT(q) - mean) * invstd;
    dx_stored4[p.dx_base / 4u + q] += kk * (d - mean_dy - xhat * mean_dyx);
}
#endif

void main()
{
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) { // constants: the other form's code is not in this pipeline
        uint c = gl_WorkGroupID.y;
        float mean, invstd, kk, mean_dy, mean_dyx;
        channel_terms(c, mean, invstd, kk, mean_dy, mean_dyx);
#define DO_QUAD(k) grad_input_whole(k, c, mean, invstd, kk, mean_dy, mean_dyx);
        WHOLE_QUADS_DO()
        return;
    }
#endif
    uint g = group_index();
    if (g >= p.C * p.B)
        return;
    uint c = g / p.B, b = g % p.B;
    float mean, invstd, k, mean_dy, mean_dyx;
    channel_terms(c, mean, invstd, k, mean_dy, mean_dyx);
    bool stored = p.stored != 0u;
    if (p.quads != 0u && stored)
        grad_input_quads(true, c, b, mean, invstd, k, mean_dy, mean_dyx);
    else if (p.quads != 0u)
        grad_input_quads(false, c, b, mean, invstd, k, mean_dy, mean_dyx);
    else if (stored)
        grad_input_floats(true, c, b, mean, invstd, k, mean_dy, mean_dyx);
    else
        grad_input_floats(false, c, b, mean, invstd, k, mean_dy, mean_dyx);
}
