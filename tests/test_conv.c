/* conv2d and transposed conv2d: the shaders against the C reference over a grid
 * of shapes, and the reference backward against finite differences.
 *
 * Tolerances: GPU vs reference 2e-4 absolute + 2e-4 relative (fp32 sums of up to
 * a few thousand products in a different order); finite differences with
 * eps 1e-2 (convolution is linear, so only rounding limits them) within
 * 2e-3 absolute + 2e-3 relative.
 *
 * The fused eval forward (sg_conv2d_forward_fused: batch norm folded into the
 * packed weights, ReLU / LeakyReLU at the store) against reference conv, then
 * reference batch norm, then reference activation, on every shape: the folded
 * sums round differently (w*s summed, not sum(w)*s), |s| <= 2.2 here, so
 * 5e-4 absolute + 5e-4 relative. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

typedef struct conv_case {
    const char *name;
    int n, ci, h, w, co, k, stride, pad, dil;
    bool bias, transposed;
} conv_case;

static const conv_case CASES[] = {
    {"1x1", 2, 5, 7, 6, 3, 1, 1, 0, 1, true, false},
    {"1x1 stride 2 (Res shortcut)", 2, 6, 9, 8, 13, 1, 2, 0, 1, true, false},
    {"3x3 pad 1", 1, 3, 8, 8, 16, 3, 1, 1, 1, true, false},
    {"3x3 pad 1 odd sizes", 3, 13, 7, 5, 9, 3, 1, 1, 1, false, false},
    {"3x3 stride 2 pad 1", 2, 7, 9, 10, 11, 3, 2, 1, 1, true, false},
    {"4x4 stride 2 pad 1 (DCGAN)", 2, 3, 8, 8, 10, 4, 2, 1, 1, false, false},
    {"4x4 stride 1 pad 0 (D feature)", 3, 12, 4, 4, 7, 4, 1, 0, 1, false, false},
    {"3x3 dilation 6 on 4x4", 2, 6, 4, 4, 5, 3, 1, 6, 6, true, false},
    {"3x3 dilation 12 on 4x4", 1, 9, 4, 4, 6, 3, 1, 12, 12, true, false},
    {"3x3 dilation 18 on 4x4", 2, 5, 4, 4, 10, 3, 1, 18, 18, true, false},
    {"3x3 dilation 2 on 9x7", 2, 4, 9, 7, 5, 3, 1, 2, 2, true, false},
    {"5x5 stride 3 pad 2", 1, 3, 11, 13, 4, 5, 3, 2, 1, true, false},
    {"3x3 many channels", 2, 19, 12, 11, 21, 3, 1, 1, 1, true, false},
    {"transposed 4x4 stride 2 pad 1", 2, 6, 4, 5, 5, 4, 2, 1, 1, true, true},
    {"transposed 4x4 stride 2 pad 1 wide", 1, 16, 8, 8, 9, 4, 2, 1, 1, true, true},
    {"transposed 3x3 stride 1 pad 1", 2, 5, 6, 7, 3, 3, 1, 1, 1, false, true},
    {"transposed 3x3 stride 2 pad 1", 2, 4, 5, 5, 6, 3, 2, 1, 1, true, true},
    {"transposed 2x2 stride 2", 3, 3, 3, 4, 7, 2, 2, 0, 1, true, true},
    {"transposed 3x3 stride 2 dilation 2", 1, 5, 4, 3, 4, 3, 2, 1, 2, true, true},
    /* shapes at the edges of the kernels' tiles: pixel blocks spanning images,
     * partial channel tiles on both sides, several weight-gradient chunks */
    {"tile edges 3x3 35 channels", 3, 5, 17, 19, 35, 3, 1, 1, 1, true, false},
    {"batch 9 of 4x4 maps", 9, 3, 4, 4, 5, 3, 1, 1, 1, false, false},
    {"weight gradient in 2 chunks", 4, 2, 24, 24, 3, 3, 1, 1, 1, false, false},
    {"transposed tile edges", 2, 20, 9, 7, 18, 4, 2, 1, 1, true, true},
    /* stride-1 rows of whole 8-pixel runs: the forward reads them as 64-bit words */
    {"rows of 16 pixels", 2, 3, 6, 16, 5, 3, 1, 1, 1, true, false},
    /* outputs of >= 1024 pixels run in 64-lane workgroups, smaller ones in 8-lane ones */
    {"64-lane workgroups, rows of 16 pixels", 5, 3, 16, 16, 5, 3, 1, 1, 1, true, false},
    {"64-lane workgroups, transposed 4x4 stride 2", 4, 3, 16, 16, 4, 4, 2, 1, 1, true, true},
    {"64-lane workgroups, stride 2 with padding", 2, 4, 48, 44, 6, 3, 2, 1, 1, true, false},
    {"rows of 8 pixels, dilation 2", 2, 4, 5, 8, 6, 3, 1, 2, 2, false, false},
    /* conv_fwd's 3x3 stride-1 patches of 4 rows x 8 columns (taken from 128 patches on):
     * heights not a multiple of 4, patches spanning images, channel counts not a
     * multiple of 4 or of the tile */
    {"patches: 6 rows of 8, 17 channels out", 64, 5, 6, 8, 17, 3, 1, 1, 1, true, false},
    {"patches: 64-lane workgroups, 9 rows of 24", 15, 3, 9, 24, 6, 3, 1, 1, 1, true, false},
    {"patches: 1 row of 16, no padding", 64, 7, 3, 18, 5, 3, 1, 0, 1, false, false},
    {"patches: padding 2 (wider output)", 64, 2, 5, 6, 3, 3, 1, 2, 1, true, false},
    {"patches: transposed 3x3 input gradient", 128, 6, 4, 8, 5, 3, 1, 1, 1, false, true},
    /* shapes added with a 3x3 patch kernel (since withdrawn: docs/benchmarks.md), kept as coverage */
    {"3x3 stride 1, no padding, odd sizes", 32, 5, 7, 16, 3, 3, 1, 0, 1, false, false},
    {"3x3 stride 1, padding 2", 64, 6, 5, 8, 7, 3, 1, 2, 1, true, false},
    {"3x3 stride 1 transposed, bias", 64, 7, 5, 8, 18, 3, 1, 1, 1, true, true},
    /* shapes added with a second 3x3 patch kernel (conv_fwd3x3, not landed: docs/benchmarks.md),
     * kept as coverage: an odd plane, partial 8-column and 8-channel tiles on every side */
    {"3x3 patches: odd plane 5x7, 9 channels out", 64, 2, 5, 7, 9, 3, 1, 1, 1, true, false},
    {"3x3 patches: 13 columns, 35 in, 19 out", 16, 35, 10, 13, 19, 3, 1, 1, 1, true, false},
    /* conv_bwd_weight's pixel pairs (dy pairs from both halves of a vec4 texel) on rows
     * that are not whole runs of 8, strides 1 to 3; 8-lane workgroups below 8192 output
     * pixels, 64-lane ones from there, in several chunks spanning images */
    {"weight pairs: stride 1, rows of 12, odd height", 3, 5, 7, 12, 9, 3, 1, 1, 1, true, false},
    {"weight pairs: stride 2, 7 columns in", 2, 6, 9, 7, 10, 3, 2, 1, 1, true, false},
    {"weight pairs: 1x1 stride 2", 2, 5, 6, 8, 7, 1, 2, 0, 1, false, false},
    {"weight pairs: 2 chunks spanning images", 40, 2, 8, 12, 3, 3, 1, 1, 1, false, false},
    {"weight pairs: transposed 4x4 stride 2, 12 columns in", 2, 5, 3, 12, 6, 4, 2, 1, 1, true, true},
    {"weight pairs: stride 2, 6 columns out", 2, 4, 7, 12, 5, 3, 2, 1, 1, false, false},
    {"weight pairs: stride 3, 4 columns out", 1, 3, 8, 12, 4, 5, 3, 2, 1, true, false},
    {"weight gradient in 64-lane workgroups, pairs", 32, 2, 16, 17, 3, 3, 1, 1, 1, false, false},
    {"weight gradient in 64-lane workgroups, rows of 16", 32, 2, 16, 16, 3, 3, 1, 1, 1, false, false},
    /* the weight gradient's runs of 4 output pixels, where rows are whole runs of 4 but not
     * of 8 (the 4x4 maps; "weight pairs: stride 1, rows of 12" and "2 chunks spanning
     * images" take them too): stride 1 and 2, padding, dilation, several chunks, 8- and
     * 64-lane workgroups; rows of 6 and 2 stay on pairs */
    {"weight runs of 4: 4x4 maps at batch 64, 4 chunks", 64, 5, 4, 4, 20, 3, 1, 1, 1, true, false},
    {"weight runs of 4: 4x4 stride 2 from 8x8", 64, 4, 8, 8, 6, 4, 2, 1, 1, false, false},
    {"weight runs of 4: stride 2, odd width in, no padding", 3, 3, 10, 9, 5, 3, 2, 0, 1, false, false},
    {"weight runs of 4: rows of 12, 64-lane workgroups", 64, 2, 12, 12, 3, 3, 1, 1, 1, true, false},
    {"weight runs of 4: dilation 2, padding 2", 2, 3, 6, 4, 4, 3, 1, 2, 2, false, false},
    {"weight pairs: rows of 6 at batch 64", 64, 3, 6, 6, 5, 3, 1, 1, 1, false, false},
    /* the weight gradient's stride-2 rows of 8 output pixels (x every other float; odd widths
     * start runs on odd floats), in 8- and 64-lane workgroups */
    {"weight rows: stride 2, 31 columns in, 16 out", 2, 3, 30, 31, 5, 3, 2, 1, 1, true, false},
    {"weight rows: stride 2, no padding, 17 columns in, 8 out", 3, 2, 10, 17, 4, 3, 2, 0, 1, false, false},
    {"weight rows: stride 2, dilation 2, padding 2", 2, 3, 20, 32, 4, 3, 2, 2, 2, true, false},
    {"weight rows: 4x4 stride 2, 64-lane workgroups", 32, 2, 32, 32, 3, 4, 2, 1, 1, false, false},
    /* 8-lane workgroups with fewer runs of 8 pixels than lanes: the spare lanes take
     * further channel tiles (run_lanes 1, 2, 4 and 8 on either side of each halving),
     * with a partial last tile and a lane past the last tile */
    {"channel lanes: 4x4 map, 40 channels out", 1, 7, 4, 4, 40, 3, 1, 1, 1, true, false},
    {"channel lanes: 1x1 output, 20 channels out", 1, 9, 4, 4, 20, 4, 1, 0, 1, false, false},
    {"channel lanes: 3 maps of 3x3 (4 runs), 70 channels out", 3, 4, 3, 3, 70, 3, 1, 1, 1, true, false},
    {"channel lanes: 5x5 (4 runs), 33 channels out", 1, 3, 5, 5, 33, 3, 1, 1, 1, false, false},
    {"channel lanes: 6x6 (5 runs), 33 channels out", 1, 3, 6, 6, 33, 3, 1, 1, 1, true, false},
    {"channel lanes: 2 maps of 2x2 (1 run), 130 channels out", 2, 3, 4, 4, 130, 3, 2, 1, 1, false, false},
    {"channel lanes: transposed 4x4 stride 2 from 4x4, 35 channels out", 1, 6, 4, 4, 35, 4, 2, 1, 1, true, true},
    {"channel lanes: transposed from 2x2, 50 channels out", 1, 20, 2, 2, 50, 4, 2, 1, 1, false, true},
    /* one output pixel covering the input: the input gradient (a transposed one's
     * forward, without bias) as a product of matrices through conv_fwd, where
     * KH*KW*Ci is whole 16-channel tiles (384, 144, 128), else conv_bwd_data (45) */
    {"one output pixel: dx as a product, batch 11, 24 in, 37 out", 11, 24, 4, 4, 37, 4, 1, 0, 1, true, false},
    {"one output pixel: dx as a product, 3x3 stride 2 on 3x3", 3, 16, 3, 3, 5, 3, 2, 0, 1, false, false},
    {"one output pixel: 45 taps x channels, not whole tiles", 2, 5, 3, 3, 6, 3, 1, 0, 1, true, false},
    {"transposed from 1x1 to 4x4 as a product, no bias", 9, 12, 1, 1, 8, 4, 1, 0, 1, false, true},
    {"transposed from 1x1 to 4x4, bias", 2, 12, 1, 1, 8, 4, 1, 0, 1, true, true},
    /* 1x1 stride-1 input gradients (and transposed 1x1 forwards) run as conv_fwd with
     * conv_bwd_data's packing: whole and partial channel tiles, 8- and 64-lane workgroups */
    {"1x1 input gradient: 80 -> 32, 64-lane workgroups", 4, 80, 16, 16, 32, 1, 1, 0, 1, false, false},
    {"1x1 input gradient: 20 channels in (a partial tile)", 1, 20, 5, 7, 19, 1, 1, 0, 1, true, false},
    {"transposed 1x1, bias, 21 channels out", 2, 6, 5, 5, 21, 1, 1, 0, 1, true, true},
    /* input gradients of at most 4 channels (not 1x1 stride 1) in tiles of 4 channels
     * (conv_bwd_data_texel_small_ci): the first layer at batch 64 in 64-lane workgroups, a
     * transposed forward to 4 channels with bias, 1 and 2 channels in 8-lane workgroups */
    {"small channels: the first layer 4x4 stride 2, batch 64", 64, 3, 32, 32, 8, 4, 2, 1, 1, false, false},
    {"small channels: transposed 4x4 stride 2 to 4 channels, bias", 3, 6, 5, 7, 4, 4, 2, 1, 1, true, true},
    {"small channels: 1 channel in, 3x3 padding 1", 2, 1, 6, 9, 5, 3, 1, 1, 1, true, false},
    {"small channels: 2 channels in, dilation 2", 2, 2, 7, 8, 6, 3, 1, 2, 2, false, false},
    /* dilated kernels whose outer taps never reach the map: the weight gradient
     * sums the live taps only (1 of 9 in "3x3 dilation 18 on 4x4"; here 1x3, 3x3 of 5x5) */
    {"dilated taps over a 2-row map (live taps 1x3)", 2, 5, 2, 7, 6, 3, 1, 2, 2, true, false},
    {"5x5 dilation 2 over 3x3 (live taps 3x3 of 5x5)", 3, 4, 3, 3, 5, 5, 1, 4, 2, false, false},
    /* conv_fwd's and conv_bwd_data's 3x3 stride-1 rows read as one window a kernel row
     * (accumulate_windows): channels in
     * pairs and an odd last one, padding 0, 1 and 2, 8- and 64-lane workgroups, several channel tiles,
     * a transposed 3x3 stride-1 input gradient (conv_fwd of dy) */
    {"3x3 row windows: 6 channels in, 20 out", 2, 6, 8, 16, 20, 3, 1, 1, 1, true, false},
    {"3x3 row windows: 7 channels in (an odd last one)", 2, 7, 8, 8, 5, 3, 1, 1, 1, false, false},
    {"3x3 row windows: 64-lane workgroups, 4 channels in", 8, 4, 16, 16, 18, 3, 1, 1, 1, false, false},
    {"3x3 row windows: no padding, 10 columns in", 2, 4, 10, 10, 6, 3, 1, 0, 1, true, false},
    {"3x3 row windows: padding 2, 6 columns in", 2, 5, 6, 6, 6, 3, 1, 2, 1, false, false},
    {"3x3 row windows: transposed, 4 channels out", 2, 6, 8, 8, 4, 3, 1, 1, 1, true, true},
    /* conv_bwd_data's (rows of dx): padding 0 and 2 where dx rows are whole runs of 8 */
    {"3x3 row windows: no padding, 16 columns in", 2, 4, 9, 16, 6, 3, 1, 0, 1, false, false},
    {"3x3 row windows: padding 2, 8 columns in, 5 out", 2, 3, 5, 8, 5, 3, 1, 2, 1, true, false},
    /* conv_fwd's 4x4 stride-2 rows read as one window a kernel row (accumulate_windows): 8
     * output columns from 16, 18 (no padding) and 14 columns in (padding 2), channels in pairs
     * and an odd last one, a transposed 4x4 stride-2 input gradient (conv_fwd of dy) */
    {"4x4 stride-2 row windows: 6 channels in, 20 out", 2, 6, 10, 16, 20, 4, 2, 1, 1, true, false},
    {"4x4 stride-2 row windows: no padding, 5 channels in", 2, 5, 9, 18, 7, 4, 2, 0, 1, false, false},
    {"4x4 stride-2 row windows: padding 2, 3 channels in", 2, 3, 7, 14, 6, 4, 2, 2, 1, true, false},
    {"4x4 stride-2 row windows: transposed, 5 channels out", 2, 4, 4, 8, 5, 4, 2, 1, 1, true, true},
    /* conv_bwd_data's 4x4 stride-2 rows of a phase read as one window a kernel row: padding 0
     * and 2, an odd height (phases of other heights), 17 columns (a phase of 9 columns beside
     * one of 8: one of them windowed), an odd last channel */
    {"4x4 stride-2 phase windows: no padding, 16 columns in", 2, 3, 6, 16, 7, 4, 2, 0, 1, false, false},
    {"4x4 stride-2 phase windows: padding 2, odd height", 2, 4, 5, 16, 5, 4, 2, 2, 1, true, false},
    {"4x4 stride-2 phase windows: 17 columns in", 2, 3, 8, 17, 6, 4, 2, 1, 1, false, false},
    /* conv_pack in whole workgroups of 256 (ops/op_util.c): 16 x 64 x 9 vec4s, 36 of them and no
     * rest, both packings; 4 x 460 x 9, 64 and a rest of 176 (the forward's packing) */
    {"packing in whole workgroups: 64 -> 64", 2, 64, 4, 4, 64, 3, 1, 1, 1, true, false},
    {"packing in whole workgroups and a rest: 460 -> 16", 1, 460, 2, 2, 16, 3, 1, 1, 1, false, false},
};

