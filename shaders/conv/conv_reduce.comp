#version 450
// dst[i] += sum over chunks c of part[c*count + i] (in chunk order: deterministic)
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats part;
    Floats dst;
    uint count, chunks;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float s = 0.0;
    for (uint c = 0u; c < p.chunks; c++)
        s += p.part.v[c * p.count + i];
    p.dst.v[i] += s;
}
