#version 450
// y[i] = a[i] + b[i] (y may alias a or b)
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
    uint i = global_index();
    if (i < p.count)
        p.y.v[i] = p.a.v[i] + p.b.v[i];
}