/* which load path the kernels take: "" (texels where the device allows) or the buffer-reference one */

typedef struct fd_ctx {
    const conv_case *c;
    sg_conv2d p;
    sg_shape xs;
    const float *x, *w, *b;
} fd_ctx;

static void ref_forward(const fd_ctx *f, const float *x, const float *w, const float *b, float *y)
{
    if (f->c->transposed)
        sg_ref_conv_transpose2d_forward(&f->p, f->xs, x, f->c->co, w, b, y);
    else
        sg_ref_conv2d_forward(&f->p, f->xs, x, f->c->co, w, b, y);
}

static void fd_forward(void *ctx, float *y)
{
    fd_ctx *f = ctx;
    ref_forward(f, f->x, f->w, f->b, y);
}

/* Batch norm parameters of `channels` channels, |gamma / sqrt(var + eps)| <= 2.2 */
static void random_bn(int channels, uint64_t seed, float *gamma, float *beta, float *mean, float *var)
{
    t_random(gamma, channels, -1.5f, 1.5f, seed);
    t_random(beta, channels, -1, 1, seed + 1);
    t_random(mean, channels, -1, 1, seed + 2);
    t_random(var, channels, 0.5f, 2.0f, seed + 3);
}

/* The epilogue of case i: BN + ReLU, BN + LeakyReLU 0.2, BN alone, LeakyReLU 0.1 alone; with
 * an addend (every third case), added before the activation (sg_conv_epilogue.accumulate). */
