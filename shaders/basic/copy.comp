#version 450
// dst[i] = src[i]
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats src;
    Floats dst;
    uint count;
} p;

void main()
{
    uint i = global_index();
    if (i < p.count)
        p.dst.v[i] = p.src.v[i];
}
