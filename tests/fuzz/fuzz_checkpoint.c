/* libFuzzer: the checkpoint loader on top of the safetensors reader: format,
 * configuration, training state and calibration metadata, tensor names,
 * shapes and values. It needs a Vulkan device (lavapipe will do) to build the
 * model it loads into; one device serves every input. */
#include "fuzz_common.h"
#include "sgad/model.h"

static sg_device *device(void)
{
    static sg_device *dev;
    if (!dev) {
        sg_device_options o = {0};
        if (sg_device_create(&o, &dev) != SG_OK) {
            fprintf(stderr, "fuzz_checkpoint: no Vulkan device: %s\n", sg_error_message());
            abort();
        }
    }
    return dev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_device *dev = device();
    fuzz_file f = fuzz_file_of(data, size);
    sg_model *m = NULL;
    if (sg_model_load(dev, f.path, &m) == SG_OK)
        sg_model_destroy(m);
    fuzz_file_close(&f);
    return 0;
}
