#version 450
// Gradient of a convolution with respect to its input (also the forward pass of
// a transposed convolution):
//   dx[n,ci,ih,iw] (+)= b[ci] + sum over taps (kh,kw) and co with ih = oh*s - p + kh*d,
//                       iw = ow*s - p + kw*d of w[co,ci,kh,kw] * dy[n,co,oh,ow]
// Input pixels are split by phase (ih mod s, iw mod s): within a phase the taps
// that land on the output grid are the same for every pixel, so the tap test is
// uniform and no stride-s^2 waste is spent on taps that miss; oh = ih/s + const
// for a tap, so no per-pixel division either.
//
// Shaped like conv_fwd (see the reasons there): each invocation owns a PX x CI_T
// register tile, pixels of one phase are numbered over the whole batch, each
// lane loads one 64-bit pair of the step's weights (conv_pack pads to whole
// CI_T tiles) and subgroupBroadcast shares them (plain loads when subgroups are
// under 8 lanes or the workgroup is not whole subgroups), and taps run outside,
// output channels inside, so the inner loop is a load from a clamped address,
// a select and FMAs. Consecutive pixels of a phase row read consecutive dy, so
// when a phase's rows hold whole runs of PX pixels the lane reads its PX dy
// values as PX/2+1 aligned 64-bit words.
// Built twice, as conv_fwd is: with CONV_TEXEL defined (conv_bwd_data_texel) dy
// and the packed weights are read as uniform texel buffers, dy as 3 vec4 texels
// per PX consecutive pixels (rows) or one R32 texel per pixel, the CI_T weights
// of a step as CI_T/4 vec4 texels per lane; the sums are the same, in the same order,
// but for the texel build's 3x3 stride-1 and 4x4 stride-2 rows (accumulate_windows: one
// window of dy per kernel row for its taps), whose order conv_bwd_data_tiled follows.
// The texel build also writes dx through a storage-buffer descriptor (flags & 8),
// as conv_fwd writes y: the same values.
// Built a third time, as a texel build with CONV_BWD_DATA_SMALL_CI defined, with tiles of 4
// channels for inputs of at most 4 (conv_bwd_data_texel_small_ci).
// Grid: x = blocks of run_lanes*PX pixels over N*ceil(H/s)*ceil(W/s), y = blocks of
//       (lanes/run_lanes)*CI_T channels, z = phase.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require  // [[unroll]] in conv_texel_steps.glsl
#include "common.glsl"

#include "conv/conv_tiles.h"
#ifdef CONV_BWD_DATA_SMALL_CI
// The texel build for input gradients of at most 4 channels (conv_bwd_data_texel_small_ci: the
// first layer's 3): a 16-channel tile would spend 13 of its 16 FMAs a step on padding.
#ifndef CONV_TEXEL
#error "the small-channel build is a texel build (the word path's PAIR list is for 16 channels)"
#endif
#define CI_T CONV_BWD_DATA_SMALL_CI_TILE
#else
#define CI_T CONV_BWD_DATA_CI_TILE  // PAIR(0..7) below lists the CI_T / 2 weight pairs
#endif
#define PX CONV_BWD_DATA_PIXELS

layout(buffer_reference, std430, buffer_reference_align = 8) buffer Words {
    uint64_t v[];
};

layout(push_constant) uniform Params {
    Floats dy;    // read as Words when rows
    Words w;      // packed in tiles of CI_T input channels (CONV_PACKED_INDEX), read as pairs
    Floats b;     // bias over dx's channels, used when flags & 2
    Floats dx;
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, ci_pad;
    uint flags;   // 1: add into dx, 2: add bias, 4: then dx = dx >= 0 ? dx : slope * dx,
                  // 8: dx through the storage buffer (CONV_TEXEL)
    int dy_base, w_base;  // CONV_TEXEL: floats from the texel views' starts to dy, to w (a multiple of 4)
    float slope;  // the epilogue's (ReLU: 0, LeakyReLU: its slope)
    uint run_lanes;  // lanes of a workgroup along pixels (a power of two); the rest take further channel tiles
    int dx_base;  // CONV_TEXEL: floats from the storage buffer's start to dx
} p;

