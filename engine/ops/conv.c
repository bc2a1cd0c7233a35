/* Convolution and transposed convolution, forward and backward.
 *
 * Three implicit-GEMM kernels do all the work (shaders/conv/):
 *   conv_fwd        y  = conv(x, w)              (input -> output)
 *   conv_bwd_data   dx = conv^T(dy, w)           (output -> input)
 *   conv_bwd_weight dw = sum dy (x) x            (split over pixel chunks, then conv_reduce)
 * A transposed convolution is the adjoint of a convolution, so it uses the same
 * three with the roles of input and output exchanged: its forward is conv_bwd_data,
 * its input gradient is conv_fwd, its weight gradient is conv_bwd_weight with x
 * and dy swapped. Its weight (Ci, Co, kh, kw) is exactly the weight of that
 * equivalent convolution.
 *
 * The kernels are shaped for lavapipe, where a buffer load costs tens of FMAs
 * (each shader says why): large per-invocation register tiles, weights shared
 * across the subgroup, 64-bit loads where alignment allows. The three read
 * their tensors (inputs, packed weights) as texels (the *_texel builds, ~16x
 * cheaper per float there) wherever the tensors fit the device's texel views,
 * else through buffer references; so does conv_bias_grad (db = sum of dy).
 * On a device made with tiled_convs, their work goes to conv_fwd_tiled,
 * conv_bwd_data_tiled and conv_bwd_weight_tiled instead: workgroup tiles staged
 * through shared memory, the form GPUs are built for (on lavapipe ~10x slower);
 * the first two give the same bits as conv_fwd and conv_bwd_data. */
#include "op_util.h"

#include <stdio.h>

#include "conv_bias_grad.spv.h"
#include "conv_bias_grad_texel.spv.h"
#include "conv_bwd_data.spv.h"
#include "conv_bwd_data_texel.spv.h"
#include "conv_bwd_data_texel_small_ci.spv.h"
#include "conv_bwd_data_tiled.spv.h"
#include "conv_bwd_weight.spv.h"
#include "conv_bwd_weight_texel.spv.h"
#include "conv_bwd_weight_taps3.spv.h"
#include "conv_bwd_weight_taps4.spv.h"
#include "conv_bwd_weight_tiled.spv.h"
#include "conv_fwd.spv.h"
#include "conv_fwd_texel.spv.h"
#include "conv_fwd_tiled.spv.h"
#include "conv_pack.spv.h"
#include "conv_pack_texel.spv.h"
#include "conv_reduce.spv.h"
#include "conv_reduce_texel.spv.h"

/* the shaders' tile sizes, from the header they include too */
#include "../../shaders/conv/conv_tiles.h"
#define FWD_CO_TILE CONV_FWD_CO_TILE
#define FWD_PIXELS CONV_FWD_PIXELS
#define BWD_DATA_CI_TILE CONV_BWD_DATA_CI_TILE
#define BWD_DATA_PIXELS CONV_BWD_DATA_PIXELS
#define BWD_DATA_SMALL_CI_TILE CONV_BWD_DATA_SMALL_CI_TILE
#define BWD_WEIGHT_K_TILE CONV_BWD_WEIGHT_K_TILE
#define BWD_WEIGHT_CO_TILE CONV_BWD_WEIGHT_CO_TILE
#define CONV_LANES 64u
_Static_assert(FWD_CO_TILE % 4 == 0 && BWD_DATA_CI_TILE % 4 == 0, "conv_pack writes whole vec4s of channels");
_Static_assert(FWD_CO_TILE == BWD_DATA_CI_TILE, "conv_fwd reads conv_bwd_data's packing (1x1 input gradients)");
_Static_assert(BWD_WEIGHT_CO_TILE % 8 == 0, "conv_bwd_weight reduces its tile 8 channels at a time");
_Static_assert(CONV_TILED_LANES == CONV_TILED_K_STEP * CONV_TILED_CO_TILE / 4 &&
                   CONV_TILED_LANES == (CONV_TILED_CO_TILE / 4) * (CONV_TILED_PIXELS / 4) &&
                   CONV_TILED_LANES % CONV_TILED_PIXELS == 0 &&
                   CONV_TILED_K_STEP % (CONV_TILED_LANES / CONV_TILED_PIXELS) == 0,
               "the tiled kernels: one row of 4 weights and a 4x4 sub-tile per invocation, whole rows of pixels");

