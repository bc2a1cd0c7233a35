#version 450
// Convolution forward in shared-memory workgroup tiles (conv/conv_tiled.glsl),
// the form GPUs are built for; conv_fwd is shaped for lavapipe, where memory
// is the CPU's caches and every lane keeps its own large tile:
//   y[n,co,px] (+)= b[co] + sum over k of w[k][co] * x[k][n,px]
// k runs over the taps (kh, kw) and, inside each, the input channels ci, as
// in conv_fwd (but for its row windows: window_order), so that each sum
// takes the same products in the same order
// there and here (the same bits); x[k] is the input under tap k (zero in the
// padding). The packed weights are conv_fwd's (CONV_PACKED_INDEX, tiles of
// CONV_FWD_CO_TILE output channels). Grid: pixel blocks over x and y (group_index()),
// channel blocks over z.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "conv/conv_tiled.glsl"
#include "conv/conv_tiled_push.glsl"

// Where row k stands: its input channel and tap, moved on without division
// (k = (kh*KW + kw)*Ci + ci).
struct Row {
    int ci, kh, kw;
};

// conv_fwd's texel build sums the row windows (3x3 at stride 1, 4x4 at stride 2,
// dilation 1, whole runs of CONV_FWD_PIXELS in a row) in another order
// (window_place); those shapes take k in that order here too. The window's taps, or 0.
int window_order()
{
    bool runs = p.dil == 1 && p.Wo % CONV_FWD_PIXELS == 0;
    if (runs && p.stride == 1 && p.KH == 3 && p.KW == 3)
        return 3;
    if (runs && p.stride == 2 && p.KH == 4 && p.KW == 4)
        return 4;
    return 0;
}
Row row_at(int k)
{
    int taps = window_order();
    if (taps != 0) {
        ivec3 place = window_place(k, p.Ci, taps);
        return Row(place.x, place.y, place.z);
    }
    int tap = k / p.Ci;
    return Row(k - tap * p.Ci, tap / p.KW, tap % p.KW);
}

// the row `by` further on from r, which is row k
Row advance(Row r, int k, int by)
{
    if (window_order() != 0)
        return row_at(k + by);
    r.ci += by;
    while (r.ci >= p.Ci) {
        r.ci -= p.Ci;
        if (++r.kw == p.KW) {
            r.kw = 0;
            r.kh++;
        }
    }
    return r;
}

void main()
{
    const int K = p.KH * p.KW * p.Ci, taps = p.KH * p.KW;
    const int plane = p.Ho * p.Wo, total = p.N * plane;
    const int px0 = int(group_index()) * TILE_PX, co0 = int(gl_WorkGroupID.z) * TILE_C;
    if (px0 >= total)
        return;  // the whole workgroup: a block past the pixels (the x, y split rounds up)

    // the pixel whose inputs this invocation copies
    int q = min(px0 + B_COL, total - 1);
    bool live = px0 + B_COL < total;
    int n = q / plane, r = q % plane;
    int ih0 = (r / p.Wo) * p.stride - p.pad, iw0 = (r % p.Wo) * p.stride - p.pad;
    int xb = n * p.Ci * p.H * p.W;
    Row br[B_ROWS];
    for (int i = 0; i < B_ROWS; i++)
        br[i] = row_at(B_ROW0 + i * B_ROW_STEP);
    Row ar = row_at(A_ROW);

    for (int i = 0; i < SUB; i++)
        for (int j = 0; j < SUB; j++)
            acc[i][j] = 0.0;
    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        put_a(k0 + A_ROW < K ? CONV_PACKED_INDEX(co0 + A_COL, ar.ci, ar.kh * p.KW + ar.kw, taps, p.Ci,
                                                   CONV_FWD_CO_TILE) : -1, co0);
        ar = advance(ar, k0 + A_ROW, TILE_K);
        for (int i = 0; i < B_ROWS; i++) {
            int kk = B_ROW0 + i * B_ROW_STEP;
            int ih = ih0 + br[i].kh * p.dil, iw = iw0 + br[i].kw * p.dil;
            bool ok = live && k0 + kk < K && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
            put_b(kk, ok ? p.in_.v[xb + (br[i].ci * p.H + ih) * p.W + iw] : 0.0);
            br[i] = advance(br[i], k0 + kk, TILE_K);
        }
        barrier();
        multiply_tiles(min(TILE_K, K - k0));
        barrier();  // the next step overwrites the tiles
    }

    for (int j = 0; j < SUB; j++) {
        int pix = px0 + SUB_TX * SUB + j;
        if (pix >= total)
            break;
        int pn = pix / plane, pr = pix % plane;
        for (int i = 0; i < SUB; i++) {
            int co = co0 + SUB_TY * SUB + i;
            if (co >= p.Co)
                break;
            store_sum(acc[i][j], co, uint(pn * p.Co + co) * uint(plane) + uint(pr));
        }
    }
}