#ifdef CONV_TEXEL
layout(set = 0, binding = 0) uniform samplerBuffer in_floats;  // dy, one float per texel
layout(set = 0, binding = 1) uniform samplerBuffer in_quads;    // dy, 4 floats per texel
layout(set = 0, binding = 2) uniform samplerBuffer w_quads;    // packed weights, 4 per texel
layout(set = 0, binding = 4, std430) buffer Stored { float dx_stored[]; };  // dx from dx_base (flags & 8)
#endif

float acc[PX][CI_T];

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
#define C_T CI_T
#include "conv/conv_texel_steps.glsl"

// acc = sum over the taps of phase (ph, pw) and output channels, reading
// texels; rows is a constant at each call, so each copy compiles without the test.
void accumulate_texel(bool rows, int ph, int pw, int qi[PX], int qj[PX], uint yb[PX], int ci0)
{
    int s = p.stride;
    int yplane = p.Ho * p.Wo;
    int last_quad = (p.dy_base + p.N * p.Co * yplane - 1) >> 2;
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CI_T; c++)
            acc[j][c] = 0.0;

    // lifted tap offsets: see accumulate below
    int lift_h = s * ((p.KH * p.dil) / s + 1), lift_w = s * ((p.KW * p.dil) / s + 1);
    for (int kh = 0; kh < p.KH; kh++) {
        int th = ph + p.pad - kh * p.dil + lift_h;  // > 0
        if (th % s != 0)
            continue;
        int dh = th / s - lift_h / s;  // oh - ih/s for this tap
        for (int kw = 0; kw < p.KW; kw++) {
            int tw = pw + p.pad - kw * p.dil + lift_w;
            if (tw % s != 0)
                continue;
            int dw = tw / s - lift_w / s;
            int off[PX];
            bool ok[PX];
            for (int j = 0; j < PX; j++) {
                int oh = qi[j] + dh, ow = qj[j] + dw;
                ok[j] = oh >= 0 && oh < p.Ho && ow >= 0 && ow < p.Wo;
                off[j] = p.dy_base + int(yb[j]) + (ok[j] ? oh * p.Wo + ow : 0);
            }
            // rows: the PX pixels read dy[g .. g+PX-1]: texels g>>2 .. (g>>2)+2, shifted by g&3
            int g = p.dy_base + int(yb[0]) + (qi[0] + dh) * p.Wo + qj[0] + dw;  // may be negative
            if (!any_pixel(ok))
                continue;  // a tap that reaches no output pixel of this lane: adds only zeros
            int wq = (p.w_base + CONV_PACKED_INDEX(ci0, 0, kh * p.KW + kw, p.KH * p.KW, p.Co, CI_T)) / 4;
            // two output channels a round, as conv_fwd's accumulate_texel (why there)
            int co = 0;
            for (; co + 1 < p.Co; co += 2)
                channel_pair(rows, g, off, wq, yplane, last_quad, ok);
            if (co < p.Co)
                channel_step(rows, g, off, wq, yplane, last_quad, ok);
        }
    }
}

