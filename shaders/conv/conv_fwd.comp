#version 450
// Convolution forward as an implicit GEMM:
//   y[n,co,oh,ow] (+)= b[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d]
// Each invocation owns PX output pixels and CO_T output channels: a PX x CO_T
// register tile, so every x load feeds CO_T FMAs and every weight load PX FMAs.
// Pixels are numbered over the whole batch (n, oh, ow), each lane taking a run
// of PX consecutive ones, so small maps still fill whole workgroups.
//
// Why it is shaped this way: on lavapipe (Mesa llvmpipe) a buffer load whose
// address is not built from constants and push constants only becomes a loop
// over the SIMD lanes, ~100 instructions whether the address is uniform or not,
// while an FMA is 2-3; subgroupBroadcast is such a loop too. So the kernel
// minimises loads per FMA:
// - a large tile (8 x 16 accumulators; a usual GPU GEMM thread tile);
// - the CO_T weights of a step are the same for the whole subgroup: lane i
//   loads only the pair i % 8, read as one 64-bit word (conv_pack pads each tap
//   to whole tiles, so words are aligned and in bounds), and subgroupBroadcast
//   hands the 16 floats to every lane; on lavapipe a broadcast costs about a
//   quarter of a load, on a GPU it is the usual cheap shuffle. The loop is in
//   uniform control flow (no invocation leaves early), so the subgroup is full
//   at every broadcast; subgroups smaller than 8 lanes, or workgroups that are
//   not whole subgroups, load the 8 words directly instead;
// - taps run outside, input channels inside: a tap's bounds are the same for
//   every channel, so the inner loop is a load from a clamped, always valid
//   address and a select, without branches;
// - for stride 1 with rows of whole runs, the PX inputs of a lane are PX
//   consecutive floats, read as PX/2+1 aligned 64-bit words (5 loads, not 8).
// Built twice: as above (conv_fwd), and with CONV_TEXEL defined (conv_fwd_texel),
// where x and the packed weights are read as uniform texel buffers instead, a
// float of a vec4 texelFetch costing lavapipe ~4 FMAs against ~64 through a
// buffer reference (docs/benchmarks.md, tools/bench_loads.c): x as 3 vec4
// texels per PX consecutive pixels (rows) or one R32 texel per pixel, the
// CO_T weights of a step as CO_T/4 vec4 texels per lane, without subgroups.
// Each accumulator sums the same products in the same order in both builds, but
// for the texel build's 3x3 stride-1 and 4x4 stride-2 rows (accumulate_windows: a
// window of x per kernel row, read once for the row's taps), whose order
// conv_fwd_tiled follows; the buffer build keeps taps outside there too.
// The texel build also writes y through a storage-buffer descriptor (flags & 8;
// a float stored so costs lavapipe about a third of one through a buffer
// reference, one added into about 30%), the same values.
// Grid: x = blocks of run_lanes*PX pixels over N*Ho*Wo, y = blocks of
// (lanes/run_lanes)*CO_T channels.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require  // [[unroll]] in conv_texel_steps.glsl
#include "common.glsl"

#include "conv/conv_tiles.h"
#define CO_T CONV_FWD_CO_TILE  // PAIR(0..7) below lists the CO_T / 2 weight pairs
#define PX CONV_FWD_PIXELS

layout(buffer_reference, std430, buffer_reference_align = 8) buffer Words {
    uint64_t v[];
};

layout(push_constant) uniform Params {
    Floats x;
    Words w;      // packed in tiles of CO_T output channels (CONV_PACKED_INDEX), read as pairs
    Floats b;     // bias, used when flags & 2
    Floats y;
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, co_pad;
    uint flags;   // 1: add into y, 2: add bias, 4: then y = y >= 0 ? y : slope * y,
                  // 8: y through the storage buffer (CONV_TEXEL)
    int x_base, w_base;  // CONV_TEXEL: floats from the texel views' starts to x, to w (a multiple of 4)
    float slope;  // the epilogue's (ReLU: 0, LeakyReLU: its slope)
    uint run_lanes;  // lanes of a workgroup along pixels (a power of two); the rest take further channel tiles
    int y_base;   // CONV_TEXEL: floats from the storage buffer's start to y
} p;

#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer in_floats;  // x, one float per texel
layout(set = 0, binding = 1) uniform samplerBuffer in_quads;    // x, 4 floats per texel
layout(set = 0, binding = 2) uniform samplerBuffer w_quads;   // packed weights, 4 per texel
layout(set = 0, binding = 4, std430) buffer Stored { float y_stored[]; };  // y from y_base (flags & 8)
#endif

