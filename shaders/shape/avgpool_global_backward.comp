#version 450
// dx[nc, h, w] += dy[nc] / (H*W), one thread per input element, or per vec4
// of elements where H*W % 4 == 0.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dx;
    uint count; // N*C*H*W; with quads, in vec4s
    uint hw;    // H*W; with quads, in vec4s
    float scale; // 1 / (H*W)
    uint quads; // H*W % 4 == 0: one vec4 of a plane a thread (a vec4 load and
                // store of dx cost on lavapipe what a float one does)
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float g = p.dy.v[i / p.hw] * p.scale;
    if (p.quads != 0u) {
        Vec4s dx = Vec4s(uint64_t(p.dx));
        dx.v[i] += g;
    } else {
        p.dx.v[i] += g;
    }
}
