#version 450
// y[i] = a[i] + b[i] (y may alias a or b). Each invocation does 4
// consecutive elements, with vec4 loads and stores where all 4 exist
// (tensors start on 16 bytes): on lavapipe a load or store costs tens of FMAs
// whatever its width.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats y;
    uint count;
    uint a_base, b_base; // CONV_TEXEL: floats from the texel views' starts to a, to b (multiples of 4)
    uint y_base;         // CONV_TEXEL: floats from the storage buffer's start to y (a multiple of 4)
    uint stored;         // CONV_TEXEL: y through the storage buffer (binding 4), else its buffer reference
    uint first_quad;     // the dispatch's first quad (ops/op_util.c: whole workgroups, then the rest)
} p;

// 1: a dispatch of whole workgroups of whole quads, through the texel and
// storage-buffer bindings (ops/op_util.c): no condition before the store. On
// lavapipe (Mesa 22.3) any branch, even one on a push constant, or an early
// return makes every later store a loop over the lanes; straight-line, the
// add streams about 3x faster (docs/benchmarks.md).
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads a and b as RGBA32 texels (bindings 0, 1): a vec4
// texel fetch costs on lavapipe a fraction of a vec4 buffer load. Views hold
// whole texels, so the last, partial one is read whole too.
// It writes y through a storage-buffer descriptor where it fits one: a vec4
// stored so costs lavapipe a fifth of one through a buffer reference.
layout(set = 0, binding = 0) uniform samplerBuffer a_texels;
layout(set = 0, binding = 1) uniform samplerBuffer b_texels;
layout(set = 0, binding = 4, std430) writeonly buffer Stored4 { vec4 y_stored4[]; };
layout(set = 0, binding = 4, std430) writeonly buffer Stored { float y_stored[]; };
#define A4_AT(q) texelFetch(a_texels, int(p.a_base / 4u + (q)))
#define B4_AT(q) texelFetch(b_texels, int(p.b_base / 4u + (q)))
#define A_AT(i) A4_AT((i) / 4u)[(i) % 4u]
#define B_AT(i) B4_AT((i) / 4u)[(i) % 4u]
#else
#define A4_AT(q) Vec4s(uint64_t(p.a)).v[q]
#define B4_AT(q) Vec4s(uint64_t(p.b)).v[q]
#define A_AT(i) p.a.v[i]
#define B_AT(i) p.b.v[i]
#endif

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint w = p.first_quad + global_index();
        y_stored4[p.y_base / 4u + w] = A4_AT(w) + B4_AT(w);
        return;
    }
#endif
    uint q = p.first_quad + global_index(), first = q * 4u;
    if (first >= p.count)
        return;
#ifdef CONV_TEXEL
    if (p.stored != 0u) {
        if (first + 4u <= p.count) {
            y_stored4[p.y_base / 4u + q] = A4_AT(q) + B4_AT(q);
            return;
        }
        for (uint i = first; i < p.count; i++)
            y_stored[p.y_base + i] = A_AT(i) + B_AT(i);
        return;
    }
#endif
    if (first + 4u <= p.count) {
        Vec4s(uint64_t(p.y)).v[q] = A4_AT(q) + B4_AT(q);
        return;
    }
    for (uint i = first; i < p.count; i++)
        p.y.v[i] = A_AT(i) + B_AT(i);
}
