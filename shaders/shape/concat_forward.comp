#version 450
// y = concat(a, b) on channels: per sample, y holds a's a_len = Ca*H*W floats
// then b's b_len = Cb*H*W. One thread per element of y (one dispatch, so no
// barrier between writing the two halves).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats y;
    uint count; // N * (a_len + b_len); with quads, in quads
    uint a_len;
    uint b_len;
    uint quads; // H*W % 4 == 0: lengths and count in vec4s, one vec4 a thread
    uint a_base, b_base; // CONV_TEXEL: floats from the texel views' starts to a, to b
} p;

#ifdef CONV_TEXEL
// The _texel build reads a and b as texels (bindings 0, 1; RGBA32 with
// quads): on lavapipe a fraction of a buffer reference's cost.
layout(set = 0, binding = 0) uniform samplerBuffer a_texels;
layout(set = 0, binding = 1) uniform samplerBuffer b_texels;
#define A_AT(i) texelFetch(a_texels, int(p.a_base + (i))).x
#define B_AT(i) texelFetch(b_texels, int(p.b_base + (i))).x
#define A4_AT(q) texelFetch(a_texels, int(p.a_base / 4u + (q)))
#define B4_AT(q) texelFetch(b_texels, int(p.b_base / 4u + (q)))
#else
#define A_AT(i) p.a.v[i]
#define B_AT(i) p.b.v[i]
#define A4_AT(q) Vec4s(uint64_t(p.a)).v[q]
#define B4_AT(q) Vec4s(uint64_t(p.b)).v[q]
#endif

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint n = i / (p.a_len + p.b_len);
    uint r = i - n * (p.a_len + p.b_len);
    if (p.quads != 0u)
        Vec4s(uint64_t(p.y)).v[i] = r < p.a_len ? A4_AT(n * p.a_len + r) : B4_AT(n * p.b_len + (r - p.a_len));
    else
        p.y.v[i] = r < p.a_len ? A_AT(n * p.a_len + r) : B_AT(n * p.b_len + (r - p.a_len));
}
