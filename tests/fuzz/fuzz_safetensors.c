/* libFuzzer: the safetensors reader (header JSON, shapes, offsets, data). */
#include "fuzz_common.h"
#include "sgad/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file f = fuzz_file_of(data, size);
    sg_st_file st;
    if (sg_st_read(f.path, &st) == SG_OK) {
        /* what a reader of the file would touch */
        for (size_t i = 0; i < st.count; i++)
            if (st.tensors[i].nbytes)
                (void)((volatile const uint8_t *)st.tensors[i].data)[st.tensors[i].nbytes - 1];
        (void)sg_st_meta(&st, "format");
        sg_st_free(&st);
    }
    fuzz_file_close(&f);
    return 0;
}
