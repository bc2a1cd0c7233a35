/* libFuzzer: the IDX reader (gzipped or plain). The input holds both files:
 * a 2-byte little-endian length n, n bytes of the images file, then the
 * labels file. */
#include "fuzz_common.h"
#include "sgad/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8;
    if (n > size - 2)
        n = size - 2;
    fuzz_file images = fuzz_file_of(data + 2, n), labels = fuzz_file_of(data + 2 + n, size - 2 - n);
    sg_dataset d;
    if (sg_dataset_load_idx(&d, images.path, labels.path, 1, 32) == SG_OK)
        sg_dataset_free(&d);
    fuzz_file_close(&images);
    fuzz_file_close(&labels);
    return 0;
}