static void fused_reference(const fd_ctx *f, int mode, const float *bn[4], const float *addend, size_t ny, float *y)
{
    static const sg_batchnorm BN = {1e-5f, 0.1f};
    ref_forward(f, f->x, f->w, f->b, y);
    float *t = t_alloc(ny);
    if (mode <= 2) {
        sg_ref_batchnorm_forward_eval(&BN, sg_shape4(f->xs.n, f->c->co, 1, (int)(ny / ((size_t)f->xs.n * f->c->co))), y,
                                      bn[0], bn[1], bn[2], bn[3], t);
        memcpy(y, t, ny * sizeof *y);
    }
    for (size_t i = 0; addend && i < ny; i++)
        y[i] += addend[i];
    if (mode != 2) {
        sg_ref_activation_forward(mode == 0 ? SG_ACT_RELU : SG_ACT_LEAKY_RELU, mode == 1 ? 0.2f : mode == 3 ? 0.1f : 0.0f,
                                  ny, y, t);
        memcpy(y, t, ny * sizeof *y);
    }
    free(t);
}

static void record_fused(sg_seq *seq, const conv_case *c, const sg_conv2d *p, int mode, bool accumulate,
                         sg_tensor *tx, sg_tensor *tw, sg_tensor *tb, sg_tensor *const tbn[4], sg_tensor *ty)
{
    sg_conv_epilogue e = {.eps = 1e-5f, .activate = mode != 2, .slope = mode == 1 ? 0.2f : mode == 3 ? 0.1f : 0.0f,
                          .accumulate = accumulate};
    if (mode <= 2)
        e.gamma = tbn[0], e.beta = tbn[1], e.mean = tbn[2], e.var = tbn[3];
    sg_status s = c->transposed ? sg_conv_transpose2d_forward_fused(seq, p, tx, tw, c->bias ? tb : NULL, &e, ty)
                                : sg_conv2d_forward_fused(seq, p, tx, tw, c->bias ? tb : NULL, &e, ty);
    t_ok(s, "recording the fused forward");
}

