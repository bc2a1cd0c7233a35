#version 450
// out[n] = mean over C,H,W of (a - b)^2: one workgroup per sample.
// Each thread sums blocks of 16 strided values before adding a block to its
// running total, then the workgroup adds the thread totals as a tree.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats dst;
    uint samples;
    uint per_sample; // C*H*W
    float inv_count; // 1 / per_sample
} p;

shared float sums[gl_WorkGroupSize.x]; // a power of two (LOSS_GROUP in ops/loss.c)

void main()
{
    uint size = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint n = group_index();
    if (n >= p.samples)
        return; // whole workgroup leaves together (split dispatch padding)
    uint base = n * p.per_sample;

    float acc = 0.0;
    for (uint start = lid; start < p.per_sample; start += 16u * size) {
        float block = 0.0;
        for (uint k = 0u, j = start; k < 16u && j < p.per_sample; k++, j += size) {
            float d = p.a.v[base + j] - p.b.v[base + j];
            block += d * d;
        }
        acc += block;
    }
    sums[lid] = acc;
    barrier();
    for (uint s = size / 2u; s > 0u; s >>= 1u) {
        if (lid < s)
            sums[lid] += sums[lid + s];
        barrier();
    }
    if (lid == 0u)
        p.dst.v[n] = sums[0] * p.inv_count;
}
