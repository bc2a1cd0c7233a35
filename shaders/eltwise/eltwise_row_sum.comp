#version 450
// out[r] = (accumulate ? out[r] : 0) + scale * sum_j a[r*len + j] * (has_b ? b[r*len + j] : 1)
// One workgroup per row (rows split over x,y as sg_groups_1d), a strided loop
// per thread and a shared-memory tree reduction (workgroup size a power of 2).
// Used for the per-channel gradient of a broadcast multiply (sum over H,W of
// dy*a) and for global average pooling (scale 1/(H*W)).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats out_;
    uint rows;
    uint len;
    uint has_b;
    uint accumulate;
    float scale;
    uint a_base, b_base; // CONV_TEXEL: floats from the texel views' starts to a, to b
    uint quads;          // len % 4 == 0 and whole-texel views: vec4 reads (the sum's order changes)
} p;

#ifdef CONV_TEXEL
// The _texel build reads a and b as R32 texels (bindings 0, 1): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer a_floats;
layout(set = 0, binding = 1) uniform samplerBuffer b_floats;
#define A_AT(i) texelFetch(a_floats, int(p.a_base + (i))).x
#define B_AT(i) texelFetch(b_floats, int(p.b_base + (i))).x
// with quads the views are RGBA32: a float of a vec4 texel costs lavapipe about
// half of an R32 texel's, and the loop runs a quarter as often
#define A4_AT(q) texelFetch(a_floats, int(p.a_base / 4u + (q)))
#define B4_AT(q) texelFetch(b_floats, int(p.b_base / 4u + (q)))
#else
#define A_AT(i) p.a.v[i]
#define B_AT(i) p.b.v[i]
#define A4_AT(q) Vec4s(uint64_t(p.a)).v[q]
#define B4_AT(q) Vec4s(uint64_t(p.b)).v[q]
#endif

// Bit 1: the whole form, one workgroup per row over x (rows of whole rounds
// of quads, read as vec4 texels), without a branch before the tree (on
// lavapipe a branch makes the loop write its sums through the lanes' mask:
// eltwise/add_forward.comp); bit 2: has_b. ops/eltwise.c runs it in 8-lane
// workgroups, one SIMD row of lavapipe's, whose tree needs no barrier there.
// The same values, summed in another order than the other form (a rounding).
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

shared float partial[gl_WorkGroupSize.x];

#ifdef CONV_TEXEL
// The lane's sum over row r in the whole form.
float sum_whole(uint r)
{
    uint quads_per_lane = p.len / (4u * gl_WorkGroupSize.x), first = r * (p.len / 4u) + gl_LocalInvocationID.x;
    vec4 s4 = vec4(0.0);
    for (uint t = 0u; t < quads_per_lane; t++) {
        uint q = first + t * gl_WorkGroupSize.x;
        s4 += (WHOLE_GROUPS & 2u) != 0u ? A4_AT(q) * B4_AT(q) : A4_AT(q);
    }
    return (s4.x + s4.y) + (s4.z + s4.w);
}
#endif

void main()
{
    bool whole = (WHOLE_GROUPS & 1u) != 0u;
    uint r = whole ? gl_WorkGroupID.x : group_index();
    if (!whole && r >= p.rows)
        return; // uniform across the workgroup: no barrier is skipped by part of it
    uint t = gl_LocalInvocationID.x;
    uint base = r * p.len;
    float s = 0.0;
#ifdef CONV_TEXEL
    if (whole) // a constant: the other form's code is not in this pipeline
        s = sum_whole(r);
    else
#endif
    if (p.quads != 0u) {
        vec4 s4 = vec4(0.0);
        for (uint j = t; j < p.len / 4u; j += gl_WorkGroupSize.x)
            s4 += p.has_b != 0u ? A4_AT(base / 4u + j) * B4_AT(base / 4u + j) : A4_AT(base / 4u + j);
        s = (s4.x + s4.y) + (s4.z + s4.w);
    } else {
        for (uint j = t; j < p.len; j += gl_WorkGroupSize.x)
            s += p.has_b != 0u ? A_AT(base + j) * B_AT(base + j) : A_AT(base + j);
    }
    partial[t] = s;
    barrier();
    for (uint k = gl_WorkGroupSize.x / 2u; k > 0u; k /= 2u) {
        if (t < k)
            partial[t] += partial[t + k];
        barrier();
    }
    if (t == 0u) {
        float v = p.scale * partial[0];
        if (p.accumulate != 0u)
            v += p.out_.v[r];
        p.out_.v[r] = v;
    }
}
