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
    uint dx_base;         // WHOLE_GROUPS: floats from the storage buffer's start to dx (a multiple of 4)
} p;

// 1 (texel build): the whole form, for even heights, widths of whole pairs of
// quads and whole workgroups of dy's quads (ops/shape.c): an invocation per
// quad of dy, its 4 windows from 4 RGBA32 texels of x, adding into the 4
// quads of dx through the storage buffer where the argmax is (elsewhere dx
// is kept as it is), without a branch before the stores (on lavapipe any
// branch makes every later store a loop over the lanes:
// eltwise/add_forward.comp). The same values.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads x and dy as R32 texels (bindings 0, 1): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;
layout(set = 0, binding = 1) uniform samplerBuffer dy_floats;
#define X_AT(i) texelFetch(x_floats, int(p.x_base + (i))).x
#define DY_AT(i) texelFetch(dy_floats, int(p.dy_base + (i))).x
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 dx_stored4[]; };
#else
#define X_AT(i) p.x.v[i]
#define DY_AT(i) p.dy.v[i]
#endif

// The argmax of a 2x2 window (0, 1: a, b of the first row; 2, 3: c, d of the
// second), the first maximum in that order, a NaN counting as the maximum, as
// selects (both forms).
uint window_argmax(float a, float b, float c, float d)
{
    float m = a;
    uint best = 0u;
    bool take = b > m || isnan(b);
    m = take ? b : m, best = take ? 1u : best;
    take = c > m || isnan(c);
    m = take ? c : m, best = take ? 2u : best;
    take = d > m || isnan(d);
    return take ? 3u : best;
}

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint q = gl_GlobalInvocationID.x, wo4 = p.wo / 4u;
        uint row = q / wo4, col = q - row * wo4;  // dy's row over (n, c, oh), and quad in it
        vec4 g = texelFetch(dy_floats, int(p.dy_base / 4u + q));
        // x's (dx's) rows 2*row and 2*row + 1 (h is even), w/4 quads each
        uint o = row * (p.w / 2u) + 2u * col, next = p.w / 4u;
        vec4 a = texelFetch(x_floats, int(p.x_base / 4u + o)), b = texelFetch(x_floats, int(p.x_base / 4u + o + 1u));
        vec4 c = texelFetch(x_floats, int(p.x_base / 4u + o + next));
        vec4 d = texelFetch(x_floats, int(p.x_base / 4u + o + next + 1u));
        uvec4 best = uvec4(window_argmax(a.x, a.y, c.x, c.y), window_argmax(a.z, a.w, c.z, c.w),
                           window_argmax(b.x, b.y, d.x, d.y), window_argmax(b.z, b.w, d.z, d.w));
        // dx's quad at (row r of the window pair, quad k): its floats are windows 2k, 2k+1's columns 0, 1
        uint base = p.dx_base / 4u + o;
        vec4 dx0 = dx_stored4[base], dx1 = dx_stored4[base + 1u];
        vec4 dx2 = dx_stored4[base + next], dx3 = dx_stored4[base + next + 1u];
        dx_stored4[base] = mix(dx0, dx0 + g.xxyy, equal(best.xxyy, uvec4(0u, 1u, 0u, 1u)));
        dx_stored4[base + 1u] = mix(dx1, dx1 + g.zzww, equal(best.zzww, uvec4(0u, 1u, 0u, 1u)));
        dx_stored4[base + next] = mix(dx2, dx2 + g.xxyy, equal(best.xxyy, uvec4(2u, 3u, 2u, 3u)));
        dx_stored4[base + next + 1u] = mix(dx3, dx3 + g.zzww, equal(best.zzww, uvec4(2u, 3u, 2u, 3u)));
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
    uint at[4] = uint[4](base, base + 1u, base + p.w, base + p.w + 1u);
    p.dx.v[at[window_argmax(X_AT(at[0]), X_AT(at[1]), X_AT(at[2]), X_AT(at[3]))]] += DY_AT(i);
}
