#version 450
// Batch-norm statistics, stage 1: one workgroup per block of L values of one
// channel (the channel's values are ordered (n, h, w) and split into blocks),
// writing the block's count, mean and sum of squared deviations (M2).
// The block is taken in chunks of PER_LANE values a thread; each thread takes
// two passes over a chunk's values (mean, then deviations), read once into
// registers, which stays accurate when |mean| >> std; the chunks, the threads'
// results and later the blocks' are merged with Chan's formula instead of
// summing x and x^2.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats partials; // (C, B, 3): count, mean, M2
    uint C;
    uint HW;
    uint M;       // N*H*W: values per channel
    uint B;       // blocks per channel
    uint L;       // values per block
    uint step_n;  // gl_WorkGroupSize.x / HW
    uint step_hw; // gl_WorkGroupSize.x % HW
    uint x_base;  // CONV_TEXEL: floats from the texel view's start to x
    uint quads;   // H*W % 4 == 0: each lane takes 4 values of a plane at a time
    uint hw4_log2; // WHOLE_GROUPS: log2(H*W/4)
} p;

// Bit 1: the whole form (bn_whole.glsl): workgroup (b, c) takes block b of
// channel c in whole chunks, through the texel binding in quads, without a
// branch before the merge (on lavapipe any branch makes later stores loops
// over the lanes: eltwise/add_forward.comp). The same arithmetic per chunk;
// ops/batchnorm.c runs this form in 8-lane workgroups (no barrier on
// lavapipe), so the chunks and their merge differ from the 64-lane form's
// (a rounding).
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;
#include "bn_whole.glsl"

#ifdef CONV_TEXEL
// The _texel build reads x as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#define X4_AT(q) texelFetch(x_floats, int(p.x_base / 4u + (q))) // with quads the view is RGBA32
#else
#define X_AT(i) p.x.v[i]
#define X4_AT(q) Vec4s(uint64_t(p.x)).v[q]
#endif

// Values per lane and chunk: a block L is a whole number of chunks of
// PER_LANE * the workgroup size values (BN_SUM_BLOCK in ops/batchnorm.c).
const uint PER_LANE = 16u;

shared float s_n[gl_WorkGroupSize.x];
shared float s_mean[gl_WorkGroupSize.x];
shared float s_m2[gl_WorkGroupSize.x];

// The lane's values of the chunk from value `start` (before `end`),
// x[(n*C + c)*HW + hw] for j = n*HW + hw, read once into registers ((n, hw)
// advance by the workgroup size without division). Returns how many.
uint load_floats(uint c, uint start, uint end, out float v[PER_LANE])
{
    uint first = start + gl_LocalInvocationID.x;
    uint count = 0u;
    uint n = first / p.HW, hw = first % p.HW;
    for (uint k = 0u; k < PER_LANE; k++) {
        v[k] = 0.0;
        if (first + k * gl_WorkGroupSize.x < end) {
            v[k] = X_AT((n * p.C + c) * p.HW + hw);
            count++;
        }
        n += p.step_n;
        hw += p.step_hw;
        if (hw >= p.HW) {
            hw -= p.HW;
            n++;
        }
    }
    return count;
}

// The same values 4 of a plane at a time, packed into v from its start: a
// float of a vec4 texel costs lavapipe about half of an R32 texel's, and the
// index steps a quarter (docs/benchmarks.md). A lane holds other values than
// load_floats gives it; the statistics are the same up to rounding.
uint load_quads(uint c, uint start, uint end_value, out float v[PER_LANE])
{
    uint hw4 = p.HW / 4u, step_n = gl_WorkGroupSize.x / hw4, step_hw = gl_WorkGroupSize.x % hw4;
    uint first = start / 4u + gl_LocalInvocationID.x, end = end_value / 4u;
    uint count = 0u;
    uint n = first / hw4, hw = first % hw4;
    for (uint k = 0u; k < PER_LANE / 4u; k++) {
        vec4 q = vec4(0.0);
        if (first + k * gl_WorkGroupSize.x < end) {
            q = X4_AT((n * p.C + c) * hw4 + hw);
            count += 4u;
        }
        v[4u * k] = q.x, v[4u * k + 1u] = q.y, v[4u * k + 2u] = q.z, v[4u * k + 3u] = q.w;
        n += step_n;
        hw += step_hw;
        if (hw >= hw4) {
            hw -= hw4;
            n++;
        }
    }
    return count;
}

#ifdef CONV_TEXEL
// load_quads for a whole chunk: the lane's 4 quads of the chunk from value
// `start`.
uint load_whole(uint c, uint start, out float v[PER_LANE])
{
    for (uint k = 0u; k < PER_LANE / 4u; k++) {
        vec4 q = X4_AT(channel_quad(start / 4u + k * gl_WorkGroupSize.x + gl_LocalInvocationID.x, c));
        v[4u * k] = q.x, v[4u * k + 1u] = q.y, v[4u * k + 2u] = q.z, v[4u * k + 3u] = q.w;
    }
    return PER_LANE;
}
#endif

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
    uint end = min(b * p.L + p.L, p.M), chunk = PER_LANE * gl_WorkGroupSize.x;
    float cnt = 0.0, mean = 0.0, m2 = 0.0; // the lane's chunks so far
    for (uint start = b * p.L; start < end; start += chunk) {
        float v[PER_LANE];
        uint count;
#ifdef CONV_TEXEL
        if ((WHOLE_GROUPS & 1u) != 0u) // a constant: the other form's code is not in this pipeline
            count = load_whole(c, start, v);
        else
#endif
        count = p.quads != 0u ? load_quads(c, start, end, v) : load_floats(c, start, end, v);
        // Pass 1: sum.
        float sum = 0.0, cn = 0.0;
        for (uint k = 0u; k < PER_LANE; k++)
            if (k < count) {
                sum += v[k];
                cn += 1.0;
            }
        float cmean = cn > 0.0 ? sum / cn : 0.0;
        // Pass 2: squared deviations from the chunk's mean.
        float cm2 = 0.0;
        for (uint k = 0u; k < PER_LANE; k++)
            if (k < count) {
                float d = v[k] - cmean;
                cm2 += d * d;
            }
        if (cn > 0.0) { // Chan's merge, as the tree below
            float nn = cnt + cn, d = cmean - mean;
            mean += d * (cn / nn);
            m2 += cm2 + d * d * (cnt * cn / nn);
            cnt = nn;
        }
    }
    s_n[lid] = cnt;
    s_mean[lid] = mean;
    s_m2[lid] = m2;
    barrier();
    // Tree merge (the workgroup size is a power of two).
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float na = s_n[lid], nb = s_n[lid + s], nn = na + nb;
            if (nb > 0.0) {
                float d = s_mean[lid + s] - s_mean[lid];
                s_mean[lid] += d * (nb / nn);
                s_m2[lid] += s_m2[lid + s] + d * d * (na * nb / nn);
                s_n[lid] = nn;
            }
        }
        barrier();
    }
    if (lid == 0) {
        uint o = (c * p.B + b) * 3;
        p.partials.v[o] = s_n[0];
        p.partials.v[o + 1] = s_mean[0];
        p.partials.v[o + 2] = s_m2[0];
    }
}