SG_KERNEL(conv_pack, SG_ELEMENTWISE_GROUP);
SG_KERNEL(conv_pack_texel, SG_ELEMENTWISE_GROUP);
/* the same in whole workgroups, unfolded, channels a multiple of 4 (conv_pack.comp) */
static const sg_kernel kernel_conv_pack_whole = SG_KERNEL_FORM(conv_pack_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
SG_KERNEL(conv_fwd, CONV_LANES);
SG_KERNEL(conv_bwd_data, CONV_LANES);
/* The same two shaders in workgroups of 8 lanes, for small outputs: a 64-lane
 * workgroup covers 512 pixels, so a 4x4 map at batch 1 would leave 97% of it
 * idle. The shaders read the workgroup size, and fall back from subgroup
 * broadcasts to plain loads where 8 lanes are not whole subgroups. */
#define NARROW_LANES 8u
/* Declare kernel_<name>_narrow: <name>.spv.h in workgroups of NARROW_LANES, named "<name>/8". */
#define CONV_NARROW_KERNEL(name) \
    static const sg_kernel kernel_##name##_narrow = {#name "/8", name##_spv, sizeof(name##_spv), NARROW_LANES}
CONV_NARROW_KERNEL(conv_fwd);
SG_KERNEL(conv_fwd_texel, CONV_LANES);
CONV_NARROW_KERNEL(conv_fwd_texel);
SG_KERNEL(conv_bwd_data_texel, CONV_LANES);
CONV_NARROW_KERNEL(conv_bwd_data_texel);
CONV_NARROW_KERNEL(conv_bwd_data);
/* conv_bwd_data_texel with tiles of 4 channels, for inputs of at most 4 (the first layer's 3) */
SG_KERNEL(conv_bwd_data_texel_small_ci, CONV_LANES);
CONV_NARROW_KERNEL(conv_bwd_data_texel_small_ci);

/* How conv_fwd and conv_bwd_data lay a problem over workgroups: wide ones
 * unless the pixels would not fill two of them; in narrow ones, when there are
 * fewer runs of pixels than lanes (a 4x4 map at batch 1 is 2 runs of 8), the
 * spare lanes take further channel tiles (run_lanes: the lanes along pixels, a
 * power of two), so a workgroup's lanes are not mostly idle: on lavapipe a
 * workgroup costs the same whether 2 of its 8 lanes work or all 8. */
typedef struct conv_grid {
    const sg_kernel *kernel;
    uint32_t run_lanes, groups[2];
} conv_grid;

static conv_grid pick_grid(const sg_kernel *wide, const sg_kernel *narrow, uint64_t pixels,
                           uint32_t pixels_per_lane, uint32_t channels, uint32_t channel_tile)
{
    bool small = pixels < 2ull * CONV_LANES * pixels_per_lane;
    uint32_t lanes = small ? NARROW_LANES : CONV_LANES, run_lanes = lanes;
    uint64_t runs = sg_div_up(pixels, pixels_per_lane);
    while (small && run_lanes > 1 && runs <= run_lanes / 2)
        run_lanes /= 2;
    uint32_t tiles = (uint32_t)sg_div_up(channels, channel_tile);
    conv_grid g = {small ? narrow : wide, run_lanes,
                   {(uint32_t)sg_div_up(runs, run_lanes), (uint32_t)sg_div_up(tiles, lanes / run_lanes)}};
    return g;
}
/* The GPU forms of the three (sg_device_options.tiled_convs): workgroup tiles
 * staged through shared memory, read through buffer references. */
SG_KERNEL(conv_fwd_tiled, CONV_TILED_LANES);
SG_KERNEL(conv_bwd_data_tiled, CONV_TILED_LANES);
SG_KERNEL(conv_bwd_weight_tiled, CONV_TILED_LANES);
SG_KERNEL(conv_bwd_weight, CONV_LANES);
SG_KERNEL(conv_bwd_weight_texel, CONV_LANES);
/* conv_bwd_weight in 8 lanes below 128 pixels per lane of a 64-lane workgroup
 * (8x8 maps and smaller at batch 64): each lane then sums up to 8x the pixels,
 * and the workgroup's fixed costs (setup, barrier, the 64-value reduction) are
 * spread over them; on lavapipe this doubles the weight gradient on 4x4 maps
 * (docs/benchmarks.md) */
CONV_NARROW_KERNEL(conv_bwd_weight);
CONV_NARROW_KERNEL(conv_bwd_weight_texel);
/* its texel builds for blocks of whole rows of taps, each row's x read at one window:
 * 3x3 stride 1 (a block of 18 k: two input channels) and 4x4 stride 2 (16 k: one), in
 * 64 and 8 lanes as above */
SG_KERNEL(conv_bwd_weight_taps3, CONV_LANES);
SG_KERNEL(conv_bwd_weight_taps4, CONV_LANES);
CONV_NARROW_KERNEL(conv_bwd_weight_taps3);
CONV_NARROW_KERNEL(conv_bwd_weight_taps4);
SG_KERNEL(conv_reduce, SG_ELEMENTWISE_GROUP);
SG_KERNEL(conv_reduce_texel, SG_ELEMENTWISE_GROUP);
/* its whole form (4 weights an invocation, every one in range) */
static const sg_kernel kernel_conv_reduce_whole = SG_KERNEL_FORM(conv_reduce_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
SG_KERNEL(conv_bias_grad, 256); /* shared array of 256 in the shader */
SG_KERNEL(conv_bias_grad_texel, 256);
/* its whole form (bit 1) in SG_REDUCTION_LANES (op_util.h: why) */
static const sg_kernel kernel_conv_bias_grad_whole =
    SG_KERNEL_FORM(conv_bias_grad_texel, "whole", SG_REDUCTION_LANES, 1);

/* A convolution from x (N,Ci,H,W) to y (N,Co,Ho,Wo) with weight (Co,Ci,KH,KW). */
typedef struct conv_problem {
    int N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil;
} conv_problem;

/* The profile's name for a dispatch on problem c (SGAD_PROFILE=2): its shape
 * as the equivalent convolution and its multiply-adds x 2, so that a layer's
 * rate can be read beside its time. A transposed layer is that convolution
 * with its passes exchanged (its forward runs conv_bwd_data). */
static const char *describe(char *buf, size_t size, const conv_problem *c)
{
    double flop = 2.0 * c->N * c->Co * c->Ho * c->Wo * c->Ci * c->KH * c->KW;
    snprintf(buf, size, "%dx%d s%d d%d %d->%d %dx%d->%dx%d n%d %.3f GFLOP", c->KH, c->KW, c->stride, c->dil,
             c->Ci, c->Co, c->H, c->W, c->Ho, c->Wo, c->N, flop * 1e-9);
    return buf;
}

static int round_up(int v, int m)
{
    return (v + m - 1) / m * m;
}

static sg_status check_params(sg_seq *seq, const char *op, const sg_conv2d *p)
{
    if (!p)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: parameters are NULL", op);
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride < 1 || p->dilation < 1 || p->padding < 0)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT,
                           "%s: kernel %dx%d, stride %d, dilation %d, padding %d: kernel, stride and "
                           "dilation must be >= 1 and padding >= 0",
                           op, p->kernel_h, p->kernel_w, p->stride, p->dilation, p->padding);
    return SG_OK;
}

/* Repack w (a conv weight [Co][Ci][KK]) in tiles of `tile` channels of one side,
 * output channels when by_output (for conv_fwd), else input channels (for
 * conv_bwd_data), each tile a stream in the order the kernels read it:
 * CONV_PACKED_INDEX (conv_tiles.h).
 * With a batch norm in e, fold it into the packed weights (channel: the packed
 * side, the output of the forward being recorded) and write the folded bias,
 * from b (or 0), into *folded_bias. With e->pack, all of it goes into that
 * sequence instead (the packed tensors are its scratch). */
