/* Shape ops: channel concat, 2x2 max pool, nearest x2 upsampling, global
 * average pool. All but the average pool's forward (a row reduction) and the
 * concat on planes of whole vec4s (4 elements a thread) are one thread per
 * element. The concat, max pool and upsampling read their inputs as texels where they
 * fit the device's views (the *_texel builds), through buffer references
 * otherwise. */
#include "op_util.h"

#include "avgpool_global_backward.spv.h"
#include "avgpool_global_backward_texel.spv.h"
#include "concat_backward.spv.h"
#include "concat_backward_texel.spv.h"
#include "concat_forward.spv.h"
#include "concat_forward_texel.spv.h"
#include "concat_part_texel.spv.h"
#include "maxpool2x2_backward.spv.h"
#include "maxpool2x2_backward_texel.spv.h"
#include "maxpool2x2_forward.spv.h"
#include "maxpool2x2_forward_texel.spv.h"
#include "upsample2x_backward.spv.h"
#include "upsample2x_backward_texel.spv.h"
#include "upsample2x_forward.spv.h"
#include "upsample2x_forward_texel.spv.h"

SG_KERNEL(concat_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(concat_backward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(concat_forward_texel, SG_ELEMENTWISE_GROUP);
SG_KERNEL(concat_backward_texel, SG_ELEMENTWISE_GROUP);
/* a part in whole workgroups (concat_part.comp): the forward's copy, the backward's sum */
static const sg_kernel kernel_concat_part_forward =
    SG_KERNEL_FORM(concat_part_texel, "forward", SG_ELEMENTWISE_GROUP, 1);
static const sg_kernel kernel_concat_part_backward =
    SG_KERNEL_FORM(concat_part_texel, "backward", SG_ELEMENTWISE_GROUP, 2);
SG_KERNEL(maxpool2x2_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(maxpool2x2_backward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(maxpool2x2_forward_texel, SG_ELEMENTWISE_GROUP);
SG_KERNEL(maxpool2x2_backward_texel, SG_ELEMENTWISE_GROUP);
/* their whole forms: a quad of y (dy) an invocation, whole workgroups */
static const sg_kernel kernel_maxpool2x2_forward_whole =
    SG_KERNEL_FORM(maxpool2x2_forward_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
static const sg_kernel kernel_maxpool2x2_backward_whole =
    SG_KERNEL_FORM(maxpool2x2_backward_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
SG_KERNEL(upsample2x_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(upsample2x_backward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(upsample2x_forward_texel, SG_ELEMENTWISE_GROUP);
SG_KERNEL(upsample2x_backward_texel, SG_ELEMENTWISE_GROUP);
static const sg_kernel kernel_avgpool_global_backward_whole =
    SG_KERNEL_FORM(avgpool_global_backward_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
/* the upsampling's whole forms: a quad of x (dx) an invocation, whole workgroups */
static const sg_kernel kernel_upsample2x_forward_whole =
    SG_KERNEL_FORM(upsample2x_forward_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
static const sg_kernel kernel_upsample2x_backward_whole =
    SG_KERNEL_FORM(upsample2x_backward_texel, "whole", SG_ELEMENTWISE_GROUP, 1);
SG_KERNEL(avgpool_global_backward, SG_ELEMENTWISE_GROUP);

/* ---- concat ------------------------------------------------------------ */

/* Fails unless part is (N, any C, H, W) of y's N, H, W. */
static sg_status check_part(sg_seq *seq, const char *op, const char *name, const sg_tensor *part,
                            sg_shape ys)
{
    sg_shape s = sg_tensor_shape(part);
    if (s.n == ys.n && s.h == ys.h && s.w == ys.w)
        return SG_OK;
    return sg_seq_fail(seq, SG_ERR_SHAPE,
                       "%s: %s has shape (%d,%d,%d,%d); N, H, W must match (%d,%d,%d,%d)", op, name,
                       s.n, s.c, s.h, s.w, ys.n, ys.c, ys.h, ys.w);
}

/* The concat kernels read their inputs as texels (R32, or RGBA32 in quads)
 * where they fit the device's views, through buffer references otherwise.
 * Quads: with H*W % 4 == 0 every length and offset is whole vec4s, and each
 * thread copies one vec4 (tensors start on 16 bytes; texel views must start
 * on a whole texel too). */
static bool concat_texels(const sg_tensor *a, const sg_tensor *b)
{
    return sg_tensor_texel_ok(a, 1) && (!b || sg_tensor_texel_ok(b, 1));
}

static bool concat_quads(uint32_t hw, bool texel, const sg_tensor *a, const sg_tensor *b)
{
    if (hw % 4 != 0)
        return false;
    return !texel || (sg_tensor_quad_texels(a) && (!b || sg_tensor_quad_texels(b)));
}

/* Moves the channels [c0, c0 + Cp) of y (N,Cy,H,W) from part (N,Cp,H,W) in
 * concat_part.comp (forward: y's slice = part; else part += y's slice), where
 * each sample's part is whole workgroups of vec4s, both read as RGBA32 texels
 * and written through a storage buffer; *done says whether it did. */
static sg_status concat_part_whole(sg_seq *seq, bool forward, const sg_tensor *y, const sg_tensor *part,
                                   int c0, bool *done)
{
    sg_shape ps = sg_tensor_shape(part), ys = sg_tensor_shape(y);
    uint32_t hw = (uint32_t)ys.h * (uint32_t)ys.w;
    const sg_tensor *src = forward ? part : y, *dst = forward ? y : part;
    struct {
        uint32_t part_len, y_len, offset, src_base, dst_base;
    } pc = {(uint32_t)ps.c * hw / 4, (uint32_t)ys.c * hw / 4, (uint32_t)c0 * hw / 4, sg_tensor_texel_base(src)};
    *done = false;
    if (hw % 4 != 0 || pc.part_len % SG_ELEMENTWISE_GROUP != 0 || pc.part_len / SG_ELEMENTWISE_GROUP > 65535u ||
        ys.n > 65535 || !sg_tensor_quad_texels(src))
        return SG_OK;
    sg_dispatch d = {.kernel = forward ? &kernel_concat_part_forward : &kernel_concat_part_backward,
                     .push = &pc, .push_size = sizeof pc, .reads = {src}, .writes = {dst}};
    d.texels[0] = (sg_texel_read){src, 4};
    if (!sg_store_output(&d, dst, true, &pc.dst_base))
        return SG_OK;
    d.groups[0] = pc.part_len / SG_ELEMENTWISE_GROUP, d.groups[1] = (uint32_t)ys.n, d.groups[2] = 1;
    *done = true;
    return sg_seq_dispatch(seq, &d);
}

/* dpart += channels [c0, c0+Cp) of dy (N,Cy,H,W), for dpart (N,Cp,H,W) */
static sg_status concat_backward_part(sg_seq *seq, const sg_tensor *dy, sg_tensor *dpart, int c0)
{
    bool done;
    sg_status s = concat_part_whole(seq, false, dy, dpart, c0, &done);
    if (s != SG_OK || done)
        return s;
    sg_shape ps = sg_tensor_shape(dpart), ys = sg_tensor_shape(dy);
    uint32_t hw = (uint32_t)ys.h * (uint32_t)ys.w;
    bool texel = concat_texels(dy, NULL), quads = concat_quads(hw, texel, dy, NULL);
    uint32_t q = quads ? 4 : 1; /* floats a thread */
    struct {
        uint64_t dy, dpart;
        uint32_t count, part_len, y_len, offset, quads, dy_base;
    } pc = {sg_tensor_address(dy), sg_tensor_address(dpart), (uint32_t)sg_tensor_count(dpart) / q,
            (uint32_t)ps.c * hw / q, (uint32_t)ys.c * hw / q, (uint32_t)c0 * hw / q, quads,
            sg_tensor_texel_base(dy)};
    sg_dispatch d = {.kernel = texel ? &kernel_concat_backward_texel : &kernel_concat_backward, .push = &pc,
                     .push_size = sizeof pc, .reads = {dy}, .writes = {dpart}};
    if (texel)
        d.texels[0] = (sg_texel_read){dy, q};
    sg_elementwise_groups(pc.count, d.groups);
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_concat_forward(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *y)
{
    const char *op = "concat_forward";
    sg_status s;
    if ((s = sg_require(seq, op, "a", a)) || (s = sg_require(seq, op, "b", b)) ||
        (s = sg_require(seq, op, "y", y)))
        return s;
    sg_shape as = sg_tensor_shape(a), bs = sg_tensor_shape(b);
    if ((s = check_part(seq, op, "b", b, as)) ||
        (s = sg_require_shape(seq, op, "y", y, sg_shape4(as.n, as.c + bs.c, as.h, as.w))))
        return s;
    bool done_a, done_b;
    if ((s = concat_part_whole(seq, true, y, a, 0, &done_a)))
        return s;
    if (done_a && (s = concat_part_whole(seq, true, y, b, as.c, &done_b)) == SG_OK && done_b)
        return SG_OK;
    if (s)
        return s;
    uint32_t hw = (uint32_t)as.h * (uint32_t)as.w;
    bool texel = concat_texels(a, b), quads = concat_quads(hw, texel, a, b);
    uint32_t q = quads ? 4 : 1; /* floats a thread */
    struct {
        uint64_t a, b, y;
        uint32_t count, a_len, b_len, quads, a_base, b_base;
    } pc = {sg_tensor_address(a), sg_tensor_address(b), sg_tensor_address(y),
            (uint32_t)sg_tensor_count(y) / q, (uint32_t)as.c * hw / q, (uint32_t)bs.c * hw / q, quads,
            sg_tensor_texel_base(a), sg_tensor_texel_base(b)};
    sg_dispatch d = {.kernel = texel ? &kernel_concat_forward_texel : &kernel_concat_forward, .push = &pc,
                     .push_size = sizeof pc, .reads = {a, b}, .writes = {y}};
    if (texel) {
        d.texels[0] = (sg_texel_read){a, q};
        d.texels[1] = (sg_texel_read){b, q};
    }
    sg_elementwise_groups(pc.count, d.groups);
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_concat_backward(sg_seq *seq, const sg_tensor *dy, sg_tensor *da, sg_tensor *db)
{
    const char *op = "concat_backward";
    sg_status s;
    if ((s = sg_require(seq, op, "dy", dy)))
        return s;
    sg_shape ys = sg_tensor_shape(dy);
    if ((da && (s = check_part(seq, op, "da", da, ys))) ||
        (db && (s = check_part(seq, op, "db", db, ys))))
        return s;
    int ca = da ? sg_tensor_shape(da).c : 0, cb = db ? sg_tensor_shape(db).c : 0;
    /* with one gradient missing its channel count is what the other leaves */
    bool fits = da && db ? ca + cb == ys.c : ca + cb < ys.c;
    if (!fits)
        return sg_seq_fail(seq, SG_ERR_SHAPE,
                           "%s: da (%d channels) and db (%d channels) do not split dy's %d channels",
                           op, ca, cb, ys.c);
    if (da && (s = concat_backward_part(seq, dy, da, 0)))
        return s;
    if (db && (s = concat_backward_part(seq, dy, db, ys.c - cb)))
        return s;
    return SG_OK;
}

/* ---- max pool 2x2 ------------------------------------------------------ */

static sg_status check_maxpool(sg_seq *seq, const char *op, const sg_tensor *x, const char *yname,
                               const sg_tensor *y)
{
    sg_shape xs = sg_tensor_shape(x);
    if (xs.h < 2 || xs.w < 2)
        return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: input (%d,%d,%d,%d) is smaller than 2x2", op,
                           xs.n, xs.c, xs.h, xs.w);
    return sg_require_shape(seq, op, yname, y, sg_shape4(xs.n, xs.c, xs.h / 2, xs.w / 2));
}

/* Whether a whole form that takes a quad of its smaller tensor an invocation
 * (the upsampling's x or dx, the max pool's y or dy) can take `quads` of them,
 * with `t` (x, or dy) read as RGBA32 texels: whole workgroups, over x alone
 * (groups: their count). The caller checks that the rows hold whole quads. */
static bool whole_quad_groups(const sg_tensor *t, size_t quads, uint32_t groups[3])
{
    return sg_tensor_quad_texels(t) && sg_whole_groups_1d(quads, groups);
}

/* The max pool's whole forms: even heights, widths of whole pairs of quads
 * (y's rows of whole quads), x read as RGBA32 texels. */
static bool whole_pool_groups(const sg_tensor *x, sg_shape xs, uint32_t groups[3])
{
    return xs.h % 2 == 0 && xs.w % 8 == 0 && whole_quad_groups(x, sg_tensor_count(x) / 16, groups);
}

sg_status sg_maxpool2x2_forward(sg_seq *seq, const sg_tensor *x, sg_tensor *y)
{
    const char *op = "maxpool2x2_forward";
    sg_status s;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "y", y)) ||
        (s = check_maxpool(seq, op, x, "y", y)))
        return s;
    sg_shape xs = sg_tensor_shape(x);
    struct {
        uint64_t x, y;
        uint32_t count, h, w, ho, wo, x_base;
        uint32_t y_base; /* the whole form: y through binding 4 */
    } pc = {sg_tensor_address(x), sg_tensor_address(y), (uint32_t)sg_tensor_count(y),
            (uint32_t)xs.h, (uint32_t)xs.w, (uint32_t)xs.h / 2, (uint32_t)xs.w / 2, sg_tensor_texel_base(x)};
    bool texel = sg_tensor_texel_ok(x, 1);
    sg_dispatch d = {.kernel = texel ? &kernel_maxpool2x2_forward_texel : &kernel_maxpool2x2_forward, .push = &pc,
                     .push_size = sizeof pc, .reads = {x}, .writes = {y}};
    /* the texel build declares y's binding: bound for either form */
    bool stored = texel && sg_store_output(&d, y, true, &pc.y_base);
    if (stored && whole_pool_groups(x, xs, d.groups)) {
        d.kernel = &kernel_maxpool2x2_forward_whole;
        d.texels[0] = (sg_texel_read){x, 4};
        return sg_seq_dispatch(seq, &d);
    }
    if (texel)
        d.texels[0] = (sg_texel_read){x, 1};
    sg_elementwise_groups(sg_tensor_count(y), d.groups);
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_maxpool2x2_backward(sg_seq *seq, const sg_tensor *x, const sg_tensor *dy,
                                 sg_tensor *dx)
{
    const char *op = "maxpool2x2_backward";
    sg_status s;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "dy", dy)) ||
        (s = check_maxpool(seq, op, x, "dy", dy)) ||
        (dx && (s = sg_require_same_shape(seq, op, dx, x))))
        return s;
    if (!dx)
        return SG_OK;
    sg_shape xs = sg_tensor_shape(x);
    struct {
        uint64_t x, dy, dx;
        uint32_t count, h, w, ho, wo, x_base, dy_base;
        uint32_t dx_base; /* the whole form: dx through binding 4 */
    } pc = {sg_tensor_address(x), sg_tensor_address(dy), sg_tensor_address(dx),
            (uint32_t)sg_tensor_count(dy), (uint32_t)xs.h, (uint32_t)xs.w, (uint32_t)xs.h / 2,
            (uint32_t)xs.w / 2, sg_tensor_texel_base(x), sg_tensor_texel_base(dy)};
    bool texel = sg_tensor_texel_ok(x, 1) && sg_tensor_texel_ok(dy, 1);
    sg_dispatch d = {.kernel = texel ? &kernel_maxpool2x2_backward_texel : &kernel_maxpool2x2_backward, .push = &pc,
                     .push_size = sizeof pc, .reads = {x, dy}, .writes = {dx}};
    /* the texel build declares dx's binding: bound for either form */
    bool stored = texel && sg_store_output(&d, dx, true, &pc.dx_base);
    if (stored && whole_pool_groups(x, xs, d.groups) && sg_tensor_quad_texels(dy)) {
        d.kernel = &kernel_maxpool2x2_backward_whole;
        d.texels[0] = (sg_texel_read){x, 4};
        d.texels[1] = (sg_texel_read){dy, 4};
        return sg_seq_dispatch(seq, &d);
    }
    if (texel) {
        d.texels[0] = (sg_texel_read){x, 1};
        d.texels[1] = (sg_texel_read){dy, 1};
    }
    sg_elementwise_groups(sg_tensor_count(dy), d.groups);
    return sg_seq_dispatch(seq, &d);
}

/* ---- nearest x2 upsampling --------------------------------------------- */

sg_status sg_upsample2x_forward(sg_seq *seq, const sg_tensor *x, sg_tensor *y)
{
    const char *op = "upsample2x_forward";
    sg_status s;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "y", y)))
        return s;
    sg_shape xs = sg_tensor_shape(x);
    if ((s = sg_require_shape(seq, op, "y", y, sg_shape4(xs.n, xs.c, 2 * xs.h, 2 * xs.w))))
        return s;
    struct {
        uint64_t x, y;
        uint32_t count, h, w, x_base;
        uint32_t y_base; /* the whole form: y through binding 4 */
    } pc = {sg_tensor_address(x), sg_tensor_address(y), (uint32_t)sg_tensor_count(y),
            (uint32_t)xs.h, (uint32_t)xs.w, sg_tensor_texel_base(x)};
    bool texel = sg_tensor_texel_ok(x, 1);
    sg_dispatch d = {.kernel = texel ? &kernel_upsample2x_forward_texel : &kernel_upsample2x_forward, .push = &pc,
                     .push_size = sizeof pc, .reads = {x}, .writes = {y}};
    /* the texel build declares y's binding: bound for either form */
    bool stored = texel && sg_store_output(&d, y, true, &pc.y_base);
    if (stored && xs.w % 4 == 0 && whole_quad_groups(x, sg_tensor_count(x) / 4, d.groups)) {
        d.kernel = &kernel_upsample2x_forward_whole;
        d.texels[0] = (sg_texel_read){x, 4};
        return sg_seq_dispatch(seq, &d);
    }
    if (texel)
        d.texels[0] = (sg_texel_read){x, 1};
    sg_elementwise_groups(sg_tensor_count(y), d.groups);
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_upsample2x_backward(sg_seq *seq, const sg_tensor *dy, sg_tensor *dx)
{
    const char *op = "upsample2x_backward";
    sg_status s;
    if ((s = sg_require(seq, op, "dy", dy)))
        return s;
    if (!dx)
        return SG_OK;
    sg_shape xs = sg_tensor_shape(dx);
    if ((s = sg_require_shape(seq, op, "dy", dy, sg_shape4(xs.n, xs.c, 2 * xs.h, 2 * xs.w))))
        return s;
    struct {
        uint64_t dy, dx;
        uint32_t count, h, w, dy_base;
        uint32_t dx_base; /* the whole form: dx through binding 4 */
    } pc = {sg_tensor_address(dy), sg_tensor_address(dx), (uint32_t)sg_tensor_count(dx),
            (uint32_t)xs.h, (uint32_t)xs.w, sg_tensor_texel_base(dy)};
    bool texel = sg_tensor_texel_ok(dy, 1);
    sg_dispatch d = {.kernel = texel ? &kernel_upsample2x_backward_texel : &kernel_upsample2x_backward, .push = &pc,
                     .push_size = sizeof pc, .reads = {dy}, .writes = {dx}};
    /* the texel build declares dx's binding: bound for either form */
    bool stored = texel && sg_store_output(&d, dx, true, &pc.dx_base);
    if (stored && xs.w % 4 == 0 && whole_quad_groups(dy, sg_tensor_count(dx) / 4, d.groups)) {
        d.kernel = &kernel_upsample2x_backward_whole;
        d.texels[0] = (sg_texel_read){dy, 4};
        return sg_seq_dispatch(seq, &d);
    }
    if (texel)
        d.texels[0] = (sg_texel_read){dy, 1};
    sg_elementwise_groups(sg_tensor_count(dx), d.groups);
    return sg_seq_dispatch(seq, &d);
}

/* ---- global average pool ----------------------------------------------- */

sg_status sg_avgpool_global_forward(sg_seq *seq, const sg_tensor *x, sg_tensor *y)
{
    const char *op = "avgpool_global_forward";
    sg_status s;
    if ((s = sg_require(seq, op, "x", x)) || (s = sg_require(seq, op, "y", y)))
        return s;
    sg_shape xs = sg_tensor_shape(x);
    if ((s = sg_require_shape(seq, op, "y", y, sg_shape4(xs.n, xs.c, 1, 1))))
        return s;
    /* y[n,c] = (1/HW) * sum over H,W */
    uint32_t hw = (uint32_t)xs.h * (uint32_t)xs.w;
    return sg_eltwise_row_sum(seq, x, NULL, (uint32_t)xs.n * (uint32_t)xs.c, hw,
                              (float)(1.0 / hw), false, y);
}

sg_status sg_avgpool_global_backward(sg_seq *seq, const sg_tensor *dy, sg_tensor *dx)
{
    const char *op = "avgpool_global_backward";
    sg_status s;
    if ((s = sg_require(seq, op, "dy", dy)))
        return s;
    if (!dx)
        return SG_OK;
    sg_shape xs = sg_tensor_shape(dx);
    if ((s = sg_require_shape(seq, op, "dy", dy, sg_shape4(xs.n, xs.c, 1, 1))))
        return s;
    uint32_t hw = (uint32_t)xs.h * (uint32_t)xs.w;
    uint32_t q = hw % 4 == 0 ? 4 : 1; /* elements a thread: whole vec4s of a plane (tensors start on 16 bytes) */
    struct {
        uint64_t dy, dx;
        uint32_t count, hw;
        float scale;
        uint32_t quads;
        uint32_t dy_base, dx_base; /* the whole form: dy's texel view, dx's storage buffer */
    } pc = {sg_tensor_address(dy), sg_tensor_address(dx), (uint32_t)sg_tensor_count(dx) / q, hw / q,
            (float)(1.0 / hw), q == 4, sg_tensor_texel_base(dy)};
    sg_dispatch d = {.kernel = &kernel_avgpool_global_backward, .push = &pc,
                     .push_size = sizeof pc, .reads = {dy}, .writes = {dx}};
    /* the whole form: whole workgroups of dx's quads, dy as R32 texels, dx through binding 4 */
    sg_dispatch w = d;
    if (q == 4 && sg_tensor_texel_ok(dy, 1) && sg_whole_groups_1d(pc.count, w.groups) &&
        sg_store_output(&w, dx, true, &pc.dx_base)) {
        w.kernel = &kernel_avgpool_global_backward_whole;
        w.texels[0] = (sg_texel_read){dy, 1};
        return sg_seq_dispatch(seq, &w);
    }
    sg_elementwise_groups(pc.count, d.groups);
    return sg_seq_dispatch(seq, &d);
}
