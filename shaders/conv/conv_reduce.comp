#version 450
// dst[d(i)] += sum over chunks c of part[c*count + i] (in chunk order: deterministic).
// part holds, per output channel, the k of the live taps only (a rectangle
// [kh0, kh0+lkh) x [kw0, kw0+lkw) of the kernel, conv_bwd_weight): d(i) places
// them in dw's [Co][Ci][KH][KW]; with every tap live, d(i) = i.
// Built twice: with CONV_TEXEL (conv_reduce_texel) it reads part as R32 texels
// (binding 0) and adds into dst through a storage-buffer descriptor (binding
// 4, where dst fits one), a float costing lavapipe a tenth and under a third
// of one through a buffer reference; the same sums in the same order.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats part;
    Floats dst;
    uint count, chunks;
    uint k_live, kk_live, kh0, kw0, lkw, KK, KW;  // live k per channel, live taps; all taps, kernel width
    uint part_base, dst_base;  // CONV_TEXEL: floats from the texel view's start to part, the storage buffer's to dst
    uint stored;               // CONV_TEXEL: dst through the storage buffer, else its buffer reference
    uint quads;                // CONV_TEXEL: 4 consecutive i an invocation (every tap live, vec4 views)
    uint first_quad;           // with quads: the dispatch's first (ops/op_util.c: whole workgroups, then the rest)
} p;

// 1 (texel build, quads through the storage buffer): the whole form, whole
// workgroups of quads (ops/op_util.c) without a branch before the store (on
// lavapipe any branch makes every later store a loop over the lanes:
// eltwise/add_forward.comp). The same sums in the same order.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer part_floats;
layout(set = 0, binding = 4, std430) buffer Stored { float dst_stored[]; };
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 dst_stored4[]; };
#define PART_AT(i) texelFetch(part_floats, int(p.part_base + (i))).x
#define PART4_AT(q) texelFetch(part_floats, int(p.part_base / 4u + (q))) // with quads the view is RGBA32
#else
#define PART_AT(i) p.part.v[i]
#endif

#ifdef CONV_TEXEL
// dst[4q..4q+3] with every tap live (d(i) = i), each the same sum in the same
// order as main's: a vec4 texel costs lavapipe about what one float does.
void reduce_quad(uint q)
{
    uint per_chunk = p.count / 4u;
    vec4 s = vec4(0.0);
    for (uint c = 0u; c < p.chunks; c++)
        s += PART4_AT(c * per_chunk + q);
    if (WHOLE_GROUPS != 0u || p.stored != 0u) // a constant in the whole form: no branch
        dst_stored4[p.dst_base / 4u + q] += s;
    else
        Vec4s(uint64_t(p.dst)).v[q] += s;
}
#endif

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        reduce_quad(p.first_quad + global_index());
        return;
    }
    if (p.quads != 0u) {
        uint q = p.first_quad + global_index();
        if (q < p.count / 4u)
            reduce_quad(q);
        return;
    }
#endif
    uint i = global_index();
    if (i >= p.count)
        return;
    float s = 0.0;
    for (uint c = 0u; c < p.chunks; c++)
        s += PART_AT(c * p.count + i);
    uint d = i;
    if (p.kk_live != p.KK) {
        uint co = i / p.k_live, k = i % p.k_live, ci = k / p.kk_live, t = k % p.kk_live;
        d = (co * (p.k_live / p.kk_live) + ci) * p.KK + (p.kh0 + t / p.lkw) * p.KW + p.kw0 + t % p.lkw;
    }
#ifdef CONV_TEXEL
    if (p.stored != 0u) {
        dst_stored[p.dst_base + d] += s;
        return;
    }
#endif
    p.dst.v[d] += s;
}
