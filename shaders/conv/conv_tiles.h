/* Tile sizes shared by the convolution shaders and engine/ops/conv.c, which
 * sizes their dispatch grids: one copy, included by both (GLSL and C). */
#ifndef SGAD_CONV_TILES_H
#define SGAD_CONV_TILES_H

/* conv_fwd: output channels per invocation, output pixels per row run */
#define FWD_CO_TILE 16
#define FWD_PIXELS 8
/* conv_fwd's 3x3 stride-1 path: rows of FWD_PIXELS pixels per invocation */
#define FWD_PATCH_ROWS 4

/* conv_bwd_data: input channels per invocation, input pixels per run */
#define BWD_DATA_CI_TILE 16
#define BWD_DATA_PIXELS 8

/* flag bits of conv_fwd and conv_bwd_data's push constants */
#define CONV_FLAG_ACCUMULATE 1
#define CONV_FLAG_BIAS 2
#define CONV_FLAG_PATCH 4 /* 3x3 stride-1 patch path (conv.c decides, the grid depends on it) */

#endif
