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
    uint y_base; // WHOLE_GROUPS: floats from the storage buffer's start to y (a multiple of 4)
} p;

// 1 (texel build): the whole form, for even heights, widths of whole pairs of
// quads and whole workgroups of y's quads (ops/shape.c): an invocation per
// quad of y from 4 RGBA32 texels of x, through the storage buffer, the
// comparisons as selects and no branch before the store (on lavapipe any
// branch makes every later store a loop over the lanes:
// eltwise/add_forward.comp). The same values.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads x as R32 texels (binding 0): ~6 FMAs a float on
// lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
layout(set = 0, binding = 4, std430) writeonly buffer Stored4 { vec4 y_stored4[]; };
#else
#define X_AT(i) p.x.v[i]
#endif

// The 2x2 window's maximum, a NaN counting as the maximum: a, b of the first
// row, c, d of the second, in that order (both forms).
float window_max(float a, float b, float c, float d)
{
    float m = a;
    m = b > m || isnan(b) ? b : m;
    m = c > m || isnan(c) ? c : m;
    return d > m || isnan(d) ? d : m;
}

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint q = gl_GlobalInvocationID.x, wo4 = p.wo / 4u;
        uint row = q / wo4, col = q - row * wo4;  // y's row over (n, c, oh), and quad in it
        // x's rows 2*row and 2*row + 1 (h is even), w/4 quads each (the view is RGBA32)
        int o = int(p.x_base / 4u + row * (p.w / 2u) + 2u * col), next = int(p.w / 4u);
        vec4 a = texelFetch(x_floats, o), b = texelFetch(x_floats, o + 1);
        vec4 c = texelFetch(x_floats, o + next), d = texelFetch(x_floats, o + next + 1);
        y_stored4[p.y_base / 4u + q] = vec4(window_max(a.x, a.y, c.x, c.y), window_max(a.z, a.w, c.z, c.w),
                                            window_max(b.x, b.y, d.x, d.y), window_max(b.z, b.w, d.z, d.w));
        return;
    }
#endif
    uint i = global_index();
    if (i >= p.count)
        return;
    uint ow = i % p.wo;
    uint t = i / p.wo;
    uint oh = t % p.ho;
    uint nc = t / p.ho;
    uint base = nc * p.h * p.w + 2u * oh * p.w + 2u * ow;
    p.y.v[i] = window_max(X_AT(base), X_AT(base + 1u), X_AT(base + p.w), X_AT(base + p.w + 1u));
}
