#version 450
// Repack a convolution weight in tiles of T channels of one side (a: output
// channels for conv_fwd, input channels for conv_bwd_data), each tile a stream
// in the order the kernels read it (conv_tiles.h):
//   out[CONV_PACKED_INDEX(a, b, kk, KK, B, T)] = w[a*sa + b*sb + kk],
// zero for a >= A (a_pad is a whole number of tiles). The conv kernels then
// read 2 channels with one aligned 64-bit load, never past a tile, and one
// invocation's loads walk forward through memory.
// Each invocation writes 4 channels (a_pad is a multiple of 4) as one vec4: on
// lavapipe a store costs like a load, tens of FMAs.
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
    Vec4s out_w;
    uint A, a_pad, B, KK, sa, sb;
    Floats gamma, beta, mean, var, bias_in, bias_out;
    float eps;
    uint flags; // 1: fold a batch norm, 2: with a bias
    uint w_base; // CONV_TEXEL: floats from the texel view's start to w
    uint out_base; // CONV_TEXEL: floats from the storage buffer's start to out_w (a multiple of 4)
    uint stored; // CONV_TEXEL: out_w through the storage buffer (binding 4), else its buffer reference
    uint first;  // the dispatch's first invocation (ops/op_util.c: whole workgroups, then the rest)
    uint T;      // channels per tile (a multiple of 4)
} p;

// 1: a dispatch of whole workgroups, no batch norm folded, every channel in
// range (a_pad == A), through the texel and storage-buffer bindings: no
// condition before the store (on lavapipe ~3x faster, add_forward.comp).
layout(constant_id = 1) const uint WHOLE_GROUPS = 0u;

#ifdef CONV_TEXEL
// The _texel build reads w as R32 texels (binding 0): the reads are strided,
// and on lavapipe a texel fetch costs a fraction of a buffer-reference load.
// It writes out_w through a storage-buffer descriptor where it fits one: a vec4
// stored so costs lavapipe a fifth of one through a buffer reference.
layout(set = 0, binding = 0) uniform samplerBuffer w_floats;
layout(set = 0, binding = 4, std430) writeonly buffer Stored { vec4 out_stored[]; };
#define W_AT(i) texelFetch(w_floats, int(p.w_base + (i))).x
#else
#define W_AT(i) p.w.v[i]
#endif

// Invocation i writes the i-th vec4 of the packed copy: 4 channels from a0, of b, at tap kk.
void place(uint i, out uint a0, out uint b, out uint kk)
{
    uint quads = p.T / 4u, row = i / quads;  // row: (tile * KK + kk) * B + b
    b = row % p.B;
    uint tk = row / p.B;
    kk = tk % p.KK;
    a0 = (tk / p.KK) * p.T + (i % quads) * 4u;
}

void main()
{
#ifdef CONV_TEXEL
    if (WHOLE_GROUPS != 0u) { // a constant: the other form's code is not in this pipeline
        uint w = p.first + global_index(), wa0, wb, wkk;
        place(w, wa0, wb, wkk);
        uint src = wa0 * p.sa + wb * p.sb + wkk;
        out_stored[p.out_base / 4u + w] =
            vec4(W_AT(src), W_AT(src + p.sa), W_AT(src + 2u * p.sa), W_AT(src + 3u * p.sa));
        return;
    }
#endif
    uint i = p.first + global_index();
    if (i >= p.a_pad / 4u * p.B * p.KK)
        return;
    uint a0, b, kk;
    place(i, a0, b, kk);
    vec4 out4;
    for (uint j = 0u; j < 4u; j++) {
        uint a = a0 + j;
        float v = a < p.A ? W_AT(a * p.sa + b * p.sb + kk) : 0.0;
        if ((p.flags & 1u) != 0u && a < p.A) {
            // the same expression as the bias below, so both use one rounding of scale
            float scale = p.gamma.v[a] / sqrt(p.var.v[a] + p.eps);
            v *= scale;
            if (b == 0u && kk == 0u) {
                float bias = (p.flags & 2u) != 0u ? p.bias_in.v[a] : 0.0;
                p.bias_out.v[a] = (bias - p.mean.v[a]) * scale + p.beta.v[a];
            }
        }
        out4[j] = v;
    }
#ifdef CONV_TEXEL
    if (p.stored != 0u) {
        out_stored[p.out_base / 4u + i] = out4;
        return;
    }
#endif
    p.out_w.v[i] = out4;
}
