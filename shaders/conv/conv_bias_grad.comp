#version 450
// db[c] += sum over n, h, w of dy[n,c,h,w]: one workgroup per channel, a tree
// reduction in shared memory. The lanes walk the channel's N*plane values as
// one run (a lane per value, not per pixel of a plane: on a 4x4 map a lane
// per pixel left 240 of 256 lanes idle), 4 of a plane at a time where the
// planes hold whole quads.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats db;
    uint N, C, plane;
    uint dy_base; // CONV_TEXEL: floats from the texel view's start to dy
    uint quads;   // plane % 4 == 0 (and, with texels, dy_base too): vec4 reads
    uint plane4_log2; // WHOLE_GROUPS: log2(plane / 4)
} p;

// Bit 1: the whole form, for planes of a power of two of quads and channels
// of whole rounds of quads, read as vec4 texels: each lane sums every
// workgroup-size-th quad of the channel, the plane found by a shift, without
// a branch (on lavapipe a branch makes the loop write its sums through the
// lanes' mask: eltwise/add_forward.comp). ops/conv.c runs it in 8-lane
// workgroups, whose tree needs no barrier there (one SIMD row of lanes). The
// same values, summed in another order than the other form (a rounding).
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads dy as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md); the
// same values summed in the same order.
layout(set = 0, binding = 0) uniform samplerBuffer dy_floats;
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
#define DY4_AT(q) texelFetch(dy_floats, int(p.dy_base / 4u + (q))) // with quads the view is RGBA32
#else
#define DY_AT(i) p.dy.v[i]
#define DY4_AT(q) Vec4s(uint64_t(p.dy)).v[q]
#endif

shared float partial[256];

#ifdef CONV_TEXEL
// The lane's sum over channel c in the whole form.
float sum_whole(uint c)
{
    uint hw4 = 1u << p.plane4_log2, quads_per_lane = (p.N << p.plane4_log2) / gl_WorkGroupSize.x;
    vec4 s4 = vec4(0.0);
    for (uint t = 0u; t < quads_per_lane; t++) {
        uint j = t * gl_WorkGroupSize.x + gl_LocalInvocationID.x;  // the channel's quad
        s4 += DY4_AT(((j >> p.plane4_log2) * p.C + c) * hw4 + (j & (hw4 - 1u)));
    }
    return (s4.x + s4.y) + (s4.z + s4.w);
}
#endif

// The lane's sum over channel c, checking the ends.
float sum_checked(uint c)
{
    uint t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    // values (quads) of a plane, and the lane's first (n, i), advanced by the
    // workgroup size without division
    uint plane = p.quads != 0u ? p.plane / 4u : p.plane;
    uint step_n = lanes / plane, step_i = lanes % plane;
    uint n = t / plane, i = t % plane;
    float s = 0.0;
    if (p.quads != 0u) {
        vec4 s4 = vec4(0.0);
        for (; n < p.N;) {
            s4 += DY4_AT((n * p.C + c) * plane + i);
            n += step_n;
            i += step_i;
            if (i >= plane) {
                i -= plane;
                n++;
            }
        }
        s = (s4.x + s4.y) + (s4.z + s4.w);
    } else {
        for (; n < p.N;) {
            s += DY_AT((n * p.C + c) * plane + i);
            n += step_n;
            i += step_i;
            if (i >= plane) {
                i -= plane;
                n++;
            }
        }
    }
    return s;
}

void main()
{
    uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    float s;
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) // a constant: the other form's code is not in this pipeline
        s = sum_whole(c);
    else
#endif
        s = sum_checked(c);
    partial[t] = s;
    barrier();
    for (uint half_ = lanes / 2u; half_ > 0u; half_ /= 2u) {
        if (t < half_)
            partial[t] += partial[t + half_];
        barrier();
    }
    if (t == 0u)
        p.db.v[c] += partial[0];
}