static void run_fused(const conv_case *c, int mode, const fd_ctx *f, size_t ny, sg_tensor *tx, sg_tensor *tw,
                      sg_tensor *tb, sg_shape ys)
{
    float *bn[4];
    for (int i = 0; i < 4; i++)
        bn[i] = t_alloc(c->co);
    random_bn(c->co, 40 + (uint64_t)mode, bn[0], bn[1], bn[2], bn[3]);
    sg_tensor *tbn[4];
    for (int i = 0; i < 4; i++)
        tbn[i] = t_tensor(sg_shape4(1, c->co, 1, 1), bn[i]);
    bool accumulate = (c - CASES) % 3 == 1;
    float *want = t_alloc(ny), *addend = t_alloc(ny);
    t_random(addend, ny, -2, 2, 50);
    fused_reference(f, mode, (const float **)bn, accumulate ? addend : NULL, ny, want);
    sg_tensor *ty = accumulate ? t_tensor(ys, addend) : t_tensor_fill(ys, 123.0f);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "sg_seq_create");
    record_fused(seq, c, &f->p, mode, accumulate, tx, tw, tb, tbn, ty);
    t_ok(sg_seq_run(seq), "sg_seq_run");
    sg_seq_destroy(seq);
    float *got = t_download(ty);
    static const char *MODES[] = {"bn + relu", "bn + leaky relu", "bn", "leaky relu"};
    char what[200];
    snprintf(what, sizeof what, "%s%s fused forward (%s%s)", t_reads, c->name, MODES[mode],
             accumulate ? ", added into y" : "");
    t_close(what, got, want, ny, 5e-4, 5e-4);
    sg_tensor_destroy(ty);
    for (int i = 0; i < 4; i++) {
        sg_tensor_destroy(tbn[i]);
        free(bn[i]);
    }
    free(want), free(got), free(addend);
}

