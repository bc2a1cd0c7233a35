#version 450
// dx[argmax of window] += dy[nc, oh, ow]. The argmax is the first maximum in
// row-major order within the 2x2 window (strict > keeps the earlier one on a
// tie), as PyTorch; a NaN counts as the maximum, as in the forward pass.
// Windows do not overlap, so no two threads write the same dx.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats dx;
    uint count; // N*C*Ho*Wo
    uint h, w;
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
    uint best = base;
    float m = p.x.v[base];
    uint cand[3] = uint[3](base + 1u, base + p.w, base + p.w + 1u);
    for (int k = 0; k < 3; k++) {
        float v = p.x.v[cand[k]];
        if (v > m || isnan(v)) {
            m = v;
            best = cand[k];
        }
    }
    p.dx.v[best] += p.dy.v[i];
}
