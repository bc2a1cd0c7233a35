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
} p;

float derivative(float s)
{
    if (p.act == 0u)
        return s > 0.0 ? 1.0 : 0.0; // PyTorch: zero gradient at x == 0
    if (p.act == 1u)
        return s > 0.0 ? 1.0 : p.slope;
    if (p.act == 2u)
        return s * (1.0 - s);
    return 1.0 - s * s;
}

void main()
{
    uint q = global_index(), first = q * 4u;
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
