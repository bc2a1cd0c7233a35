/* Batch normalisation (PyTorch BatchNorm2d semantics; the math is in ref/batchnorm.c).
 *
 * Each channel's M = N*H*W values, taken in (n, h, w) order, are split into B
 * blocks of up to BN_BLOCK values; every per-value kernel runs one workgroup
 * per (channel, block), so large maps give many workgroups, small maps do not
 * waste one per (n, c) row, and no kernel divides per value.
 *   train:    bn_stats (block count/mean/M2) -> bn_stats_final (per channel:
 *             save_mean, save_invstd, running stats) -> bn_normalize
 *   eval:     bn_normalize from the running statistics
 *   backward: bn_grad_sums (block sums of dy, dy*xhat) -> bn_grad_final (per
 *             channel: sums, dgamma, dbeta) -> bn_grad_input (dx)
 *   with a ReLU / LeakyReLU after it (sg_batchnorm_act_*; training graphs
 *   record every batch norm that feeds only an activation so): bn_normalize
 *   stores the activated output, and bn_grad_sums / bn_grad_input multiply dy
 *   by the activation's derivative, read from the sign of that output, so
 *   neither the batch norm's own output nor its gradient is ever stored.
 * bn_stats, bn_normalize, bn_grad_sums and bn_grad_input read x (and dy, y) as
 * R32 texels (their *_texel builds, ~10x cheaper per float on lavapipe) when
 * the tensors fit the device's texel views, through buffer references otherwise;
 * the texel builds of bn_normalize and bn_grad_input also write y, dx through a
 * storage-buffer descriptor (3-5x cheaper per float there) when they fit one. */
#include <math.h>
#include <stdio.h>

#include "op_util.h"

#include "bn_grad_final.spv.h"
#include "bn_grad_input.spv.h"
#include "bn_grad_input_texel.spv.h"
#include "bn_grad_sums.spv.h"
#include "bn_grad_sums_texel.spv.h"
#include "bn_normalize.spv.h"
#include "bn_normalize_texel.spv.h"
#include "bn_stats.spv.h"
#include "bn_stats_texel.spv.h"
#include "bn_stats_final.spv.h"

/* Threads per workgroup (a power of two: the shaders reduce with a tree).
 * 64, not 256: on lavapipe a training step's six batch-norm kernels take half
 * the time (docs/benchmarks.md, "Texel reads and 64-lane workgroups in batch
 * norm"): the tree's barriers and the lanes idle on small maps cost less. */
#define BN_GROUP 64u
/* Values per block of the elementwise kernels (bn_normalize, bn_grad_input):
 * 16 per thread still gives 4096 blocks per channel for a 64x256x256 batch. */
#define BN_BLOCK (BN_GROUP * 16u) /* 16: bn_stats's PER_LANE, the values a lane keeps in registers */
/* Values per block of the reductions (bn_stats, bn_grad_sums): 128 per thread.
 * With 16, a lane's loop ran 4 times (as vec4s) and the workgroup's tree of
 * barriers cost more than the sums; bn_stats takes its values 16 at a time
 * (two passes over registers each) and merges them with Chan's formula. */
#define BN_SUM_BLOCK (BN_BLOCK * 8u)

SG_KERNEL(bn_stats, BN_GROUP);
/* The per-channel merges of the blocks' partials (a few blocks a channel) in
 * SG_REDUCTION_LANES, like the reductions' whole forms (op_util.h says why) */
SG_KERNEL(bn_stats_final, SG_REDUCTION_LANES);
SG_KERNEL(bn_normalize, BN_GROUP);
SG_KERNEL(bn_grad_sums, BN_GROUP);
SG_KERNEL(bn_grad_final, SG_REDUCTION_LANES);
SG_KERNEL(bn_grad_input, BN_GROUP);
SG_KERNEL(bn_stats_texel, BN_GROUP);
SG_KERNEL(bn_normalize_texel, BN_GROUP);
SG_KERNEL(bn_grad_sums_texel, BN_GROUP);
SG_KERNEL(bn_grad_input_texel, BN_GROUP);
/* bn_normalize in whole workgroups of 4 quads a lane, or 16 (its WHOLE_GROUPS
 * bits: 1 the form, 2 activate, 4 from the running variance, 16 the 16), by
 * [activate][from_var][16 quads] */
