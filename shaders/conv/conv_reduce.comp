#version 450
// dst[d(i)] += sum over chunks c of part[c*count + i] (in chunk order: deterministic).
// part holds, per output channel, the k of the live taps only (a rectangle
// [kh0, kh0+lkh) x [kw0, kw0+lkw) of the kernel, conv_bwd_weight): d(i) places
// them in dw's [Co][Ci][KH][KW]; with every tap live, d(i) = i.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats part;
    Floats dst;
    uint count, chunks;
    uint k_live, kk_live, kh0, kw0, lkw, KK, KW;  // live k per channel, live taps; all taps, kernel width
} p;

void main()
{
    uint i = global_index();
    if (i >= p.count)
        return;
    float s = 0.0;
    for (uint c = 0u; c < p.chunks; c++)
        s += p.part.v[c * p.count + i];
    uint d = i;
    if (p.kk_live != p.KK) {
        uint co = i / p.k_live, k = i % p.k_live, ci = k / p.kk_live, t = k % p.kk_live;
        d = (co * (p.k_live / p.kk_live) + ci) * p.KK + (p.kh0 + t / p.lkw) * p.KW + p.kw0 + t % p.lkw;
    }
    p.dst.v[d] += s;
}
