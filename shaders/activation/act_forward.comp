#version 450
// y[i] = f(x[i]) for ReLU, LeakyReLU, sigmoid, tanh (y may alias x: each
// thread reads its element before writing it).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count;
    uint act; // sg_activation
    float slope;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float v = p.x.v[i];
    float r;
    if (p.act == 0u)
        r = max(v, 0.0);
    else if (p.act == 1u)
        r = v > 0.0 ? v : p.slope * v;
    else if (p.act == 2u)
        // exp of a non-positive argument only: no overflow for large |v|
        r = v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
    else
        r = tanh(v);
    p.y.v[i] = r;
}
