#version 450
// y = concat(a, b) on channels: per sample, y holds a's a_len = Ca*H*W floats
// then b's b_len = Cb*H*W. One thread per element of y (one dispatch, so no
// barrier between writing the two halves).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats a;
    Floats b;
    Floats y;
    uint count; // N * (a_len + b_len)
    uint a_len;
    uint b_len;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint n = i / (p.a_len + p.b_len);
    uint r = i - n * (p.a_len + p.b_len);
    p.y.v[i] = r < p.a_len ? p.a.v[n * p.a_len + r] : p.b.v[n * p.b_len + (r - p.a_len)];
}