#define NORMALIZE_WHOLE(form, bits)                                                                              \
    {SG_KERNEL_FORM(bn_normalize_texel, form, BN_GROUP, bits),                                                   \
     SG_KERNEL_FORM(bn_normalize_texel, form " 16", BN_GROUP, (bits) | 16)}
static const sg_kernel kernel_bn_normalize_whole[2][2][2] = {
    {NORMALIZE_WHOLE("whole", 1), NORMALIZE_WHOLE("whole eval", 5)},
    {NORMALIZE_WHOLE("whole activated", 3), NORMALIZE_WHOLE("whole eval activated", 7)},
};
/* bn_grad_input in whole workgroups (bits: 1 the form, 2 activate, 16 quads a lane), by [activate][16 quads] */
static const sg_kernel kernel_bn_grad_input_whole[2][2] = {
    {SG_KERNEL_FORM(bn_grad_input_texel, "whole", BN_GROUP, 1),
     SG_KERNEL_FORM(bn_grad_input_texel, "whole 16", BN_GROUP, 17)},
    {SG_KERNEL_FORM(bn_grad_input_texel, "whole activated", BN_GROUP, 3),
     SG_KERNEL_FORM(bn_grad_input_texel, "whole activated 16", BN_GROUP, 19)},
};
/* bn_stats in whole workgroups (bit 1) */
static const sg_kernel kernel_bn_stats_whole = SG_KERNEL_FORM(bn_stats_texel, "whole", SG_REDUCTION_LANES, 1);
/* bn_grad_sums in whole workgroups (bits: 1 the form, 2 activate), by [activate] */
static const sg_kernel kernel_bn_grad_sums_whole[2] = {
    SG_KERNEL_FORM(bn_grad_sums_texel, "whole", SG_REDUCTION_LANES, 1),
    SG_KERNEL_FORM(bn_grad_sums_texel, "whole activated", SG_REDUCTION_LANES, 3),
};
/* Values of a channel per workgroup of the per-value kernels' whole forms: 4
 * quads a lane, or 16 where the channel holds whole workgroups of those (the
 * lanes' loads of the channel's terms, through buffer references, then serve
 * 4x the values: docs/benchmarks.md, "The reductions in whole workgroups"). */
#define BN_WHOLE_BLOCK (BN_GROUP * 16u)
#define BN_WHOLE_LONG_BLOCK (BN_GROUP * 64u)

/* Whether the *_texel kernels can read t (x, dy) as R32 texels. */
static bool texel_fits(const sg_tensor *t)
{
    return sg_tensor_texel_ok(t, 1);
}

/* How a channel's values are split into blocks (push-constant fields shared
 * by the per-value kernels, in their order). */
typedef struct bn_blocks {
    uint32_t c, hw, m, b, l, step_n, step_hw;
} bn_blocks;

static bn_blocks blocks_of(sg_shape s, uint32_t block)
{
    uint32_t hw = (uint32_t)s.h * (uint32_t)s.w;
    bn_blocks k = {
        .c = (uint32_t)s.c,
        .hw = hw,
        .m = (uint32_t)s.n * hw,
        .l = block,
        .step_n = BN_GROUP / hw,
        .step_hw = BN_GROUP % hw,
    };
    k.b = sg_div_up(k.m, block);
    return k;
}

/* Whether the elementwise kernels (bn_normalize, bn_grad_input) can take 4
 * values of a plane at a time (vec4 loads and stores; with texel reads,
 * RGBA32 views of a, b, c starting on whole texels). Blocks (BN_BLOCK values)
 * then hold whole quads, and H*W a multiple of 4 keeps a quad in one plane. */
static bool quads_fit(const bn_blocks *k, bool texel, const sg_tensor *a, const sg_tensor *b, const sg_tensor *c)
{
    if (k->hw % 4 != 0)
        return false;
    if (!texel)
        return true; /* tensors start on 16 bytes */
    const sg_tensor *all[] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (!sg_tensor_quad_texels(all[i]))
            return false;
    return true;
}

/* A dispatch's shape for SGAD_PROFILE=2: channels, map, batch, and whether
 * the kernel takes its values 4 at a time. */
