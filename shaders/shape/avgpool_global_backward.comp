#version 450
// dx[nc, h, w] += dy[nc] / (H*W), one thread per input element.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dx;
    uint count; // N*C*H*W
    uint hw;
    float scale; // 1 / (H*W)
} p;

void main()
{
    uint i = global_index();
    if (i < p.count)
        p.dx.v[i] += p.dy.v[i / p.hw] * p.scale;
}
