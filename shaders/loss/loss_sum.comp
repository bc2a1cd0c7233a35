#version 450
// One level of the deterministic tree sum behind the losses:
// out[g] = out_scale * sum of in[g*chunk .. (g+1)*chunk), chunk = size*per_thread,
// each thread summing per_thread strided values, then a tree over the workgroup.
// Repeated until one value is left (the last level writes the mean).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats src;
    Floats dst;
    uint count;
    uint per_thread;
    float out_scale;
} p;

shared float sums[gl_WorkGroupSize.x]; // a power of two (LOSS_GROUP in ops/loss.c)

void main()
{
    uint size = gl_WorkGroupSize.x;
    uint lid = gl_LocalInvocationID.x;
    uint first = group_index() * size * p.per_thread;

    float acc = 0.0;
    for (uint k = 0u; k < p.per_thread; k++) {
        uint i = first + k * size + lid;
        if (i >= p.count)
            break;
        acc += p.src.v[i];
    }
    sums[lid] = acc;
    barrier();
    for (uint s = size / 2u; s > 0u; s >>= 1u) {
        if (lid < s)
            sums[lid] += sums[lid + s];
        barrier();
    }
    if (lid == 0u && first < p.count)
        p.dst.v[group_index()] = sums[0] * p.out_scale;
}
