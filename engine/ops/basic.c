/* fill, copy, axpy, step counter: the building blocks other code composes. */
#include <string.h>

#include "op_util.h"

#include "axpy.spv.h"
#include "copy.spv.h"
#include "step_increment.spv.h"

SG_KERNEL(copy, SG_ELEMENTWISE_GROUP);
SG_KERNEL(axpy, SG_ELEMENTWISE_GROUP);
SG_KERNEL(step_increment, 1);

sg_status sg_fill(sg_seq *seq, sg_tensor *t, float value)
{
    sg_status s = sg_require(seq, "fill", "t", t);
    if (s != SG_OK)
        return s;
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return sg_seq_fill(seq, t, bits);
}

sg_status sg_copy(sg_seq *seq, const sg_tensor *src, sg_tensor *dst)
{
    sg_status s;
    if ((s = sg_require(seq, "copy", "src", src)) || (s = sg_require(seq, "copy", "dst", dst)) ||
        (s = sg_require_same_count(seq, "copy", src, dst)))
        return s;
    struct {
        uint64_t src, dst;
        uint32_t count;
    } pc = {sg_tensor_address(src), sg_tensor_address(dst), (uint32_t)sg_tensor_count(src)};
    sg_dispatch d = {.kernel = &kernel_copy, .push = &pc, .push_size = sizeof pc, .reads = {src}, .writes = {dst}};
    sg_elementwise_groups(sg_tensor_count(src), d.groups);
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_axpy(sg_seq *seq, float alpha, const sg_tensor *x, sg_tensor *y)
{
    sg_status s;
    if ((s = sg_require(seq, "axpy", "x", x)) || (s = sg_require(seq, "axpy", "y", y)) ||
        (s = sg_require_same_count(seq, "axpy", x, y)))
        return s;
    struct {
        uint64_t x, y;
        uint32_t count;
        float alpha;
    } pc = {sg_tensor_address(x), sg_tensor_address(y), (uint32_t)sg_tensor_count(x), alpha};
    sg_dispatch d = {.kernel = &kernel_axpy, .push = &pc, .push_size = sizeof pc, .reads = {x}, .writes = {y}};
    sg_elementwise_groups(sg_div_up(sg_tensor_count(x), 4), d.groups); /* 4 elements a thread */
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_step_increment(sg_seq *seq, sg_tensor *t)
{
    sg_status s = sg_require(seq, "step_increment", "t", t);
    if (s != SG_OK)
        return s;
    struct {
        uint64_t t;
    } pc = {sg_tensor_address(t)};
    sg_dispatch d = {.kernel = &kernel_step_increment, .push = &pc, .push_size = sizeof pc, .writes = {t}};
    return sg_seq_dispatch(seq, &d);
}
