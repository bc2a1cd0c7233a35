/* Losses (mean L1, MSE, BCE) and the per-sample / per-pixel MSE maps.
 *
 * A loss value is a full reduction over possibly millions of elements. It is
 * done deterministically and in a good summation order: loss_terms adds each
 * workgroup's 4096 terms (16 strided values per thread, then a tree over 256
 * threads) into one partial sum in a scratch tensor; loss_sum then reduces
 * 4096 partials per workgroup the same way, level after level, until one value
 * is left, which the last level writes as the mean. 1M elements take two
 * levels, up to 2^31 take three; no float atomics, same result every run. */
#include "op_util.h"

#include "loss_mse_pixel.spv.h"
#include "loss_mse_sample.spv.h"
#include "loss_sum.spv.h"
#include "loss_terms.spv.h"

#define LOSS_GROUP 256u     /* threads per workgroup (power of two: tree sum) */
#define LOSS_PER_THREAD 16u /* values each thread adds before the tree */
#define LOSS_CHUNK (LOSS_GROUP * LOSS_PER_THREAD)

SG_KERNEL(loss_terms, LOSS_GROUP);
SG_KERNEL(loss_sum, LOSS_GROUP);
SG_KERNEL(loss_mse_sample, LOSS_GROUP);
SG_KERNEL(loss_mse_pixel, SG_ELEMENTWISE_GROUP);

enum { KIND_L1 = 0, KIND_MSE = 1, KIND_BCE = 2 };
enum { FLAG_LOSS = 1, FLAG_DPRED = 2, FLAG_DTARGET = 4 };

/* Reduce `parts` partial sums to loss[0] = sum / n, one tree level per dispatch. */
static sg_status reduce_to_mean(sg_seq *seq, const sg_tensor *src, uint32_t parts, size_t n,
                                sg_tensor *loss)
{
    for (;;) {
        uint32_t groups = sg_div_up(parts, LOSS_CHUNK);
        sg_tensor *dst = loss;
        float out_scale = (float)(1.0 / (double)n);
        if (groups > 1) {
            sg_status s = sg_seq_scratch(seq, sg_shape4(1, 1, 1, (int)groups), &dst);
            if (s != SG_OK)
                return s;
            out_scale = 1.0f;
        }
        struct {
            uint64_t src, dst;
            uint32_t count, per_thread;
            float out_scale;
        } pc = {sg_tensor_address(src), sg_tensor_address(dst), parts, LOSS_PER_THREAD,
                out_scale};
        sg_dispatch d = {.kernel = &kernel_loss_sum, .push = &pc, .push_size = sizeof pc,
                         .reads = {src}, .writes = {dst}};
        sg_groups_1d(groups, d.groups);
        sg_status s = sg_seq_dispatch(seq, &d);
        if (s != SG_OK || groups == 1)
            return s;
        src = dst;
        parts = groups;
    }
}

/* The shared body of the three losses, after their argument checks. */
static sg_status record_loss(sg_seq *seq, uint32_t kind, const sg_tensor *pred,
                             const sg_tensor *target, float bce_target, float scale,
                             sg_tensor *loss, sg_tensor *dpred, sg_tensor *dtarget)
{
    size_t n = sg_tensor_count(pred);
    uint32_t flags = (loss ? FLAG_LOSS : 0) | (dpred ? FLAG_DPRED : 0) | (dtarget ? FLAG_DTARGET : 0);
    if (!flags)
        return SG_OK; /* nothing asked for */
    uint32_t groups = sg_div_up(n, LOSS_CHUNK);
    sg_tensor *partial = NULL;
    if (loss) {
        sg_status s = sg_seq_scratch(seq, sg_shape4(1, 1, 1, (int)groups), &partial);
        if (s != SG_OK)
            return s;
    }
    struct {
        uint64_t pred, target, dpred, dtarget, partial;
        uint32_t count, per_thread, kind, flags;
        float grad_scale, bce_target;
    } pc = {
        sg_tensor_address(pred),
        target ? sg_tensor_address(target) : 0,
        dpred ? sg_tensor_address(dpred) : 0,
        dtarget ? sg_tensor_address(dtarget) : 0,
        partial ? sg_tensor_address(partial) : 0,
        (uint32_t)n,
        LOSS_PER_THREAD,
        kind,
        flags,
        (float)((double)scale / (double)n), /* scale multiplies the gradient only */
        bce_target,
    };
    sg_dispatch d = {.kernel = &kernel_loss_terms, .push = &pc, .push_size = sizeof pc,
                     /* NULL entries are skipped */
                     .reads = {pred, target}, .writes = {dpred, dtarget, partial}};
    sg_groups_1d(groups, d.groups);
    sg_status s = sg_seq_dispatch(seq, &d);
    if (s != SG_OK || !loss)
        return s;
    return reduce_to_mean(seq, partial, groups, n, loss);
}

