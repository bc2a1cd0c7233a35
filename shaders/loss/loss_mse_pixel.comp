#version 450
// out[n,0,y,x] = mean over channels of (a - b)^2 at that pixel: one thread per pixel.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats dst;
    uint pixels;   // N*H*W
    uint plane;    // H*W
    uint channels; // C
    float inv_channels;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.pixels)
        return;
    uint n = i / p.plane, px = i - n * p.plane;
    uint at = n * p.channels * p.plane + px;
    float acc = 0.0;
    for (uint c = 0u; c < p.channels; c++, at += p.plane) {
        float d = p.a.v[at] - p.b.v[at];
        acc += d * d;
    }
    p.dst.v[i] = acc * p.inv_channels;
}
