#version 450
// dx[i] += dy[i] * f'(.): from the input x for ReLU/LeakyReLU, from the
// output y for sigmoid (y(1-y)) and tanh (1-y^2). `src` is whichever applies.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats src;
    Floats dy;
    Floats dx;
    uint count;
    uint act; // sg_activation
    float slope;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float s = p.src.v[i];
    float d;
    if (p.act == 0u)
        d = s > 0.0 ? 1.0 : 0.0; // PyTorch: zero gradient at x == 0
    else if (p.act == 1u)
        d = s > 0.0 ? 1.0 : p.slope;
    else if (p.act == 2u)
        d = s * (1.0 - s);
    else
        d = 1.0 - s * s;
    p.dx.v[i] += p.dy.v[i] * d;
}
