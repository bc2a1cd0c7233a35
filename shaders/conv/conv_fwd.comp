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
// Grid: x = blocks of lanes*PX pixels over N*Ho*Wo, y = blocks of CO_T channels.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "common.glsl"
#include "conv_tiles.h"

#define CO_T FWD_CO_TILE  // PAIR(0..7) below lists the CO_T / 2 weight pairs
#define PX FWD_PIXELS
#define PR FWD_PATCH_ROWS

layout(buffer_reference, std430, buffer_reference_align = 8) buffer Words {
    uint64_t v[];
};

layout(push_constant) uniform Params {
    Floats x;
    Words w;      // packed [Ci*KH*KW][co_pad] floats, read as pairs
    Floats b;     // bias, used when flags & CONV_FLAG_BIAS
    Floats y;
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, co_pad;
    uint flags;   // CONV_FLAG_*
} p;

float acc[PX][CO_T];

vec2 word_pair(uint i)
{
    uvec2 u = unpackUint2x32(p.w.v[i]);
    return vec2(uintBitsToFloat(u.x), uintBitsToFloat(u.y));
}

// acc = sum over taps and input channels. coop and rows are constants at each
// call, so each copy compiles without the tests.
void accumulate(bool coop, bool rows, int ih0[PX], int iw0[PX], uint xb[PX], int co0)
{
    uint xplane = uint(p.H * p.W);
    int nwords = p.N * p.Ci * p.H * p.W / 2;  // rows: H*W is even
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CO_T; c++)
            acc[j][c] = 0.0;

    uint wstep = uint(p.KH * p.KW * p.co_pad / 2);  // words per input channel
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
            uint wi = uint(((kh * p.KW + kw) * p.co_pad + co0) / 2);
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

// The 3x3 stride-1 path (flags & CONV_FLAG_PATCH; conv.c decides, since the grid
// depends on it): each invocation owns a patch of PR rows x PX columns and CO_T
// channels. Input channels run outside and the 9 taps inside, so each input
// row of the patch's (PR+2) x (PX+2) window is loaded once per channel, as 6
// 64-bit words, and serves 3 taps of up to 3 output rows: 36 loads feed
// PR*PX*CO_T*9 = 4608 FMAs, where the run path above spends 45 loads on 1152.
// Every array index is a constant once the loops are unrolled (the taps are
// written out), so the window and accumulators stay in registers or the stack.
float pacc[PR][PX][CO_T];

void accumulate_patch(bool coop, int n, int oh0, int ow0, int co0)
{
    uint xplane = uint(p.H * p.W);
    int nwords = p.N * p.Ci * p.H * p.W / 2;  // H*W is even on this path
    for (int r = 0; r < PR; r++)
        for (int j = 0; j < PX; j++)
            for (int c = 0; c < CO_T; c++)
                pacc[r][j][c] = 0.0;

    int ih0 = oh0 - p.pad, iw0 = ow0 - p.pad;
    bool okc[PX + 2], okr[PR + 2];
    for (int j = 0; j < PX + 2; j++)
        okc[j] = iw0 + j >= 0 && iw0 + j < p.W;
    int wb[PR + 2];
    bool odd[PR + 2];
    for (int i = 0; i < PR + 2; i++) {
        okr[i] = ih0 + i >= 0 && ih0 + i < p.H;
        int base = n * p.Ci * p.H * p.W + (ih0 + i) * p.W + iw0;
        odd[i] = (base & 1) != 0;
        wb[i] = base >> 1;  // floor: base may be negative, where / is undefined in GLSL
    }
    uint wtap = uint(p.co_pad / 2);         // words per tap
    uint wi = uint(co0 / 2);                // words of (ci, tap 0)
    for (int ci = 0; ci < p.Ci; ci++) {
        float win[PR + 2][PX + 2];
        for (int i = 0; i < PR + 2; i++) {
            // words outside the tensor are clamped in: they only feed masked values
            float f[PX + 4];
            for (int k = 0; k < PX / 2 + 2; k++) {
                uvec2 u = unpackUint2x32(Words(p.x).v[clamp(wb[i] + k, 0, nwords - 1)]);
                f[2 * k] = uintBitsToFloat(u.x);
                f[2 * k + 1] = uintBitsToFloat(u.y);
            }
            for (int j = 0; j < PX + 2; j++)
                win[i][j] = mix(0.0, odd[i] ? f[j + 1] : f[j], okr[i] && okc[j]);
            wb[i] += int(xplane / 2u);
        }
#define PATCH_PAIR(q, kh, kw) {                                                                \
    vec2 w2 = coop ? vec2(subgroupBroadcast(mine.x, q), subgroupBroadcast(mine.y, q))   \
                   : word_pair(wt + uint(q));                                         \
    for (int r = 0; r < PR; r++)                                                      \
        for (int j = 0; j < PX; j++) {                                                \
            pacc[r][j][2 * q] = fma(win[r + kh][j + kw], w2.x, pacc[r][j][2 * q]);    \
            pacc[r][j][2 * q + 1] = fma(win[r + kh][j + kw], w2.y, pacc[r][j][2 * q + 1]); \
        } }
#define PATCH_TAP(kh, kw) {                                                            \
    uint wt = wi + uint(kh * 3 + kw) * wtap;                                          \
    vec2 mine = coop ? word_pair(wt + (gl_SubgroupInvocationID & 7u)) : vec2(0.0);    \
    PATCH_PAIR(0, kh, kw) PATCH_PAIR(1, kh, kw) PATCH_PAIR(2, kh, kw)                 \
    PATCH_PAIR(3, kh, kw) PATCH_PAIR(4, kh, kw) PATCH_PAIR(5, kh, kw)                 \
    PATCH_PAIR(6, kh, kw) PATCH_PAIR(7, kh, kw) }
        PATCH_TAP(0, 0) PATCH_TAP(0, 1) PATCH_TAP(0, 2)
        PATCH_TAP(1, 0) PATCH_TAP(1, 1) PATCH_TAP(1, 2)
        PATCH_TAP(2, 0) PATCH_TAP(2, 1) PATCH_TAP(2, 2)
