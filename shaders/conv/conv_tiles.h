/* Tile sizes of the convolution kernels, read by the shaders (their loops) and
 * by engine/ops/conv.c (the workgroup counts it dispatches): one place, so the
 * two cannot disagree. Plain #defines only: C and GLSL both include it. */
#ifndef SGAD_CONV_TILES_H
#define SGAD_CONV_TILES_H

#define CONV_FWD_CO_TILE 16        /* output channels per invocation (conv_fwd) */
#define CONV_FWD_PIXELS 8          /* output pixels per invocation (conv_fwd) */
#define CONV_BWD_DATA_CI_TILE 16   /* input channels per invocation (conv_bwd_data) */
#define CONV_BWD_DATA_PIXELS 8     /* input pixels per invocation (conv_bwd_data) */
#define CONV_BWD_DATA_SMALL_CI_TILE 4 /* input channels per invocation (conv_bwd_data_texel_small_ci) */
#define CONV_BWD_WEIGHT_K_TILE 8   /* kernel taps per invocation (conv_bwd_weight) */
#define CONV_BWD_WEIGHT_CO_TILE 16 /* output channels per invocation (conv_bwd_weight) */
#define CONV_BWD_WEIGHT_TAPS3_ROWS 6 /* rows of 3 taps per k block (conv_bwd_weight_taps3: two
                                      * input channels of a 3x3 kernel, 18 k per invocation) */
#define CONV_BWD_WEIGHT_TAPS4_ROWS 4 /* rows of 4 taps per k block (conv_bwd_weight_taps4: one
                                      * input channel of a 4x4 kernel, 16 k per invocation) */
#define CONV_TILED_CO_TILE 64      /* output channels per workgroup (conv_fwd_tiled) */
#define CONV_TILED_PIXELS 64       /* output pixels per workgroup (conv_fwd_tiled) */
#define CONV_TILED_K_STEP 16       /* taps x input channels per shared-memory step (conv_fwd_tiled) */
#define CONV_TILED_LANES 256       /* invocations per workgroup (conv_fwd_tiled): a 4x4 sub-tile each,
                                    * one row of 4 weights each per step */

/* Where conv_pack puts weight (a, b, kk): a a channel of the packed side (conv_fwd's output
 * channels, conv_bwd_data's input channels), b one of the other side (B of them), kk a tap (KK).
 * In tiles of T packed channels, each tile's weights are one stream in the order the direct
 * kernels read them: tap, then b, then the tile's T channels. One invocation's channel tile then
 * reads consecutive 64-byte rows, which the CPU prefetches, where rows of every packed channel
 * ([b][kk][a_pad]) put its next one KK * a_pad floats away, a new page every few steps
 * (docs/benchmarks.md, "Where a convolution's time goes on lavapipe"). */
#define CONV_PACKED_INDEX(a, b, kk, KK, B, T) ((((a) / (T) * (KK) + (kk)) * (B) + (b)) * (T) + (a) % (T))

#endif
