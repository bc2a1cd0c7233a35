/* The reference of sg_init_normal's generator (written apart from ops/init.c,
 * which tests/test_adam.c compares with it): counter-based, so value i depends only
 * on (seed, i) and the stream is the same on every machine and device.
 *
 * Pair k of outputs comes from two uniforms u1, u2, the splitmix64 outputs
 * number 2k and 2k+1 of the stream started at `seed` (splitmix64's j-th output
 * is a bijective mix of seed + (j+1)*golden, hence random access), through the
 * Box-Muller transform: r = sqrt(-2 ln u1), out[2k] = r cos(2 pi u2),
 * out[2k+1] = r sin(2 pi u2). Computed in double, rounded once to float. */
#include <math.h>

#include "sgad/ref.h"
#include "sgad/util.h"

void sg_ref_init_normal(size_t n, float *out, float mean, float std, uint64_t seed)
{
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t k = 0; 2 * k < n; k++) {
        /* 53-bit uniforms; u1 in (0, 1] so that log(u1) is finite */
        double u1 = (double)((sg_splitmix64_at(seed, 2 * k) >> 11) + 1) * 0x1.0p-53;
        double u2 = (double)(sg_splitmix64_at(seed, 2 * k + 1) >> 11) * 0x1.0p-53;
        double r = sqrt(-2.0 * log(u1));
        out[2 * k] = (float)(mean + std * r * cos(two_pi * u2));
        if (2 * k + 1 < n)
            out[2 * k + 1] = (float)(mean + std * r * sin(two_pi * u2));
    }
}
