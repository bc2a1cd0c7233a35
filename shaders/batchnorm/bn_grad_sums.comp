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
    uint quads;            // H*W % 4 == 0: each lane takes 4 values of a plane at a time
    uint hw4_log2;         // WHOLE_GROUPS: log2(H*W/4)
} p;

// Bit 1: the whole form (bn_whole.glsl): workgroup (b, c) takes block b of
// channel c, whole quads through the texel bindings, the activation's
// derivative a select (bit 2: activate), without a branch (on lavapipe any
// branch makes later stores loops over the lanes: eltwise/add_forward.comp).
// The sums of sums_quads; ops/batchnorm.c runs this form in 8-lane
// workgroups (no barrier on lavapipe), so a lane's values, and the order of
// the sums, differ from the 64-lane form's (a rounding).
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
#else
#define X_AT(i) p.x.v[i]
#define DY_AT(i) p.dy.v[i]
#define Y_AT(i) p.y.v[i]
#define X4_AT(q) Vec4s(uint64_t(p.x)).v[q]
#define DY4_AT(q) Vec4s(uint64_t(p.dy)).v[q]
#define Y4_AT(q) Vec4s(uint64_t(p.y)).v[q]
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

// The lane's sums over 4 values of a plane at a time: a float of a vec4 texel
// costs lavapipe about half of an R32 texel's, and the loop's index steps a
// quarter (docs/benchmarks.md). The 4 partial sums are added at the end, so
// the order differs from the scalar loop's (a rounding, not a result).
void sums_quads(uint c, uint b, float mean, out float sdy, out float sdyx)
{
    uint hw4 = p.HW / 4u, step_n = gl_WorkGroupSize.x / hw4, step_hw = gl_WorkGroupSize.x % hw4;
    uint first = b * (p.L / 4u) + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M) / 4u;
    uint n = first / hw4, hw = first % hw4;
    vec4 s4 = vec4(0.0), sx4 = vec4(0.0);
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint q = (n * p.C + c) * hw4 + hw;
        vec4 d = grad4_at(q);
        s4 += d;
        sx4 += d * (X4_AT(q) - mean);
        n += step_n;
        hw += step_hw;
        if (hw >= hw4) {
            hw -= hw4;
            n++;
        }
    }
    sdy = (s4.x + s4.y) + (s4.z + s4.w);
    sdyx = (sx4.x + sx4.y) + (sx4.z + sx4.w);
}

void sums_floats(uint c, uint b, float mean, out float sdy, out float sdyx)
{
    uint first = b * p.L + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M);
    uint n = first / p.HW, hw = first % p.HW;
    sdy = 0.0;
    sdyx = 0.0;
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
}

#ifdef CONV_TEXEL
// Adds the values of the channel's quad j to the lane's sums (the whole form).
void add_quad(uint j, uint c, float mean, inout vec4 s4, inout vec4 sx4)
{
    uint q = channel_quad(j, c);
    vec4 d = DY4_AT(q);
    if ((WHOLE_GROUPS & 2u) != 0u)
        d = mix(d * p.slope, d, greaterThan(Y4_AT(q), vec4(0.0)));
    s4 += d;
    sx4 += d * (X4_AT(q) - mean);
}

// sums_quads's sums for block b of channel c in the whole form: min(L, M) / 4
// quads, quads_per_lane of them a lane, a multiple of 4 (whole_blocks in
// ops/batchnorm.c: 1024 values and more), taken 4 a round (on lavapipe a loop
// writes the sums it carries through the lanes' mask every round).
void sums_whole(uint c, uint b, float mean, out float sdy, out float sdyx)
{
    uint lanes = gl_WorkGroupSize.x, first = b * (p.L / 4u) + gl_LocalInvocationID.x;
    uint quads_per_lane = min(p.L, p.M) / (4u * lanes);
    vec4 s4 = vec4(0.0), sx4 = vec4(0.0);
    for (uint t = 0u; t < quads_per_lane; t += 4u) {
        add_quad(first + t * lanes, c, mean, s4, sx4);
        add_quad(first + (t + 1u) * lanes, c, mean, s4, sx4);
        add_quad(first + (t + 2u) * lanes, c, mean, s4, sx4);
        add_quad(first + (t + 3u) * lanes, c, mean, s4, sx4);
    }
    sdy = (s4.x + s4.y) + (s4.z + s4.w);
    sdyx = (sx4.x + sx4.y) + (sx4.z + sx4.w);
}
#endif

shared float s_dy[gl_WorkGroupSize.x];
shared float s_dyx[gl_WorkGroupSize.x];

void main()
{
    uint c, b;
    if ((WHOLE_GROUPS & 1u) != 0u) {
        c = gl_WorkGroupID.y;
        b = gl_WorkGroupID.x;
    } else {
        uint g = group_index();
        if (g >= p.C * p.B)
            return;
        c = g / p.B, b = g % p.B;
    }
    uint lid = gl_LocalInvocationID.x;
    float mean = p.mean.v[c], invstd = p.invstd.v[c];
    float sdy, sdyx;
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) // constants: the other forms' code is not in this pipeline
        sums_whole(c, b, mean, sdy, sdyx);
    else
#endif
    if (p.quads != 0u)
        sums_quads(c, b, mean, sdy, sdyx);
    else
        sums_floats(c, b, mean, sdy, sdyx);
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
