#version 450
// y[i] += alpha * x[i]. Each invocation does 4 consecutive elements, with
// vec4 loads and stores where all 4 exist (tensors start on 16 bytes): on
// lavapipe a load or store costs tens of FMAs whatever its width.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count;
    float alpha;
} p;

void main()
{
    uint q = global_index(), first = q * 4u;
    if (first >= p.count)
        return;
    if (first + 4u <= p.count) {
        Vec4s y = Vec4s(uint64_t(p.y));
        y.v[q] += p.alpha * Vec4s(uint64_t(p.x)).v[q];
        return;
    }
    for (uint i = first; i < p.count; i++)
        p.y.v[i] += p.alpha * p.x.v[i];
}