static sg_status record_pack(sg_seq *seq, const conv_problem *c, const sg_tensor *w, bool by_output,
                             int tile, const sg_conv_epilogue *e, const sg_tensor *b, sg_tensor **packed,
                             sg_tensor **folded_bias)
{
    uint32_t kk = (uint32_t)(c->KH * c->KW);
    uint32_t A = (uint32_t)(by_output ? c->Co : c->Ci), B = (uint32_t)(by_output ? c->Ci : c->Co);
    /* whole tiles: no bounds test on weight loads (and whole vec4s for conv_pack) */
    uint32_t a_pad = (uint32_t)round_up((int)A, tile);
    if (e && e->pack)
        seq = e->pack;
    bool fold = e && e->gamma;
    /* a plain packing is made once per recording: the forward and the input
     * gradient of a layer (or of two graphs sharing weights) use the same
     * copy until a recorded command writes w (an optimiser step) */
    const uint32_t key[4] = {by_output, (uint32_t)tile, A, B * kk};
    bool reusable = !fold && !(e && e->pack);
    if (reusable && (*packed = sg_seq_derived_find(seq, w, key)) != NULL)
        return SG_OK;
    sg_status s = sg_seq_scratch(seq, sg_shape4(1, 1, 1, (int)(a_pad * B * kk)), packed);
    if (s == SG_OK && fold)
        s = sg_seq_scratch(seq, sg_shape4(1, (int)A, 1, 1), folded_bias);
    if (s != SG_OK)
        return s;
    struct {
        uint64_t w, out;
        uint32_t A, a_pad, B, KK, sa, sb;
        uint64_t gamma, beta, mean, var, bias_in, bias_out;
        float eps;
        uint32_t flags;
        uint32_t w_base; /* conv_pack_texel: floats from the texel view's start to w */
        uint32_t out_base, stored; /* conv_pack_texel: the packed copy through binding 4 (kernel.h) */
        uint32_t first, T;
    } pc = {sg_tensor_address(w), sg_tensor_address(*packed), A, a_pad, B, kk,
            by_output ? (uint32_t)c->Ci * kk : kk, by_output ? kk : (uint32_t)c->Ci * kk,
            fold ? sg_tensor_address(e->gamma) : 0, fold ? sg_tensor_address(e->beta) : 0,
            fold ? sg_tensor_address(e->mean) : 0, fold ? sg_tensor_address(e->var) : 0,
            fold && b ? sg_tensor_address(b) : 0, fold ? sg_tensor_address(*folded_bias) : 0,
            fold ? e->eps : 0.0f, (fold ? 1u : 0u) | (fold && b ? 2u : 0u), sg_tensor_texel_base(w)};
    pc.T = (uint32_t)tile;
    bool texel = sg_tensor_texel_ok(w, 1);
    sg_dispatch d = {.kernel = texel ? &kernel_conv_pack_texel : &kernel_conv_pack, .push = &pc,
                     .push_size = sizeof pc,
                     .reads = {w, fold ? e->gamma : NULL, fold ? e->beta : NULL, fold ? e->mean : NULL,
                               fold ? e->var : NULL, fold ? b : NULL},
                     .writes = {*packed, fold ? *folded_bias : NULL}};
    if (texel) {
        d.texels[0] = (sg_texel_read){w, 1};
        pc.stored = sg_store_output(&d, *packed, true, &pc.out_base);
    }
    uint32_t threads = a_pad / 4 * B * kk; /* a vec4 of channels per invocation */
    bool whole_form = texel && pc.stored && !fold && a_pad == A;
    if ((s = sg_dispatch_whole_groups(seq, &d, whole_form ? &kernel_conv_pack_whole : NULL, threads, threads,
                                      &pc.first)) != SG_OK)
        return s;
    return reusable ? sg_seq_derived_add(seq, w, key, *packed) : SG_OK;
}

enum { FLAG_ACCUMULATE = 1, FLAG_BIAS = 2, FLAG_ACTIVATE = 4, FLAG_STORE = 8 /* out through binding 4 */ };

/* Push-constant block shared by conv_fwd and conv_bwd_data. */
typedef struct conv_push {
    uint64_t in, w, b, out;
    int32_t N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, c_pad;
    uint32_t flags;
    int32_t in_base, w_base; /* conv_fwd_texel: floats from the texel views' starts to in, to w */
    float slope; /* FLAG_ACTIVATE's */
    uint32_t run_lanes; /* conv_grid's */
    int32_t out_base; /* the texel kernels: floats from the storage buffer's start to out */
} conv_push;

static conv_push push_for(const conv_problem *c, const sg_tensor *in, const sg_tensor *packed,
                          const sg_tensor *b, const sg_tensor *out, int c_pad, uint32_t flags,
                          const sg_conv_epilogue *e)
{
    bool act = e && e->activate;
    conv_push pc = {sg_tensor_address(in), sg_tensor_address(packed), b ? sg_tensor_address(b) : 0,
                    sg_tensor_address(out), c->N, c->Ci, c->H, c->W, c->Co, c->Ho, c->Wo, c->KH, c->KW,
                    c->stride, c->pad, c->dil, c_pad, flags | (b ? FLAG_BIAS : 0) | (act ? FLAG_ACTIVATE : 0),
                    0, 0, act ? e->slope : 0.0f};
    return pc;
}

/* Whether the *_texel kernels can read `in` and the packed weights: in fits a
 * view of floats, packed one of vec4 starting on a whole vec4. */
static bool texels_fit(const sg_tensor *in, const sg_tensor *packed)
{
    return sg_tensor_texel_ok(in, 1) && sg_tensor_quad_texels(packed);
}

/* The texel kernels' bindings: 0 `in` as floats, 1 `in` as vec4, 2 the packed
 * weights as vec4; 4 `out` as a storage buffer, written through it where it
 * fits one (FLAG_STORE), else through its buffer reference (kernel.h). */
static void bind_texels(sg_dispatch *d, conv_push *pc, const sg_tensor *in, const sg_tensor *packed,
                        const sg_tensor *out)
{
    pc->in_base = (int32_t)sg_tensor_texel_base(in);
    pc->w_base = (int32_t)sg_tensor_texel_base(packed);
    d->texels[0] = (sg_texel_read){in, 1};
    d->texels[1] = (sg_texel_read){in, 4};
    d->texels[2] = (sg_texel_read){packed, 4};
    uint32_t out_base;
    if (sg_store_output(d, out, false, &out_base))
        pc->flags |= FLAG_STORE;
    pc->out_base = (int32_t)out_base;
}

/* y (+)= conv(x, w) + b, then the epilogue e (NULL: none), with the weights
 * already packed as conv_fwd reads them (record_pack by output channels) */