// The row windows, as conv_fwd's accumulate_windows: 3x3 kernels at stride 1 and 4x4 at
// stride 2 (dilation 1, whole runs of PX in a row of the phase). The taps of a kernel row
// that reach this phase, kw0 + s*t for t < taps (3 at stride 1, 2 at stride 2), read one
// row of dy at shifted places (tap t at ow = qj + dw0 - t), so each output channel's row
// is read once, as a window of PX + taps - 1 values from the last tap's (12 floats in 3
// texels at stride 2, where each tap's run was 3 texels), and the sums run over the
// phase's kernel rows, pairs of channels, the row's taps, the pair's two channels; an
// odd last channel alone. conv_bwd_data_tiled sums in this order for these shapes
// (window_order). taps is a constant at each call.
void accumulate_windows(int taps, int ph, int pw, int qi[PX], int qj[PX], uint yb[PX], int ci0)
{
    int s = p.stride, yplane = p.Ho * p.Wo, len = PX + taps - 1;
    int last_quad = (p.dy_base + p.N * p.Co * yplane - 1) >> 2;
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CI_T; c++)
            acc[j][c] = 0.0;
    // the phase's first live taps: (ph + pad - kh0) and (pw + pad - kw0) are multiples of s
    int kh0 = (ph + p.pad) % s, kw0 = (pw + p.pad) % s;
    int ow0 = qj[0] + (pw + p.pad - kw0) / s - (taps - 1);  // the window's first output column
    for (int r = 0; r < taps; r++) {
        int kh = kh0 + s * r, oh = qi[0] + (ph + p.pad - kh0) / s - r;
        bool rowok = oh >= 0 && oh < p.Ho;
        bool ok[WINDOW_MAX];
        for (int m = 0; m < len; m++)
            ok[m] = rowok && ow0 + m >= 0 && ow0 + m < p.Wo;
        int g = p.dy_base + int(yb[0]) + oh * p.Wo + ow0;  // may be < 0 (masked)
        int wq[4];
        for (int t = 0; t < taps; t++)
            wq[t] = (p.w_base + CONV_PACKED_INDEX(ci0, 0, kh * p.KW + kw0 + s * t, p.KH * p.KW, p.Co, CI_T)) / 4;
        int co = 0;
        for (; co + 1 < p.Co; co += 2) {
            float a[WINDOW_MAX], b[WINDOW_MAX];
            window_at(g, len, last_quad, ok, a);
            window_at(g + yplane, len, last_quad, ok, b);
            row_pair(true, taps, 1, a, b, wq);
            g += 2 * yplane;
        }
        if (co < p.Co) {
            float a[WINDOW_MAX];
            window_at(g, len, last_quad, ok, a);
            row_single(true, taps, 1, a, wq);
        }
    }
}
#else
// acc = sum over the taps of phase (ph, pw) and output channels; coop and rows
// are constants at each call, so each copy compiles without the tests.
void accumulate(bool coop, bool rows, int ph, int pw, int qi[PX], int qj[PX], uint yb[PX], int ci0)
{
    int s = p.stride;
    uint yplane = uint(p.Ho * p.Wo);
    int nwords = p.N * p.Co * p.Ho * p.Wo / 2;  // rows: Ho*Wo is even
    for (int j = 0; j < PX; j++)
        for (int c = 0; c < CI_T; c++)
            acc[j][c] = 0.0;

    uint wstep = uint(CI_T / 2);  // words per output channel: the tile's next row (CONV_PACKED_INDEX)
    // GLSL leaves % and / undefined for negative operands (NVIDIA's -1 % 3 is 0, which
    // took taps that miss), so the tap offsets below are lifted by a multiple of s
    // that makes them positive before dividing
    int lift_h = s * ((p.KH * p.dil) / s + 1), lift_w = s * ((p.KW * p.dil) / s + 1);
    for (int kh = 0; kh < p.KH; kh++) {
        // ih + pad - kh*dil = oh*s: does tap kh reach the output grid from this phase?
        int th = ph + p.pad - kh * p.dil + lift_h;  // > 0
        if (th % s != 0)
            continue;
        int dh = th / s - lift_h / s;  // oh - ih/s for this tap
        for (int kw = 0; kw < p.KW; kw++) {
            int tw = pw + p.pad - kw * p.dil + lift_w;
            if (tw % s != 0)
                continue;
            int dw = tw / s - lift_w / s;
            uint off[PX];
            bool ok[PX];
            int wb = 0, odd = 0;
            for (int j = 0; j < PX; j++) {
                int oh = qi[j] + dh, ow = qj[j] + dw;
                ok[j] = oh >= 0 && oh < p.Ho && ow >= 0 && ow < p.Wo;
                off[j] = yb[j] + (ok[j] ? uint(oh * p.Wo + ow) : 0u);
            }
            if (rows) {
                // the PX pixels read dy[base .. base+PX-1]: words wb .. wb+PX/2, shifted by odd
                int base = int(yb[0]) + (qi[0] + dh) * p.Wo + qj[0] + dw;
                odd = base & 1;
                wb = base >> 1;  // floor: base may be negative, where / is undefined in GLSL
            }
            if (!coop && !any_pixel(ok))
                continue;  // as in accumulate_texel (with coop the subgroup must stay together)
            uint wi = uint(CONV_PACKED_INDEX(ci0, 0, kh * p.KW + kw, p.KH * p.KW, p.Co, CI_T) / 2);
            for (int co = 0; co < p.Co; co++) {
                float g[PX];
                if (rows) {
                    // words outside the tensor are clamped in: they only feed masked pixels
                    float f[PX + 2];
                    for (int i = 0; i <= PX / 2; i++) {
                        uvec2 u = unpackUint2x32(Words(p.dy).v[clamp(wb + i, 0, nwords - 1)]);
                        f[2 * i] = uintBitsToFloat(u.x);
                        f[2 * i + 1] = uintBitsToFloat(u.y);
                    }
                    for (int j = 0; j < PX; j++)
                        g[j] = mix(0.0, mix(f[j], f[j + 1], odd == 1), ok[j]);
                    wb += int(yplane / 2u);
                } else {
                    for (int j = 0; j < PX; j++) {
                        float v = p.dy.v[off[j]];
                        g[j] = mix(0.0, v, ok[j]);
                        off[j] += yplane;
                    }
                }
                // this lane's weight pair (only used when coop)
                vec2 mine = coop ? word_pair(wi + (gl_SubgroupInvocationID & 7u)) : vec2(0.0);
#define PAIR(q) {                                                                   \
    vec2 w2 = coop ? vec2(subgroupBroadcast(mine.x, q), subgroupBroadcast(mine.y, q)) \
                   : word_pair(wi + uint(q));                                       \
    for (int j = 0; j < PX; j++) {                                                  \
        acc[j][2 * q] = fma(g[j], w2.x, acc[j][2 * q]);                             \
        acc[j][2 * q + 1] = fma(g[j], w2.y, acc[j][2 * q + 1]);                     \
    } }
                PAIR(0) PAIR(1) PAIR(2) PAIR(3) PAIR(4) PAIR(5) PAIR(6) PAIR(7)
#undef PAIR
                wi += wstep;
            }
        }
    }
}
#endif

