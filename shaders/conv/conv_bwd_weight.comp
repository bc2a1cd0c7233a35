#version 450
// Gradient of a convolution with respect to its weight, split over the pixels:
//   part[z][co][k] = sum over the output pixels (n,oh,ow) of chunk z of
//                    dy[n,co,oh,ow] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d],  k = (ci*KH+kh)*KW+kw
// over the live taps only (kh0 <= kh < kh0+lkh, kw0 <= kw < kw0+lkw; every tap but where
// a dilated kernel overhangs a small map, whose other taps add only zeros): there
// k = (ci*lkh + kh-kh0)*lkw + kw-kw0, and conv_reduce puts each sum at its place in dw.
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
// 2*KT*CO_T FMAs. With stride 1 or 2 and rows made of whole runs of 8 pixels it
// takes runs of 8 instead and reads both x and dy as words (accumulate_rows).
// Dead k or co of a partial block read a real element and are never written,
// so the loop has no branches.
// Built twice, as conv_fwd is: with CONV_TEXEL defined (conv_bwd_weight_texel)
// x and dy are read as uniform texel buffers (the x_*/dy_* readers below): a
// run of 8 x values as 3 vec4 texels, 8 dy values as 2, single values as R32
// texels, a dy pair as half a vec4 texel; the sums are the same, in the same order.
// Built twice more, with CONV_TAP_KW = 3 or 4 (conv_bwd_weight_taps3, _taps4: texels,
// rows of runs only): a block's k are then whole rows of taps (3x3 stride 1: two
// input channels' 6 rows, KT = 18; 4x4 stride 2: one channel's 4 rows, KT = 16), and
// each row's x is read once, at one window, for all its taps (accumulate_taps); the
// same sums. The larger KT shares each dy load among more k: per run of 8 pixels,
// 6*4 + 16*2 texels for 2304 FMAs (taps3), where the KT = 8 build reads 8*3 + 16*2
// for 1024.
// Grid: x = blocks of KT k, y = blocks of CO_T channels, z = chunks of px_per_chunk
// pixels (a multiple of 8).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#include "conv/conv_tiles.h"
#if defined(CONV_TAP_KW) && !defined(CONV_TEXEL)
#error "the tap-rows builds read texels"
#endif
#if CONV_TAP_KW == 3  // 3x3 stride 1: a block is one input channel's 3 rows of 3 taps
#define TAP_KW 3
#define TAP_ROWS CONV_BWD_WEIGHT_TAPS3_ROWS
#define TAP_STRIDE 1
#elif CONV_TAP_KW == 4  // 4x4 stride 2: two rows of 4 taps
#define TAP_KW 4
#define TAP_ROWS CONV_BWD_WEIGHT_TAPS4_ROWS
#define TAP_STRIDE 2
#endif
#ifdef TAP_KW
#define KT (TAP_ROWS * TAP_KW)
#else
#define KT CONV_BWD_WEIGHT_K_TILE
#endif
#define CO_T CONV_BWD_WEIGHT_CO_TILE

layout(buffer_reference, std430, buffer_reference_align = 8) buffer Words {
    uint64_t v[];
};

layout(push_constant) uniform Params {
    Floats x;
    Floats dy;
    Floats part;  // [chunks][Co][K]
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, px_per_chunk;
    int x_base, dy_base;  // CONV_TEXEL: floats from the texel views' starts to x, to dy (multiples of 4)
    int kh0, lkh, kw0, lkw;  // the live taps: a rectangle of the kernel (all of it but on small dilated maps)
} p;

#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer x_floats;   // x, one float per texel
layout(set = 0, binding = 1) uniform samplerBuffer x_quads;    // x, 4 floats per texel
layout(set = 0, binding = 2) uniform samplerBuffer dy_floats;  // dy, one float per texel
layout(set = 0, binding = 3) uniform samplerBuffer dy_quads;   // dy, 4 floats per texel

float x_at(int i) { return texelFetch(x_floats, p.x_base + i).x; }
float dy_at(int i) { return texelFetch(dy_floats, p.dy_base + i).x; }
vec2 dy_pair(int i)  // i even: one half of a vec4 texel (dy_base is a multiple of 4)
{
    vec4 u = texelFetch(dy_quads, (p.dy_base + i) >> 2);
    return (i & 2) != 0 ? u.zw : u.xy;
}