static sg_status dispatch_fwd(sg_seq *seq, const conv_problem *c, const sg_tensor *x, const sg_tensor *packed,
                              const sg_tensor *b, sg_tensor *y, uint32_t flags, const sg_conv_epilogue *e)
{
    conv_push pc = push_for(c, x, packed, b, y, round_up(c->Co, FWD_CO_TILE), flags, e);
    uint64_t pixels = (uint64_t)c->N * c->Ho * c->Wo;
    char what[96];
    if (sg_tensor_tiled_convs(x)) {
        /* pixel blocks over x and y, channel blocks over z */
        sg_dispatch d = {.kernel = &kernel_conv_fwd_tiled, .push = &pc, .push_size = sizeof pc,
                         .reads = {x, packed, b}, .writes = {y}, .detail = describe(what, sizeof what, c)};
        sg_groups_1d(sg_div_up(pixels, CONV_TILED_PIXELS), d.groups);
        d.groups[2] = sg_div_up((uint64_t)c->Co, CONV_TILED_CO_TILE);
        return sg_seq_dispatch(seq, &d);
    }
    bool texel = texels_fit(x, packed);
    conv_grid g = texel ? pick_grid(&kernel_conv_fwd_texel, &kernel_conv_fwd_texel_narrow, pixels, FWD_PIXELS,
                                    (uint32_t)c->Co, FWD_CO_TILE)
                        : pick_grid(&kernel_conv_fwd, &kernel_conv_fwd_narrow, pixels, FWD_PIXELS,
                                    (uint32_t)c->Co, FWD_CO_TILE);
    pc.run_lanes = g.run_lanes;
    sg_dispatch d = {.kernel = g.kernel, .push = &pc, .push_size = sizeof pc,
                     .reads = {x, packed, b}, .writes = {y}, .groups = {g.groups[0], g.groups[1], 1},
                     .detail = describe(what, sizeof what, c)};
    if (texel)
        bind_texels(&d, &pc, x, packed, y);
    return sg_seq_dispatch(seq, &d);
}

/* y (+)= conv(x, w) + b, then the epilogue e (NULL: none) */
static sg_status record_fwd(sg_seq *seq, const conv_problem *c, const sg_tensor *x, const sg_tensor *w,
                            const sg_tensor *b, sg_tensor *y, uint32_t flags, const sg_conv_epilogue *e)
{
    sg_tensor *packed, *folded_bias = NULL;
    sg_status s = record_pack(seq, c, w, true, FWD_CO_TILE, e, b, &packed, &folded_bias);
    if (s != SG_OK)
        return s;
    return dispatch_fwd(seq, c, x, packed, folded_bias ? folded_bias : b, y, flags, e);
}

/* An output of one pixel whose taps cover the whole input without padding (the
 * bridge's 4x4 -> 1x1 layer): its input and weight gradients are products of
 * matrices over k = (ci*KH + kh)*KW + kw, which conv_fwd computes as 1x1 convolutions. */
static bool one_pixel_covers_input(const conv_problem *c)
{
    return c->Ho == 1 && c->Wo == 1 && c->pad == 0 && c->dil == 1 && c->H == c->KH && c->W == c->KW;
}

/* Whether dx (+)= conv^T(dy, w) is a product of matrices that conv_fwd can take:
 * an output of one pixel whose taps cover the whole input without padding (the
 * discriminator's last layer, 4x4 -> 1x1), so that
 *   dx[n][k] = sum over co of dy[n][co] * w[co][k],  k = (ci*KH + kh)*KW + kw,
 * the 1x1 convolution of dy (N, Co, 1, 1) to (N, K, 1, 1) (dx's own layout)
 * with w [Co][K] as its weights: packed as conv_bwd_data packs the weight
 * [Co][K] of a 1x1 convolution from K channels to Co (*w_as_weight), they are
 * conv_fwd's packing of this one (no transpose).
 * conv_bwd_data would give each input pixel one of its KH*KW taps (the rest
 * add zeros: 1/16 of its FMAs useful at 4x4); conv_fwd sums the same products
 * in the same order (co ascending), so dx is the same to the bit. */
static bool bwd_data_is_product(const conv_problem *c, const sg_tensor *b, const sg_conv_epilogue *e,
                                conv_problem *product, conv_problem *w_as_weight)
{
    int K = c->Ci * c->KH * c->KW;
    if (b || e || !one_pixel_covers_input(c))
        return false;
    conv_problem m = {c->N, c->Co, 1, 1, K, 1, 1, 1, 1, 1, 0, 1};
    conv_problem w = {1, K, 1, 1, c->Co, 1, 1, 1, 1, 1, 0, 1};
    *product = m, *w_as_weight = w;
    return true;
}

