#version 450
// dx[nc, i, j] += sum of the 2x2 block of dy it was copied to, one thread per
// input element (so the sum needs no atomics).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats dy;
    Floats dx;
    uint count; // N*C*H*W
    uint h, w;  // input size
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint j = i % p.w;
    uint t = i / p.w;
    uint r = t % p.h;
    uint nc = t / p.h;
    uint w2 = 2u * p.w;
    uint base = nc * 4u * p.h * p.w + 2u * r * w2 + 2u * j;
    p.dx.v[i] += (p.dy.v[base] + p.dy.v[base + 1u]) + (p.dy.v[base + w2] + p.dy.v[base + w2 + 1u]);
}