float acc[PX][CO_T];

bool any_pixel(bool ok[PX])
{
    bool any = false;
    for (int j = 0; j < PX; j++)
        any = any || ok[j];
    return any;
}

vec2 word_pair(uint i)
{
    uvec2 u = unpackUint2x32(p.w.v[i]);
    return vec2(uintBitsToFloat(u.x), uintBitsToFloat(u.y));
}

#ifdef CONV_TEXEL
#define C_T CO_T
#include "conv/conv_texel_steps.glsl"

// acc = sum over taps and input channels, reading texels; rows is a constant
// at each call, so each copy compiles without the test.
void accumulate_texel(bool rows, int ih0[PX], int iw0[PX], uint xb[PX], int co0)
{
    int xplane = p.H * p.W;
    int last_quad = (p.x_base + p.N * p.Ci * xplane - 1) >> 2;
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CO_T; c++)
            acc[j][c] = 0.0;

    for (int kh = 0; kh < p.KH; kh++) {
        for (int kw = 0; kw < p.KW; kw++) {
            int off[PX];
            bool ok[PX];
            for (int j = 0; j < PX; j++) {
                int ih = ih0[j] + kh * p.dil, iw = iw0[j] + kw * p.dil;
                ok[j] = ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
                off[j] = p.x_base + int(xb[j]) + (ok[j] ? ih * p.W + iw : 0);
            }
            // rows: the PX pixels read x[g .. g+PX-1]: texels g>>2 .. (g>>2)+2, shifted by g&3
            int g = p.x_base + int(xb[0]) + (ih0[0] + kh * p.dil) * p.W + iw0[0] + kw * p.dil;  // may be < 0
            if (!any_pixel(ok))
                continue;  // a tap wholly in the padding (dilated taps on small maps): adds only zeros
            int wq = (p.w_base + CONV_PACKED_INDEX(co0, 0, kh * p.KW + kw, p.KH * p.KW, p.Ci, CO_T)) / 4;
            // Two input channels a round: on lavapipe each round of a loop writes
            // the sums it carries through the lanes' mask, so halving the rounds
            // halves those writes (the large layers' forward ~14% faster,
            // docs/benchmarks.md), and channel_pair takes each sum's two products
            // back to back; the same sums in the same order.
            int ci = 0;
            for (; ci + 1 < p.Ci; ci += 2)
                channel_pair(rows, g, off, wq, xplane, last_quad, ok);
            if (ci < p.Ci)
                channel_step(rows, g, off, wq, xplane, last_quad, ok);
        }
    }
}