/* dx (+)= conv^T(dy, w) + b, then the epilogue e (NULL: none) */
static sg_status record_bwd_data(sg_seq *seq, const conv_problem *c, const sg_tensor *dy,
                                 const sg_tensor *w, const sg_tensor *b, sg_tensor *dx, uint32_t flags,
                                 const sg_conv_epilogue *e)
{
    conv_problem product, w_as_weight;
    if (bwd_data_is_product(c, b, e, &product, &w_as_weight)) {
        sg_tensor *packed;
        sg_status s = record_pack(seq, &w_as_weight, w, false, FWD_CO_TILE, NULL, NULL, &packed, NULL);
        return s != SG_OK ? s : dispatch_fwd(seq, &product, dy, packed, NULL, dx, flags, NULL);
    }
    /* at most 4 input channels (not 1x1 stride 1: conv_fwd below), on the texel path: tiles of 4 */
    bool one_by_one = c->KH == 1 && c->KW == 1 && c->stride == 1 && c->pad == 0;
    bool small_ci = c->Ci <= BWD_DATA_SMALL_CI_TILE && !one_by_one && !sg_tensor_tiled_convs(dy) &&
                    sg_tensor_texel_ok(dy, 1);
    int ci_tile = small_ci ? BWD_DATA_SMALL_CI_TILE : BWD_DATA_CI_TILE;
    sg_tensor *packed, *folded_bias = NULL;
    sg_status s = record_pack(seq, c, w, false, ci_tile, e, b, &packed, &folded_bias);
    if (s == SG_OK && small_ci && !texels_fit(dy, packed)) {
        /* a packing off whole vec4s: the 16-channel kernels, whose word path reads any */
        small_ci = false, ci_tile = BWD_DATA_CI_TILE, folded_bias = NULL;
        s = record_pack(seq, c, w, false, ci_tile, e, b, &packed, &folded_bias);
    }
    if (s != SG_OK)
        return s;
    if (folded_bias)
        b = folded_bias;
    /* A 1x1 stride-1 kernel without padding: dx[n][ci][p] = sum over co of
     * w[co][ci] * dy[n][co][p], the 1x1 convolution of dy with w packed as
     * here (tiles of input channels: conv_fwd's tiles of its output channels,
     * FWD_CO_TILE == BWD_DATA_CI_TILE); conv_fwd sums the
     * same products in the same order (co ascending), 1.06-1.35x faster than
     * conv_bwd_data's phases on the generator's 1x1 layers (one profile). */
    if (one_by_one) {
        conv_problem m = {c->N, c->Co, c->Ho, c->Wo, c->Ci, c->H, c->W, 1, 1, 1, 0, 1};
        return dispatch_fwd(seq, &m, dy, packed, b, dx, flags, e);
    }
    conv_push pc = push_for(c, dy, packed, b, dx, round_up(c->Ci, ci_tile), flags, e);
    /* pixels of one phase (ih mod s, iw mod s) over the batch: at most N*ceil(H/s)*ceil(W/s) */
    uint64_t phase_pixels = (uint64_t)c->N * sg_div_up((uint64_t)c->H, (uint64_t)c->stride) *
                            sg_div_up((uint64_t)c->W, (uint64_t)c->stride);
    char what[96];
    if (sg_tensor_tiled_convs(dy)) {
        /* pixel blocks over x and y, phase x channel blocks over z */
        sg_dispatch d = {.kernel = &kernel_conv_bwd_data_tiled, .push = &pc, .push_size = sizeof pc,
                         .reads = {dy, packed, b}, .writes = {dx}, .detail = describe(what, sizeof what, c)};
        sg_groups_1d(sg_div_up(phase_pixels, CONV_TILED_PIXELS), d.groups);
        d.groups[2] = (uint32_t)(c->stride * c->stride) * sg_div_up((uint64_t)c->Ci, CONV_TILED_CO_TILE);
        return sg_seq_dispatch(seq, &d);
    }
    bool texel = texels_fit(dy, packed);
    /* small_ci is a texel kernel: the packing above fits texels when it is set */
    const sg_kernel *wide = small_ci ? &kernel_conv_bwd_data_texel_small_ci
                            : texel  ? &kernel_conv_bwd_data_texel
                                     : &kernel_conv_bwd_data;
    const sg_kernel *narrow = small_ci ? &kernel_conv_bwd_data_texel_small_ci_narrow
                              : texel  ? &kernel_conv_bwd_data_texel_narrow
                                       : &kernel_conv_bwd_data_narrow;
    conv_grid g = pick_grid(wide, narrow, phase_pixels, BWD_DATA_PIXELS, (uint32_t)c->Ci, ci_tile);
    pc.run_lanes = g.run_lanes;
    sg_dispatch d = {.kernel = g.kernel, .push = &pc, .push_size = sizeof pc,
                     .reads = {dy, packed, b}, .writes = {dx},
                     .groups = {g.groups[0], g.groups[1], (uint32_t)(c->stride * c->stride)},
                     .detail = describe(what, sizeof what, c)};
    if (texel)
        bind_texels(&d, &pc, dy, packed, dx);
    return sg_seq_dispatch(seq, &d);
}

/* The taps of one axis that reach the input from some output pixel: [*first,
 * *first + *count). A dilated kernel on a small map (ASPP's dilation 6-18 on
 * 4x4) reaches it with its middle tap only: the others' weight gradients are
 * sums of zeros. Where the live taps are not one run, all of them. */
static void live_taps(int taps, int in, int out, int stride, int pad, int dil, int *first, int *count)
{
    int lo = -1, hi = -1, gaps = 0;
    for (int k = 0; k < taps; k++) {
        bool live = false;
        for (int o = 0; o < out && !live; o++) {
            int i = o * stride - pad + k * dil;
            live = i >= 0 && i < in;
        }
        if (live && lo < 0)
            lo = k;
        if (live) {
            gaps += hi >= 0 && k != hi + 1;
            hi = k;
        }
    }
    if (lo < 0 || gaps) /* none (cannot happen for a valid shape) or not one run */
        lo = 0, hi = taps - 1;
    *first = lo, *count = hi - lo + 1;
}

/* Whether dw += sum over pixels of dy (x) x is a product of matrices that conv_fwd
 * can take: an output of one pixel whose taps cover the whole input without
 * padding (the bridge's 4x4 -> 1x1 layer and its transposed twin), so that
 *   dw[co][k] = sum over n of dy[n][co] * x[n][k],  k = (ci*KH + kh)*KW + kw,
 * the 1x1 convolution of x seen as one image of N channels of K pixels (x's own
 * layout) to Co channels (dw's layout), with dy as its weights: packed as
 * conv_bwd_data packs the weight [Co][Ci] of a 1x1 convolution (*dy_as_weight),
 * dy [N][Co] is conv_fwd's packing of this one (no transpose).
 * conv_bwd_weight would sum 64 pixels per weight in 8-lane workgroups whose
 * setup and final reduction outweigh them (3 GF/s on lavapipe). */
static bool bwd_weight_is_product(const conv_problem *c, conv_problem *product, conv_problem *dy_as_weight)
{
    if (!one_pixel_covers_input(c))
        return false;
    int K = c->Ci * c->KH * c->KW;
    conv_problem m = {1, c->N, 1, K, c->Co, 1, K, 1, 1, 1, 0, 1};
    conv_problem w = {1, c->Co, 1, 1, c->N, 1, 1, 1, 1, 1, 0, 1}; /* weight [N][Co] of a 1x1 convolution */
    *product = m, *dy_as_weight = w;
    return true;
}

/* The k per block of conv_bwd_weight's tap-rows build for c (its wide kernel in
 * *wide, its 8-lane one in *narrow), or 0 where it does not apply: dilation 1,
 * every tap live (the caller's test), 3x3 stride 1 or 4x4 stride 2, rows of output made of whole
 * runs of 8 or 4 pixels (the shader's accumulate_rows cases). */
