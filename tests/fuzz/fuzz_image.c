/* libFuzzer: the PNG and JPEG readers (the first bytes pick the decoder). */
#include "fuzz_common.h"
#include "sgad/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static float out[3 * 32 * 32];
    fuzz_file f = fuzz_file_of(data, size);
    (void)sg_image_load(f.path, 3, 32, out);
    (void)sg_image_load(f.path, 1, 32, out);
    fuzz_file_close(&f);
    return 0;
}
