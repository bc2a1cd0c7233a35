#version 450
// db[c] += sum over n, h, w of dy[n,c,h,w]: one workgroup per channel, a tree
// reduction in shared memory.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats db;
    uint N, C, plane;
    uint dy_base; // CONV_TEXEL: floats from the texel view's start to dy
} p;

#ifdef CONV_TEXEL
// The _texel build reads dy as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md); the
// same values summed in the same order.
layout(set = 0, binding = 0) uniform samplerBuffer dy_floats;
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
#else
#define DY_AT(i) p.dy.v[i]
#endif

shared float partial[256];

void main()
{
    uint c = gl_WorkGroupID.x, t = gl_LocalInvocationID.x, lanes = gl_WorkGroupSize.x;
    float s = 0.0;
    for (uint n = 0u; n < p.N; n++) {
        uint base = (n * p.C + c) * p.plane;
        for (uint i = t; i < p.plane; i += lanes)
            s += DY_AT(base + i);
    }
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
