#version 450
// y[i] += alpha * x[i]
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
    uint i = global_index();
    if (i < p.count)
        p.y.v[i] += p.alpha * p.x.v[i];
}
