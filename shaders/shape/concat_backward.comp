#version 450
// Backward of a channel concat for one input: dpart[i] += dy[...], where part
// (N, Cp, H, W) occupies channels [c0, c0+Cp) of dy (N, Cy, H, W): per sample,
// part_len = Cp*H*W floats at offset c0*H*W of y_len = Cy*H*W.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dpart;
    uint count; // N * part_len; with quads, in quads
    uint part_len;
    uint y_len;
    uint offset; // c0 * H * W
    uint quads;  // H*W % 4 == 0: lengths, offset and count in vec4s, one vec4 a thread
    uint dy_base; // CONV_TEXEL: floats from the texel view's start to dy
} p;

#ifdef CONV_TEXEL
// The _texel build reads dy as texels (binding 0; RGBA32 with quads): on
// lavapipe a fraction of a buffer reference's cost.
layout(set = 0, binding = 0) uniform samplerBuffer dy_texels;
#define DY_AT(i) texelFetch(dy_texels, int(p.dy_base + (i))).x
#define DY4_AT(q) texelFetch(dy_texels, int(p.dy_base / 4u + (q)))
#else
#define DY_AT(i) p.dy.v[i]
#define DY4_AT(q) Vec4s(uint64_t(p.dy)).v[q]
#endif

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint n = i / p.part_len;
    uint from = n * p.y_len + p.offset + (i - n * p.part_len);
    if (p.quads != 0u) {
        Vec4s dpart = Vec4s(uint64_t(p.dpart));
        dpart.v[i] += DY4_AT(from);
    } else {
        p.dpart.v[i] += DY_AT(from);
    }
}
