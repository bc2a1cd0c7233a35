#version 450
// out[i] (+)= a[i] * b[i / b_div]
// b_div is 1 when b has a's shape and H*W when b is per-channel (N,C,1,1):
// i / (H*W) is then n*C + c. Forward: y = a*b (accumulate 0). Backward uses
// it for da += dy*b (accumulate 1, a = dy) and for db += dy*a when same-shape.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats out_;
    uint count;
    uint b_div;
    uint accumulate;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float v = p.a.v[i] * p.b.v[i / p.b_div];
    if (p.accumulate != 0u)
        v += p.out_.v[i];
    p.out_.v[i] = v;
}
