#version 450
// Gradient of a convolution with respect to its weight, split over the pixels,
// in shared-memory workgroup tiles (conv/conv_tiled.glsl), the GPU form of
// conv_bwd_weight; the same output:
//   part[z][co][k] = sum over the output pixels (n,oh,ow) of chunk z of
//                    dy[n,co,oh,ow] * x[n,ci,oh*s-p+kh*d, ow*s-p+kw*d]
// over the live taps, k = (ci*lkh + kh-kh0)*lkw + kw-kw0, which conv_reduce
// sums over the chunks and places in dw. As a product of matrices: rows c are
// the output channels, columns j the k, and the sum runs over the chunk's
// pixels, TILE_K at a time: A[pixel][co] = dy, B[pixel][k] = x under tap k.
// The sums take the pixels in order, each in one accumulator (conv_bwd_weight
// splits them over lanes): the same values but for rounding.
// Grid: x = blocks of TILE_PX k, y = blocks of TILE_C channels, z = chunks.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "conv/conv_tiled.glsl"

layout(push_constant) uniform Params {  // conv_bwd_weight's
    Floats x;
    Floats dy;
    Floats part;  // [chunks][Co][K]
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, px_per_chunk;
    int x_base, dy_base;  // (the texel kernel's fields: unused here)
    int kh0, lkh, kw0, lkw;  // the live taps: a rectangle of the kernel
} p;

// An output pixel (n, oh, ow), moved on without division.
struct Pixel {
    int n, oh, ow;
};

Pixel pixel_at(int q)
{
    int plane = p.Ho * p.Wo, r = q % plane;
    return Pixel(q / plane, r / p.Wo, r % p.Wo);
}

Pixel advance(Pixel q, int by)
{
    q.ow += by;
    while (q.ow >= p.Wo) {
        q.ow -= p.Wo;
        if (++q.oh == p.Ho) {
            q.oh = 0;
            q.n++;
        }
    }
    return q;
}

void main()
{
    const int K = p.Ci * p.lkh * p.lkw, plane = p.Ho * p.Wo, total = p.N * plane;
    const int k0 = int(gl_WorkGroupID.x) * TILE_PX, co0 = int(gl_WorkGroupID.y) * TILE_C;
    const int z = int(gl_WorkGroupID.z);
    const int first = z * p.px_per_chunk, end = min(first + p.px_per_chunk, total);

    // this invocation's column of B: tap k = k0 + B_COL as (ci, kh, kw)
    int k = min(k0 + B_COL, K - 1), taps = p.lkh * p.lkw;
    int ci = k / taps, kh = p.kh0 + (k % taps) / p.lkw, kw = p.kw0 + (k % taps) % p.lkw;
    int xc = ci * p.H * p.W;
    // the pixels whose x (B) and dy (A) this invocation copies, moved on by TILE_K each step
    Pixel bq[B_ROWS];
    for (int i = 0; i < B_ROWS; i++)
        bq[i] = pixel_at(min(first + B_ROW0 + i * B_ROW_STEP, total - 1));
    Pixel aq = pixel_at(min(first + A_ROW, total - 1));

    for (int i = 0; i < SUB; i++)
        for (int j = 0; j < SUB; j++)
            acc[i][j] = 0.0;
    for (int r0 = first; r0 < end; r0 += TILE_K) {
        {
            vec4 v = vec4(0.0);
            if (r0 + A_ROW < end)
                for (int c = 0; c < 4; c++) {
                    int co = co0 + A_COL + c;
                    if (co < p.Co)
                        v[c] = p.dy.v[(aq.n * p.Co + co) * plane + aq.oh * p.Wo + aq.ow];
                }
            a_tile[A_ROW * (TILE_C / 4) + A_COL / 4] = v;
            aq = advance(aq, TILE_K);
        }
        for (int i = 0; i < B_ROWS; i++) {
            int row = B_ROW0 + i * B_ROW_STEP;
            int ih = bq[i].oh * p.stride - p.pad + kh * p.dil, iw = bq[i].ow * p.stride - p.pad + kw * p.dil;
            bool ok = r0 + row < end && ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
            put_b(row, ok ? p.x.v[bq[i].n * p.Ci * p.H * p.W + xc + ih * p.W + iw] : 0.0);
            bq[i] = advance(bq[i], TILE_K);
        }
        barrier();
        multiply_tiles(min(TILE_K, end - r0));
        barrier();  // the next step overwrites the tiles
    }

    for (int i = 0; i < SUB; i++) {
        int co = co0 + SUB_TY * SUB + i;
        if (co >= p.Co)
            break;
        for (int j = 0; j < SUB; j++) {
            int kj = k0 + SUB_TX * SUB + j;
            if (kj < K)
                p.part.v[(z * p.Co + co) * K + kj] = acc[i][j];
        }
    }
}
