/* libFuzzer: the CIFAR-10 binary batch reader. */
#include "fuzz_common.h"
#include "sgad/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file f = fuzz_file_of(data, size);
    sg_dataset d;
    if (sg_dataset_load_cifar10_file(&d, f.path, 3, 32) == SG_OK)
        sg_dataset_free(&d);
    fuzz_file_close(&f);
    return 0;
}