/* Checks shared by the losses: pred present, optional tensors the right shape. */
static sg_status check_common(sg_seq *seq, const char *op, const sg_tensor *pred,
                              const sg_tensor *loss, const sg_tensor *dpred)
{
    sg_status s;
    if ((s = sg_require(seq, op, "pred", pred)))
        return s;
    if (loss && (s = sg_require_count(seq, op, "loss", loss, 1)))
        return s;
    if (dpred && (s = sg_require_same_shape(seq, op, pred, dpred)))
        return s;
    return SG_OK;
}

sg_status sg_l1_loss(sg_seq *seq, const sg_tensor *pred, const sg_tensor *target, float scale,
                     sg_tensor *loss, sg_tensor *dpred)
{
    sg_status s;
    if ((s = check_common(seq, "l1_loss", pred, loss, dpred)) ||
        (s = sg_require(seq, "l1_loss", "target", target)) ||
        (s = sg_require_same_shape(seq, "l1_loss", pred, target)))
        return s;
    return record_loss(seq, KIND_L1, pred, target, 0.0f, scale, loss, dpred, NULL);
}

sg_status sg_mse_loss(sg_seq *seq, const sg_tensor *pred, const sg_tensor *target, float scale,
                      sg_tensor *loss, sg_tensor *dpred, sg_tensor *dtarget)
{
    sg_status s;
    if ((s = check_common(seq, "mse_loss", pred, loss, dpred)) ||
        (s = sg_require(seq, "mse_loss", "target", target)) ||
        (s = sg_require_same_shape(seq, "mse_loss", pred, target)))
        return s;
    if (dtarget && (s = sg_require_same_shape(seq, "mse_loss", target, dtarget)))
        return s;
    return record_loss(seq, KIND_MSE, pred, target, 0.0f, scale, loss, dpred, dtarget);
}

sg_status sg_bce_loss(sg_seq *seq, const sg_tensor *pred, float target, float scale,
                      sg_tensor *loss, sg_tensor *dpred)
{
    sg_status s;
    if ((s = check_common(seq, "bce_loss", pred, loss, dpred)))
        return s;
    /* a probability, as PyTorch requires of BCELoss targets */
    if (!(target >= 0.0f && target <= 1.0f))
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "bce_loss: target %g is not in [0, 1]", target);
    return record_loss(seq, KIND_BCE, pred, NULL, target, scale, loss, dpred, NULL);
}

/* Checks shared by the two MSE maps: a and b present and the same shape. */
static sg_status check_pair(sg_seq *seq, const char *op, const sg_tensor *a, const sg_tensor *b,
                            const sg_tensor *out)
{
    sg_status s;
    if ((s = sg_require(seq, op, "a", a)) || (s = sg_require(seq, op, "b", b)) ||
        (s = sg_require(seq, op, "out", out)) || (s = sg_require_same_shape(seq, op, a, b)))
        return s;
    return SG_OK;
}

sg_status sg_mse_per_sample(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *out)
{
    sg_status s;
    if ((s = check_pair(seq, "mse_per_sample", a, b, out)))
        return s;
    sg_shape as = sg_tensor_shape(a);
    if ((s = sg_require_count(seq, "mse_per_sample", "out", out, (size_t)as.n)))
        return s;
    uint32_t per_sample = (uint32_t)((size_t)as.c * as.h * as.w);
    struct {
        uint64_t a, b, dst;
        uint32_t samples, per_sample;
        float inv_count;
    } pc = {sg_tensor_address(a), sg_tensor_address(b), sg_tensor_address(out), (uint32_t)as.n,
            per_sample, (float)(1.0 / per_sample)};
    sg_dispatch d = {.kernel = &kernel_loss_mse_sample, .push = &pc, .push_size = sizeof pc,
                     .reads = {a, b}, .writes = {out}};
    sg_groups_1d((uint32_t)as.n, d.groups);
    return sg_seq_dispatch(seq, &d);
}

sg_status sg_mse_per_pixel(sg_seq *seq, const sg_tensor *a, const sg_tensor *b, sg_tensor *out)
{
    sg_status s;
    if ((s = check_pair(seq, "mse_per_pixel", a, b, out)))
        return s;
    sg_shape as = sg_tensor_shape(a);
    if ((s = sg_require_shape(seq, "mse_per_pixel", "out", out, sg_shape4(as.n, 1, as.h, as.w))))
        return s;
    size_t pixels = (size_t)as.n * as.h * as.w;
    struct {
        uint64_t a, b, dst;
        uint32_t pixels, plane, channels;
        float inv_channels;
    } pc = {sg_tensor_address(a), sg_tensor_address(b), sg_tensor_address(out), (uint32_t)pixels,
            (uint32_t)((size_t)as.h * as.w), (uint32_t)as.c, (float)(1.0 / as.c)};
    sg_dispatch d = {.kernel = &kernel_loss_mse_pixel, .push = &pc, .push_size = sizeof pc,
                     .reads = {a, b}, .writes = {out}};
    sg_elementwise_groups(pixels, d.groups);
    return sg_seq_dispatch(seq, &d);
}
