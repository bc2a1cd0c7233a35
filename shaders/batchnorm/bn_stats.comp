#version 450
// Batch-norm statistics, stage 1: one workgroup per block of L values of one
// channel (the channel's values are ordered (n, h, w) and split into blocks),
// writing the block's count, mean and sum of squared deviations (M2).
// Each thread takes two passes over its few values (mean, then deviations),
// read once into registers, which stays accurate when |mean| >> std; the threads' results and later the
// blocks' are merged with Chan's formula instead of summing x and x^2.
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
} p;

#ifdef CONV_TEXEL
// The _texel build reads x as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#else
#define X_AT(i) p.x.v[i]
#endif

// Values per lane: a block is L = PER_LANE * the workgroup size (BN_BLOCK
// in ops/batchnorm.c).
const uint PER_LANE = 16u;

shared float s_n[gl_WorkGroupSize.x];
shared float s_mean[gl_WorkGroupSize.x];
shared float s_m2[gl_WorkGroupSize.x];

void main()
{
    uint g = group_index();
    if (g >= p.C * p.B)
        return;
    uint c = g / p.B, b = g % p.B;
    uint lid = gl_LocalInvocationID.x;
    uint first = b * p.L + lid, end = min(b * p.L + p.L, p.M);
    uint n0 = first / p.HW, hw0 = first % p.HW;

    // The lane's values, x[(n*C + c)*HW + hw] for j = n*HW + hw, read once
    // into registers ((n, hw) advance by the workgroup size without
    // division); ops/batchnorm.c makes blocks of PER_LANE values per lane.
    float v[PER_LANE];
    uint count = 0u;
    uint n = n0, hw = hw0;
    for (uint k = 0u; k < PER_LANE; k++) {
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
    // Pass 1: sum.
    float sum = 0.0, cnt = 0.0;
    for (uint k = 0u; k < PER_LANE; k++)
        if (k < count) {
            sum += v[k];
            cnt += 1.0;
        }
    float mean = cnt > 0.0 ? sum / cnt : 0.0;
    // Pass 2: squared deviations from this thread's mean.
    float m2 = 0.0;
    for (uint k = 0u; k < PER_LANE; k++)
        if (k < count) {
            float d = v[k] - mean;
            m2 += d * d;
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
