// Convolution forward, 3x3 kernels at stride 1 and dilation 1 only (any padding):
//   y[n,co,oh,ow] (+)= b[co] + sum_{ci,kh,kw} w[co,ci,kh,kw] * x[n,ci,oh-p+kh, ow-p+kw]
// A shader of its own (not a branch of conv_fwd), so that a pipeline compiles
// only the one code path it runs; conv.c sizes the grid from the same tile
// numbers (conv_tiles.h).
//
// Why: on lavapipe a buffer load costs ~100 instructions (a loop over the SIMD
// lanes, see conv_fwd.comp) against 2-3 for an FMA. Here each invocation owns a
// PR x PX patch of outputs, input channels run outside and the 9 taps inside,
// so each row of the (PR+2) x (PX+2) input window is loaded once per channel
// (PX/2+2 64-bit words) and feeds 3 taps of up to 3 output rows. A tap's CO_T
// weights are the same for the whole subgroup: each lane loads one pair as a
// 64-bit word and subgroupBroadcast hands them around (conv_fwd does the same).
// The tile is kept at 2 x 8 x 8 = 128 accumulators on purpose: llvmpipe's
// compile time grows much faster than the tile (CPU seconds to create and first
// run the pipeline: 2.0 for 2x8x8, 7.1 for 4x8x8, 17 for 2x8x16, against 1.3 for
// conv_fwd), see docs/benchmarks.md.
//
// Requirements, checked by conv.c: the subgroup holds at least CO_T/2 lanes and
// the workgroup is whole subgroups (the loops are uniform, so every broadcast
// sees a full subgroup: dead invocations compute a real patch, never stored),
// and x has an even number of elements (words are clamped into the tensor).
// Grid: x = blocks of lanes patches over N * ceil(Ho/PR) * ceil(Wo/PX), y = blocks of CO_T channels.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "common.glsl"
#include "conv/conv_tiles.h"
#define PR CONV_FWD3X3_ROWS      // output rows per invocation
#define PX CONV_FWD3X3_COLS      // output columns per invocation (even)
#define CO_T CONV_FWD3X3_CO_TILE // output channels per invocation (8 or 16)

layout(buffer_reference, std430, buffer_reference_align = 8) buffer Words {
    uint64_t v[];
};

// the same block as conv_fwd (conv.c's conv_push)
layout(push_constant) uniform Params {
    Floats x;
    Words w;      // packed [Ci*9][co_pad] floats, read as pairs
    Floats b;     // bias, used when flags & 2
    Floats y;
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, co_pad;
    uint flags;   // 1: add into y, 2: add bias
} p;

float acc[PR][PX][CO_T];

vec2 word_pair(uint i)
{
    uvec2 u = unpackUint2x32(p.w.v[i]);
    return vec2(uintBitsToFloat(u.x), uintBitsToFloat(u.y));
}