static int tap_rows_tile(const conv_problem *c, const sg_kernel **wide, const sg_kernel **narrow)
{
    bool runs = c->Wo % 4 == 0 && (c->H * c->W) % 2 == 0;
    if (c->dil != 1 || !runs)
        return 0;
    if (c->KH == 3 && c->KW == 3 && c->stride == 1) {
        *wide = &kernel_conv_bwd_weight_taps3, *narrow = &kernel_conv_bwd_weight_taps3_narrow;
        return CONV_BWD_WEIGHT_TAPS3_ROWS * 3;
    }
    if (c->KH == 4 && c->KW == 4 && c->stride == 2) {
        *wide = &kernel_conv_bwd_weight_taps4, *narrow = &kernel_conv_bwd_weight_taps4_narrow;
        return CONV_BWD_WEIGHT_TAPS4_ROWS * 4;
    }
    return 0;
}

/* dw += sum over pixels of dy (x) x, in pixel chunks summed by conv_reduce */
static sg_status record_bwd_weight(sg_seq *seq, const conv_problem *c, const sg_tensor *x,
                                   const sg_tensor *dy, sg_tensor *dw)
{
    conv_problem product, dy_as_weight;
    if (bwd_weight_is_product(c, &product, &dy_as_weight)) {
        sg_tensor *packed;
        sg_status s = record_pack(seq, &dy_as_weight, dy, false, FWD_CO_TILE, NULL, NULL, &packed, NULL);
        return s != SG_OK ? s : dispatch_fwd(seq, &product, x, packed, NULL, dw, FLAG_ACCUMULATE, NULL);
    }
    int K = c->Ci * c->KH * c->KW;
    uint64_t pixels = (uint64_t)c->N * c->Ho * c->Wo;
    /* only the live taps' k (all but a few layers: all k) are summed; the
     * others' dw stay as they are (they would have had zeros added) */
    int kh0, lkh, kw0, lkw;
    live_taps(c->KH, c->H, c->Ho, c->stride, c->pad, c->dil, &kh0, &lkh);
    live_taps(c->KW, c->W, c->Wo, c->stride, c->pad, c->dil, &kw0, &lkw);
    int K_live = c->Ci * lkh * lkw;
    const sg_kernel *taps_wide = NULL, *taps_narrow = NULL;
    int k_tile = lkh == c->KH && lkw == c->KW ? tap_rows_tile(c, &taps_wide, &taps_narrow) : 0;
    uint32_t coblocks = sg_div_up((uint64_t)c->Co, BWD_WEIGHT_CO_TILE);
    /* enough workgroups to fill the device, each invocation still summing enough
     * pixels (>= 32) that the workgroup's final reduction stays a small part.
     * The plan counts blocks of 8 channels, as when that was the tile: each
     * weight's sum then takes the same pixels in the same chunks and order, so
     * the wider tile changes no bit of dw. */
    uint64_t plan_blocks = sg_div_up((uint64_t)K, BWD_WEIGHT_K_TILE) * sg_div_up((uint64_t)c->Co, 8);
    uint64_t want = sg_div_up(256, plan_blocks);
    uint64_t px_per_chunk = sg_div_up(pixels, want ? want : 1);
    uint32_t lanes = pixels < 128 * CONV_LANES ? NARROW_LANES : CONV_LANES; /* see the narrow kernels */
    if (px_per_chunk < 32 * lanes)
        px_per_chunk = 32 * lanes;
    px_per_chunk = (px_per_chunk + 7) / 8 * 8; /* the shader takes pixels in runs of 2 or 8 */
    uint32_t chunks = sg_div_up(pixels, px_per_chunk);
    sg_tensor *part;
    sg_status s = sg_seq_scratch(seq, sg_shape4((int)chunks, c->Co, 1, K_live), &part);
    if (s != SG_OK)
        return s;
    struct {
        uint64_t x, dy, part;
        int32_t N, Ci, H, W, Co, Ho, Wo, KH, KW, stride, pad, dil, px_per_chunk;
        int32_t x_base, dy_base; /* conv_bwd_weight_texel: floats from the texel views' starts to x, to dy */
        int32_t kh0, lkh, kw0, lkw; /* the live taps */
    } pc = {sg_tensor_address(x), sg_tensor_address(dy), sg_tensor_address(part), c->N, c->Ci, c->H, c->W,
            c->Co, c->Ho, c->Wo, c->KH, c->KW, c->stride, c->pad, c->dil, (int32_t)px_per_chunk,
            (int32_t)sg_tensor_texel_base(x), (int32_t)sg_tensor_texel_base(dy), kh0, lkh, kw0, lkw};
    /* texels where x and dy fit views of floats, starting on whole vec4 */
    bool texel = sg_tensor_texel_ok(x, 1) && sg_tensor_texel_ok(dy, 1) && pc.x_base % 4 == 0 && pc.dy_base % 4 == 0;
    bool wide = lanes == CONV_LANES, tiled = sg_tensor_tiled_convs(x);
    bool taps = texel && k_tile && !tiled; /* the tap-rows builds read texels */
    const sg_kernel *k = tiled   ? &kernel_conv_bwd_weight_tiled
                         : taps  ? (wide ? taps_wide : taps_narrow)
                         : texel ? (wide ? &kernel_conv_bwd_weight_texel : &kernel_conv_bwd_weight_texel_narrow)
                                 : (wide ? &kernel_conv_bwd_weight : &kernel_conv_bwd_weight_narrow);
    uint32_t kblocks = sg_div_up((uint64_t)K_live, taps ? (uint64_t)k_tile : BWD_WEIGHT_K_TILE);
    char what[96];
    sg_dispatch d = {.kernel = k,
                     .push = &pc, .push_size = sizeof pc,
                     .reads = {x, dy}, .writes = {part}, .groups = {kblocks, coblocks, chunks},
                     .detail = describe(what, sizeof what, c)};
    if (tiled) { /* blocks of k over x, of channels over y */
        d.groups[0] = sg_div_up((uint64_t)K_live, CONV_TILED_PIXELS);
        d.groups[1] = sg_div_up((uint64_t)c->Co, CONV_TILED_CO_TILE);
    } else if (texel) {
        d.texels[0] = (sg_texel_read){x, 1};
        d.texels[1] = (sg_texel_read){x, 4};
        d.texels[2] = (sg_texel_read){dy, 1};
        d.texels[3] = (sg_texel_read){dy, 4};
    }
    if ((s = sg_seq_dispatch(seq, &d)) != SG_OK)
        return s;
    struct {
        uint64_t part, dst;
        uint32_t count, chunks;
        uint32_t k_live, kk_live, kh0, kw0, lkw, KK, KW; /* part's k are the live taps' */
        uint32_t part_base, dst_base, stored; /* conv_reduce_texel: part as texels, dw through binding 4 */
        uint32_t quads; /* conv_reduce_texel: 4 weights an invocation */
        uint32_t first_quad;
    } rc = {sg_tensor_address(part), sg_tensor_address(dw), (uint32_t)(c->Co * K_live), chunks,
            (uint32_t)K_live, (uint32_t)(lkh * lkw), (uint32_t)kh0, (uint32_t)kw0, (uint32_t)lkw,
            (uint32_t)(c->KH * c->KW), (uint32_t)c->KW};
    sg_dispatch r = {.kernel = &kernel_conv_reduce, .push = &rc, .push_size = sizeof rc,
                     .reads = {part}, .writes = {dw}};
    if (sg_tensor_texel_ok(part, 1)) {
        r.kernel = &kernel_conv_reduce_texel;
        rc.part_base = sg_tensor_texel_base(part);
        /* every tap live (dw's index is part's), whole vec4s everywhere */
        rc.quads = rc.kk_live == rc.KK && rc.count % 4 == 0 && sg_tensor_quad_texels(part);
        r.texels[0] = (sg_texel_read){part, rc.quads ? 4 : 1};
        rc.stored = sg_store_output(&r, dw, rc.quads, &rc.dst_base);
    }
    if (rc.quads)
        return sg_dispatch_whole_groups(seq, &r, rc.stored ? &kernel_conv_reduce_whole : NULL, rc.count / 4,
                                        rc.count / 4, &rc.first_quad);
    sg_elementwise_groups(rc.count, r.groups);
    return sg_seq_dispatch(seq, &r);
}

