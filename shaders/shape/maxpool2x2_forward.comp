#version 450
// y[nc, oh, ow] = max of x[nc, 2oh..2oh+1, 2ow..2ow+1] (one thread per output;
// an odd trailing row or column of x is never read). NaN propagates, as PyTorch.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count; // N*C*Ho*Wo
    uint h, w;  // input size
    uint ho, wo;
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
    uint ow = i % p.wo;
    uint t = i / p.wo;
    uint oh = t % p.ho;
    uint nc = t / p.ho;
    uint base = nc * p.h * p.w + 2u * oh * p.w + 2u * ow;
    float m = X_AT(base);
    float v = X_AT(base + 1u);
    if (v > m || isnan(v))
        m = v;
    v = X_AT(base + p.w);
    if (v > m || isnan(v))
        m = v;
    v = X_AT(base + p.w + 1u);
    if (v > m || isnan(v))
        m = v;
    p.y.v[i] = m;
}
