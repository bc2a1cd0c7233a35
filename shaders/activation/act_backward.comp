#version 450
// dx[i] += dy[i] * f'(.): from the input x for ReLU/LeakyReLU, from the
// output y for sigmoid (y(1-y)) and tanh (1-y^2). `src` is whichever applies.
// Each invocation does 4 consecutive elements, with vec4 loads and stores
// where all 4 exist (tensors start on 16 bytes): on lavapipe a load or store
// costs tens of FMAs whatever its width.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats src;
    Floats dy;
    Floats dx;
    uint count;
    uint act; // sg_activation
    float slope;
    uint first_quad;                 // the dispatch's first quad (ops/op_util.c: whole workgroups, then the rest)
    uint src_base, dy_base, dx_base; // the whole form: floats from the texel views' starts to src, dy, the
                                     // storage buffer's to dx
} p;

// Bit 1 (texel build): the whole form, whole workgroups of whole quads (ops/op_util.c), src and dy
// as RGBA32 texels and dx through the storage buffer, with the activation a constant (bits 2-3:
// sg_activation) and no branch before the store (on lavapipe any branch makes every later store a
// loop over the lanes: eltwise/add_forward.comp). The same values.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;
#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer src_quads;
layout(set = 0, binding = 1) uniform samplerBuffer dy_quads;
layout(set = 0, binding = 4, std430) buffer Stored4 { vec4 dx_stored4[]; };
#endif

float derivative(float s)
{
    uint act = (WHOLE_GROUPS & 1u) != 0u ? WHOLE_GROUPS >> 1 : p.act;
    if (act == 0u)
        return s > 0.0 ? 1.0 : 0.0; // PyTorch: zero gradient at x == 0
    if (act == 1u)
        return s > 0.0 ? 1.0 : p.slope;
    if (act == 2u)
        return s * (1.0 - s);
    return 1.0 - s * s;
}

void main()
{
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) { // a constant: the other form's code is not in this pipeline
        uint w = p.first_quad + global_index();
        vec4 s = texelFetch(src_quads, int(p.src_base / 4u + w));
        vec4 d = vec4(derivative(s.x), derivative(s.y), derivative(s.z), derivative(s.w));
        dx_stored4[p.dx_base / 4u + w] += texelFetch(dy_quads, int(p.dy_base / 4u + w)) * d;
        return;
    }
#endif
    uint q = p.first_quad + global_index(), first = q * 4u;
    if (first >= p.count)
        return;
    if (first + 4u <= p.count) {
        vec4 s = Vec4s(uint64_t(p.src)).v[q];
        vec4 d = vec4(derivative(s.x), derivative(s.y), derivative(s.z), derivative(s.w));
        Vec4s dx = Vec4s(uint64_t(p.dx));
        dx.v[q] += Vec4s(uint64_t(p.dy)).v[q] * d;
        return;
    }
    for (uint i = first; i < p.count; i++)
        p.dx.v[i] += p.dy.v[i] * derivative(p.src.v[i]);
}
