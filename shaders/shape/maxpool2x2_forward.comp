#version 450
// y[nc, oh, ow] = max of x[nc, 2oh..2oh+1, 2ow..2ow+1] (one thread per output;
// an odd trailing row or column of x is never read). NaN propagates, as PyTorch.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats y;
    uint count; // N*C*Ho*Wo
    uint h, w;  // input size
    uint ho, wo;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    uint ow = i % p.wo;
    uint t = i / p.wo;
    uint oh = t % p.ho;
    uint nc = t / p.ho;
    uint base = nc * p.h * p.w + 2u * oh * p.w + 2u * ow;
    float m = p.x.v[base];
    float v = p.x.v[base + 1u];
    if (v > m || isnan(v))
        m = v;
    v = p.x.v[base + p.w];
    if (v > m || isnan(v))
        m = v;
    v = p.x.v[base + p.w + 1u];
    if (v > m || isnan(v))
        m = v;
    p.y.v[i] = m;
}