// v[j] = x[i + j], j < r (r = 8 or 4, a constant at each call): 3 texels, or 2
// for 4; texels outside the tensor are clamped in (only masked pixels read them)
void x_run(int i, int r, out float v[8])
{
    int g = p.x_base + i, q = g >> 2, shift = g & 3;  // floor, also below 0
    int last = (p.x_base + p.N * p.Ci * p.H * p.W - 1) >> 2;
    float f[12];
    for (int t = 0; t < (r + 7) / 4; t++) {
        vec4 u = texelFetch(x_quads, clamp(q + t, 0, last));
        f[4 * t] = u.x; f[4 * t + 1] = u.y; f[4 * t + 2] = u.z; f[4 * t + 3] = u.w;
    }
    float h[9];  // shift by 2, then by 1
    for (int j = 0; j <= r; j++)
        h[j] = (shift & 2) != 0 ? f[j + 2] : f[j];
    for (int j = 0; j < r; j++)
        v[j] = (shift & 1) != 0 ? h[j + 1] : h[j];
}

// v[j] = x[i + 2j], j < r (a stride-2 row): 5 texels, or 3 for 4, clamped in as x_run
void x_run2(int i, int r, out float v[8])
{
    int g = p.x_base + i, q = g >> 2, shift = g & 3;
    int last = (p.x_base + p.N * p.Ci * p.H * p.W - 1) >> 2;
    float f[20];
    for (int t = 0; t < (2 * r + 5) / 4; t++) {
        vec4 u = texelFetch(x_quads, clamp(q + t, 0, last));
        f[4 * t] = u.x; f[4 * t + 1] = u.y; f[4 * t + 2] = u.z; f[4 * t + 3] = u.w;
    }
    float h[16];  // shift by 2, then by 1 while taking every other
    for (int j = 0; j < 2 * r; j++)
        h[j] = (shift & 2) != 0 ? f[j + 2] : f[j];
    for (int j = 0; j < r; j++)
        v[j] = (shift & 1) != 0 ? h[2 * j + 1] : h[2 * j];
}

#ifdef TAP_KW
// The longest window of x a row of taps reads: 8 outputs' taps
#define TAP_WINDOW (TAP_STRIDE * 7 + TAP_KW)

// v[m] = x[i + m], m < L (a constant at each call): the (L + 6) / 4 texels
// that hold them at any alignment, clamped in as x_run
void x_window(int i, int L, out float v[TAP_WINDOW])
{
    int g = p.x_base + i, q = g >> 2, shift = g & 3;
    int last = (p.x_base + p.N * p.Ci * p.H * p.W - 1) >> 2;
    float f[(TAP_WINDOW + 6) / 4 * 4];
    for (int t = 0; t < (L + 6) / 4; t++) {
        vec4 u = texelFetch(x_quads, clamp(q + t, 0, last));
        f[4 * t] = u.x; f[4 * t + 1] = u.y; f[4 * t + 2] = u.z; f[4 * t + 3] = u.w;
    }
    float h[TAP_WINDOW + 1];  // shift by 2, then by 1
    for (int m = 0; m <= L; m++)
        h[m] = (shift & 2) != 0 ? f[m + 2] : f[m];
    for (int m = 0; m < L; m++)
        v[m] = (shift & 1) != 0 ? h[m + 1] : h[m];
}
#endif

// g[j] = dy[i + j], j < r, i a multiple of r: r / 4 texels
void dy_run(int i, int r, out float g[8])
{
    int q = (p.dy_base + i) >> 2;
    for (int t = 0; t < r / 4; t++) {
        vec4 u = texelFetch(dy_quads, q + t);
        g[4 * t] = u.x; g[4 * t + 1] = u.y; g[4 * t + 2] = u.z; g[4 * t + 3] = u.w;
    }
}
#else
float x_at(int i) { return p.x.v[i]; }
float dy_at(int i) { return p.dy.v[i]; }
vec2 dy_pair(int i)  // i even: one aligned 64-bit word
{
    uvec2 u = unpackUint2x32(Words(p.dy).v[i / 2]);
    return vec2(uintBitsToFloat(u.x), uintBitsToFloat(u.y));
}