/* A case's input, weight and output shapes (a transposed convolution's
 * weights are [Ci, Co, k, k]) */
static void case_shapes(const conv_case *c, sg_shape *xs, sg_shape *ws, sg_shape *ys)
{
    *xs = sg_shape4(c->n, c->ci, c->h, c->w);
    *ws = c->transposed ? sg_shape4(c->ci, c->co, c->k, c->k) : sg_shape4(c->co, c->ci, c->k, c->k);
    int oh = c->transposed ? sg_conv_transpose2d_out_size(c->h, c->k, c->stride, c->pad, c->dil)
                           : sg_conv2d_out_size(c->h, c->k, c->stride, c->pad, c->dil);
    int ow = c->transposed ? sg_conv_transpose2d_out_size(c->w, c->k, c->stride, c->pad, c->dil)
                           : sg_conv2d_out_size(c->w, c->k, c->stride, c->pad, c->dil);
    *ys = sg_shape4(c->n, c->co, oh, ow);
}

/* A case's convolution, shapes and element counts */
typedef struct case_dims {
    sg_conv2d p;
    sg_shape xs, ws, ys;
    size_t nx, nw, ny;
} case_dims;

static case_dims dims_of(const conv_case *c)
{
    case_dims d = {.p = {c->k, c->k, c->stride, c->pad, c->dil}};
    case_shapes(c, &d.xs, &d.ws, &d.ys);
    d.nx = sg_shape_count(d.xs), d.nw = sg_shape_count(d.ws), d.ny = sg_shape_count(d.ys);
    return d;
}

/* The folding happens at every run: a recorded fused forward replayed after
 * its weights and batch norm statistics changed gives the new result. */
static void test_fused_follows_parameters(void)
{
    const conv_case *cases[] = {&CASES[2], &CASES[14]}; /* a conv and a transposed conv, both with bias */
    for (int k = 0; k < 2; k++) {
        const conv_case *c = cases[k];
        sg_conv2d p = {c->k, c->k, c->stride, c->pad, c->dil};
        sg_shape xs, ws, ys;
        case_shapes(c, &xs, &ws, &ys);
        size_t nx = sg_shape_count(xs), nw = sg_shape_count(ws), ny = sg_shape_count(ys);
        float *x = t_random_array(nx, -1, 1, 50), *w = t_random_array(nw, -0.5f, 0.5f, 51);
        float *b = t_random_array(c->co, -1, 1, 52), *bn[4];
        for (int i = 0; i < 4; i++)
            bn[i] = t_alloc(c->co);
        random_bn(c->co, 53, bn[0], bn[1], bn[2], bn[3]);
        sg_tensor *tx = t_tensor(xs, x), *tw = t_tensor(ws, w), *tb = t_tensor(sg_shape4(1, c->co, 1, 1), b);
        sg_tensor *tbn[4], *ty = t_tensor_fill(ys, 0.0f);
        for (int i = 0; i < 4; i++)
            tbn[i] = t_tensor(sg_shape4(1, c->co, 1, 1), bn[i]);
        sg_seq *seq;
        t_ok(sg_seq_create(t_dev, &seq), "sg_seq_create");
        record_fused(seq, c, &p, 0, false, tx, tw, tb, tbn, ty);
        t_ok(sg_seq_finish(seq), "finish");
        fd_ctx f = {c, p, xs, x, w, b};
        float *want = t_alloc(ny);
        for (int run = 0; run < 2; run++) {
            if (run == 1) { /* new weights, bias and statistics, the same recording */
                t_random(w, nw, -0.5f, 0.5f, 60);
                t_random(b, c->co, -1, 1, 61);
                random_bn(c->co, 62, bn[0], bn[1], bn[2], bn[3]);
                t_ok(sg_tensor_upload(tw, w), "upload w");
                t_ok(sg_tensor_upload(tb, b), "upload b");
                for (int i = 0; i < 4; i++)
                    t_ok(sg_tensor_upload(tbn[i], bn[i]), "upload bn");
            }
            t_ok(sg_seq_run(seq), "sg_seq_run");
            fused_reference(&f, 0, (const float **)bn, NULL, ny, want);
            float *got = t_download(ty);
            char what[200];
            snprintf(what, sizeof what, "%s fused forward, run %d of one recording (%s parameters)", c->name,
                     run + 1, run ? "changed" : "first");
            t_close(what, got, want, ny, 5e-4, 5e-4);
            free(got);
        }
        sg_seq_destroy(seq);
        sg_tensor *ts[] = {tx, tw, tb, ty, tbn[0], tbn[1], tbn[2], tbn[3]};
        for (size_t i = 0; i < 8; i++)
            sg_tensor_destroy(ts[i]);
        float *hs[] = {x, w, b, want, bn[0], bn[1], bn[2], bn[3]};
        for (size_t i = 0; i < 8; i++)
            free(hs[i]);
    }
}

/* A weight's packing is recorded once per recording and reused until a
 * recorded command writes the weight (an optimiser step): two forwards with
 * one weight pack it once; after w += delta in the same recording the next
 * forward packs it again and sees the new values; an upload between replays
 * is seen by all three. */
