#version 450
// out[i] (+)= a[i] * b[i / b_div]
// b_div is 1 when b has a's shape and H*W when b is per-channel (N,C,1,1):
// i / (H*W) is then n*C + c. Forward: y = a*b (accumulate 0). Backward uses
// it for da += dy*b (accumulate 1, a = dy) and for db += dy*a when same-shape.
// With quads each invocation does 4 consecutive elements with vec4 loads and
// stores (one index division for 4): on lavapipe a load or store costs about
// as much whatever its width, and the division more than the product.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats out_;
    uint count;
    uint b_div;
    uint accumulate;
    uint a_base, b_base; // CONV_TEXEL: floats from the texel views' starts to a, to b
    uint out_base;       // CONV_TEXEL: floats from the storage buffer's start to out_
    uint stored;         // CONV_TEXEL: out_ through the storage buffer (binding 4), else its buffer reference
    uint quads;          // count % 4 == 0 and b_div == 1 or a multiple of 4; views on whole texels
    uint first_quad;     // with quads: the dispatch's first (ops/op_util.c: whole workgroups, then the rest)
} p;

// Bit 1: a dispatch of whole workgroups of whole quads, through the texel and
// storage-buffer bindings, with no condition before the store (see
// add_forward.comp: ~3x faster on lavapipe); then bit 2: add into out_, bit 4:
// b per channel (b_div > 1, b read as R32 texels). Constants: each form's
// pipeline holds its own code alone.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads a and b as R32 texels (bindings 0, 1): ~6 FMAs a
// float on lavapipe against ~64 through a buffer reference (docs/benchmarks.md).
// out_, which it writes (and reads to accumulate), it reaches through a
// storage-buffer descriptor where it fits one: a float stored so costs lavapipe
// a third of one through a buffer reference (docs/benchmarks.md).
layout(set = 0, binding = 0) uniform samplerBuffer a_floats;
layout(set = 0, binding = 1) uniform samplerBuffer b_floats;
layout(set = 0, binding = 4, std430) buffer Stored { float out_stored[]; };
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 out_stored4[]; };
#define A_AT(i) texelFetch(a_floats, int(p.a_base + (i))).x
#define B_AT(i) texelFetch(b_floats, int(p.b_base + (i))).x
// with quads a's view is RGBA32, and b's too when b_div is 1
#define A4_AT(q) texelFetch(a_floats, int(p.a_base / 4u + (q)))
#define B4_AT(q) texelFetch(b_floats, int(p.b_base / 4u + (q)))
#else
#define A_AT(i) p.a.v[i]
#define B_AT(i) p.b.v[i]
#define A4_AT(q) Vec4s(uint64_t(p.a)).v[q]
#define B4_AT(q) Vec4s(uint64_t(p.b)).v[q]
#endif

// Elements 4q..4q+3, each computed as main's scalar path computes it.
void mul_quad(uint q)
{
    vec4 v = A4_AT(q) * (p.b_div == 1u ? B4_AT(q) : vec4(B_AT(q * 4u / p.b_div)));
#ifdef CONV_TEXEL
    if (p.stored != 0u) {
        if (p.accumulate != 0u)
            v += out_stored4[p.out_base / 4u + q];
        out_stored4[p.out_base / 4u + q] = v;
        return;
    }
#endif
    if (p.accumulate != 0u)
        v += Vec4s(uint64_t(p.out_)).v[q];
    Vec4s(uint64_t(p.out_)).v[q] = v;
}

void main()
{
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) {
        uint w = p.first_quad + global_index();
        vec4 v = A4_AT(w) * ((WHOLE_GROUPS & 4u) != 0u ? vec4(B_AT(w * 4u / p.b_div)) : B4_AT(w));
        if ((WHOLE_GROUPS & 2u) != 0u)
            v += out_stored4[p.out_base / 4u + w];
        out_stored4[p.out_base / 4u + w] = v;
        return;
    }
#endif
    if (p.quads != 0u) {
        uint q = p.first_quad + global_index();
        if (q < p.count / 4u)
            mul_quad(q);
        return;
    }
    uint i = global_index();
    if (i >= p.count)
        return;
    float v = A_AT(i) * B_AT(i / p.b_div);
#ifdef CONV_TEXEL
    if (p.stored != 0u) {
        if (p.accumulate != 0u)
            v += out_stored[p.out_base + i];
        out_stored[p.out_base + i] = v;
        return;
    }
#endif
    if (p.accumulate != 0u)
        v += p.out_.v[i];
    p.out_.v[i] = v;
}