static const char *describe(char *buf, size_t size, const bn_blocks *k, sg_shape s, bool quads)
{
    snprintf(buf, size, "%d %dx%d n%d%s, %u blocks", s.c, s.h, s.w, s.n, quads ? " quads" : "", k->c * k->b);
    return buf;
}

/* Values of a workgroup of a whole form: `block` (BN_WHOLE_BLOCK for the
 * per-value kernels, BN_SUM_BLOCK for the reductions), or the whole channel
 * where it is shorter. */
static uint32_t whole_group_values(const bn_blocks *k, uint32_t block)
{
    return k->m < block ? k->m : block;
}

/* Whether the whole forms can take these values in workgroups of
 * whole_group_values: each a whole number of BN_WHOLE_BLOCK values (a lane's
 * 4 quads) and each channel whole workgroups, H*W/4 a power of two (*hw4_log2
 * gets its log2: the kernels find a quad's plane by a shift), and workgroups
 * (M / values, C) within the device's limits. The caller checks the quads and
 * the bindings. */
static bool whole_blocks(const bn_blocks *k, uint32_t block, uint32_t *hw4_log2)
{
    uint32_t values = whole_group_values(k, block);
    return values % BN_WHOLE_BLOCK == 0 && k->m % values == 0 && k->m / values <= 65535u && k->c <= 65535u &&
           sg_pow2_log2(k->hw / 4, hw4_log2);
}

static void block_groups(const bn_blocks *k, uint32_t groups[3])
{
    sg_groups_1d(k->c * k->b, groups);
}

/* Records d over k's blocks, or in the form `whole` (NULL: none) in
 * workgroups of `block` values where whole_blocks allows it (*hw4_log2: the
 * push constant it sets). The reductions' partials are the same either way:
 * with block = k's, a channel's whole workgroups are its k->b blocks. */
static sg_status dispatch_blocks(sg_seq *seq, sg_dispatch *d, const bn_blocks *k, const sg_kernel *whole,
                                 uint32_t block, uint32_t *hw4_log2)
{
    if (whole && whole_blocks(k, block, hw4_log2)) {
        d->kernel = whole;
        d->groups[0] = k->m / whole_group_values(k, block), d->groups[1] = k->c, d->groups[2] = 1;
    } else {
        block_groups(k, d->groups);
    }
    return sg_seq_dispatch(seq, d);
}

/* Records d, a per-value kernel, over k's blocks, or in one of its whole
 * forms `forms` (NULL: none; [1]: 16 quads a lane) where whole_blocks allows. */
static sg_status dispatch_values(sg_seq *seq, sg_dispatch *d, const bn_blocks *k, const sg_kernel forms[2],
                                 uint32_t *hw4_log2)
{
    bool longer = forms && k->m % BN_WHOLE_LONG_BLOCK == 0;
    return dispatch_blocks(seq, d, k, forms ? &forms[longer] : NULL, longer ? BN_WHOLE_LONG_BLOCK : BN_WHOLE_BLOCK,
                           hw4_log2);
}

/* Per-channel tensor: present with exactly C elements. */
static sg_status require_channel(sg_seq *seq, const char *op, const char *name,
                                 const sg_tensor *t, int c)
{
    sg_status s = sg_require(seq, op, name, t);
    return s ? s : sg_require_count(seq, op, name, t, (size_t)c);
}

/* Optional per-channel tensor: NULL, or C elements. */
static sg_status optional_channel(sg_seq *seq, const char *op, const char *name,
                                  const sg_tensor *t, int c)
{
    return t ? sg_require_count(seq, op, name, t, (size_t)c) : SG_OK;
}

static uint64_t address_or_zero(const sg_tensor *t)
{
    return t ? sg_tensor_address(t) : 0;
}

static sg_status check_params(sg_seq *seq, const char *op, const sg_batchnorm *p)
{
    if (!p)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: parameters are NULL", op);
    if (!(p->eps >= 0.0f && p->eps < INFINITY))
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: eps must be finite and >= 0 (got %g)", op,
                           (double)p->eps);
    if (!(p->momentum >= 0.0f && p->momentum <= 1.0f))
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: momentum must be in [0, 1] (got %g)", op,
                           (double)p->momentum);
    return SG_OK;
}

