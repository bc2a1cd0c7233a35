#version 450
// dx[nc, h, w] += dy[nc] / (H*W), one thread per input element, or per vec4
// of elements where H*W % 4 == 0.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dx;
    uint count; // N*C*H*W; with quads, in vec4s
    uint hw;    // H*W; with quads, in vec4s
    float scale; // 1 / (H*W)
    uint quads; // H*W % 4 == 0: one vec4 of a plane a thread (a vec4 load and
                // store of dx cost on lavapipe what a float one does)
    uint dy_base, dx_base; // WHOLE_GROUPS: floats from the texel view's start to dy, the storage buffer's to dx
} p;

// 1 (texel build): the whole form, for planes of whole quads and whole
// workgroups of them (ops/shape.c): dy through an R32 texel view, dx through
// the storage buffer, without a branch (on lavapipe any branch makes every
// later store a loop over the lanes: eltwise/add_forward.comp). The same values.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;
#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer dy_floats;
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 dx_stored4[]; };
#endif

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint q = gl_GlobalInvocationID.x;
        dx_stored4[p.dx_base / 4u + q] += texelFetch(dy_floats, int(p.dy_base + q / p.hw)).x * p.scale;
        return;
    }
#endif
    uint i = global_index();
    if (i >= p.count)
        return;
    float g = p.dy.v[i / p.hw] * p.scale;
    if (p.quads != 0u) {
        Vec4s dx = Vec4s(uint64_t(p.dx));
        dx.v[i] += g;
    } else {
        p.dx.v[i] += g;
    }
}
