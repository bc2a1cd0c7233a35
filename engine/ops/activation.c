/* Activations: ReLU, LeakyReLU, sigmoid, tanh, 4 elements per thread (vec4 loads). */
#include "op_util.h"

#include "act_backward.spv.h"
#include "act_forward.spv.h"

SG_KERNEL(act_forward, SG_ELEMENTWISE_GROUP);
SG_KERNEL(act_backward, SG_ELEMENTWISE_GROUP);

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
    } pc = {sg_tensor_address(x), sg_tensor_address(y), (uint32_t)sg_tensor_count(x), (uint32_t)act,
            slope};
    sg_dispatch d = {.kernel = &kernel_act_forward, .push = &pc, .push_size = sizeof pc,
                     .reads = {x}, .writes = {y}};
    sg_elementwise_groups(sg_div_up(sg_tensor_count(x), 4), d.groups);
    return sg_seq_dispatch(seq, &d);
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
    } pc = {sg_tensor_address(src), sg_tensor_address(dy), sg_tensor_address(dx),
            (uint32_t)sg_tensor_count(dy), (uint32_t)act, slope};
    sg_dispatch d = {.kernel = &kernel_act_backward, .push = &pc, .push_size = sizeof pc,
                     .reads = {src, dy}, .writes = {dx}};
    sg_elementwise_groups(sg_div_up(sg_tensor_count(dy), 4), d.groups);
    return sg_seq_dispatch(seq, &d);
}
