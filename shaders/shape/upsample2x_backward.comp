#version 450
// dx[nc, i, j] += sum of the 2x2 block of dy it was copied to, one thread per
// input element (so the sum needs no atomics).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dx;
    uint count; // N*C*H*W
    uint h, w;  // input size
    uint dy_base; // CONV_TEXEL: floats from the texel view's start to dy
} p;

#ifdef CONV_TEXEL
// The _texel build reads dy as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer dy_floats;
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
#else
#define DY_AT(i) p.dy.v[i]
#endif

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint j = i % p.w;
    uint t = i / p.w;
    uint r = t % p.h;
    uint nc = t / p.h;
    uint w2 = 2u * p.w;
    uint base = nc * 4u * p.h * p.w + 2u * r * w2 + 2u * j;
    p.dx.v[i] += (DY_AT(base) + DY_AT(base + 1u)) + (DY_AT(base + w2) + DY_AT(base + w2 + 1u));
}
