/* Initialisation (immediate: generated on the host, then uploaded, so a seed
 * gives the same values on every device) and the recorded non-finite check. */
#include <math.h>
#include <stdlib.h>

#include "op_util.h"
#include "sgad/util.h"

#include "check_finite.spv.h"

SG_KERNEL(check_finite, SG_ELEMENTWISE_GROUP);

/* N(mean, std^2) values; value i depends only on (seed, i): Box-Muller on the
 * 53-bit uniforms number 2k and 2k+1 of splitmix64 started at seed (u1 in
 * (0, 1] so that its log is finite), computed in double, rounded once. */
static void normal_values(size_t n, float *out, float mean, float std, uint64_t seed)
{
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t k = 0; 2 * k < n; k++) {
        double u1 = (double)((sg_splitmix64_at(seed, 2 * k) >> 11) + 1) * 0x1.0p-53;
        double u2 = (double)(sg_splitmix64_at(seed, 2 * k + 1) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1));
        out[2 * k] = (float)(mean + std * r * cos(two_pi * u2));
        if (2 * k + 1 < n)
            out[2 * k + 1] = (float)(mean + std * r * sin(two_pi * u2));
    }
}

sg_status sg_init_normal(sg_tensor *t, float mean, float std, uint64_t seed)
{
    if (!t)
        return sg_fail(SG_ERR_ARGUMENT, "init_normal: t is NULL");
    if (!isfinite(mean) || !(std >= 0.0f) || !isfinite(std))
        return sg_fail(SG_ERR_ARGUMENT, "init_normal: need a finite mean and std >= 0 (got %g, %g)",
                       mean, std);
    /* the generator is random-access but its API starts at element 0, so the
     * whole tensor is generated at once */
    size_t n = sg_tensor_count(t);
    float *host = malloc(n * sizeof *host);
    if (!host)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "init_normal: no host memory for %zu values", n);
    normal_values(n, host, mean, std, seed);
    sg_status s = sg_tensor_upload(t, host);
    free(host);
    return s;
}

sg_status sg_init_constant(sg_tensor *t, float value)
{
    if (!t)
        return sg_fail(SG_ERR_ARGUMENT, "init_constant: t is NULL");
    enum { CHUNK = 1 << 16 }; /* upload in pieces: no host copy of a large tensor */
    size_t n = sg_tensor_count(t);
    size_t len = n < CHUNK ? n : CHUNK;
    float *host = malloc(len * sizeof *host);
    if (!host)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "init_constant: out of host memory");
    for (size_t i = 0; i < len; i++)
        host[i] = value;
    sg_status s = SG_OK;
    for (size_t at = 0; at < n && s == SG_OK; at += len)
        s = sg_tensor_upload_range(t, at, n - at < len ? n - at : len, host);
    free(host);
    return s;
}

sg_status sg_check_finite(sg_seq *seq, const sg_tensor *x, sg_tensor *flag)
{
    sg_status s;
    if ((s = sg_require(seq, "check_finite", "x", x)) ||
        (s = sg_require(seq, "check_finite", "flag", flag)) ||
        (s = sg_require_count(seq, "check_finite", "flag", flag, 1)))
        return s;
    struct {
        uint64_t x, flag;
        uint32_t count;
    } pc = {sg_tensor_address(x), sg_tensor_address(flag), (uint32_t)sg_tensor_count(x)};
    sg_dispatch d = {.kernel = &kernel_check_finite, .push = &pc, .push_size = sizeof pc,
                     .reads = {x}, .writes = {flag}};
    sg_elementwise_groups(sg_tensor_count(x), d.groups);
    return sg_seq_dispatch(seq, &d);
}
