#version 450
// Gradient of a convolution with respect to its weight, split over the pixels:
//   part[z][co][k] = sum over the output pixels (n,oh,ow) of chunk z of
//                    dy[n,co,oh,ow] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d],  k = (ci*KH+kh)*KW+kw
// A workgroup owns a KT x CO_T block of (k, co) and one chunk of pixels; each
// invocation sums its own pixels of the chunk into a KT x CO_T register tile,
// then the workgroup adds its tiles in shared memory in a fixed order
// (deterministic) and conv_reduce sums the chunks into dw.
//
// Why it is shaped this way: on lavapipe a buffer load costs ~50 FMAs (see
// conv_fwd), so the loads per FMA are what counts. An invocation takes its
// pixels two at a time (flattened indices 2i, 2i+1): per pair it loads 2*KT
// x values and, when Ho*Wo is even, the CO_T dy pairs as aligned 64-bit words
// (dy[n,co] planes then start at even indices), 2*KT + CO_T loads for
// 2*KT*CO_T FMAs. With stride 1 and rows made of whole runs of 8 pixels it
// takes runs of 8 instead and reads both x and dy as words (accumulate_rows).
// Dead k or co of a partial block read a real element and are never written,
// so the loop has no branches.
// Grid: x = blocks of KT k, y = blocks of CO_T channels, z = chunks of px_per_chunk
// pixels (a multiple of 8).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#include "conv/conv_tiles.h"
#define KT CONV_BWD_WEIGHT_K_TILE
#define CO_T CONV_BWD_WEIGHT_CO_TILE

layout(buffer_reference, std430, buffer_reference_align = 8) buffer Words {
    uint64_t v[];
};

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats part;  // [chunks][Co][K]
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, px_per_chunk;
} p;

shared float red[KT * CO_T][gl_WorkGroupSize.x];

float acc[KT][CO_T];

// x values of the KT k of the block at output pixel (n, oh, ow), zero where
// the tap falls in the padding or the pixel is dead
void load_x(int n, int oh, int ow, bool live, int xo[KT], int dh[KT], int dw[KT], out float xv[KT])
{
    int xn = n * p.Ci * p.H * p.W, ihb = oh * p.stride, iwb = ow * p.stride;
    for (int t = 0; t < KT; t++) {
        int ih = ihb + dh[t], iw = iwb + dw[t];
        bool ok = live && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
        float v = p.x.v[ok ? xn + xo[t] + ih * p.W + iw : 0];
        xv[t] = mix(0.0, v, ok);
    }
}

// acc = sum over this invocation's pixel pairs; words (Ho*Wo even) is a
// constant at each call, so each copy compiles without the test.
void accumulate(bool words, int first, int end, int xo[KT], int dh[KT], int dw[KT], int yo[CO_T])
{
    for (int t = 0; t < KT; t++)
        for (int c = 0; c < CO_T; c++)
            acc[t][c] = 0.0;
    int lanes = int(gl_WorkGroupSize.x), plane = p.Ho * p.Wo;
    // pixel a = 2i walked as (n, oh, ow) by a mixed-radix increment of 2*lanes
    int n = first / plane, oh = (first % plane) / p.Wo, ow = first % p.Wo;
    int step = 2 * lanes;
    int sn = step / plane, soh = (step % plane) / p.Wo, sow = step % p.Wo;
    for (int a = first; a < end; a += step) {
        // pixel b = a + 1 (dead past the end)
        int bow = ow + 1, wrap = bow == p.Wo ? 1 : 0;
        bow -= wrap * p.Wo;
        int boh = oh + wrap;
        wrap = boh == p.Ho ? 1 : 0;
        boh -= wrap * p.Ho;
        int bn = n + wrap;
        bool blive = a + 1 < end;
        float xa[KT], xb[KT];
        load_x(n, oh, ow, true, xo, dh, dw, xa);
        load_x(bn, boh, bow, blive, xo, dh, dw, xb);
        int ya = n * p.Co * plane + oh * p.Wo + ow;
        int yb = bn * p.Co * plane + boh * p.Wo + bow;
        for (int c = 0; c < CO_T; c++) {
            float ga, gb;
            if (words) {
                uvec2 u = unpackUint2x32(Words(p.dy).v[(ya + yo[c]) / 2]);
                ga = uintBitsToFloat(u.x);
                gb = mix(0.0, uintBitsToFloat(u.y), blive);
            } else {
                ga = p.dy.v[ya + yo[c]];
                gb = p.dy.v[blive ? yb + yo[c] : ya + yo[c]];
                gb = mix(0.0, gb, blive);
            }
            for (int t = 0; t < KT; t++)
                acc[t][c] = fma(xa[t], ga, fma(xb[t], gb, acc[t][c]));
        }
        ow += sow;
        int carry = ow >= p.Wo ? 1 : 0;
        ow -= carry * p.Wo;
        oh += soh + carry;
        carry = oh >= p.Ho ? 1 : 0;
        oh -= carry * p.Ho;
        n += sn + carry;
    }
}

