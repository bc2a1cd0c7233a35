#version 450
// Convolution forward as an implicit GEMM:
//   y[n,co,oh,ow] (+)= b[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d]
// Each invocation owns PX output pixels of one image and CO_T output channels.
// The weights (packed by conv_pack as [tap][co]) are the same for the whole
// workgroup, so their loads are uniform; the input loads differ per invocation.
// Grid: x = pixel blocks of one image, y = blocks of CO_T channels, z = image.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#define CO_T 8
#define PX 2

layout(push_constant) uniform Params {
    Floats x;
    Vec4s w;      // packed [Ci*KH*KW][co_pad]
    Floats b;     // bias, used when flags & 2
    Floats y;
    int Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, co_pad;
    uint flags;   // 1: add into y, 2: add bias
} p;

void main()
{
    const uint lanes = gl_WorkGroupSize.x;
    uint n = gl_WorkGroupID.z;
    int co0 = int(gl_WorkGroupID.y) * CO_T;
    int plane = p.Ho * p.Wo;

    int ih0[PX], iw0[PX];
    bool live[PX];
    for (int j = 0; j < PX; j++) {
        int pix = int((gl_WorkGroupID.x * PX + j) * lanes + gl_LocalInvocationID.x);
        live[j] = pix < plane;
        int oh = pix / p.Wo, ow = pix % p.Wo;
        ih0[j] = oh * p.stride - p.pad;
        iw0[j] = ow * p.stride - p.pad;
    }

    vec4 acc[PX][CO_T / 4];
    for (int j = 0; j < PX; j++)
        for (int q = 0; q < CO_T / 4; q++)
            acc[j][q] = vec4(0.0);

    uint xplane = uint(p.H * p.W);
    uint xbase = n * uint(p.Ci) * xplane;
    uint wrow = uint(p.co_pad / 4);  // vec4s per tap
    uint wi = uint(co0 / 4);
    for (int ci = 0; ci < p.Ci; ci++) {
        uint xc = xbase + uint(ci) * xplane;
        for (int kh = 0; kh < p.KH; kh++) {
            for (int kw = 0; kw < p.KW; kw++) {
                vec4 wv[CO_T / 4];
                for (int q = 0; q < CO_T / 4; q++)
                    wv[q] = p.w.v[wi + q];
                wi += wrow;
                for (int j = 0; j < PX; j++) {
                    int ih = ih0[j] + kh * p.dil, iw = iw0[j] + kw * p.dil;
                    bool ok = live[j] && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
                    float xv = ok ? p.x.v[xc + uint(ih * p.W + iw)] : 0.0;
                    for (int q = 0; q < CO_T / 4; q++)
                        acc[j][q] += xv * wv[q];
                }
            }
        }
    }

    for (int j = 0; j < PX; j++) {
        if (!live[j])
            continue;
        int pix = int((gl_WorkGroupID.x * PX + j) * lanes + gl_LocalInvocationID.x);
        for (int c = 0; c < CO_T; c++) {
            int co = co0 + c;
            if (co >= p.Co)
                break;
            float v = acc[j][c / 4][c % 4];
            if ((p.flags & 2u) != 0u)
                v += p.b.v[co];
            uint yi = (n * uint(p.Co) + uint(co)) * uint(plane) + uint(pix);
            if ((p.flags & 1u) != 0u)
                v += p.y.v[yi];
            p.y.v[yi] = v;
        }
    }
}
