#version 450
// Batch-norm statistics, stage 2: one workgroup per channel merges the
// channel's block partials (Chan's formula), saves mean and
// invstd = 1/sqrt(biased var + eps) for backward and updates the running
// statistics with momentum, the running variance from the unbiased estimate
// M2/(M-1) (as PyTorch; the op refuses M < 2).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats partials; // (C, B, 3): count, mean, M2
    Floats save_mean;
    Floats save_invstd;
    Floats running_mean; // unused when has_running_mean == 0
    Floats running_var;  // unused when has_running_var == 0
    uint C;
    uint B;
    uint has_running_mean;
    uint has_running_var;
    float eps;
    float momentum;
} p;

shared float s_n[gl_WorkGroupSize.x];
shared float s_mean[gl_WorkGroupSize.x];
shared float s_m2[gl_WorkGroupSize.x];

void main()
{
    uint c = group_index();
    if (c >= p.C)
        return;
    uint lid = gl_LocalInvocationID.x;
    float cnt = 0.0, mean = 0.0, m2 = 0.0;
    for (uint b = lid; b < p.B; b += gl_WorkGroupSize.x) {
        uint o = (c * p.B + b) * 3;
        float nb = p.partials.v[o], nn = cnt + nb;
        float d = p.partials.v[o + 1] - mean;
        mean += d * (nb / nn);
        m2 += p.partials.v[o + 2] + d * d * (cnt * nb / nn);
        cnt = nn;
    }
    s_n[lid] = cnt;
    s_mean[lid] = mean;
    s_m2[lid] = m2;
    barrier();
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float na = s_n[lid], nb = s_n[lid + s], nn = na + nb;
            if (nb > 0.0) {
                float d = s_mean[lid + s] - s_mean[lid];
                s_mean[lid] += d * (nb / nn);
                s_m2[lid] += s_m2[lid + s] + d * d * (na * nb / nn);
                s_n[lid] = nn;
            }
        }
        barrier();
    }
    if (lid == 0) {
        float total = s_n[0];
        mean = s_mean[0];
        m2 = s_m2[0];
        p.save_mean.v[c] = mean;
        p.save_invstd.v[c] = 1.0 / sqrt(m2 / total + p.eps);
        float keep = 1.0 - p.momentum;
        if (p.has_running_mean != 0)
            p.running_mean.v[c] = keep * p.running_mean.v[c] + p.momentum * mean;
        if (p.has_running_var != 0)
            p.running_var.v[c] = keep * p.running_var.v[c] + p.momentum * (m2 / (total - 1.0));
    }
}
