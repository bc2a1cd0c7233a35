#include "torch_twin.h"

#include <stdlib.h>

const char *torch_twin_python(void)
{
    const char *p = getenv("SGAD_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

const char *torch_twin_device(const sg_device_info *engine_device)
{
    return engine_device->kind == SG_DEVICE_DISCRETE_GPU || engine_device->kind == SG_DEVICE_INTEGRATED_GPU ? "cuda"
                                                                                                            : "cpu";
}
