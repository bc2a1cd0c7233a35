/* Elementwise add and multiply; multiply also broadcasts a per-channel b
 * (N,C,1,1) over H,W (squeeze-excitation and attention gates). The multiply
 * and the row sums read their inputs as R32 texels, the add as RGBA32 ones (the
 * *_texel builds, ~10x cheaper per float on lavapipe) where the tensors fit the device's
 * texel views, through buffer references otherwise; those builds of the add and
 * the multiply also write their output through a storage-buffer descriptor
 * where it fits one (3-5x cheaper per float there, kernel.h). */
#include "op_util.h"

#include "add_forward.spv.h"
#include "add_forward_texel.spv.h"
#include "eltwise_row_sum.spv.h"
#include "eltwise_row_sum_texel.spv.h"
#include "mul_forward.spv.h"
#include "mul_forward_texel.spv.h"

SG_KERNEL(add_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(add_forward_texel, SG_ELEMENTWISE_GROUP);
/* the same for dispatches of whole workgroups of whole quads (add_forward.comp) */
static const sg_kernel kernel_add_forward_whole =
    SG_KERNEL_FORM(add_forward_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
SG_KERNEL(mul_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(mul_forward_texel, SG_ELEMENTWISE_GROUP);
/* and in whole workgroups (mul_forward.comp's WHOLE_GROUPS bits: 1 the form, 2
 * adding into the output, 4 b per channel), by [accumulate][per channel] */
#define MUL_WHOLE(form, bits) SG_KERNEL_FORM(mul_forward_texel, form, SG_ELEMENTWISE_GROUP, bits)
static const sg_kernel kernel_mul_forward_whole[2][2] = {
    {MUL_WHOLE("whole", 1), MUL_WHOLE("whole per channel", 5)},
    {MUL_WHOLE("whole added", 3), MUL_WHOLE("whole added per channel", 7)},
};
/* The row reduction at two workgroup sizes (powers of 2: the shader reduces
 * with a halving tree). Short rows (small feature maps, many channels) waste
 * most of 256 threads, and on CPU implementations every idle thread still
 * steps through each barrier. */
static const sg_kernel kernel_row_sum_long = {"eltwise_row_sum/256", eltwise_row_sum_spv,
                                              sizeof eltwise_row_sum_spv, 256};
static const sg_kernel kernel_row_sum_short = {"eltwise_row_sum/32", eltwise_row_sum_spv,
                                               sizeof eltwise_row_sum_spv, 32};
/* the same reading a and b as R32 texels, where they fit the device's texel views */
static const sg_kernel kernel_row_sum_long_texel = {"eltwise_row_sum_texel/256", eltwise_row_sum_texel_spv,
                                                    sizeof eltwise_row_sum_texel_spv, 256};
static const sg_kernel kernel_row_sum_short_texel = {"eltwise_row_sum_texel/32", eltwise_row_sum_texel_spv,
                                                     sizeof eltwise_row_sum_texel_spv, 32};

/* ...and its whole form (bits: 1 the form, 2 with b), by [with b], in
 * SG_REDUCTION_LANES (op_util.h: why) */
static const sg_kernel kernel_row_sum_whole[2] = {
    SG_KERNEL_FORM(eltwise_row_sum_texel, "whole", SG_REDUCTION_LANES, 1),
    SG_KERNEL_FORM(eltwise_row_sum_texel, "whole products", SG_REDUCTION_LANES, 3),
};

/* Whether the _texel kernels can read a and b (b may be NULL) as R32 texels. */
static bool texels_fit(const sg_tensor *a, const sg_tensor *b)
{
    return sg_tensor_texel_ok(a, 1) && (!b || sg_tensor_texel_ok(b, 1));
}

/* out[r] = (accumulate ? out[r] : 0) + scale * sum_j a[r*len+j] * (b ? b[r*len+j] : 1)
 * for r < rows, one workgroup per row. Shared with the global average pool
 * (shape.c). */
sg_status sg_eltwise_row_sum(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, uint32_t rows,
                             uint32_t len, float scale, bool accumulate, sg_tensor *out)
{
    const sg_tensor *bb = b ? b : a; /* read by no lane without b; bound all the same */
    struct {
        uint64_t a, b, out;
        uint32_t rows, len, has_b, accumulate;
        float scale;
        uint32_t a_base, b_base; /* the _texel kernels: floats from the texel views' starts */
        uint32_t quads;          /* rows of whole vec4s (with texels, RGBA32 views on whole texels) */
    } pc = {sg_tensor_address(a), sg_tensor_address(bb), sg_tensor_address(out), rows, len,
            b != NULL, accumulate, scale, sg_tensor_texel_base(a), sg_tensor_texel_base(bb)};
    bool texel = texels_fit(a, b), long_rows = len >= 2048;
    pc.quads = len % 4 == 0 && (!texel || (sg_tensor_quad_texels(a) && sg_tensor_quad_texels(bb)));
    sg_dispatch d = {.kernel = texel ? (long_rows ? &kernel_row_sum_long_texel : &kernel_row_sum_short_texel)
                                     : (long_rows ? &kernel_row_sum_long : &kernel_row_sum_short),
                     .push = &pc, .push_size = sizeof pc, .reads = {a, b}, .writes = {out}};
    if (texel) {
        d.texels[0] = (sg_texel_read){a, pc.quads ? 4 : 1};
        d.texels[1] = (sg_texel_read){bb, pc.quads ? 4 : 1};
    }
    sg_groups_1d(rows, d.groups);
    const sg_kernel *whole = &kernel_row_sum_whole[b != NULL];
    if (texel && pc.quads && (len / 4) % whole->local_size_x == 0 && rows <= 65535) {
        d.kernel = whole; /* one row a workgroup, over x */
        d.groups[0] = rows, d.groups[1] = d.groups[2] = 1;
    }
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_add_forward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *y)
{
    const char *op = "add_forward";
    sg_status s;
    if ((s = sg_require(seq, op, "a", a)) || (s = sg_require(seq, op, "b", b)) ||
        (s = sg_require(seq, op, "y", y)) || (s = sg_require_same_shape(seq, op, a, b)) ||
        (s = sg_require_same_shape(seq, op, a, y)))
        return s;
    struct {
        uint64_t a, b, y;
        uint32_t count, a_base, b_base;
        uint32_t y_base, stored; /* add_forward_texel: y through binding 4 (kernel.h) */
        uint32_t first_quad;
    } pc = {sg_tensor_address(a), sg_tensor_address(b), sg_tensor_address(y),
            (uint32_t)sg_tensor_count(a), sg_tensor_texel_base(a), sg_tensor_texel_base(b)};
    /* RGBA32 texels: views that start on a whole texel */
    bool texel = sg_tensor_quad_texels(a) && sg_tensor_quad_texels(b);
    sg_dispatch d = {.kernel = texel ? &kernel_add_forward_texel : &kernel_add_forward, .push = &pc,
                     .push_size = sizeof pc, .reads = {a, b}, .writes = {y}};
    if (texel) {
        d.texels[0] = (sg_texel_read){a, 4};
        d.texels[1] = (sg_texel_read){b, 4};
        pc.stored = sg_store_output(&d, y, true, &pc.y_base);
    }
    bool whole_form = texel && pc.stored;
    return sg_dispatch_whole_groups(seq, &d, whole_form ? &kernel_add_forward_whole : NULL, sg_tensor_count(a) / 4,
                                    (uint32_t)sg_div_up(sg_tensor_count(a), 4), &pc.first_quad);
}

/* Sets *b_div to 1 when b has a's shape, to H*W when b is (N,C,1,1). */
static sg_status check_mul_b(sg_seq *seq, const char *op, const sg_tensor *a, const sg_tensor *b,
                             uint32_t *b_div)
{
    sg_shape as = sg_tensor_shape(a), bs = sg_tensor_shape(b);
    if (sg_shape_equal(as, bs)) {
        *b_div = 1;
        return SG_OK;
    }
    if (sg_shape_equal(bs, sg_shape4(as.n, as.c, 1, 1))) {
        *b_div = (uint32_t)as.h * (uint32_t)as.w;
        return SG_OK;
    }
    return sg_seq_fail(seq, SG_ERR_SHAPE,
                       "%s: b has shape (%d,%d,%d,%d); expected a's shape (%d,%d,%d,%d) or "
                       "per-channel (%d,%d,1,1)",
                       op, bs.n, bs.c, bs.h, bs.w, as.n, as.c, as.h, as.w, as.n, as.c);
}

/* out (+)= a * b[i / b_div] over a's elements */
static sg_status mul_dispatch(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, uint32_t b_div,
                              sg_tensor *out, bool accumulate)
{
    struct {
        uint64_t a, b, out;
        uint32_t count, b_div, accumulate;
        uint32_t a_base, b_base; /* mul_forward_texel: floats from the texel views' starts */
        uint32_t out_base, stored; /* mul_forward_texel: out through binding 4 (kernel.h) */
        uint32_t quads;            /* 4 elements an invocation (vec4) */
        uint32_t first_quad;
    } pc = {sg_tensor_address(a), sg_tensor_address(b), sg_tensor_address(out),
            (uint32_t)sg_tensor_count(a), b_div, accumulate, sg_tensor_texel_base(a), sg_tensor_texel_base(b)};
    bool texel = texels_fit(a, b);
    /* quads never straddle two of b's values (b_div 1 or a multiple of 4); with
     * texels, a (and a same-shape b) as RGBA32 views starting on whole texels */
    pc.quads = pc.count % 4 == 0 && (b_div == 1 || b_div % 4 == 0) &&
               (!texel || (sg_tensor_quad_texels(a) && (b_div != 1 || sg_tensor_quad_texels(b))));
    sg_dispatch d = {.kernel = texel ? &kernel_mul_forward_texel : &kernel_mul_forward, .push = &pc,
                     .push_size = sizeof pc, .reads = {a, b}, .writes = {out}};
    if (texel) {
        d.texels[0] = (sg_texel_read){a, pc.quads ? 4 : 1};
        d.texels[1] = (sg_texel_read){b, pc.quads && b_div == 1 ? 4 : 1};
        /* a vec4 store needs out on a whole vec4 of the binding; else quads
         * store through out's buffer reference (tensors start on 16 bytes) */
        pc.stored = sg_store_output(&d, out, pc.quads, &pc.out_base);
    }
    if (!pc.quads) {
        sg_elementwise_groups(pc.count, d.groups);
        return sg_seq_dispatch(seq, &d);
    }
    const sg_kernel *whole = texel && pc.stored ? &kernel_mul_forward_whole[accumulate][b_div != 1] : NULL;
    return sg_dispatch_whole_groups(seq, &d, whole, pc.count / 4, pc.count / 4, &pc.first_quad);
}

sg_status sg_mul_forward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *y)
{
    const char *op = "mul_forward";
    sg_status s;
    uint32_t b_div;
    if ((s = sg_require(seq, op, "a", a)) || (s = sg_require(seq, op, "b", b)) ||
        (s = sg_require(seq, op, "y", y)) || (s = check_mul_b(seq, op, a, b, &b_div)) ||
        (s = sg_require_same_shape(seq, op, a, y)))
        return s;
    return mul_dispatch(seq, a, b, b_div, y, false);
}

sg_status sg_mul_backward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b,
                          const sg_tensor *dy, sg_tensor *da, sg_tensor *db)
{
    const char *op = "mul_backward";
    sg_status s;
    uint32_t b_div;
    if ((s = sg_require(seq, op, "a", a)) || (s = sg_require(seq, op, "b", b)) ||
        (s = sg_require(seq, op, "dy", dy)) || (s = check_mul_b(seq, op, a, b, &b_div)) ||
        (s = sg_require_same_shape(seq, op, dy, a)) ||
        (da && (s = sg_require_same_shape(seq, op, da, a))) ||
        (db && (s = sg_require_same_shape(seq, op, db, b))))
        return s;
    if (da && (s = mul_dispatch(seq, dy, b, b_div, da, true)))
        return s;
    if (!db)
        return SG_OK;
    if (b_div == 1)
        return mul_dispatch(seq, dy, a, 1, db, true);
    /* per-channel b: db[n,c] += sum over H,W of dy*a */
    return sg_eltwise_row_sum(seq, dy, a, (uint32_t)sg_tensor_count(b), b_div, 1.0f, true, db);
}