/* y = (x - mean) * invstd * gamma + beta; with from_var, `scale` is a variance;
 * with activate, then y = y >= 0 ? y : slope * y. */
static sg_status record_normalize(sg_seq *seq, const sg_tensor *x, const sg_tensor *mean,
                                  const sg_tensor *scale, bool from_var, float eps,
                                  const sg_tensor *gamma, const sg_tensor *beta, bool activate, float slope,
                                  sg_tensor *y)
{
    bn_blocks k = blocks_of(sg_tensor_shape(x), BN_SUM_BLOCK);
    struct {
        uint64_t x, y, mean, invstd, gamma, beta;
        bn_blocks k;
        uint32_t from_var;
        float eps;
        uint32_t activate;
        float slope;
        uint32_t x_base; /* bn_normalize_texel: floats from the texel view's start to x */
        uint32_t quads;
        uint32_t y_base, stored; /* bn_normalize_texel: y through binding 4 (sg_store_output) */
        uint32_t hw4_log2;
    } pc = {sg_tensor_address(x), sg_tensor_address(y),     sg_tensor_address(mean),
            sg_tensor_address(scale), sg_tensor_address(gamma), sg_tensor_address(beta),
            k,                    from_var,               eps, activate, activate ? slope : 0.0f,
            sg_tensor_texel_base(x)};
    bool texel = texel_fits(x);
    pc.quads = quads_fit(&k, texel, x, x, x);
    sg_dispatch d = {.kernel = texel ? &kernel_bn_normalize_texel : &kernel_bn_normalize, .push = &pc,
                     .push_size = sizeof pc, .reads = {x, mean, scale, gamma, beta}, .writes = {y}};
    if (texel) {
        d.texels[0] = (sg_texel_read){x, pc.quads ? 4 : 1};
        pc.stored = sg_store_output(&d, y, pc.quads, &pc.y_base);
    }
    char what[64];
    d.detail = describe(what, sizeof what, &k, sg_tensor_shape(x), pc.quads);
    bool whole = texel && pc.quads && pc.stored;
    return dispatch_values(seq, &d, &k, whole ? kernel_bn_normalize_whole[activate != 0][from_var != 0] : NULL,
                           &pc.hw4_log2);
}

/* An activation's slope: ReLU (0) or LeakyReLU (in (0, 1)). */
static sg_status check_slope(sg_seq *seq, const char *op, float slope)
{
    if (!(slope >= 0.0f && slope < 1.0f))
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: slope must be in [0, 1) (got %g)", op, (double)slope);
    return SG_OK;
}

