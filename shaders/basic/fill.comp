#version 450
// t[i] = value
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats t;
    uint count;
    float value;
} p;

void main()
{
    uint i = global_index();
    if (i < p.count)
        p.t.v[i] = p.value;
}