static void test_pack_reused_until_written(void)
{
    const conv_case *c = &CASES[2];
    sg_conv2d p = {c->k, c->k, c->stride, c->pad, c->dil};
    sg_shape xs, ws, ys;
    case_shapes(c, &xs, &ws, &ys);
    size_t nx = sg_shape_count(xs), nw = sg_shape_count(ws), ny = sg_shape_count(ys);
    float *x = t_random_array(nx, -1, 1, 70), *w = t_random_array(nw, -0.5f, 0.5f, 71);
    float *delta = t_random_array(nw, -0.5f, 0.5f, 72), *w2 = t_alloc(nw);
    sg_tensor *tx = t_tensor(xs, x), *tw = t_tensor(ws, w), *tdelta = t_tensor(ws, delta);
    sg_tensor *ty[3];
    for (int i = 0; i < 3; i++)
        ty[i] = t_tensor_fill(ys, 0.0f);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "sg_seq_create");
    t_ok(sg_conv2d_forward(seq, &p, tx, tw, NULL, ty[0]), "forward 1");
    t_ok(sg_conv2d_forward(seq, &p, tx, tw, NULL, ty[1]), "forward 2");
    uint32_t two = sg_seq_dispatch_count(seq);
    t_ok(sg_axpy(seq, 1.0f, tdelta, tw), "w += delta");
    t_ok(sg_conv2d_forward(seq, &p, tx, tw, NULL, ty[2]), "forward 3");
    t_check(two == 3 && sg_seq_dispatch_count(seq) == 6,
            "two forwards with one weight: %u dispatches (want 1 packing + 2); after a write to the weight, "
            "%u more (want the axpy, a packing and the forward)", two, sg_seq_dispatch_count(seq) - two);
    float *want = t_alloc(ny);
    for (int run = 0; run < 2; run++) {
        if (run == 1) { /* new weights between replays */
            t_random(w, nw, -0.5f, 0.5f, 73);
            t_ok(sg_tensor_upload(tw, w), "upload w");
        }
        t_ok(sg_seq_run(seq), "sg_seq_run");
        for (size_t i = 0; i < nw; i++)
            w2[i] = w[i] + delta[i];
        for (int k = 0; k < 3; k++) {
            sg_ref_conv2d_forward(&p, xs, x, c->co, k < 2 ? w : w2, NULL, want);
            float *got = t_download(ty[k]);
            char what[160];
            snprintf(what, sizeof what, "run %d, forward %d: the weights %s", run + 1, k + 1,
                     k < 2 ? "as run started" : "after w += delta");
            t_close(what, got, want, ny, 2e-4, 2e-4);
            free(got);
        }
        memcpy(w, w2, nw * sizeof *w); /* what the run left in tw */
    }
    sg_seq_destroy(seq);
    sg_tensor *ts[] = {tx, tw, tdelta, ty[0], ty[1], ty[2]};
    for (size_t i = 0; i < 6; i++)
        sg_tensor_destroy(ts[i]);
    float *hs[] = {x, w, delta, w2, want};
    for (size_t i = 0; i < 5; i++)
        free(hs[i]);
}

static void run_case(const conv_case *c)
{
    sg_conv2d p = {c->k, c->k, c->stride, c->pad, c->dil};
    sg_shape xs, ws, ys;
    case_shapes(c, &xs, &ws, &ys);
    size_t nx = sg_shape_count(xs), nw = sg_shape_count(ws), ny = sg_shape_count(ys);
    float *x = t_alloc(nx), *w = t_alloc(nw), *b = t_alloc(c->co), *dy = t_alloc(ny);
    t_random(x, nx, -1, 1, 1);
    t_random(w, nw, -0.5f, 0.5f, 2);
    t_random(b, c->co, -1, 1, 3);
    t_random(dy, ny, -1, 1, 4);
    fd_ctx f = {c, p, xs, x, w, c->bias ? b : NULL};

    /* forward */
    float *want_y = t_alloc(ny);
    ref_forward(&f, x, w, f.b, want_y);
    sg_tensor *tx = t_tensor(xs, x), *tw = t_tensor(ws, w), *tb = t_tensor(sg_shape4(1, c->co, 1, 1), b);
    sg_tensor *ty = t_tensor_fill(ys, 123.0f); /* forward must overwrite */
    if (c->transposed)
        T_RUN(sg_conv_transpose2d_forward(seq, &p, tx, tw, c->bias ? tb : NULL, ty));
    else
        T_RUN(sg_conv2d_forward(seq, &p, tx, tw, c->bias ? tb : NULL, ty));
    float *got_y = t_download(ty);
    char what[160];
    snprintf(what, sizeof what, "%s%s forward", t_reads, c->name);
    t_close(what, got_y, want_y, ny, 2e-4, 2e-4);
    run_fused(c, (int)(c - CASES) % 4, &f, ny, tx, tw, tb, ys);

    /* backward: gradients start non-zero to check that they are added to */
    float *dx = t_alloc(nx), *dw = t_alloc(nw), *db = t_alloc(c->co);
    t_random(dx, nx, -1, 1, 5);
    t_random(dw, nw, -1, 1, 6);
    t_random(db, c->co, -1, 1, 7);
    sg_tensor *tdy = t_tensor(ys, dy), *tdx = t_tensor(xs, dx), *tdw = t_tensor(ws, dw),
              *tdb = t_tensor(sg_shape4(1, c->co, 1, 1), db);
    if (c->transposed) {
        T_RUN(sg_conv_transpose2d_backward(seq, &p, tx, tw, tdy, tdx, tdw, c->bias ? tdb : NULL));
        sg_ref_conv_transpose2d_backward(&p, xs, x, c->co, w, dy, dx, dw, c->bias ? db : NULL);
    } else {
        T_RUN(sg_conv2d_backward(seq, &p, tx, tw, tdy, tdx, tdw, c->bias ? tdb : NULL));
        sg_ref_conv2d_backward(&p, xs, x, c->co, w, dy, dx, dw, c->bias ? db : NULL);
    }
    float *got_dx = t_download(tdx), *got_dw = t_download(tdw), *got_db = t_download(tdb);
    snprintf(what, sizeof what, "%s%s backward dx", t_reads, c->name);
    t_close(what, got_dx, dx, nx, 2e-4, 2e-4);
    snprintf(what, sizeof what, "%s%s backward dw", t_reads, c->name);
    t_close(what, got_dw, dw, nw, 5e-4, 2e-4);
    if (c->bias) {
        snprintf(what, sizeof what, "%s%s backward db", t_reads, c->name);
        t_close(what, got_db, db, c->co, 2e-4, 2e-4);
    }

    /* the reference backward against finite differences (gradients from zero):
     * on the first device only, as the reference does not depend on the device */
    float *ax = t_alloc(nx), *aw = t_alloc(nw), *ab = t_alloc(c->co);
    if (t_reads[0] == '\0') {
        if (c->transposed)
            sg_ref_conv_transpose2d_backward(&p, xs, x, c->co, w, dy, ax, aw, ab);
        else
            sg_ref_conv2d_backward(&p, xs, x, c->co, w, dy, ax, aw, ab);
        snprintf(what, sizeof what, "%s reference dx", c->name);
        t_grad_check(what, fd_forward, &f, x, nx, ax, dy, ny, 1e-2f, 2e-3, 2e-3, 24);
        snprintf(what, sizeof what, "%s reference dw", c->name);
        t_grad_check(what, fd_forward, &f, w, nw, aw, dy, ny, 1e-2f, 2e-3, 2e-3, 24);
        if (c->bias) {
            snprintf(what, sizeof what, "%s reference db", c->name);
            t_grad_check(what, fd_forward, &f, b, c->co, ab, dy, ny, 1e-2f, 2e-3, 2e-3, 8);
        }
    }

    sg_tensor *ts[] = {tx, tw, tb, ty, tdy, tdx, tdw, tdb};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        sg_tensor_destroy(ts[i]);
    float *hs[] = {x, w, b, dy, want_y, got_y, dx, dw, db, got_dx, got_dw, got_db, ax, aw, ab};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
        free(hs[i]);
}

