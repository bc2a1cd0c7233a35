// What the tiled convolution kernels share (conv_fwd_tiled, conv_bwd_data_tiled,
// conv_bwd_weight_tiled): the shared-memory tiles of one step, the 4 x 4
// sub-tile each invocation sums, and where each invocation stands.
//
// Each is a product of matrices, out[c][j] = sum over r of A[r][c] * B[r][j]:
// a workgroup of CONV_TILED_LANES invocations owns TILE_C rows c by TILE_PX
// columns j (pixels, or the weight gradient's taps x channels); per step of
// TILE_K values of r every invocation copies 4 values of one row of A and
// TILE_K / (LANES / TILE_PX) values of B for one column into shared memory
// (neighbouring invocations on neighbouring addresses where the layout allows,
// so a GPU's loads coalesce), then adds its sub-tile's products from there:
// each input and weight is read from memory once per workgroup, not once per
// invocation. The form GPUs are built for; the direct kernels are shaped for
// lavapipe, where memory is the CPU's caches.
#include "conv/conv_tiles.h"
#define TILE_C CONV_TILED_CO_TILE
#define TILE_PX CONV_TILED_PIXELS
#define TILE_K CONV_TILED_K_STEP
#define LANES CONV_TILED_LANES
#define SUB 4  // each invocation's sub-tile: SUB channels x SUB pixels

shared vec4 a_tile[TILE_K * TILE_C / 4];   // [k][c], 4 channels a vec4
shared vec4 b_tile[TILE_K * TILE_PX / 4];  // [k][px], 4 pixels a vec4

float acc[SUB][SUB];  // [channel][pixel] of this invocation's sub-tile

// The invocation's places: its sub-tile (rows c ty*SUB.., columns j tx*SUB..),
// the row of A and the 4 columns of it it copies, the column and first row of B.
#define lane_ int(gl_LocalInvocationID.x)
#define SUB_TX (lane_ % (TILE_PX / SUB))
#define SUB_TY (lane_ / (TILE_PX / SUB))
#define A_ROW (lane_ / (TILE_C / 4))
#define A_COL ((lane_ % (TILE_C / 4)) * 4)
#define B_COL (lane_ % TILE_PX)
#define B_ROW0 (lane_ / TILE_PX)
#define B_ROW_STEP (LANES / TILE_PX)
#define B_ROWS (TILE_K / B_ROW_STEP)  // rows of B each invocation copies per step

void put_b(int row, float v)
{
    b_tile[row * (TILE_PX / 4) + B_COL / 4][B_COL % 4] = v;
}

// acc += the products of the step's first `rows` rows (in k order: each sum
// takes its products in the same order as the direct kernels)
void multiply_tiles(int rows)
{
    for (int kk = 0; kk < rows; kk++) {
        vec4 a = a_tile[kk * (TILE_C / 4) + SUB_TY];
        vec4 bv = b_tile[kk * (TILE_PX / 4) + SUB_TX];
        for (int i = 0; i < SUB; i++)
            for (int j = 0; j < SUB; j++)
                acc[i][j] = fma(bv[j], a[i], acc[i][j]);
    }
}


// Where row k stands in the direct kernels' row-window order (their accumulate_windows):
// kernel rows, pairs of summed channels, the row's `taps` taps, the pair's two channels;
// an odd last channel alone, its taps in order. (summed channel, row, tap) of k,
// `channels` summed channels, `taps` rows of `taps` taps (a stride-2 input gradient's
// phase: its live rows and taps).
ivec3 window_place(int k, int channels, int taps)
{
    int per_row = taps * channels, kh = k / per_row, i = k % per_row, pairs = channels / 2;
    if (i < 2 * taps * pairs)
        return ivec3(2 * (i / (2 * taps)) + i % 2, kh, (i % (2 * taps)) / 2);
    return ivec3(channels - 1, kh, i - 2 * taps * pairs);
}
