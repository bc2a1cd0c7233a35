#version 450
// Batch-norm backward, stage 3:
// dx += gamma*invstd/M * (M*dy - sum dy - xhat * sum dy*xhat), per block of
// one channel (the blocks of bn_stats).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats mean;
    Floats invstd;
    Floats gamma;
    Floats sums; // (C, 2): sum dy, sum dy*xhat
    Floats dx;
    uint C;
    uint HW;
    uint M;
    uint B;
    uint L;
    uint step_n;
    uint step_hw;
} p;

void main()
{
    uint g = group_index();
    if (g >= p.C * p.B)
        return;
    uint c = g / p.B, b = g % p.B;
    float mean = p.mean.v[c], invstd = p.invstd.v[c];
    float k = p.gamma.v[c] * invstd;
    float inv_m = 1.0 / float(p.M);
    float mean_dy = p.sums.v[c * 2] * inv_m;
    float mean_dyx = p.sums.v[c * 2 + 1] * inv_m;
    uint first = b * p.L + gl_LocalInvocationID.x, end = min(b * p.L + p.L, p.M);
    uint n = first / p.HW, hw = first % p.HW;
    for (uint j = first; j < end; j += gl_WorkGroupSize.x) {
        uint i = (n * p.C + c) * p.HW + hw;
        float xhat = (p.x.v[i] - mean) * invstd;
        p.dx.v[i] += k * (p.dy.v[i] - mean_dy - xhat * mean_dyx);
        n += p.step_n;
        hw += p.step_hw;
        if (hw >= p.HW) {
            hw -= p.HW;
            n++;
        }
    }
}
