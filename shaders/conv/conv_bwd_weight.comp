#version 450
// Gradient of a convolution with respect to its weight, split over the rows:
//   part[z][co][k] = sum over output rows of chunk z, and their pixels, of
//                    dy[n,co,oh,ow] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d],  k = (ci*KH+kh)*KW+kw
// Each invocation owns one k and CO_T output channels; the output-gradient loads
// are the same for the whole workgroup (uniform), the input loads differ.
// conv_reduce sums the chunks into dw. Grid: x = blocks of k, y = blocks of
// CO_T channels, z = chunks of `rows_per_chunk` rows out of N*Ho.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#define CO_T 8

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats part;  // [chunks][Co][K]
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, rows_per_chunk;
} p;

void main()
{
    int K = p.Ci * p.KH * p.KW;
    int k = int(gl_WorkGroupID.x * gl_WorkGroupSize.x + gl_LocalInvocationID.x);
    int co0 = int(gl_WorkGroupID.y) * CO_T;
    bool live = k < K;
    int kk = p.KH * p.KW;
    int ci = live ? k / kk : 0, tap = k % kk;
    int kh = tap / p.KW, kw = tap % p.KW;

    float acc[CO_T];
    for (int c = 0; c < CO_T; c++)
        acc[c] = 0.0;

    int ncols = p.Wo;
    uint yplane = uint(p.Ho * p.Wo), xplane = uint(p.H * p.W);
    int row_end = min(int(gl_WorkGroupID.z + 1) * p.rows_per_chunk, p.N * p.Ho);
    for (int row = int(gl_WorkGroupID.z) * p.rows_per_chunk; row < row_end; row++) {
        int n = row / p.Ho, oh = row % p.Ho;
        int ih = oh * p.stride - p.pad + kh * p.dil;
        bool row_ok = live && ih >= 0 && ih < p.H;
        uint xrow = (uint(n * p.Ci + ci)) * xplane + uint(ih * p.W);
        uint yrow = uint(n * p.Co + co0) * yplane + uint(oh * p.Wo);
        int iw = kw * p.dil - p.pad;
        for (int ow = 0; ow < ncols; ow++, iw += p.stride) {
            bool ok = row_ok && iw >= 0 && iw < p.W;
            float xv = ok ? p.x.v[xrow + uint(iw)] : 0.0;
            for (int c = 0; c < CO_T; c++)
                if (co0 + c < p.Co)
                    acc[c] += xv * p.dy.v[yrow + uint(c) * yplane + uint(ow)];
        }
    }
    if (!live)
        return;
    uint base = gl_WorkGroupID.z * uint(p.Co * K);
    for (int c = 0; c < CO_T; c++)
        if (co0 + c < p.Co)
            p.part.v[base + uint((co0 + c) * K + k)] = acc[c];
}