#undef PATCH_TAP
#undef PATCH_PAIR
        wi += 9u * wtap;
    }
}

void store_patch(int n, int oh0, int ow0, int co0)
{
    int plane = p.Ho * p.Wo;
    for (int c = 0; c < CO_T; c++) {
        int co = co0 + c;
        if (co >= p.Co)
            break;
        float bias = (p.flags & CONV_FLAG_BIAS) != 0u ? p.b.v[co] : 0.0;
        for (int r = 0; r < PR; r++) {
            if (oh0 + r >= p.Ho)
                break;
            uint yi = uint(n * p.Co + co) * uint(plane) + uint((oh0 + r) * p.Wo + ow0);
            for (int j = 0; j < PX; j++) {
                float v = pacc[r][j][c] + bias;
                if ((p.flags & CONV_FLAG_ACCUMULATE) != 0u)
                    v += p.y.v[yi + uint(j)];
                p.y.v[yi + uint(j)] = v;
            }
        }
    }
}

void main_patch()
{
    const uint lanes = gl_WorkGroupSize.x;
    int co0 = int(gl_WorkGroupID.y) * CO_T;
    int tiles_w = p.Wo / PX, tiles_h = (p.Ho + PR - 1) / PR;
    int total = p.N * tiles_h * tiles_w;
    int t = int(gl_WorkGroupID.x * lanes + gl_LocalInvocationID.x);
    bool live = t < total;
    int q = min(t, total - 1);  // dead invocations compute a real patch, never stored
    int n = q / (tiles_h * tiles_w), r = q % (tiles_h * tiles_w);
    int oh0 = (r / tiles_w) * PR, ow0 = (r % tiles_w) * PX;
    bool coop = gl_SubgroupSize >= 8u && lanes % gl_SubgroupSize == 0u;
    if (coop)
        accumulate_patch(true, n, oh0, ow0, co0);
    else
        accumulate_patch(false, n, oh0, ow0, co0);
    if (live)
        store_patch(n, oh0, ow0, co0);
}

void main()
{
    if ((p.flags & CONV_FLAG_PATCH) != 0u) {
        main_patch();
        return;
    }
    const uint lanes = gl_WorkGroupSize.x;
    int plane = p.Ho * p.Wo, total = p.N * plane;
    int co0 = int(gl_WorkGroupID.y) * CO_T;
    uint xplane = uint(p.H * p.W);

    int ih0[PX], iw0[PX];
    uint xb[PX];
    int run = int(gl_WorkGroupID.x * lanes + gl_LocalInvocationID.x) * PX;  // first pixel
    for (int j = 0; j < PX; j++) {
        int q = min(run + j, total - 1);  // dead pixels compute a real one, never stored
        int n = q / plane, r = q % plane;
        ih0[j] = (r / p.Wo) * p.stride - p.pad;
        iw0[j] = (r % p.Wo) * p.stride - p.pad;
        xb[j] = uint(n * p.Ci) * xplane;
    }

    // rows: the PX pixels of a lane are PX neighbours of one row and read PX
    // consecutive floats per tap, fetched as PX/2+1 aligned 64-bit words
    bool rows = p.stride == 1 && p.Wo % PX == 0 && (p.H * p.W) % 2 == 0;
    bool coop = gl_SubgroupSize >= 8u && lanes % gl_SubgroupSize == 0u;
    if (coop && rows)
        accumulate(true, true, ih0, iw0, xb, co0);
    else if (coop)
        accumulate(true, false, ih0, iw0, xb, co0);
    else if (rows)
        accumulate(false, true, ih0, iw0, xb, co0);
    else
        accumulate(false, false, ih0, iw0, xb, co0);

    float bias[CO_T];
    for (int c = 0; c < CO_T; c++)
        bias[c] = (p.flags & CONV_FLAG_BIAS) != 0u && co0 + c < p.Co ? p.b.v[co0 + c] : 0.0;
    for (int j = 0; j < PX; j++) {
        int pix = run + j;
        if (pix >= total)
            continue;
        int n = pix / plane, r = pix % plane;
        for (int c = 0; c < CO_T; c++) {
            int co = co0 + c;
            if (co >= p.Co)
                break;
            float v = acc[j][c] + bias[c];
            uint yi = uint(n * p.Co + co) * uint(plane) + uint(r);
            if ((p.flags & CONV_FLAG_ACCUMULATE) != 0u)
                v += p.y.v[yi];
            p.y.v[yi] = v;
        }
    }
}
