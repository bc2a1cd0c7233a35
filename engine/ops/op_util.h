/* Small helpers shared by the op implementations: argument checks that report
 * through the sequence, and the kernel descriptor macro. */
#ifndef SGAD_OPS_OP_UTIL_H
#define SGAD_OPS_OP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/kernel.h"
#include "sgad/ops.h"

/* Declare `static const sg_kernel kernel_<name>` from the embedded <name>.spv.h. */
#define SG_KERNEL(name, local_size)                                                   \
    static const sg_kernel kernel_##name = {#name, name##_spv, sizeof(name##_spv), local_size}
/* The initializer of a form of <name>.spv.h with specialization constant 1
 * (sg_kernel.whole_groups) set to `bits`, named "<name>/<form>". */
#define SG_KERNEL_FORM(name, form, local_size, bits) \
    {#name "/" form, name##_spv, sizeof(name##_spv), local_size, bits}

/* Threads per workgroup of the simple one-element-per-thread kernels. */
#define SG_ELEMENTWISE_GROUP 256u

/* Threads per workgroup of the reductions' whole forms (bn_stats,
 * bn_grad_sums, conv_bias_grad, eltwise_row_sum) and of batch norm's
 * per-channel merges: 8, one SIMD row of lavapipe's lanes, so that their tree
 * needs no barrier there (lavapipe runs a workgroup's rows as coroutines
 * switched at each barrier): 2-4x faster than 64 or 256 lanes
 * (docs/benchmarks.md, "The reductions in whole workgroups of 8 lanes"). On a
 * GPU a workgroup of 8 leaves most of a warp idle; these kernels are a small
 * part of a step there, and scripts/device-check.sh measures the step. Their
 * sums run in another order than the wider forms': a rounding, not a result. */
#define SG_REDUCTION_LANES 8u

/* Whether v is a power of two; *log2 gets its log2 if so (the whole forms find
 * a quad's plane by a shift). */
static inline bool sg_pow2_log2(uint32_t v, uint32_t *log2)
{
    if (v == 0 || (v & (v - 1)) != 0)
        return false;
    for (*log2 = 0; (1u << *log2) < v; (*log2)++)
        ;
    return true;
}

/* Whether `threads` fill whole workgroups of SG_ELEMENTWISE_GROUP, at most
 * 65535 of them, over x alone (groups: their count): a whole form's grid. */
static inline bool sg_whole_groups_1d(size_t threads, uint32_t groups[3])
{
    if (threads % SG_ELEMENTWISE_GROUP != 0 || threads / SG_ELEMENTWISE_GROUP > 65535u)
        return false;
    groups[0] = (uint32_t)(threads / SG_ELEMENTWISE_GROUP), groups[1] = groups[2] = 1;
    return true;
}

/* Fails the sequence unless t is non-NULL (name used in the message). */
sg_status sg_require(sg_seq *seq, const char *op, const char *name, const void *t);
/* Fails unless a and b have the same shape. */
sg_status sg_require_same_shape(sg_seq *seq, const char *op, const sg_tensor *a, const sg_tensor *b);
/* Fails unless a and b have the same element count. */
sg_status sg_require_same_count(sg_seq *seq, const char *op, const sg_tensor *a, const sg_tensor *b);
/* Fails unless t has exactly `count` elements. */
sg_status sg_require_count(sg_seq *seq, const char *op, const char *name, const sg_tensor *t,
                           size_t count);
/* Fails unless t has the given shape. */
sg_status sg_require_shape(sg_seq *seq, const char *op, const char *name, const sg_tensor *t,
                           sg_shape want);

/* out[r] = (accumulate ? out[r] : 0) + scale * sum_j a[r*len+j] * (b ? b[r*len+j] : 1),
 * one workgroup per row (eltwise.c; also the global average pool). */
sg_status sg_eltwise_row_sum(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, uint32_t rows,
                             uint32_t len, float scale, bool accumulate, sg_tensor *out);

/* Whether t can be read as RGBA32 texels (4 floats a texel) from a whole
 * texel: the vec4 reads of the kernels' quad forms. */
static inline bool sg_tensor_quad_texels(const sg_tensor *t)
{
    return sg_tensor_texel_ok(t, 4) && sg_tensor_texel_base(t) % 4 == 0;
}

/* A kernel's output t at binding SG_STORE_BINDING (kernel.h), always bound
 * (the kernels declare it); *base gets the floats from the binding's start to
 * t, and the result says whether the kernel may write through it: t fits a
 * storage buffer and, for vec4 stores, starts on a whole vec4. Else the kernel
 * writes through t's buffer reference. */
static inline bool sg_store_output(sg_dispatch *d, const sg_tensor *t, bool vec4, uint32_t *base)
{
    d->stores[0] = (sg_storage){t, true};
    *base = sg_tensor_store_base(t);
    return sg_tensor_store_ok(t) && (!vec4 || *base % 4 == 0);
}

/* Records d, a kernel of SG_ELEMENTWISE_GROUP threads, over `threads`
 * threads of which the first `whole_threads` have all their elements: whole
 * workgroups of those first in the form `whole` (the same shader built with
 * specialization constant 1 set, kernel.h: no condition before its stores,
 * ~3x faster on lavapipe) where there is one and it pays, then the rest in
 * d's checked form. Both forms add *first (a field of d's push constants, set
 * here) to their thread index. */
sg_status sg_dispatch_whole_groups(sg_seq *seq, sg_dispatch *d, const sg_kernel *whole, size_t whole_threads,
                                   uint32_t threads, uint32_t *first);

/* Groups for one thread per element over `count` elements. */
static inline void sg_elementwise_groups(size_t count, uint32_t groups[3])
{
    sg_groups_1d(sg_div_up(count, SG_ELEMENTWISE_GROUP), groups);
}

#endif
