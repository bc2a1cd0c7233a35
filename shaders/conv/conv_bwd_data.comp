#version 450
// Gradient of a convolution with respect to its input (also the forward pass of
// a transposed convolution):
//   dx[n,ci,ih,iw] (+)= b[ci] + sum over taps (kh,kw) and co with ih = oh*s - p + kh*d,
//                       iw = ow*s - p + kw*d of w[co,ci,kh,kw] * dy[n,co,oh,ow]
// Input pixels are split by phase (ih mod s, iw mod s): within a phase the taps
// that land on the output grid are the same for every pixel, so the tap test is
// uniform and no stride-s^2 waste is spent on taps that miss.
// Grid: x = pixel blocks within one phase, y = blocks of CI_T channels,
//       z = image * s*s + phase.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#define CI_T 8
#define PX 2

layout(push_constant) uniform Params {
    Floats dy;
    Vec4s w;      // packed [Co*KH*KW][ci_pad]
    Floats b;     // bias over dx's channels, used when flags & 2
    Floats dx;
    int Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, ci_pad;
    uint flags;   // 1: add into dx, 2: add bias
} p;

void main()
{
    const uint lanes = gl_WorkGroupSize.x;
    int s = p.stride;
    int phases = s * s;
    uint n = gl_WorkGroupID.z / uint(phases);
    int phase = int(gl_WorkGroupID.z % uint(phases));
    int ph = phase / s, pw = phase % s;
    int Hq = (p.H - ph + s - 1) / s, Wq = (p.W - pw + s - 1) / s;
    int ci0 = int(gl_WorkGroupID.y) * CI_T;

    int ih[PX], iw[PX];
    bool live[PX];
    for (int j = 0; j < PX; j++) {
        int q = int((gl_WorkGroupID.x * PX + j) * lanes + gl_LocalInvocationID.x);
        live[j] = Wq > 0 && q < Hq * Wq;
        int qi = Wq > 0 ? q / Wq : 0, qj = Wq > 0 ? q % Wq : 0;
        ih[j] = ph + s * qi;
        iw[j] = pw + s * qj;
    }

    vec4 acc[PX][CI_T / 4];
    for (int j = 0; j < PX; j++)
        for (int q = 0; q < CI_T / 4; q++)
            acc[j][q] = vec4(0.0);

    uint yplane = uint(p.Ho * p.Wo);
    uint ybase = n * uint(p.Co) * yplane;
    uint wrow = uint(p.ci_pad / 4);
    uint wci = uint(ci0 / 4);
    for (int kh = 0; kh < p.KH; kh++) {
        // does tap kh reach the output grid from this phase? (uniform)
        int th = ph + p.pad - kh * p.dil;
        if (((th % s) + s) % s != 0)
            continue;
        for (int kw = 0; kw < p.KW; kw++) {
            int tw = pw + p.pad - kw * p.dil;
            if (((tw % s) + s) % s != 0)
                continue;
            int oh[PX], ow[PX];
            bool ok[PX];
            for (int j = 0; j < PX; j++) {
                int a = ih[j] + p.pad - kh * p.dil, c = iw[j] + p.pad - kw * p.dil;
                ok[j] = live[j] && a >= 0 && c >= 0;
                oh[j] = a / s;
                ow[j] = c / s;
                ok[j] = ok[j] && oh[j] < p.Ho && ow[j] < p.Wo;
            }
            uint tap = uint(kh * p.KW + kw);
            for (int co = 0; co < p.Co; co++) {
                uint wi = (uint(co * p.KH * p.KW) + tap) * wrow + wci;
                vec4 wv[CI_T / 4];
                for (int q = 0; q < CI_T / 4; q++)
                    wv[q] = p.w.v[wi + q];
                uint yc = ybase + uint(co) * yplane;
                for (int j = 0; j < PX; j++) {
                    float g = ok[j] ? p.dy.v[yc + uint(oh[j] * p.Wo + ow[j])] : 0.0;
                    for (int q = 0; q < CI_T / 4; q++)
                        acc[j][q] += g * wv[q];
                }
            }
        }
    }

    uint xplane = uint(p.H * p.W);
    for (int j = 0; j < PX; j++) {
        if (!live[j])
            continue;
        for (int c = 0; c < CI_T; c++) {
            int ci = ci0 + c;
            if (ci >= p.Ci)
                break;
            float v = acc[j][c / 4][c % 4];
            if ((p.flags & 2u) != 0u)
                v += p.b.v[ci];
            uint xi = (n * uint(p.Ci) + uint(ci)) * xplane + uint(ih[j] * p.W + iw[j]);
            if ((p.flags & 1u) != 0u)
                v += p.dx.v[xi];
            p.dx.v[xi] = v;
        }
    }
}
