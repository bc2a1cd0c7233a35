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
#define CONV_TILED_CO_TILE 64      /* output channels per workgroup (conv_fwd_tiled) */
#define CONV_TILED_PIXELS 64       /* output pixels per workgroup (conv_fwd_tiled) */
#define CONV_TILED_K_STEP 16       /* taps x input channels per shared-memory step (conv_fwd_tiled) */
#define CONV_TILED_LANES 256       /* invocations per workgroup (conv_fwd_tiled): a 4x4 sub-tile each,
                                    * one row of 4 weights each per step */

#endif
