/* Peak FMA measurement (see sgad/bench.h). */
#include <time.h>

#include "op_util.h"
#include "peak_fma.spv.h"
#include "sgad/bench.h"
#include "sgad/util.h"

SG_KERNEL(peak_fma, 256);

sg_status sg_measure_peak_gflops(sg_device *dev, double *gflops)
{
    const uint32_t groups = 1024, lanes = 256, flop_per_round = 128;
    uint32_t iterations = 256;
    sg_tensor *out;
    sg_status s = sg_tensor_create(dev, sg_shape4(1, 1, 1, (int)(groups * lanes)), &out);
    if (s != SG_OK)
        return s;
    double best = 0;
    /* grow the work until one run takes >= 0.2 s, then keep the best of 3 */
    for (int attempt = 0; attempt < 12 && s == SG_OK; attempt++) {
        sg_seq *seq;
        if ((s = sg_seq_create(dev, &seq)) != SG_OK)
            break;
        struct {
            uint64_t out;
            uint32_t iterations;
            float seed;
        } pc = {sg_tensor_address(out), iterations, 0.5f};
        sg_dispatch d = {.kernel = &kernel_peak_fma, .push = &pc, .push_size = sizeof pc,
                         .writes = {out}, .groups = {groups, 1, 1}};
        s = sg_seq_dispatch(seq, &d);
        double seconds = 0;
        for (int rep = 0; rep < 3 && s == SG_OK; rep++) {
            double t0 = sg_now();
            s = sg_seq_run(seq);
            double t = sg_now() - t0;
            if (rep == 0 || t < seconds)
                seconds = t;
        }
        sg_seq_destroy(seq);
        if (s != SG_OK)
            break;
        double rate = (double)groups * lanes * iterations * flop_per_round / seconds * 1e-9;
        if (rate > best)
            best = rate;
        if (seconds >= 0.2)
            break;
        iterations *= 2;
    }
    sg_tensor_destroy(out);
    if (s == SG_OK)
        *gflops = best;
    return s;
}
