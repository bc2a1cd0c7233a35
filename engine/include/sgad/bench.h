/* Measurements for benchmarks (never used by tests). */
#ifndef SGAD_BENCH_H
#define SGAD_BENCH_H

#include "device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The device's fp32 FMA rate in GFLOPS (2 FLOP per FMA), measured with a shader
 * of independent FMA chains and nothing else: the ceiling the conv shaders are
 * compared with. Takes about a second. */
sg_status sg_measure_peak_gflops(sg_device *dev, double *gflops);

#ifdef __cplusplus
}
#endif
#endif