// dx (+)= the tile plus bias, then the activation; through the storage buffer
// (stored) or the buffer reference. stored is a constant at each call, so each
// copy compiles without the test.
void store_tile(bool stored, int ph, int pw, int qplane, int total, int pix[PX], int qi[PX], int qj[PX],
                bool live, int ci0)
{
    int s = p.stride;
    float bias[CI_T];
    for (int c = 0; c < CI_T; c++)
        bias[c] = (p.flags & 2u) != 0u && ci0 + c < p.Ci ? p.b.v[ci0 + c] : 0.0;
    uint xplane = uint(p.H * p.W);
    for (int j = 0; j < PX; j++) {
        if (pix[j] >= total || !live)
            continue;
        int n = pix[j] / qplane;
        uint xpix = uint((ph + s * qi[j]) * p.W + pw + s * qj[j]);
        for (int c = 0; c < CI_T; c++) {
            int ci = ci0 + c;
            if (ci >= p.Ci)
                break;
            float v = acc[j][c] + bias[c];
            uint xi = uint(n * p.Ci + ci) * xplane + xpix;
#ifdef CONV_TEXEL
            if (stored) {
                uint si = uint(p.dx_base) + xi;
                if ((p.flags & 1u) != 0u)
                    v += dx_stored[si];
                if ((p.flags & 4u) != 0u)
                    v = max(v, 0.0) + p.slope * min(v, 0.0);
                dx_stored[si] = v;
                continue;
            }
#endif
            if ((p.flags & 1u) != 0u)
                v += p.dx.v[xi];
            if ((p.flags & 4u) != 0u)  // activation epilogue (eval-mode fused conv)
                v = max(v, 0.0) + p.slope * min(v, 0.0);  // +0 for ReLU, as max(v, 0)
            p.dx.v[xi] = v;
        }
    }
}