/* The tiled kernels sum each output's products in the direct kernels' order
 * (conv_fwd: taps outside, input channels inside; conv_bwd_data: live taps
 * outside, output channels inside; fused multiply-adds from zero, then the
 * bias): the same bits on both devices, so a model trains and scores alike on
 * either path. Each case's forward and input gradient on t_dev, then on a
 * tiled device. */
static void test_tiled_same_bits(void)
{
    sg_device *direct = t_dev, *tiled;
    sg_device_options opt = {.tiled_convs = true, .quiet = true};
    t_ok(sg_device_create(&opt, &tiled), "device with tiled convolutions");
    int compared = 0, differing = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const conv_case *c = &CASES[i];
        case_dims dm = dims_of(c);
        float *x = t_alloc(dm.nx), *w = t_alloc(dm.nw), *b = t_alloc(c->co), *dy = t_alloc(dm.ny), *y[2], *dx[2];
        t_random(x, dm.nx, -1, 1, 11);
        t_random(w, dm.nw, -0.5f, 0.5f, 12);
        t_random(b, c->co, -1, 1, 13);
        t_random(dy, dm.ny, -1, 1, 14);
        for (int d = 0; d < 2; d++) {
            t_dev = d ? tiled : direct;
            sg_tensor *tx = t_tensor(dm.xs, x), *tw = t_tensor(dm.ws, w), *tb = t_tensor(sg_shape4(1, c->co, 1, 1), b);
            sg_tensor *ty = t_tensor_fill(dm.ys, 0.0f), *tdy = t_tensor(dm.ys, dy), *tdx = t_tensor_fill(dm.xs, 0.0f);
            if (c->transposed) {
                T_RUN(sg_conv_transpose2d_forward(seq, &dm.p, tx, tw, c->bias ? tb : NULL, ty));
                T_RUN(sg_conv_transpose2d_backward(seq, &dm.p, tx, tw, tdy, tdx, NULL, NULL));
            } else {
                T_RUN(sg_conv2d_forward(seq, &dm.p, tx, tw, c->bias ? tb : NULL, ty));
                T_RUN(sg_conv2d_backward(seq, &dm.p, tx, tw, tdy, tdx, NULL, NULL));
            }
            y[d] = t_download(ty);
            dx[d] = t_download(tdx);
            sg_tensor *ts[] = {tx, tw, tb, ty, tdy, tdx};
            for (int k = 0; k < 6; k++)
                sg_tensor_destroy(ts[k]);
        }
        t_dev = direct;
        compared++;
        bool y_same = memcmp(y[0], y[1], dm.ny * sizeof(float)) == 0;
        bool dx_same = memcmp(dx[0], dx[1], dm.nx * sizeof(float)) == 0;
        if (!y_same || !dx_same) {
            differing++;
            t_check(false, "%s: the tiled kernels give other bits than the direct ones (forward %s, dx %s)",
                    c->name, y_same ? "same" : "differs", dx_same ? "same" : "differs");
        }
        free(x), free(w), free(b), free(dy), free(y[0]), free(y[1]), free(dx[0]), free(dx[1]);
    }
    t_check(differing == 0, "the tiled kernels give the direct ones' bits on %d of %d shapes (forward and dx)",
            compared - differing, compared);
    t_check(sg_device_bytes_in_use(tiled) == 0, "every tensor freed on the tiled device");
    sg_device_destroy(tiled);
}

