/* Adam (PyTorch semantics, no weight decay): one dispatch over all parameters
 * (4 to a thread, vec4 loads), with the step number read on the device so a
 * recorded sequence replays. The tensors are reached through storage-buffer
 * descriptors (adam_update_texel) where they fit them, a float loaded or stored
 * so costing lavapipe a quarter to a fifth of one through a buffer reference
 * (kernel.h); through buffer references otherwise. */
#include <math.h>

#include "op_util.h"

#include "adam_update.spv.h"
#include "adam_update_texel.spv.h"

SG_KERNEL(adam_update, SG_ELEMENTWISE_GROUP);
SG_KERNEL(adam_update_texel, SG_ELEMENTWISE_GROUP);
/* the same in whole workgroups of whole quads (adam_update.comp) */
static const sg_kernel kernel_adam_update_whole =
    SG_KERNEL_FORM(adam_update_texel, "whole", SG_ELEMENTWISE_GROUP, 1);

/* ln(b) for the shader's 1 - b^t; b = 0 is clamped to e^-80, whose powers
 * already vanish next to 1 in float, to keep -inf out of the arithmetic. */
static float log_beta(float b)
{
    return b > 0.0f ? (float)fmax(log((double)b), -80.0) : -80.0f;
}

sg_status sg_adam_update(sg_seq *seq, const sg_adam *p, sg_tensor *param, const sg_tensor *grad,
                         sg_tensor *m, sg_tensor *v, const sg_tensor *step)
{
    static const char op[] = "adam_update";
    sg_status s;
    if ((s = sg_require(seq, op, "p", p)) || (s = sg_require(seq, op, "param", param)) ||
        (s = sg_require(seq, op, "grad", grad)) || (s = sg_require(seq, op, "m", m)) ||
        (s = sg_require(seq, op, "v", v)) || (s = sg_require(seq, op, "step", step)) ||
        (s = sg_require_same_count(seq, op, param, grad)) ||
        (s = sg_require_same_count(seq, op, param, m)) ||
        (s = sg_require_same_count(seq, op, param, v)) ||
        (s = sg_require_count(seq, op, "step", step, 1)))
        return s;
    /* the ranges torch.optim.Adam accepts */
    if (!(p->lr >= 0.0f) || !isfinite(p->lr) || !(p->beta1 >= 0.0f && p->beta1 < 1.0f) ||
        !(p->beta2 >= 0.0f && p->beta2 < 1.0f) || !(p->eps >= 0.0f) || !isfinite(p->eps))
        return sg_seq_fail(seq, SG_ERR_ARGUMENT,
                           "%s: need lr >= 0, 0 <= beta1, beta2 < 1, eps >= 0 "
                           "(got lr %g, betas %g %g, eps %g)",
                           op, p->lr, p->beta1, p->beta2, p->eps);
    size_t n = sg_tensor_count(param);
    struct {
        uint64_t param, grad, m, v, step;
        uint32_t count;
        float lr, beta2, one_minus_beta1, one_minus_beta2, eps, log_beta1, log_beta2;
        uint32_t bases[4]; /* adam_update_texel: floats from the bindings' starts to param, grad, m, v */
        uint32_t first;
    } pc = {
        sg_tensor_address(param),
        sg_tensor_address(grad),
        sg_tensor_address(m),
        sg_tensor_address(v),
        sg_tensor_address(step),
        (uint32_t)n,
        p->lr,
        p->beta2,
        (float)(1.0 - (double)p->beta1),
        (float)(1.0 - (double)p->beta2),
        p->eps,
        log_beta(p->beta1),
        log_beta(p->beta2),
    };
    sg_dispatch d = {.kernel = &kernel_adam_update, .push = &pc, .push_size = sizeof pc,
                     .reads = {grad, step}, .writes = {param, m, v}};
    /* through descriptors where all four fit them, starting on whole vec4s */
    const sg_tensor *bound[4] = {param, grad, m, v};
    bool descriptors = true;
    for (int i = 0; i < 4; i++) {
        pc.bases[i] = sg_tensor_store_base(bound[i]);
        descriptors = descriptors && sg_tensor_store_ok(bound[i]) && pc.bases[i] % 4 == 0;
    }
    if (descriptors) {
        d.kernel = &kernel_adam_update_texel;
        for (int i = 0; i < 4; i++)
            d.stores[i] = (sg_storage){bound[i], i != 1};
    }
    return sg_dispatch_whole_groups(seq, &d, descriptors ? &kernel_adam_update_whole : NULL, n / 4,
                                    (uint32_t)sg_div_up(n, 4), &pc.first); /* 4 parameters a thread */
}