void main()
{
    const uint lanes = gl_WorkGroupSize.x;
    int s = p.stride;
    int ph = int(gl_WorkGroupID.z) / s, pw = int(gl_WorkGroupID.z) % s;
    int Hq = (p.H - ph + s - 1) / s, Wq = (p.W - pw + s - 1) / s;
    int qplane = Hq * Wq, total = p.N * qplane;
    if (total == 0)
        return;  // this phase has no pixels (input smaller than the stride)
    uint yplane = uint(p.Ho * p.Wo);

    // lanes over pixel runs and channel tiles, as in conv_fwd
    uint lane = gl_LocalInvocationID.x, tiles_per_group = lanes / p.run_lanes;
    int tiles = p.ci_pad / CI_T;
    int tile = int(gl_WorkGroupID.y * tiles_per_group + lane / p.run_lanes);
    bool live = tile < tiles;
    int ci0 = min(tile, tiles - 1) * CI_T;

    int pix[PX], qi[PX], qj[PX];
    uint yb[PX];
    int run = int(gl_WorkGroupID.x * p.run_lanes + lane % p.run_lanes) * PX;  // first pixel
    for (int j = 0; j < PX; j++) {
        pix[j] = run + j;
        int q = min(pix[j], total - 1);  // dead pixels compute a real one, never stored
        int n = q / qplane, r = q % qplane;
        qi[j] = r / Wq;
        qj[j] = r % Wq;
        yb[j] = uint(n * p.Co) * yplane;
    }

#ifdef CONV_TEXEL
    // rows: the PX pixels of a lane read PX consecutive dy at every tap: PX
    // neighbours of one row of the phase, or whole rows of a phase as wide as dy
    // (a 4x4 map with padding 1 at 3x3; the 4x4 phases of an 8x8 input gradient
    // at stride 2 from 4x4), a whole number of runs a phase
    // the row windows (conv_bwd_data_tiled's window_order tests the same conditions)
    if (s == 1 && p.KH == 3 && p.KW == 3 && p.dil == 1 && Wq % PX == 0)
        accumulate_windows(3, ph, pw, qi, qj, yb, ci0);
    else if (s == 2 && p.KH == 4 && p.KW == 4 && p.dil == 1 && Wq % PX == 0)
        accumulate_windows(2, ph, pw, qi, qj, yb, ci0);
    else if (Wq % PX == 0 || (p.Wo == Wq && PX % Wq == 0 && qplane % PX == 0))
        accumulate_texel(true, ph, pw, qi, qj, yb, ci0);
    else
        accumulate_texel(false, ph, pw, qi, qj, yb, ci0);
#else
    // rows: the PX pixels of a lane are PX neighbours of one row of the phase,
    // which read PX consecutive dy floats per tap, fetched as PX/2+1 aligned words
    bool rows = Wq % PX == 0 && (p.Ho * p.Wo) % 2 == 0;
    bool coop = gl_SubgroupSize >= 8u && lanes % gl_SubgroupSize == 0u && p.run_lanes == lanes;
    if (coop && rows)
        accumulate(true, true, ph, pw, qi, qj, yb, ci0);
    else if (coop)
        accumulate(true, false, ph, pw, qi, qj, yb, ci0);
    else if (rows)
        accumulate(false, true, ph, pw, qi, qj, yb, ci0);
    else
        accumulate(false, false, ph, pw, qi, qj, yb, ci0);
#endif

#ifdef CONV_TEXEL
    if ((p.flags & 8u) != 0u)
        store_tile(true, ph, pw, qplane, total, pix, qi, qj, live, ci0);
    else
#endif
        store_tile(false, ph, pw, qplane, total, pix, qi, qj, live, ci0);
}
