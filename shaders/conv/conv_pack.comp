#version 450
// Repack a convolution weight so that a block of output (or input) channels is
// contiguous for each tap: out[(b*KK + kk)*a_pad + a] = w[a*sa + b*sb + kk],
// zero for a >= A (a_pad is a whole number of the kernel's channel tiles). The
// conv kernels then read 2 channels with one aligned 64-bit load, never past a row.
//
// flags & 1 (eval-mode inference, sg_conv2d_forward_fused): channel a is the
// one the batch norm after the convolution normalises, and it is folded in:
//   scale[a] = gamma[a] / sqrt(var[a] + eps)
//   out = w * scale[a];  bias_out[a] = (bias_in[a] - mean[a]) * scale[a] + beta[a]
// (bias_in read when flags & 2, else 0). Done at every run, from the current
// parameters, so the folded copy is never older than the weights.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(push_constant) uniform Params {
    Floats w;
    Floats out_w;
    uint A, a_pad, B, KK, sa, sb;
    Floats gamma, beta, mean, var, bias_in, bias_out;
    float eps;
    uint flags; // 1: fold a batch norm, 2: with a bias
} p;

void main()
{
    uint i = global_index();
    if (i >= p.a_pad * p.B * p.KK)
        return;
    uint a = i % p.a_pad;
    uint bk = i / p.a_pad; // b*KK + kk
    uint b = bk / p.KK, kk = bk % p.KK;
    float v = a < p.A ? p.w.v[a * p.sa + b * p.sb + kk] : 0.0;
    if ((p.flags & 1u) != 0u && a < p.A) {
        // the same expression as the bias below, so both use one rounding of scale
        float scale = p.gamma.v[a] / sqrt(p.var.v[a] + p.eps);
        v *= scale;
        if (bk == 0u) {
            float bias = (p.flags & 2u) != 0u ? p.bias_in.v[a] : 0.0;
            p.bias_out.v[a] = (bias - p.mean.v[a]) * scale + p.beta.v[a];
        }
    }
    p.out_w.v[i] = v;
}