/* training mode, then with `act` a ReLU/LeakyReLU of `slope` */
static sg_status record_train(sg_seq *seq, const char *op, const sg_batchnorm *p, const sg_tensor *x,
                              const sg_tensor *gamma, const sg_tensor *beta, sg_tensor *running_mean,
                              sg_tensor *running_var, sg_tensor *save_mean, sg_tensor *save_invstd, bool act,
                              float slope, sg_tensor *y)
{
    sg_status s;
    if ((s = check_params(seq, op, p)) || (s = sg_require(seq, op, "x", x)) ||
        (s = sg_require(seq, op, "y", y)) || (s = sg_require_same_shape(seq, op, x, y)) ||
        (act && (s = check_slope(seq, op, slope))))
        return s;
    sg_shape xs = sg_tensor_shape(x);
    if ((s = require_channel(seq, op, "gamma", gamma, xs.c)) ||
        (s = require_channel(seq, op, "beta", beta, xs.c)) ||
        (s = require_channel(seq, op, "save_mean", save_mean, xs.c)) ||
        (s = require_channel(seq, op, "save_invstd", save_invstd, xs.c)) ||
        (s = optional_channel(seq, op, "running_mean", running_mean, xs.c)) ||
        (s = optional_channel(seq, op, "running_var", running_var, xs.c)))
        return s;
    bn_blocks k = blocks_of(xs, BN_SUM_BLOCK);
    /* the unbiased running variance divides by M-1 (PyTorch refuses this too) */
    if (k.m < 2)
        return sg_seq_fail(seq, SG_ERR_SHAPE,
                           "%s: x (%d,%d,%d,%d) has %u value per channel (N*H*W); training "
                           "needs at least 2 (use eval mode for single values)",
                           op, xs.n, xs.c, xs.h, xs.w, k.m);

    sg_tensor *partials;
    if ((s = sg_seq_scratch(seq, sg_shape4(1, 1, 1, (int)(k.c * k.b * 3)), &partials)))
        return s;
    struct {
        uint64_t x, partials;
        bn_blocks k;
        uint32_t x_base; /* bn_stats_texel: floats from the texel view's start to x */
        uint32_t quads;
        uint32_t hw4_log2;
    } pc1 = {sg_tensor_address(x), sg_tensor_address(partials), k, sg_tensor_texel_base(x)};
    bool texel = texel_fits(x);
    pc1.quads = quads_fit(&k, texel, x, x, x);
    sg_dispatch d1 = {.kernel = texel ? &kernel_bn_stats_texel : &kernel_bn_stats, .push = &pc1,
                      .push_size = sizeof pc1, .reads = {x}, .writes = {partials}};
    if (texel)
        d1.texels[0] = (sg_texel_read){x, pc1.quads ? 4 : 1};
    char what[64];
    d1.detail = describe(what, sizeof what, &k, xs, pc1.quads);
    if ((s = dispatch_blocks(seq, &d1, &k, texel && pc1.quads ? &kernel_bn_stats_whole : NULL, BN_SUM_BLOCK,
                             &pc1.hw4_log2)))
        return s;

    struct {
        uint64_t partials, save_mean, save_invstd, running_mean, running_var;
        uint32_t c, b, has_running_mean, has_running_var;
        float eps, momentum;
    } pc2 = {sg_tensor_address(partials),
             sg_tensor_address(save_mean),
             sg_tensor_address(save_invstd),
             address_or_zero(running_mean),
             address_or_zero(running_var),
             k.c,
             k.b,
             running_mean != NULL,
             running_var != NULL,
             p->eps,
             p->momentum};
    sg_dispatch d2 = {.kernel = &kernel_bn_stats_final, .push = &pc2, .push_size = sizeof pc2,
                      .reads = {partials},
                      .writes = {save_mean, save_invstd, running_mean, running_var}};
    sg_groups_1d(k.c, d2.groups);
    if ((s = sg_seq_dispatch(seq, &d2)))
        return s;
    return record_normalize(seq, x, save_mean, save_invstd, false, p->eps, gamma, beta, act, slope, y);
}

sg_status sg_batchnorm_forward_train(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                     const sg_tensor *gamma, const sg_tensor *beta,
                                     sg_tensor *running_mean, sg_tensor *running_var,
                                     sg_tensor *save_mean, sg_tensor *save_invstd, sg_tensor *y)
{
    return record_train(seq, "batchnorm_forward_train", p, x, gamma, beta, running_mean, running_var, save_mean,
                        save_invstd, false, 0.0f, y);
}

sg_status sg_batchnorm_act_forward_train(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                         const sg_tensor *gamma, const sg_tensor *beta,
                                         sg_tensor *running_mean, sg_tensor *running_var,
                                         sg_tensor *save_mean, sg_tensor *save_invstd, float slope,
                                         sg_tensor *y)
{
    return record_train(seq, "batchnorm_act_forward_train", p, x, gamma, beta, running_mean, running_var,
                        save_mean, save_invstd, true, slope, y);
}

/* eval mode (running statistics), then with `act` a ReLU/LeakyReLU of `slope` */
static sg_status record_eval(sg_seq *seq, const char *op, const sg_batchnorm *p, const sg_tensor *x,
                             const sg_tensor *gamma, const sg_tensor *beta, const sg_tensor *running_mean,
                             const sg_tensor *running_var, bool act, float slope, sg_tensor *y)
{
    sg_status s;
    if ((s = check_params(seq, op, p)) || (s = sg_require(seq, op, "x", x)) ||
        (s = sg_require(seq, op, "y", y)) || (s = sg_require_same_shape(seq, op, x, y)))
        return s;
    int c = sg_tensor_shape(x).c;
    if ((s = require_channel(seq, op, "gamma", gamma, c)) ||
        (s = require_channel(seq, op, "beta", beta, c)) ||
        (s = require_channel(seq, op, "running_mean", running_mean, c)) ||
        (s = require_channel(seq, op, "running_var", running_var, c)))
        return s;
    if (act && (s = check_slope(seq, op, slope)))
        return s;
    return record_normalize(seq, x, running_mean, running_var, true, p->eps, gamma, beta, act, slope, y);
}