/* db[c] += sum of dy over n, h, w */
static sg_status record_bias_grad(sg_seq *seq, const sg_tensor *dy, sg_tensor *db)
{
    sg_shape s = sg_tensor_shape(dy);
    struct {
        uint64_t dy, db;
        uint32_t N, C, plane;
        uint32_t dy_base; /* conv_bias_grad_texel: floats from the texel view's start to dy */
        uint32_t quads;   /* planes of whole quads read as vec4 */
        uint32_t plane4_log2; /* the whole form: log2(plane / 4) */
    } pc = {sg_tensor_address(dy), sg_tensor_address(db), (uint32_t)s.n, (uint32_t)s.c, (uint32_t)(s.h * s.w),
            sg_tensor_texel_base(dy)};
    bool texel = sg_tensor_texel_ok(dy, 1);
    pc.quads = pc.plane % 4 == 0 && (!texel || sg_tensor_quad_texels(dy));
    sg_dispatch d = {.kernel = texel ? &kernel_conv_bias_grad_texel : &kernel_conv_bias_grad, .push = &pc,
                     .push_size = sizeof pc, .reads = {dy}, .writes = {db}, .groups = {(uint32_t)s.c, 1, 1}};
    if (texel)
        d.texels[0] = (sg_texel_read){dy, pc.quads ? 4 : 1};
    /* the whole form: planes of 2^k quads, each channel's quads whole rounds of its lanes */
    const sg_kernel *whole = &kernel_conv_bias_grad_whole;
    uint64_t channel_quads = (uint64_t)pc.N * (pc.plane / 4);
    if (texel && pc.quads && channel_quads % whole->local_size_x == 0 && channel_quads <= UINT32_MAX &&
        sg_pow2_log2(pc.plane / 4, &pc.plane4_log2))
        d.kernel = whole;
    return sg_seq_dispatch(seq, &d);
}

/* Check the shapes of a convolution from `in` to `out` with weight w laid out
 * (Co,Ci,KH,KW) for a plain conv or (Ci_t,Co_t,KH,KW) for a transposed one, and
 * describe it as the convolution in -> out (plain) or out -> in (transposed). */
static sg_status make_problem(sg_seq *seq, const char *op, const sg_conv2d *p, const sg_tensor *x,
                              const sg_tensor *w, const sg_tensor *b, const sg_tensor *y, bool transposed,
                              conv_problem *c)
{
    sg_status s;
    if ((s = check_params(seq, op, p)) || (s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "w", w)))
        return s;
    sg_shape xs = sg_tensor_shape(x), ws = sg_tensor_shape(w);
    int in_c = transposed ? ws.n : ws.c, out_c = transposed ? ws.c : ws.n;
    if (ws.h != p->kernel_h || ws.w != p->kernel_w || xs.c != in_c)
        return sg_seq_fail(seq, SG_ERR_SHAPE,
                           "%s: weight (%d,%d,%d,%d) does not fit a %dx%d kernel over %d input channels%s",
                           op, ws.n, ws.c, ws.h, ws.w, p->kernel_h, p->kernel_w, xs.c,
                           transposed ? " (transposed weights are (in, out, kh, kw))" : "");
    int oh, ow;
    if (transposed) {
        oh = sg_conv_transpose2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation);
        ow = sg_conv_transpose2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation);
    } else {
        oh = sg_conv2d_out_size(xs.h, p->kernel_h, p->stride, p->padding, p->dilation);
        ow = sg_conv2d_out_size(xs.w, p->kernel_w, p->stride, p->padding, p->dilation);
    }
    if (oh <= 0 || ow <= 0)
        return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: input %dx%d is too small for a %dx%d kernel "
                           "(dilation %d, padding %d)", op, xs.h, xs.w, p->kernel_h, p->kernel_w,
                           p->dilation, p->padding);
    if (b && (s = sg_require_count(seq, op, "bias", b, (size_t)out_c)))
        return s;
    if (y && (s = sg_require_shape(seq, op, "output", y, sg_shape4(xs.n, out_c, oh, ow))))
        return s;
    conv_problem plain = {xs.n, xs.c, xs.h, xs.w, out_c, oh, ow, p->kernel_h, p->kernel_w,
                          p->stride, p->padding, p->dilation};
    conv_problem adjoint = {xs.n, out_c, oh, ow, xs.c, xs.h, xs.w, p->kernel_h, p->kernel_w,
                            p->stride, p->padding, p->dilation};
    *c = transposed ? adjoint : plain;
    return SG_OK;
}

