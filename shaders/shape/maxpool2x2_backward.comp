#version 450
// dx[argmax of window] += dy[nc, oh, ow]. The argmax is the first maximum in
// row-major order within the 2x2 window (strict > keeps the earlier one on a
// tie), as PyTorch; a NaN counts as the maximum, as in the forward pass.
// Windows do not overlap, so no two threads write the same dx.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats dx;
    uint count; // N*C*Ho*Wo
    uint h, w;
    uint ho, wo;
    uint x_base, dy_base; // CONV_TEXEL: floats from the texel views' starts to x, to dy
} p;

#ifdef CONV_TEXEL
// The _texel build reads x and dy as R32 texels (bindings 0, 1): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
layout(set = 0, binding = 1) uniform samplerBuffer dy_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
#else
#define X_AT(i) p.x.v[i]
#define DY_AT(i) p.dy.v[i]
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
    uint best = base;
    float m = X_AT(base);
    uint cand[3] = uint[3](base + 1u, base + p.w, base + p.w + 1u);
    for (int k = 0; k < 3; k++) {
        float v = X_AT(cand[k]);
        if (v > m || isnan(v)) {
            m = v;
            best = cand[k];
        }
    }
    p.dx.v[best] += DY_AT(i);
}