/* The weight gradient's texel builds (conv_bwd_weight_texel, and the tap-rows
 * builds conv_bwd_weight_taps3/4 that read each row of taps' x at one window)
 * sum each weight's products in the order of the buffer-reference build: the
 * same bits from both devices, on every case. */
static void test_weight_gradient_same_bits(void)
{
    sg_device *texels = t_dev, *buffers;
    sg_device_options opt = {.buffer_reads = true, .quiet = true};
    t_ok(sg_device_create(&opt, &buffers), "device reading buffers");
    int differing = 0, compared = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const conv_case *c = &CASES[i];
        case_dims dm = dims_of(c);
        float *x = t_random_array(dm.nx, -1, 1, 21), *w = t_random_array(dm.nw, -0.5f, 0.5f, 22);
        float *dy = t_random_array(dm.ny, -1, 1, 23), *dw[2];
        for (int d = 0; d < 2; d++) {
            t_dev = d ? buffers : texels;
            sg_tensor *tx = t_tensor(dm.xs, x), *tw = t_tensor(dm.ws, w), *tdy = t_tensor(dm.ys, dy);
            sg_tensor *tdw = t_tensor_fill(dm.ws, 0.0f);
            if (c->transposed)
                T_RUN(sg_conv_transpose2d_backward(seq, &dm.p, tx, tw, tdy, NULL, tdw, NULL));
            else
                T_RUN(sg_conv2d_backward(seq, &dm.p, tx, tw, tdy, NULL, tdw, NULL));
            dw[d] = t_download(tdw);
            sg_tensor *ts[] = {tx, tw, tdy, tdw};
            for (int k = 0; k < 4; k++)
                sg_tensor_destroy(ts[k]);
        }
        t_dev = texels;
        compared++;
        if (memcmp(dw[0], dw[1], dm.nw * sizeof(float)) != 0) {
            differing++;
            t_check(false, "%s: the weight gradient's texel kernels give other bits than the buffer ones", c->name);
        }
        free(x), free(w), free(dy), free(dw[0]), free(dw[1]);
    }
    t_check(differing == 0, "the weight gradient from texels has the bits of the one from buffers on %d of %d shapes",
            compared - differing, compared);
    t_check(sg_device_bytes_in_use(buffers) == 0, "every tensor freed on the device reading buffers");
    sg_device_destroy(buffers);
}

static void run_cases(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        run_case(&CASES[i]);
}

static void expect_refused(sg_status want, const char *what, sg_status got)
{
    t_check(got == want, "%s refused (%s): %s", what, sg_status_name(got), sg_error_message());
}

static void test_errors(void)
{
    sg_tensor *x = t_tensor_fill(sg_shape4(1, 3, 4, 4), 0), *w = t_tensor_fill(sg_shape4(8, 3, 3, 3), 0),
              *y = t_tensor_fill(sg_shape4(1, 8, 4, 4), 0), *wbad = t_tensor_fill(sg_shape4(8, 4, 3, 3), 0),
              *b5 = t_tensor_fill(sg_shape4(1, 5, 1, 1), 0);
    sg_conv2d p = {3, 3, 1, 1, 1}, nopad = {3, 3, 1, 0, 18}, zero_stride = {3, 3, 0, 1, 1};
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "weight with wrong input channels", sg_conv2d_forward(seq, &p, x, wbad, NULL, y));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "dilation 18 without padding on 4x4", sg_conv2d_forward(seq, &nopad, x, w, NULL, y));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_ARGUMENT, "stride 0", sg_conv2d_forward(seq, &zero_stride, x, w, NULL, y));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "bias of the wrong length", sg_conv2d_forward(seq, &p, x, w, b5, y));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "output of the wrong shape", sg_conv2d_forward(seq, &p, x, w, NULL, x));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "dx of the wrong shape", sg_conv2d_backward(seq, &p, x, w, y, y, NULL, NULL));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "transposed weight of the wrong layout",
                   sg_conv_transpose2d_forward(seq, &p, x, w, NULL, y));
    sg_seq_destroy(seq);
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_ARGUMENT, "NULL input", sg_conv2d_forward(seq, &p, NULL, w, NULL, y));
    sg_seq_destroy(seq);
    /* the fused forward's batch norm: all four tensors, one per output channel */
    sg_tensor *c8 = t_tensor_fill(sg_shape4(1, 8, 1, 1), 1);
    sg_conv_epilogue partial = {.gamma = c8, .beta = c8, .mean = c8, .eps = 1e-5f};
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_ARGUMENT, "fused forward without the running variance",
                   sg_conv2d_forward_fused(seq, &p, x, w, NULL, &partial, y));
    sg_seq_destroy(seq);
    sg_conv_epilogue short_var = {.gamma = c8, .beta = c8, .mean = c8, .var = b5, .eps = 1e-5f};
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    expect_refused(SG_ERR_SHAPE, "fused forward with a running variance of 5 for 8 channels",
                   sg_conv2d_forward_fused(seq, &p, x, w, NULL, &short_var, y));
    sg_seq_destroy(seq);
    sg_tensor_destroy(c8);
    sg_tensor *ts[] = {x, w, y, wbad, b5};
    for (size_t i = 0; i < 5; i++)
        sg_tensor_destroy(ts[i]);
}

int main(void)
{
    t_begin("conv");
    run_cases();
    test_fused_follows_parameters();
    test_pack_reused_until_written();
    test_errors();
    t_again_with_buffer_reads(run_cases);
    t_again_with_buffer_stores(run_cases);
    t_again_with_tiled_convs(run_cases);
    test_tiled_same_bits();
    test_weight_gradient_same_bits();
    return t_end();
}
