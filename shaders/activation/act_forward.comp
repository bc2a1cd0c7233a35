#version 450
// y[i] = f(x[i]) for ReLU, LeakyReLU, sigmoid, tanh (y may alias x: each
// thread reads its elements before writing them). Each invocation does 4
// consecutive elements, with one vec4 load and store where all 4 exist
// (tensors start on 16 bytes): on lavapipe a load or store costs tens of
// FMAs whatever its width.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count;
    uint act; // sg_activation
    float slope;
    uint first_quad;     // the dispatch's first quad (ops/op_util.c: whole workgroups, then the rest)
    uint x_base, y_base; // the whole form: floats from the texel view's start to x, the storage buffer's to y
} p;

// Bit 1 (texel build): the whole form, whole workgroups of whole quads (ops/op_util.c), x as RGBA32
// texels and y through the storage buffer, with the activation a constant (bits 2-3: sg_activation)
// and no branch before the store (on lavapipe any branch makes every later store a loop over the
// lanes: eltwise/add_forward.comp). The same values.
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;
#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer x_quads;
layout(set = 0, binding = 4, std430) writeonly buffer Stored4 { vec4 y_stored4[]; };
#endif

float f(float v)
{
    uint act = (WHOLE_GROUPS & 1u) != 0u ? WHOLE_GROUPS >> 1 : p.act;
    if (act == 0u)
        return max(v, 0.0);
    if (act == 1u)
        return v > 0.0 ? v : p.slope * v;
    if (act == 2u)
        // exp of a non-positive argument only: no overflow for large |v|
        return v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
    return tanh(v);
}

void main()
{
#ifdef CONV_TEXEL
    if ((WHOLE_GROUPS & 1u) != 0u) { // a constant: the other form's code is not in this pipeline
        uint w = p.first_quad + global_index();
        vec4 v = texelFetch(x_quads, int(p.x_base / 4u + w));
        y_stored4[p.y_base / 4u + w] = vec4(f(v.x), f(v.y), f(v.z), f(v.w));
        return;
    }
#endif
    uint q = p.first_quad + global_index(), first = q * 4u;
    if (first >= p.count)
        return;
    if (first + 4u <= p.count) {
        vec4 v = Vec4s(uint64_t(p.x)).v[q];
        Vec4s(uint64_t(p.y)).v[q] = vec4(f(v.x), f(v.y), f(v.z), f(v.w));
        return;
    }
    for (uint i = first; i < p.count; i++)
        p.y.v[i] = f(p.x.v[i]);
}
