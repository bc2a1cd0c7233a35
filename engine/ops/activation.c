/* Activations: ReLU, LeakyReLU, sigmoid, tanh, 4 elements per thread (vec4 loads). */
#include "op_util.h"

#include "act_backward.spv.h"
#include "act_backward_texel.spv.h"
#include "act_forward.spv.h"
#include "act_forward_texel.spv.h"

SG_KERNEL(act_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(act_backward, SG_ELEMENTWISE_GROUP);
/* Their whole forms (texel builds; bits: 1 the form, 2-3 the activation), by sg_activation:
 * whole workgroups of whole quads through texels and a storage buffer, no branch (~3x
 * faster on lavapipe, kernel.h) */
#define ACT_WHOLE(name, form, act) SG_KERNEL_FORM(name, form, SG_ELEMENTWISE_GROUP, 1 | (act) << 1)
static const sg_kernel kernel_act_forward_whole[4] = {
    ACT_WHOLE(act_forward_texel, "whole relu", SG_ACT_RELU),
    ACT_WHOLE(act_forward_texel, "whole leaky relu", SG_ACT_LEAKY_RELU),
    ACT_WHOLE(act_forward_texel, "whole sigmoid", SG_ACT_SIGMOID),
    ACT_WHOLE(act_forward_texel, "whole tanh", SG_ACT_TANH),
};
static const sg_kernel kernel_act_backward_whole[4] = {
    ACT_WHOLE(act_backward_texel, "whole relu", SG_ACT_RELU),
    ACT_WHOLE(act_backward_texel, "whole leaky relu", SG_ACT_LEAKY_RELU),
    ACT_WHOLE(act_backward_texel, "whole sigmoid", SG_ACT_SIGMOID),
    ACT_WHOLE(act_backward_texel, "whole tanh", SG_ACT_TANH),
};

static sg_status check_act(sg_seq *seq, const char *op, sg_activation act)
{
    if ((int)act < (int)SG_ACT_RELU || (int)act > (int)SG_ACT_TANH)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: unknown activation %d", op, (int)act);
    return SG_OK;
}

sg_status sg_activation_forward(sg_seq *seq, sg_activation act, float slope, const sg_tensor *x,
                                sg_tensor *y)
{
    const char *op = "activation_forward";
    sg_status s;
    if ((s = check_act(seq, op, act)) || (s = sg_require(seq, op, "x", x)) ||
        (s = sg_require(seq, op, "y", y)) || (s = sg_require_same_shape(seq, op, x, y)))
        return s;
    struct {
        uint64_t x, y;
        uint32_t count, act;
        float slope;
        uint32_t first_quad, x_base, y_base;
    } pc = {sg_tensor_address(x), sg_tensor_address(y), (uint32_t)sg_tensor_count(x), (uint32_t)act,
            slope, 0, sg_tensor_texel_base(x)};
    sg_dispatch d = {.kernel = &kernel_act_forward, .push = &pc, .push_size = sizeof pc,
                     .reads = {x}, .writes = {y}};
    bool whole = sg_tensor_quad_texels(x);
    if (whole) {
        d.texels[0] = (sg_texel_read){x, 4};
        whole = sg_store_output(&d, y, true, &pc.y_base);
    }
    return sg_dispatch_whole_groups(seq, &d, whole ? &kernel_act_forward_whole[act] : NULL, sg_tensor_count(x) / 4,
                                    (uint32_t)sg_div_up(sg_tensor_count(x), 4), &pc.first_quad);
}

sg_status sg_activation_backward(sg_seq *seq, sg_activation act, float slope, const sg_tensor *x,
                                 const sg_tensor *y, const sg_tensor *dy, sg_tensor *dx)
{
    const char *op = "activation_backward";
    sg_status s;
    if ((s = check_act(seq, op, act)) || (s = sg_require(seq, op, "dy", dy)))
        return s;
    /* ReLU-like derivatives depend on the input, sigmoid/tanh ones on the output */
    bool from_x = act == SG_ACT_RELU || act == SG_ACT_LEAKY_RELU;
    const sg_tensor *src = from_x ? x : y;
    if ((s = sg_require(seq, op, from_x ? "x" : "y", src)))
        return s;
    /* every tensor given must match, even the one this activation does not read */
    if ((x && (s = sg_require_same_shape(seq, op, x, dy))) ||
        (y && (s = sg_require_same_shape(seq, op, y, dy))) ||
        (dx && (s = sg_require_same_shape(seq, op, dx, dy))))
        return s;
    if (!dx)
        return SG_OK;
    struct {
        uint64_t src, dy, dx;
        uint32_t count, act;
        float slope;
        uint32_t first_quad, src_base, dy_base, dx_base;
    } pc = {sg_tensor_address(src), sg_tensor_address(dy), sg_tensor_address(dx),
            (uint32_t)sg_tensor_count(dy), (uint32_t)act, slope, 0, sg_tensor_texel_base(src),
            sg_tensor_texel_base(dy)};
    sg_dispatch d = {.kernel = &kernel_act_backward, .push = &pc, .push_size = sizeof pc,
                     .reads = {src, dy}, .writes = {dx}};
    bool whole = sg_tensor_quad_texels(src) && sg_tensor_quad_texels(dy);
    if (whole) {
        d.texels[0] = (sg_texel_read){src, 4};
        d.texels[1] = (sg_texel_read){dy, 4};
        whole = sg_store_output(&d, dx, true, &pc.dx_base);
    }
    return sg_dispatch_whole_groups(seq, &d, whole ? &kernel_act_backward_whole[act] : NULL,
                                    sg_tensor_count(dy) / 4, (uint32_t)sg_div_up(sg_tensor_count(dy), 4),
                                    &pc.first_quad);
}
