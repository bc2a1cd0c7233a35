#version 450
// Gradient of a convolution with respect to its input (also the forward pass
// of a transposed convolution) in shared-memory workgroup tiles
// (conv/conv_tiled.glsl), the GPU form of conv_bwd_data:
//   dx[n,ci,ih,iw] (+)= b[ci] + sum over taps (kh,kw) and co with ih = oh*s - p + kh*d,
//                       iw = ow*s - p + kw*d of w[co,ci,kh,kw] * dy[n,co,oh,ow]
// As there, input pixels are split by phase (ih mod s, iw mod s), so that the
// taps reaching the output grid are the same for every pixel of a workgroup;
// k runs over those taps (kh, then kw) and, inside each, the output channels
// co, in conv_bwd_data's order: each sum takes the same products in the same
// order there and here (the same bits). The packed weights are conv_bwd_data's
// (CONV_PACKED_INDEX, tiles of CONV_BWD_DATA_CI_TILE input channels).
// Grid: pixel blocks of a phase over x and y (group_index(), as many as the
// largest phase needs), phase x channel blocks over z.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "conv/conv_tiled.glsl"
#include "conv/conv_tiled_push.glsl"

int ph, pw;              // this workgroup's phase
int lift_h, lift_w;      // multiples of s that keep the tap tests' operands positive

bool live_h(int kh)
{
    return kh < p.KH && (ph + p.pad - kh * p.dil + lift_h) % p.stride == 0;
}

bool live_w(int kw)
{
    return kw < p.KW && (pw + p.pad - kw * p.dil + lift_w) % p.stride == 0;
}

// Where row k stands: its output channel and live tap (kh >= KH: past the last).
struct Row {
    int co, kh, kw;
};

int first_w()
{
    int kw = 0;
    while (kw < p.KW && !live_w(kw))
        kw++;
    return kw;
}

Row next_tap(Row r)
{
    do
        r.kw++;
    while (r.kw < p.KW && !live_w(r.kw));
    if (r.kw >= p.KW) {
        do
            r.kh++;
        while (r.kh < p.KH && !live_h(r.kh));
        r.kw = first_w();
    }
    return r;
}

// conv_bwd_data's texel build sums the row windows (3x3 at stride 1, 4x4 at stride 2,
// dilation 1, whole runs of CONV_BWD_DATA_PIXELS in a row of the phase) in another order
// (window_place over the phase's live taps); those shapes take k in that order here.
// The live taps of a window's row (3 or 2), or 0.
int window_order()
{
    int Wq = (p.W - pw + p.stride - 1) / p.stride;
    if (p.dil != 1 || Wq % CONV_BWD_DATA_PIXELS != 0)
        return 0;
    if (p.stride == 1 && p.KH == 3 && p.KW == 3)
        return 3;
    if (p.stride == 2 && p.KH == 4 && p.KW == 4)
        return 2;
    return 0;
}

int first_h()
{
    int kh = 0;
    while (kh < p.KH && !live_h(kh))
        kh++;
    return kh;
}

// the row `by` further on from r, which is row k
Row advance(Row r, int k, int by)
{
    int taps = window_order();
    if (taps != 0) {  // the window's t-th live row and tap
        ivec3 place = window_place(k + by, p.Co, taps);
        return Row(place.x, first_h() + p.stride * place.y, first_w() + p.stride * place.z);
    }
    r.co += by;
    while (r.co >= p.Co) {
        r.co -= p.Co;
        r = next_tap(r);
    }
    return r;
}

void main()
{
    const int s = p.stride, blocks = (p.Ci + TILE_C - 1) / TILE_C;
    const int phase = int(gl_WorkGroupID.z) / blocks, ci0 = (int(gl_WorkGroupID.z) % blocks) * TILE_C;
    ph = phase / s;
    pw = phase % s;
    lift_h = s * ((p.KH * p.dil) / s + 1);
    lift_w = s * ((p.KW * p.dil) / s + 1);
    const int Hq = (p.H - ph + s - 1) / s, Wq = (p.W - pw + s - 1) / s;
    const int qplane = Hq * Wq, total = p.N * qplane;
    const int px0 = int(group_index()) * TILE_PX;
    if (px0 >= total)
        return;  // the whole workgroup: past this phase's pixels (or it has none)

    // the phase's live taps and k's extent
    int nh = 0, nw = 0;
    for (int kh = 0; kh < p.KH; kh++)
        nh += live_h(kh) ? 1 : 0;
    for (int kw = 0; kw < p.KW; kw++)
        nw += live_w(kw) ? 1 : 0;
    const int K = nh * nw * p.Co, taps = p.KH * p.KW, yplane = p.Ho * p.Wo;
    Row start = Row(0, first_h(), first_w());

    // the pixel whose dy this invocation copies: (n, qi, qj) of the phase
    int q = min(px0 + B_COL, total - 1);
    bool live = px0 + B_COL < total;
    int n = q / qplane, qi = (q % qplane) / Wq, qj = (q % qplane) % Wq;
    int yb = n * p.Co * yplane;
    Row br[B_ROWS];
    for (int i = 0; i < B_ROWS; i++)
        br[i] = advance(start, 0, B_ROW0 + i * B_ROW_STEP);
    Row ar = advance(start, 0, A_ROW);

    for (int i = 0; i < SUB; i++)
        for (int j = 0; j < SUB; j++)
            acc[i][j] = 0.0;
    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        put_a(k0 + A_ROW < K ? CONV_PACKED_INDEX(ci0 + A_COL, ar.co, ar.kh * p.KW + ar.kw, taps, p.Co,
                                                   CONV_BWD_DATA_CI_TILE) : -1, ci0);
        ar = advance(ar, k0 + A_ROW, TILE_K);
        for (int i = 0; i < B_ROWS; i++) {
            int kk = B_ROW0 + i * B_ROW_STEP;
            // ih + pad - kh*dil = oh*s: oh = qi + (ph + pad - kh*dil) / s
            int oh = qi + (ph + p.pad - br[i].kh * p.dil + lift_h) / s - lift_h / s;
            int ow = qj + (pw + p.pad - br[i].kw * p.dil + lift_w) / s - lift_w / s;
            bool ok = live && k0 + kk < K && oh >= 0 && oh < p.Ho && ow >= 0 && ow < p.Wo;
            put_b(kk, ok ? p.in_.v[yb + br[i].co * yplane + oh * p.Wo + ow] : 0.0);
            br[i] = advance(br[i], k0 + kk, TILE_K);
        }
        barrier();
        multiply_tiles(min(TILE_K, K - k0));
        barrier();  // the next step overwrites the tiles
    }

    uint xplane = uint(p.H * p.W);
    for (int j = 0; j < SUB; j++) {
        int pix = px0 + SUB_TX * SUB + j;
        if (pix >= total)
            break;
        int pn = pix / qplane, r = pix % qplane;
        uint xpix = uint((ph + s * (r / Wq)) * p.W + pw + s * (r % Wq));
        for (int i = 0; i < SUB; i++) {
            int ci = ci0 + SUB_TY * SUB + i;
            if (ci >= p.Ci)
                break;
            store_sum(acc[i][j], ci, uint(pn * p.Ci + ci) * xplane + xpix);
        }
    }
}