// v[j] = x[i + j], j < r (r = 8 or 4, a constant at each call), read as r/2 + 1
// aligned words (shifted by one when i is odd); words outside the tensor are
// clamped in (only masked pixels read them)
void x_run(int i, int r, out float v[8])
{
    int nwords = p.N * p.Ci * p.H * p.W / 2;  // H*W is even
    int odd = i & 1, wb = i >> 1;  // floor, also below 0
    float f[10];
    for (int t = 0; t <= r / 2; t++) {
        uvec2 u = unpackUint2x32(Words(p.x).v[clamp(wb + t, 0, nwords - 1)]);
        f[2 * t] = uintBitsToFloat(u.x);
        f[2 * t + 1] = uintBitsToFloat(u.y);
    }
    for (int j = 0; j < r; j++)
        v[j] = mix(f[j], f[j + 1], odd == 1);
}

// v[j] = x[i + 2j], j < r (a stride-2 row): one half of each of r aligned words
void x_run2(int i, int r, out float v[8])
{
    int nwords = p.N * p.Ci * p.H * p.W / 2;
    int odd = i & 1, wb = i >> 1;  // floor, also below 0
    for (int j = 0; j < r; j++) {
        uvec2 u = unpackUint2x32(Words(p.x).v[clamp(wb + j, 0, nwords - 1)]);
        v[j] = uintBitsToFloat(odd == 1 ? u.y : u.x);
    }
}

// g[j] = dy[i + j], j < r, i a multiple of r: r/2 aligned words
void dy_run(int i, int r, out float g[8])
{
    for (int t = 0; t < r / 2; t++) {
        uvec2 u = unpackUint2x32(Words(p.dy).v[i / 2 + t]);
        g[2 * t] = uintBitsToFloat(u.x);
        g[2 * t + 1] = uintBitsToFloat(u.y);
    }
}
#endif

// The workgroup adds its lanes' tiles 8 channels at a time: KT*8 floats a lane,
// 16 KB at 64 lanes, the shared memory every Vulkan device has; 4 at a time
// where the tile has more than 8 k, 2 at a time above 16 (the tap rows' 16 and 18).
#if KT <= 8
#define RED_CO 8
#elif KT <= 16
#define RED_CO 4
#else
#define RED_CO 2
#endif
#if CO_T % RED_CO != 0
#error "the channel tile must be whole groups of RED_CO"
#endif
shared float red[KT * RED_CO][gl_WorkGroupSize.x];

float acc[KT][CO_T];