sg_status sg_batchnorm_forward_eval(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                    const sg_tensor *gamma, const sg_tensor *beta,
                                    const sg_tensor *running_mean, const sg_tensor *running_var,
                                    sg_tensor *y)
{
    return record_eval(seq, "batchnorm_forward_eval", p, x, gamma, beta, running_mean, running_var, false, 0.0f, y);
}

sg_status sg_batchnorm_act_forward_eval(sg_seq *seq, const sg_batchnorm *p, const sg_tensor *x,
                                        const sg_tensor *gamma, const sg_tensor *beta,
                                        const sg_tensor *running_mean, const sg_tensor *running_var, float slope,
                                        sg_tensor *y)
{
    return record_eval(seq, "batchnorm_act_forward_eval", p, x, gamma, beta, running_mean, running_var, true, slope,
                       y);
}

/* The backward; with y, that of a ReLU/LeakyReLU of `slope` after the batch
 * norm, whose output y is (the kernels read dy's factor from its sign). */
static sg_status record_backward(sg_seq *seq, const char *op, const sg_tensor *x, const sg_tensor *gamma,
                                 const sg_tensor *save_mean, const sg_tensor *save_invstd, const sg_tensor *y,
                                 float slope, const sg_tensor *dy, sg_tensor *dx, sg_tensor *dgamma,
                                 sg_tensor *dbeta)
{
    sg_status s;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "dy", dy)) ||
        (s = sg_require_same_shape(seq, op, x, dy)) ||
        (dx && (s = sg_require_same_shape(seq, op, x, dx))))
        return s;
    sg_shape xs = sg_tensor_shape(x);
    if ((s = require_channel(seq, op, "gamma", gamma, xs.c)) ||
        (s = require_channel(seq, op, "save_mean", save_mean, xs.c)) ||
        (s = require_channel(seq, op, "save_invstd", save_invstd, xs.c)) ||
        (s = optional_channel(seq, op, "dgamma", dgamma, xs.c)) ||
        (s = optional_channel(seq, op, "dbeta", dbeta, xs.c)))
        return s;
    if (!dx && !dgamma && !dbeta)
        return SG_OK;

    /* without an activation the kernels read nothing through y: x stands in
     * (every binding they declare must hold a view) */
    bool act = y != NULL;
    const sg_tensor *ys = act ? y : x;
    bn_blocks ks = blocks_of(xs, BN_SUM_BLOCK), k = blocks_of(xs, BN_SUM_BLOCK);
    sg_tensor *partials, *sums;
    if ((s = sg_seq_scratch(seq, sg_shape4(1, 1, 1, (int)(ks.c * ks.b * 2)), &partials)) ||
        (s = sg_seq_scratch(seq, sg_shape4(1, 1, 1, (int)(ks.c * 2)), &sums)))
        return s;
    struct {
        uint64_t x, dy, y, mean, invstd, partials;
        bn_blocks k;
        uint32_t x_base, dy_base, y_base; /* the *_texel kernels: floats from the texel views' starts */
        uint32_t activate;
        float slope;
        uint32_t quads;
        uint32_t hw4_log2;
    } pc1 = {sg_tensor_address(x),      sg_tensor_address(dy),       sg_tensor_address(ys),
             sg_tensor_address(save_mean), sg_tensor_address(save_invstd), sg_tensor_address(partials), ks,
             sg_tensor_texel_base(x), sg_tensor_texel_base(dy), sg_tensor_texel_base(ys), act, act ? slope : 0.0f};
    bool texel = texel_fits(x) && texel_fits(dy) && texel_fits(ys);
    pc1.quads = quads_fit(&ks, texel, x, dy, ys);
    sg_dispatch d1 = {.kernel = texel ? &kernel_bn_grad_sums_texel : &kernel_bn_grad_sums, .push = &pc1,
                      .push_size = sizeof pc1, .reads = {x, dy, ys, save_mean, save_invstd}, .writes = {partials}};
    if (texel) {
        uint32_t components = pc1.quads ? 4 : 1;
        d1.texels[0] = (sg_texel_read){x, components};
        d1.texels[1] = (sg_texel_read){dy, components};
        d1.texels[2] = (sg_texel_read){ys, components};
    }
    char what[64];
    d1.detail = describe(what, sizeof what, &ks, xs, pc1.quads);
    if ((s = dispatch_blocks(seq, &d1, &ks, texel && pc1.quads ? &kernel_bn_grad_sums_whole[act] : NULL,
                             BN_SUM_BLOCK, &pc1.hw4_log2)))
        return s;

    struct {
        uint64_t partials, sums, dgamma, dbeta;
        uint32_t c, b, has_dgamma, has_dbeta;
    } pc2 = {sg_tensor_address(partials), sg_tensor_address(sums), address_or_zero(dgamma),
             address_or_zero(dbeta), ks.c, ks.b, dgamma != NULL, dbeta != NULL};
    sg_dispatch d2 = {.kernel = &kernel_bn_grad_final, .push = &pc2, .push_size = sizeof pc2,
                      .reads = {partials}, .writes = {sums, dgamma, dbeta}};
    sg_groups_1d(ks.c, d2.groups);
    if ((s = sg_seq_dispatch(seq, &d2)) || !dx)
        return s;

    struct {
        uint64_t x, dy, y, mean, invstd, gamma, sums, dx;
        bn_blocks k;
        uint32_t x_base, dy_base, y_base;
        uint32_t activate;
        float slope;
        uint32_t quads;
        uint32_t dx_base, stored; /* bn_grad_input_texel: dx through binding 4 (sg_store_output) */
        uint32_t hw4_log2;
    } pc3 = {sg_tensor_address(x),     sg_tensor_address(dy),       sg_tensor_address(ys),
             sg_tensor_address(save_mean), sg_tensor_address(save_invstd),
             sg_tensor_address(gamma), sg_tensor_address(sums),
             sg_tensor_address(dx),    k,
             sg_tensor_texel_base(x),  sg_tensor_texel_base(dy), sg_tensor_texel_base(ys), act, act ? slope : 0.0f,
             quads_fit(&k, texel, x, dy, ys)};
    sg_dispatch d3 = {.kernel = texel ? &kernel_bn_grad_input_texel : &kernel_bn_grad_input, .push = &pc3,
                      .push_size = sizeof pc3, .reads = {x, dy, ys, save_mean, save_invstd, gamma, sums},
                      .writes = {dx}};
    if (texel) {
        uint32_t components = pc3.quads ? 4 : 1;
        d3.texels[0] = (sg_texel_read){x, components};
        d3.texels[1] = (sg_texel_read){dy, components};
        d3.texels[2] = (sg_texel_read){ys, components};
        pc3.stored = sg_store_output(&d3, dx, pc3.quads, &pc3.dx_base);
    }
    d3.detail = describe(what, sizeof what, &k, xs, pc3.quads);
    bool whole = texel && pc3.quads && pc3.stored;
    return dispatch_values(seq, &d3, &k, whole ? kernel_bn_grad_input_whole[act] : NULL, &pc3.hw4_log2);
}

sg_status sg_batchnorm_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *gamma,
                                const sg_tensor *save_mean, const sg_tensor *save_invstd,
                                const sg_tensor *dy, sg_tensor *dx, sg_tensor *dgamma,
                                sg_tensor *dbeta)
{
    return record_backward(seq, "batchnorm_backward", x, gamma, save_mean, save_invstd, NULL, 0.0f, dy, dx, dgamma,
                           dbeta);
}

sg_status sg_batchnorm_act_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *gamma,
                                    const sg_tensor *save_mean, const sg_tensor *save_invstd,
                                    const sg_tensor *y, float slope, const sg_tensor *dy, sg_tensor *dx,
                                    sg_tensor *dgamma, sg_tensor *dbeta)
{
    const char *op = "batchnorm_act_backward";
    sg_status s;
    if ((s = sg_require(seq, op, "y", y)) || (s = sg_require(seq, op, "dy", dy)) ||
        (s = sg_require_same_shape(seq, op, y, dy)) || (s = check_slope(seq, op, slope)))
        return s;
    return record_backward(seq, op, x, gamma, save_mean, save_invstd, y, slope, dy, dx, dgamma, dbeta);
}
