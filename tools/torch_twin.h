/* How the benchmarks run their PyTorch twins (tools/bench_torch_*.py) "on the
 * same machine": which Python, and on which PyTorch device. */
#ifndef SGAD_TORCH_TWIN_H
#define SGAD_TORCH_TWIN_H

#include "sgad/device.h"

/* $SGAD_PYTHON, else /usr/bin/python3 (Debian's python3-torch). */
const char *torch_twin_python(void);
/* "cuda" when the engine runs on a GPU (PyTorch's GPU is then the fair comparison), else "cpu". */
const char *torch_twin_device(const sg_device_info *engine_device);

#endif
