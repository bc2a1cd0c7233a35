/* Tile sizes of the convolution kernels, read by the shaders (their loops) and
 * by engine/ops/conv.c (the workgroup counts it dispatches): one place, so the
 * two cannot disagree. Plain #defines only: C and GLSL both include it. */
#ifndef SGAD_CONV_TILES_H
#define SGAD_CONV_TILES_H

#define CONV_FWD_CO_TILE 16        /* output channels per invocation (conv_fwd) */
#define CONV_FWD_PIXELS 8          /* output pixels per invocation (conv_fwd) */
#define CONV_BWD_DATA_CI_TILE 16   /* input channels per invocation (conv_bwd_data) */
#define CONV_BWD_DATA_PIXELS 8     /* input pixels per invocation (conv_bwd_data) */
#define CONV_BWD_WEIGHT_K_TILE 8   /* kernel taps per invocation (conv_bwd_weight) */
#define CONV_BWD_WEIGHT_CO_TILE 16 /* output channels per invocation (conv_bwd_weight) */

#endif