void main()
{
    const uint lanes = gl_WorkGroupSize.x;
    int co0 = int(gl_WorkGroupID.y) * CO_T;
    int tiles_w = (p.Wo + PX - 1) / PX, tiles_h = (p.Ho + PR - 1) / PR;
    int per_image = tiles_w * tiles_h, total = p.N * per_image;
    int t = int(gl_WorkGroupID.x * lanes + gl_LocalInvocationID.x);
    int q = min(t, total - 1);  // dead invocations compute a real patch, never stored
    int n = q / per_image, r = q % per_image;
    int oh0 = (r / tiles_w) * PR, ow0 = (r % tiles_w) * PX;
    int ih0 = oh0 - p.pad, iw0 = ow0 - p.pad;
    int plane = p.H * p.W;
    int nwords = p.N * p.Ci * plane / 2;

    bool okc[PX + 2], okr[PR + 2];
    int rowbase[PR + 2];
    [[unroll]] for (int j = 0; j < PX + 2; j++)
        okc[j] = iw0 + j >= 0 && iw0 + j < p.W;
    [[unroll]] for (int i = 0; i < PR + 2; i++) {
        okr[i] = ih0 + i >= 0 && ih0 + i < p.H;
        rowbase[i] = n * p.Ci * plane + (ih0 + i) * p.W + iw0;
    }
    [[unroll]] for (int i = 0; i < PR; i++)
        [[unroll]] for (int j = 0; j < PX; j++)
            [[unroll]] for (int c = 0; c < CO_T; c++)
                acc[i][j][c] = 0.0;

    uint wtap = uint(p.co_pad / 2);  // words per tap
    // this lane's weight pair of each tap: (ci, tap) starts at word ((ci*9 + tap)*co_pad + co0)/2
    uint wi = uint(co0 / 2) + (gl_SubgroupInvocationID & uint(CO_T / 2 - 1));
    for (int ci = 0; ci < p.Ci; ci++) {
        float win[PR + 2][PX + 2];
        [[unroll]] for (int i = 0; i < PR + 2; i++) {
            // words outside the tensor are clamped in: they only feed masked values
            int base = rowbase[i] + ci * plane;
            bool odd = (base & 1) != 0;
            int wb = base >> 1;  // floor: base may be negative, where / is undefined in GLSL
            float f[PX + 4];
            [[unroll]] for (int k = 0; k < PX / 2 + 2; k++) {
                uvec2 u = unpackUint2x32(Words(p.x).v[clamp(wb + k, 0, nwords - 1)]);
                f[2 * k] = uintBitsToFloat(u.x);
                f[2 * k + 1] = uintBitsToFloat(u.y);
            }
            [[unroll]] for (int j = 0; j < PX + 2; j++)
                win[i][j] = okr[i] && okc[j] ? (odd ? f[j + 1] : f[j]) : 0.0;
        }
#define PAIR(q, kh, kw) {                                                       \
    vec2 w2 = vec2(subgroupBroadcast(mine.x, q), subgroupBroadcast(mine.y, q)); \
    [[unroll]] for (int i = 0; i < PR; i++)                                     \
        [[unroll]] for (int j = 0; j < PX; j++) {                               \
            acc[i][j][2 * q] = fma(win[i + kh][j + kw], w2.x, acc[i][j][2 * q]);         \
            acc[i][j][2 * q + 1] = fma(win[i + kh][j + kw], w2.y, acc[i][j][2 * q + 1]); \
        } }
#if CO_T == 8
#define TAP(kh, kw) {                                                           \
    vec2 mine = word_pair(wi + uint(kh * 3 + kw) * wtap);                       \
    PAIR(0, kh, kw) PAIR(1, kh, kw) PAIR(2, kh, kw) PAIR(3, kh, kw) }
#elif CO_T == 16
#define TAP(kh, kw) {                                                           \
    vec2 mine = word_pair(wi + uint(kh * 3 + kw) * wtap);                       \
    PAIR(0, kh, kw) PAIR(1, kh, kw) PAIR(2, kh, kw) PAIR(3, kh, kw)             \
    PAIR(4, kh, kw) PAIR(5, kh, kw) PAIR(6, kh, kw) PAIR(7, kh, kw) }
#else
#error CO_T must be 8 or 16
#endif
        TAP(0, 0) TAP(0, 1) TAP(0, 2)
        TAP(1, 0) TAP(1, 1) TAP(1, 2)
        TAP(2, 0) TAP(2, 1) TAP(2, 2)
#undef TAP
#undef PAIR
        wi += 9u * wtap;
    }

    if (t >= total)
        return;
    int oplane = p.Ho * p.Wo;
    for (int c = 0; c < CO_T; c++) {
        int co = co0 + c;
        if (co >= p.Co)
            break;
        float bias = (p.flags & 2u) != 0u ? p.b.v[co] : 0.0;
        for (int i = 0; i < PR; i++) {
            if (oh0 + i >= p.Ho)
                break;
            uint yi = uint(n * p.Co + co) * uint(oplane) + uint((oh0 + i) * p.Wo + ow0);
            for (int j = 0; j < PX; j++) {
                if (ow0 + j >= p.Wo)
                    break;
                float v = acc[i][j][c] + bias;
                if ((p.flags & 1u) != 0u)
                    v += p.y.v[yi + uint(j)];
                p.y.v[yi + uint(j)] = v;
            }
        }
    }
}