sg_status sg_conv2d_forward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x, const sg_tensor *w,
                            const sg_tensor *b, sg_tensor *y)
{
    conv_problem c;
    sg_status s = make_problem(seq, "conv2d_forward", p, x, w, b, y, false, &c);
    if (s == SG_OK && !y)
        s = sg_seq_fail(seq, SG_ERR_ARGUMENT, "conv2d_forward: y is NULL");
    return s != SG_OK ? s : record_fwd(seq, &c, x, w, b, y, 0, NULL);
}

sg_status sg_conv2d_backward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x, const sg_tensor *w,
                             const sg_tensor *dy, sg_tensor *dx, sg_tensor *dw, sg_tensor *db)
{
    conv_problem c;
    sg_status s = make_problem(seq, "conv2d_backward", p, x, w, db, dy, false, &c);
    if (s == SG_OK && !dy)
        s = sg_seq_fail(seq, SG_ERR_ARGUMENT, "conv2d_backward: dy is NULL");
    if (s == SG_OK && dx)
        s = sg_require_same_shape(seq, "conv2d_backward (dx and x)", dx, x);
    if (s == SG_OK && dw)
        s = sg_require_same_shape(seq, "conv2d_backward (dw and w)", dw, w);
    if (s == SG_OK && dx)
        s = record_bwd_data(seq, &c, dy, w, NULL, dx, FLAG_ACCUMULATE, NULL);
    if (s == SG_OK && dw)
        s = record_bwd_weight(seq, &c, x, dy, dw);
    if (s == SG_OK && db)
        s = record_bias_grad(seq, dy, db);
    return s;
}

sg_status sg_conv_transpose2d_forward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                                      const sg_tensor *w, const sg_tensor *b, sg_tensor *y)
{
    conv_problem c;
    sg_status s = make_problem(seq, "conv_transpose2d_forward", p, x, w, b, y, true, &c);
    if (s == SG_OK && !y)
        s = sg_seq_fail(seq, SG_ERR_ARGUMENT, "conv_transpose2d_forward: y is NULL");
    /* the adjoint conv maps y's shape to x's: its input gradient is our output */
    return s != SG_OK ? s : record_bwd_data(seq, &c, x, w, b, y, 0, NULL);
}

sg_status sg_conv_transpose2d_backward(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                                       const sg_tensor *w, const sg_tensor *dy, sg_tensor *dx,
                                       sg_tensor *dw, sg_tensor *db)
{
    conv_problem c;
    sg_status s = make_problem(seq, "conv_transpose2d_backward", p, x, w, db, dy, true, &c);
    if (s == SG_OK && !dy)
        s = sg_seq_fail(seq, SG_ERR_ARGUMENT, "conv_transpose2d_backward: dy is NULL");
    if (s == SG_OK && dx)
        s = sg_require_same_shape(seq, "conv_transpose2d_backward (dx and x)", dx, x);
    if (s == SG_OK && dw)
        s = sg_require_same_shape(seq, "conv_transpose2d_backward (dw and w)", dw, w);
    if (s == SG_OK && dx)
        s = record_fwd(seq, &c, dy, w, NULL, dx, FLAG_ACCUMULATE, NULL);
    if (s == SG_OK && dw)
        s = record_bwd_weight(seq, &c, dy, x, dw);
    if (s == SG_OK && db)
        s = record_bias_grad(seq, dy, db);
    return s;
}

/* The epilogue's batch norm tensors: all four or none, one per output channel. */
static sg_status check_epilogue(sg_seq *seq, const char *op, const sg_conv_epilogue *e, int channels)
{
    if (!e)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: the epilogue is NULL", op);
    const sg_tensor *t[4] = {e->gamma, e->beta, e->mean, e->var};
    static const char *names[4] = {"batch norm weight", "batch norm bias", "running mean", "running variance"};
    bool any = e->gamma || e->beta || e->mean || e->var;
    sg_status s = SG_OK;
    for (int i = 0; i < 4 && any && s == SG_OK; i++)
        s = t[i] ? sg_require_count(seq, op, names[i], t[i], (size_t)channels)
                 : sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: %s is NULL (give all four batch norm tensors or none)",
                               op, names[i]);
    if (s == SG_OK && any && !(e->eps > 0.0f))
        s = sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: batch norm eps must be > 0, got %g", op, (double)e->eps);
    return s;
}

/* The two fused forwards: a convolution is conv_fwd's, a transposed one
 * conv_bwd_data's; the epilogue's per-channel values are per output channel. */
static sg_status forward_fused(sg_seq *seq, const char *op, bool transposed, const sg_conv2d *p, const sg_tensor *x,
                               const sg_tensor *w, const sg_tensor *b, const sg_conv_epilogue *e, sg_tensor *y)
{
    conv_problem c;
    sg_status s = make_problem(seq, op, p, x, w, b, y, transposed, &c);
    if (s == SG_OK && !y)
        s = sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: y is NULL", op);
    if (s == SG_OK)
        s = check_epilogue(seq, op, e, transposed ? c.Ci : c.Co);
    if (s != SG_OK)
        return s;
    uint32_t flags = e->accumulate ? FLAG_ACCUMULATE : 0;
    return transposed ? record_bwd_data(seq, &c, x, w, b, y, flags, e) : record_fwd(seq, &c, x, w, b, y, flags, e);
}

sg_status sg_conv2d_forward_fused(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x, const sg_tensor *w,
                                  const sg_tensor *b, const sg_conv_epilogue *e, sg_tensor *y)
{
    return forward_fused(seq, "conv2d_forward_fused", false, p, x, w, b, e, y);
}

sg_status sg_conv_transpose2d_forward_fused(sg_seq *seq, const sg_conv2d *p, const sg_tensor *x,
                                            const sg_tensor *w, const sg_tensor *b, const sg_conv_epilogue *e,
                                            sg_tensor *y)
{
    return forward_fused(seq, "conv_transpose2d_forward_fused", true, p, x, w, b, e, y);
}