// The row windows: 3x3 kernels at stride 1 and 4x4 at stride 2 (dilation 1, whole
// runs of PX in a row). The taps of a kernel row read one row of x at shifted places,
// so each channel's row is read once, as a window of s * (PX - 1) + taps inputs (3x3:
// 10 in 4 texels, where a tap's run is 3; 4x4 at stride 2: 18 in 6, where a tap's PX
// single texels are 8), and the row's taps take their inputs from it. The sums then
// run over kernel rows, pairs of channels, the row's taps, the pair's two channels
// (channel_pair's back-to-back products); an odd last channel alone, its taps in
// order. conv_fwd_tiled sums in this order for these shapes (window_order), to give
// the same bits. taps and s are constants at each call.
void accumulate_windows(int taps, int s, int ih0[PX], int iw0[PX], uint xb[PX], int co0)
{
    int xplane = p.H * p.W, len = s * (PX - 1) + taps;
    int last_quad = (p.x_base + p.N * p.Ci * xplane - 1) >> 2;
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CO_T; c++)
            acc[j][c] = 0.0;
    for (int kh = 0; kh < taps; kh++) {
        int ih = ih0[0] + kh;
        bool rowok = ih >= 0 && ih < p.H;
        bool ok[WINDOW_MAX];
        for (int m = 0; m < len; m++)
            ok[m] = rowok && iw0[0] + m >= 0 && iw0[0] + m < p.W;
        int g = p.x_base + int(xb[0]) + ih * p.W + iw0[0];  // may be < 0 (masked)
        int wq[4];
        for (int kw = 0; kw < taps; kw++)
            wq[kw] = (p.w_base + CONV_PACKED_INDEX(co0, 0, kh * taps + kw, taps * taps, p.Ci, CO_T)) / 4;
        int ci = 0;
        for (; ci + 1 < p.Ci; ci += 2) {
            float a[WINDOW_MAX], b[WINDOW_MAX];
            window_at(g, len, last_quad, ok, a);
            window_at(g + xplane, len, last_quad, ok, b);
            row_pair(false, taps, s, a, b, wq);
            g += 2 * xplane;
        }
        if (ci < p.Ci) {
            float a[WINDOW_MAX];
            window_at(g, len, last_quad, ok, a);
            row_single(false, taps, s, a, wq);
        }
    }
}
#else
// acc = sum over taps and input channels. coop and rows are constants at each
// call, so each copy compiles without the tests.
void accumulate(bool coop, bool rows, int ih0[PX], int iw0[PX], uint xb[PX], int co0)
{
    uint xplane = uint(p.H * p.W);
    int nwords = p.N * p.Ci * p.H * p.W / 2;  // rows: H*W is even
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CO_T; c++)
            acc[j][c] = 0.0;

    uint wstep = uint(CO_T / 2);  // words per input channel: the tile's next row (CONV_PACKED_INDEX)
    for (int kh = 0; kh < p.KH; kh++) {
        for (int kw = 0; kw < p.KW; kw++) {
            uint off[PX];
            bool ok[PX];
            int wb = 0, odd = 0;
            if (rows) {
                // the PX pixels are x[base .. base+PX-1]: words wb .. wb+PX/2, shifted by odd
                int ih = ih0[0] + kh * p.dil, iw = iw0[0] + kw * p.dil;
                for (int j = 0; j < PX; j++)
                    ok[j] = ih >= 0 && ih < p.H && iw + j >= 0 && iw + j < p.W;
                int base = int(xb[0]) + ih * p.W + iw;
                odd = base & 1;
                wb = base >> 1;  // floor: base may be negative, where / is undefined in GLSL
            } else {
                for (int j = 0; j < PX; j++) {
                    int ih = ih0[j] + kh * p.dil, iw = iw0[j] + kw * p.dil;
                    ok[j] = ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
                    off[j] = xb[j] + (ok[j] ? uint(ih * p.W + iw) : 0u);
                }
            }
            if (!coop && !any_pixel(ok))
                continue;  // as in accumulate_texel (with coop the subgroup must stay together)
            uint wi = uint(CONV_PACKED_INDEX(co0, 0, kh * p.KW + kw, p.KH * p.KW, p.Ci, CO_T) / 2);
            for (int ci = 0; ci < p.Ci; ci++) {
                float xv[PX];
                if (rows) {
                    // words outside the tensor are clamped in: they only feed masked pixels
                    float f[PX + 2];
                    for (int i = 0; i <= PX / 2; i++) {
                        uvec2 u = unpackUint2x32(Words(p.x).v[clamp(wb + i, 0, nwords - 1)]);
                        f[2 * i] = uintBitsToFloat(u.x);
                        f[2 * i + 1] = uintBitsToFloat(u.y);
                    }
                    for (int j = 0; j < PX; j++)
                        xv[j] = mix(0.0, mix(f[j], f[j + 1], odd == 1), ok[j]);
                    wb += int(xplane / 2u);
                } else {
                    for (int j = 0; j < PX; j++) {
                        float v = p.x.v[off[j]];
                        xv[j] = mix(0.0, v, ok[j]);
                        off[j] += xplane;
                    }
                }
                // this lane's weight pair (only used when coop)
                vec2 mine = coop ? word_pair(wi + (gl_SubgroupInvocationID & 7u)) : vec2(0.0);
#define PAIR(q) {                                                                   \
    vec2 w2 = coop ? vec2(subgroupBroadcast(mine.x, q), subgroupBroadcast(mine.y, q)) \
                   : word_pair(wi + uint(q));                                       \
    for (int j = 0; j < PX; j++) {                                                  \
        acc[j][2 * q] = fma(xv[j], w2.x, acc[j][2 * q]);                            \
        acc[j][2 * q + 1] = fma(xv[j], w2.y, acc[j][2 * q + 1]);                    \
    } }
                PAIR(0) PAIR(1) PAIR(2) PAIR(3) PAIR(4) PAIR(5) PAIR(6) PAIR(7)
#undef PAIR
                wi += wstep;
            }
        }
    }
}
#endif

