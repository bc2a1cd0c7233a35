#version 450
// Nearest x2: y[nc, i, j] = x[nc, i/2, j/2], one thread per output element.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count; // N*C*2H*2W
    uint h, w;  // input size
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint w2 = 2u * p.w, h2 = 2u * p.h;
    uint j = i % w2;
    uint t = i / w2;
    uint r = t % h2;
    uint nc = t / h2;
    p.y.v[i] = p.x.v[nc * p.h * p.w + (r / 2u) * p.w + j / 2u];
}
