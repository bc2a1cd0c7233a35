#include <stdio.h>

#include "op_util.h"

sg_status sg_require(sg_seq *seq, const char *op, const char *name, const void *t)
{
    return t ? SG_OK : sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: %s is NULL", op, name);
}

static void shape_str(char *buf, size_t n, sg_shape s)
{
    snprintf(buf, n, "(%d,%d,%d,%d)", s.n, s.c, s.h, s.w);
}

sg_status sg_require_same_shape(sg_seq *seq, const char *op, const sg_tensor *a, const sg_tensor *b)
{
    sg_shape sa = sg_tensor_shape(a), sb = sg_tensor_shape(b);
    if (sg_shape_equal(sa, sb))
        return SG_OK;
    char x[64], y[64];
    shape_str(x, sizeof x, sa);
    shape_str(y, sizeof y, sb);
    return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: shapes %s and %s differ", op, x, y);
}

sg_status sg_require_same_count(sg_seq *seq, const char *op, const sg_tensor *a, const sg_tensor *b)
{
    if (sg_tensor_count(a) == sg_tensor_count(b))
        return SG_OK;
    return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: element counts %zu and %zu differ", op,
                       sg_tensor_count(a), sg_tensor_count(b));
}

sg_status sg_require_count(sg_seq *seq, const char *op, const char *name, const sg_tensor *t,
                           size_t count)
{
    if (sg_tensor_count(t) == count)
        return SG_OK;
    return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: %s has %zu elements, expected %zu", op, name,
                       sg_tensor_count(t), count);
}

sg_status sg_require_shape(sg_seq *seq, const char *op, const char *name, const sg_tensor *t,
                           sg_shape want)
{
    sg_shape s = sg_tensor_shape(t);
    if (sg_shape_equal(s, want))
        return SG_OK;
    char x[64], y[64];
    shape_str(x, sizeof x, s);
    shape_str(y, sizeof y, want);
    return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: %s has shape %s, expected %s", op, name, x, y);
}

sg_status sg_dispatch_whole_groups(sg_seq *seq, sg_dispatch *d, const sg_kernel *whole, size_t whole_threads,
                                   uint32_t threads, uint32_t *first)
{
    uint32_t groups = (uint32_t)(whole_threads / SG_ELEMENTWISE_GROUP);
    bool rest = (size_t)groups * SG_ELEMENTWISE_GROUP < threads;
    *first = 0;
    /* one dimension of workgroups; on small tensors (under 16 workgroups)
     * two dispatches cost more than the checks */
    if (whole && groups > 0 && groups <= 65535u && (!rest || groups >= 16)) {
        sg_dispatch w = *d;
        w.kernel = whole;
        w.groups[0] = groups, w.groups[1] = 1, w.groups[2] = 1;
        sg_status s = sg_seq_dispatch(seq, &w);
        if (s != SG_OK || !rest)
            return s;
        *first = groups * SG_ELEMENTWISE_GROUP;
    }
    sg_elementwise_groups(threads - *first, d->groups);
    return sg_seq_dispatch(seq, d);
}