// y (+)= the tile plus bias, then the activation; through the storage buffer
// (stored) or the buffer reference. stored is a constant at each call, so each
// copy compiles without the test.
void store_tile(bool stored, int run, int total, bool live, int co0)
{
    int plane = p.Ho * p.Wo;
    float bias[CO_T];
    for (int c = 0; c < CO_T; c++)
        bias[c] = (p.flags & 2u) != 0u && co0 + c < p.Co ? p.b.v[co0 + c] : 0.0;
    for (int j = 0; j < PX; j++) {
        int pix = run + j;
        if (pix >= total || !live)
            continue;
        int n = pix / plane, r = pix % plane;
        for (int c = 0; c < CO_T; c++) {
            int co = co0 + c;
            if (co >= p.Co)
                break;
            float v = acc[j][c] + bias[c];
            uint yi = uint(n * p.Co + co) * uint(plane) + uint(r);
#ifdef CONV_TEXEL
            if (stored) {
                uint si = uint(p.y_base) + yi;
                if ((p.flags & 1u) != 0u)
                    v += y_stored[si];
                if ((p.flags & 4u) != 0u)
                    v = max(v, 0.0) + p.slope * min(v, 0.0);
                y_stored[si] = v;
                continue;
            }
#endif
            if ((p.flags & 1u) != 0u)
                v += p.y.v[yi];
            if ((p.flags & 4u) != 0u)  // activation epilogue (eval-mode fused conv)
                v = max(v, 0.0) + p.slope * min(v, 0.0);  // +0 for ReLU, as max(v, 0)
            p.y.v[yi] = v;
        }
    }
}

void main()
{
    const uint lanes = gl_WorkGroupSize.x;
    int plane = p.Ho * p.Wo, total = p.N * plane;
    uint xplane = uint(p.H * p.W);

    // A workgroup covers run_lanes runs of PX pixels times lanes/run_lanes tiles of
    // CO_T channels: on maps too small to give every lane its own run (a 4x4 map
    // at batch 1 is 2 runs), the other lanes take further channel tiles instead of
    // idling. A lane past the last tile computes the last one again, unstored.
    uint lane = gl_LocalInvocationID.x, tiles_per_group = lanes / p.run_lanes;
    int tiles = p.co_pad / CO_T;
    int tile = int(gl_WorkGroupID.y * tiles_per_group + lane / p.run_lanes);
    bool live = tile < tiles;
    int co0 = min(tile, tiles - 1) * CO_T;

    int ih0[PX], iw0[PX];
    uint xb[PX];
    int run = int(gl_WorkGroupID.x * p.run_lanes + lane % p.run_lanes) * PX;  // first pixel
    for (int j = 0; j < PX; j++) {
        int q = min(run + j, total - 1);  // dead pixels compute a real one, never stored
        int n = q / plane, r = q % plane;
        ih0[j] = (r / p.Wo) * p.stride - p.pad;
        iw0[j] = (r % p.Wo) * p.stride - p.pad;
        xb[j] = uint(n * p.Ci) * xplane;
    }

#ifdef CONV_TEXEL
    // rows: the PX pixels of a lane read PX consecutive inputs at every tap: PX
    // neighbours of one row, or whole rows of a map as wide as its input (a 4x4
    // map with padding 1 at 3x3: two rows a lane), a whole number of runs a map
    // the row windows (conv_fwd_tiled's window_order tests the same conditions)
    if (p.stride == 1 && p.KH == 3 && p.KW == 3 && p.dil == 1 && p.Wo % PX == 0)
        accumulate_windows(3, 1, ih0, iw0, xb, co0);
    else if (p.stride == 2 && p.KH == 4 && p.KW == 4 && p.dil == 1 && p.Wo % PX == 0)
        accumulate_windows(4, 2, ih0, iw0, xb, co0);
    else if (p.stride == 1 && (p.Wo % PX == 0 || (p.Wo == p.W && PX % p.Wo == 0 && plane % PX == 0)))
        accumulate_texel(true, ih0, iw0, xb, co0);
    else
        accumulate_texel(false, ih0, iw0, xb, co0);
#else
    // rows: the PX pixels of a lane are PX neighbours of one row and read PX
    // consecutive floats per tap, fetched as PX/2+1 aligned 64-bit words
    bool rows = p.stride == 1 && p.Wo % PX == 0 && (p.H * p.W) % 2 == 0;
    // (the broadcast weights are one tile's: only when every lane has the same tile)
    bool coop = gl_SubgroupSize >= 8u && lanes % gl_SubgroupSize == 0u && p.run_lanes == lanes;
    if (coop && rows)
        accumulate(true, true, ih0, iw0, xb, co0);
    else if (coop)
        accumulate(true, false, ih0, iw0, xb, co0);
    else if (rows)
        accumulate(false, true, ih0, iw0, xb, co0);
    else
        accumulate(false, false, ih0, iw0, xb, co0);
#endif

#ifdef CONV_TEXEL
    if ((p.flags & 8u) != 0u)
        store_tile(true, run, total, live, co0);
    else
#endif
        store_tile(false, run, total, live, co0);
}
