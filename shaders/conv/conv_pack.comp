#version 450
// Repack a convolution weight so that a block of output (or input) channels is
// contiguous for each tap: out[(b*KK + kk)*a_pad + a] = w[a*sa + b*sb + kk],
// zero for a >= A (a_pad is a whole number of the kernel's channel tiles). The
// conv kernels then read 2 channels with one aligned 64-bit load, never past a row.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats w;
    Floats out_w;
    uint A, a_pad, B, KK, sa, sb;
} p;

void main()
{
    uint i = global_index();
    if (i >= p.a_pad * p.B * p.KK)
        return;
    uint a = i % p.a_pad;
    uint bk = i / p.a_pad; // b*KK + kk
    uint b = bk / p.KK, kk = bk % p.KK;
    p.out_w.v[i] = a < p.A ? p.w.v[a * p.sa + b * p.sb + kk] : 0.0;
}
