#version 450
// Nearest x2: y[nc, i, j] = x[nc, i/2, j/2], one thread per output element.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count; // N*C*2H*2W
    uint h, w;  // input size
    uint x_base; // CONV_TEXEL: floats from the texel view's start to x
} p;

#ifdef CONV_TEXEL
// The _texel build reads x as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#else
#define X_AT(i) p.x.v[i]
#endif

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint w2 = 2u * p.w, h2 = 2u * p.h;
    uint j = i % w2;
    uint t = i / w2;
    uint r = t % h2;
    uint nc = t / h2;
    p.y.v[i] = X_AT(nc * p.h * p.w + (r / 2u) * p.w + j / 2u);
}