// acc = sum over this invocation's runs of 8 pixels (stride 1, Wo a multiple of
// 8, H*W even): per run and k the 8 x values are 8 consecutive floats, read as
// 5 aligned words (shifted by one when the run starts at an odd index), and
// per channel the 8 dy values are 4 aligned words: KT*5 + CO_T*4 loads for
// 8*KT*CO_T FMAs.
void accumulate_rows(int first, int end, int xo[KT], int dh[KT], int dw[KT], int yo[CO_T])
{
    for (int t = 0; t < KT; t++)
        for (int c = 0; c < CO_T; c++)
            acc[t][c] = 0.0;
    int lanes = int(gl_WorkGroupSize.x), plane = p.Ho * p.Wo;
    int nwords = p.N * p.Ci * p.H * p.W / 2;
    int n = first / plane, oh = (first % plane) / p.Wo, ow = first % p.Wo;
    int step = 8 * lanes;
    int sn = step / plane, soh = (step % plane) / p.Wo, sow = step % p.Wo;
    for (int a = first; a < end; a += step) {
        int xn = n * p.Ci * p.H * p.W;
        float xv[KT][8];
        for (int t = 0; t < KT; t++) {
            int ih = oh + dh[t], iw = ow + dw[t];
            int base = xn + xo[t] + ih * p.W + iw, odd = base & 1, wb = base >> 1;  // floor, also below 0
            // words outside the tensor are clamped in: they only feed masked pixels
            float f[10];
            for (int i = 0; i < 5; i++) {
                uvec2 u = unpackUint2x32(Words(p.x).v[clamp(wb + i, 0, nwords - 1)]);
                f[2 * i] = uintBitsToFloat(u.x);
                f[2 * i + 1] = uintBitsToFloat(u.y);
            }
            bool rowok = ih >= 0 && ih < p.H;
            for (int j = 0; j < 8; j++)
                xv[t][j] = mix(0.0, mix(f[j], f[j + 1], odd == 1), rowok && iw + j >= 0 && iw + j < p.W);
        }
        int ya = n * p.Co * plane + oh * p.Wo + ow;  // a multiple of 8
        for (int c = 0; c < CO_T; c++) {
            float g[8];
            for (int i = 0; i < 4; i++) {
                uvec2 u = unpackUint2x32(Words(p.dy).v[(ya + yo[c]) / 2 + i]);
                g[2 * i] = uintBitsToFloat(u.x);
                g[2 * i + 1] = uintBitsToFloat(u.y);
            }
            for (int t = 0; t < KT; t++) {
                float sum = acc[t][c];
                for (int j = 0; j < 8; j++)
                    sum = fma(xv[t][j], g[j], sum);
                acc[t][c] = sum;
            }
        }
        ow += sow;
        int carry = ow >= p.Wo ? 1 : 0;
        ow -= carry * p.Wo;
        oh += soh + carry;
        carry = oh >= p.Ho ? 1 : 0;
        oh -= carry * p.Ho;
        n += sn + carry;
    }
}

void main()
{
    const int lanes = int(gl_WorkGroupSize.x), lid = int(gl_LocalInvocationID.x);
    int kk = p.KH * p.KW, K = p.Ci * kk;
    int k0 = int(gl_WorkGroupID.x) * KT, co0 = int(gl_WorkGroupID.y) * CO_T;
    int plane = p.Ho * p.Wo;

    // per k of the block: channel offset and tap displacement (uniform)
    int xo[KT], dh[KT], dw[KT];
    for (int t = 0; t < KT; t++) {
        int k = min(k0 + t, K - 1), tap = k % kk;
        xo[t] = (k / kk) * p.H * p.W;
        dh[t] = (tap / p.KW) * p.dil - p.pad;
        dw[t] = (tap % p.KW) * p.dil - p.pad;
    }
    int yo[CO_T];
    for (int c = 0; c < CO_T; c++)
        yo[c] = min(co0 + c, p.Co - 1) * plane;

    int chunk = int(gl_WorkGroupID.z) * p.px_per_chunk;
    int end = min(chunk + p.px_per_chunk, p.N * plane);
    if (p.stride == 1 && p.Wo % 8 == 0 && (p.H * p.W) % 2 == 0)
        accumulate_rows(chunk + 8 * lid, end, xo, dh, dw, yo);
    else if (plane % 2 == 0)
        accumulate(true, chunk + 2 * lid, end, xo, dh, dw, yo);
    else
        accumulate(false, chunk + 2 * lid, end, xo, dh, dw, yo);

    for (int t = 0; t < KT; t++)
        for (int c = 0; c < CO_T; c++)
            red[t * CO_T + c][lid] = acc[t][c];
    barrier();
    uint base = gl_WorkGroupID.z * uint(p.Co * K);
    for (int i = lid; i < KT * CO_T; i += lanes) {
        int k = k0 + i / CO_T, co = co0 + i % CO_T;
        float sum = 0.0;
        for (int l = 0; l < lanes; l++)
            sum += red[i][l];
        if (k < K && co < p.Co)
            p.part.v[base + uint(co * K + k)] = sum;
    }
}