// x values of the KT k of the block at output pixel (n, oh, ow), zero where
// the tap falls in the padding or the pixel is dead
void load_x(int n, int oh, int ow, bool live, int xo[KT], int dh[KT], int dw[KT], out float xv[KT])
{
    int xn = n * p.Ci * p.H * p.W, ihb = oh * p.stride, iwb = ow * p.stride;
    for (int t = 0; t < KT; t++) {
        int ih = ihb + dh[t], iw = iwb + dw[t];
        bool ok = live && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
        float v = x_at(ok ? xn + xo[t] + ih * p.W + iw : 0);
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
                vec2 u = dy_pair(ya + yo[c]);
                ga = u.x;
                gb = mix(0.0, u.y, blive);
            } else {
                ga = dy_at(ya + yo[c]);
                gb = dy_at(blive ? yb + yo[c] : ya + yo[c]);
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

// acc = sum over this invocation's runs of r pixels (stride 1 or 2, Wo a multiple
// of r, H*W even; r = 8, or 4 where rows are whole runs of 4 but not of 8, the
// 4x4 maps): per run and k the r x values are r consecutive floats (x_run) or
// every other of 2r-1 (x_run2), and per channel the r dy values are r
// consecutive floats (dy_run): for runs of 8 with stride 1 KT*5 + CO_T*4 loads
// (words) or KT*3 + CO_T*2 texels for 8*KT*CO_T FMAs; with stride 2 KT*8 + CO_T*4
// words or KT*5 + CO_T*2 texels (four pairs take 8*KT + 4*CO_T loads or texels:
// the texel path gains, the word path only loses the pairs' index arithmetic).
// Runs of 4 take KT*2 (stride 2: 3) + CO_T texels for 4*KT*CO_T FMAs, half the
// texels per FMA of two pairs. stride2 and r are constants at each call, so each
// copy compiles without the tests.
void accumulate_rows(bool stride2, int r, int first, int end, int xo[KT], int dh[KT], int dw[KT], int yo[CO_T])
{
    for (int t = 0; t < KT; t++)
        for (int c = 0; c < CO_T; c++)
            acc[t][c] = 0.0;
    int lanes = int(gl_WorkGroupSize.x), plane = p.Ho * p.Wo;
    int n = first / plane, oh = (first % plane) / p.Wo, ow = first % p.Wo;
    int step = r * lanes;
    int sn = step / plane, soh = (step % plane) / p.Wo, sow = step % p.Wo;
    for (int a = first; a < end; a += step) {
        int xn = n * p.Ci * p.H * p.W;
        float xv[KT][8];
        const int s = stride2 ? 2 : 1;
        for (int t = 0; t < KT; t++) {
            int ih = oh * s + dh[t], iw = ow * s + dw[t];
            float f[8];
            if (stride2)
                x_run2(xn + xo[t] + ih * p.W + iw, r, f);
            else
                x_run(xn + xo[t] + ih * p.W + iw, r, f);
            bool rowok = ih >= 0 && ih < p.H;
            for (int j = 0; j < r; j++)
                xv[t][j] = mix(0.0, f[j], rowok && iw + s * j >= 0 && iw + s * j < p.W);
        }
        int ya = n * p.Co * plane + oh * p.Wo + ow;  // a multiple of r
        for (int c = 0; c < CO_T; c++) {
            float g[8];
            dy_run(ya + yo[c], r, g);
            for (int t = 0; t < KT; t++) {
                float sum = acc[t][c];
                for (int j = 0; j < r; j++)
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

#ifdef TAP_KW
// acc = sum over this invocation's runs of r pixels, as accumulate_rows, where the
// block's k are whole rows of taps (TAP_ROWS rows of TAP_KW taps, dilation 1, every
// tap live): the taps of a row read x at one window, x[ih][iw0 + s*j + kw] for
// output j of the run and tap kw, so each row's window of s*(r-1) + KW floats is
// read once (3x3 stride 1, runs of 8: 4 texels for the row's 3 taps, where
// x_run reads 3 a tap; 4x4 stride 2: 6 for 4 taps, where x_run2 reads 5 a tap).
// The products and their order are accumulate_rows' (the same bits).
void accumulate_taps(int r, int first, int end, int xo[TAP_ROWS], int dh[TAP_ROWS], int yo[CO_T])
{
    for (int t = 0; t < KT; t++)
        for (int c = 0; c < CO_T; c++)
            acc[t][c] = 0.0;
    const int s = TAP_STRIDE, L = s * (r - 1) + TAP_KW;
    int lanes = int(gl_WorkGroupSize.x), plane = p.Ho * p.Wo;
    int n = first / plane, oh = (first % plane) / p.Wo, ow = first % p.Wo;
    int step = r * lanes;
    int sn = step / plane, soh = (step % plane) / p.Wo, sow = step % p.Wo;
    for (int a = first; a < end; a += step) {
        int xn = n * p.Ci * p.H * p.W, iw0 = ow * s - p.pad;
        float win[TAP_ROWS][TAP_WINDOW];
        for (int row = 0; row < TAP_ROWS; row++) {
            int ih = oh * s + dh[row];
            float f[TAP_WINDOW];
            x_window(xn + xo[row] + ih * p.W + iw0, L, f);
            bool rowok = ih >= 0 && ih < p.H;
            for (int m = 0; m < L; m++)
                win[row][m] = mix(0.0, f[m], rowok && iw0 + m >= 0 && iw0 + m < p.W);
        }
        int ya = n * p.Co * plane + oh * p.Wo + ow;  // a multiple of r
        for (int c = 0; c < CO_T; c++) {
            float g[8];
            dy_run(ya + yo[c], r, g);
            for (int row = 0; row < TAP_ROWS; row++)
                for (int kw = 0; kw < TAP_KW; kw++) {
                    float sum = acc[row * TAP_KW + kw][c];
                    for (int j = 0; j < r; j++)
                        sum = fma(win[row][s * j + kw], g[j], sum);
                    acc[row * TAP_KW + kw][c] = sum;
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
#endif

// part = the workgroup's sum of its lanes' acc[.][c0 .. c0+RED_CO-1], lanes in
// order. c0 is a constant at each call: acc is indexed statically (a loop over
// c0 made lavapipe compile the kernel 10x slower).
void reduce_channels(int c0, uint base, int k0, int co0, int K)
{
    const int lanes = int(gl_WorkGroupSize.x), lid = int(gl_LocalInvocationID.x);
    for (int t = 0; t < KT; t++)
        for (int c = 0; c < RED_CO; c++)
            red[t * RED_CO + c][lid] = acc[t][c0 + c];
    barrier();
    for (int i = lid; i < KT * RED_CO; i += lanes) {
        int k = k0 + i / RED_CO, co = co0 + c0 + i % RED_CO;
        float sum = 0.0;
        for (int l = 0; l < lanes; l++)
            sum += red[i][l];
        if (k < K && co < p.Co)
            p.part.v[base + uint(co * K + k)] = sum;
    }
    barrier();  // before the next channels overwrite red
}

void main()
{
    const int lanes = int(gl_WorkGroupSize.x), lid = int(gl_LocalInvocationID.x);
    int kk = p.lkh * p.lkw, K = p.Ci * kk;  // the live taps' k: part's rows
    int k0 = int(gl_WorkGroupID.x) * KT, co0 = int(gl_WorkGroupID.y) * CO_T;
    int plane = p.Ho * p.Wo;

    int chunk = int(gl_WorkGroupID.z) * p.px_per_chunk;
    int end = min(chunk + p.px_per_chunk, p.N * plane);
    bool even = (p.H * p.W) % 2 == 0, rows = p.Wo % 8 == 0 && even, rows4 = !rows && p.Wo % 4 == 0 && even;
    int yo[CO_T];  // per channel of the block: its dy plane's offset
    for (int c = 0; c < CO_T; c++)
        yo[c] = min(co0 + c, p.Co - 1) * plane;
#ifdef TAP_KW
    // per row of the block (uniform): its channel's offset, its vertical displacement
    int xo_row[TAP_ROWS], dh_row[TAP_ROWS];
    for (int row = 0; row < TAP_ROWS; row++) {
        int kr = min(k0 / TAP_KW + row, p.Ci * p.KH - 1);  // (ci, kh) in the order of k; dead rows read the last
        xo_row[row] = (kr / p.KH) * p.H * p.W;
        dh_row[row] = kr % p.KH - p.pad;
    }
    // the host takes this build for rows of whole runs of 8 or 4 only
    if (rows)
        accumulate_taps(8, chunk + 8 * lid, end, xo_row, dh_row, yo);
    else
        accumulate_taps(4, chunk + 4 * lid, end, xo_row, dh_row, yo);
#else
    // per k of the block: channel offset and tap displacement (uniform)
    int xo[KT], dh[KT], dw[KT];
    for (int t = 0; t < KT; t++) {
        int k = min(k0 + t, K - 1), tap = k % kk;
        xo[t] = (k / kk) * p.H * p.W;
        dh[t] = (p.kh0 + tap / p.lkw) * p.dil - p.pad;
        dw[t] = (p.kw0 + tap % p.lkw) * p.dil - p.pad;
    }

    if (rows && p.stride == 1)
        accumulate_rows(false, 8, chunk + 8 * lid, end, xo, dh, dw, yo);
    else if (rows && p.stride == 2)
        accumulate_rows(true, 8, chunk + 8 * lid, end, xo, dh, dw, yo);
    else if (rows4 && p.stride == 1)
        accumulate_rows(false, 4, chunk + 4 * lid, end, xo, dh, dw, yo);
    else if (rows4 && p.stride == 2)
        accumulate_rows(true, 4, chunk + 4 * lid, end, xo, dh, dw, yo);
    else if (plane % 2 == 0)
        accumulate(true, chunk + 2 * lid, end, xo, dh, dw, yo);
    else
        accumulate(false, chunk + 2 * lid, end, xo, dh, dw, yo);
#endif

    uint base = gl_WorkGroupID.z * uint(p.Co * K);
    reduce_channels(0, base, k0, co0, K);
#if CO_T > RED_CO
    reduce_channels(RED_CO, base, k0, co0, K);
#endif
#if CO_T > 2 * RED_CO
    reduce_channels(2 * RED_CO, base, k0, co0, K);
#endif
#if CO_T > 3 * RED_CO
    reduce_channels(3 * RED_CO, base, k0, co0, K);
#endif
#if CO_T > 4 * RED_CO
    reduce_channels(4 * RED_CO, base, k0, co0, K);
    reduce_channels(5 * RED_CO, base, k0, co0, K);
    reduce_channels(6 * RED_CO, base, k0, co0, K);
    reduce_channels(7 * RED_CO, base, k0, co0, K);
#endif
#if CO_T > 8 * RED_CO
#error "reduce_channels: add a call per further RED_CO channels"
#endif
}
