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
} p;

void main()
{
    uint q = global_index(), first = q * 4u;
    if (first >= p.count)
        return;
    if (first + 4u <= p.count) {
        Vec4s(uint64_t(p.y)).v[q] = Vec4s(uint64_t(p.a)).v[q] + Vec4s(uint64_t(p.b)).v[q];
        return;
    }
    for (uint i = first; i < p.count; i++)
        p.y.v[i] = p.a.v[i] + p.b.v[i];
}
