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
} p;

float f(float v)
{
    if (p.act == 0u)
        return max(v, 0.0);
    if (p.act == 1u)
        return v > 0.0 ? v : p.slope * v;
    if (p.act == 2u)
        // exp of a non-positive argument only: no overflow for large |v|
        return v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
    return tanh(v);
}

void main()
{
    uint q = global_index(), first = q * 4u;
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
