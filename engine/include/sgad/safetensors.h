/* safetensors files (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header mapping each tensor name to
 * {dtype, shape, data_offsets} plus an optional "__metadata__" object of
 * string -> string, then the raw little-endian data.
 *
 * Reading checks everything: the header length against the file size, the JSON,
 * every dtype, shape and offset range (in bounds, no overlap, sizes matching
 * shape x dtype), and returns SG_ERR_FORMAT with a message naming the file and
 * the problem. Writing is atomic: a temporary file in the same folder, fsync,
 * rename, so an interrupted or failed save never damages an existing file. */
#ifndef SGAD_SAFETENSORS_H
#define SGAD_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_st_dtype { SG_ST_F32 = 0, SG_ST_I64, SG_ST_F64, SG_ST_I32, SG_ST_U8 } sg_st_dtype;

typedef struct sg_st_tensor {
    char *name;
    sg_st_dtype dtype;
    int ndim;
    int64_t shape[8];
    size_t nbytes;
    void *data; /* owned by the file object when read; borrowed when writing */
} sg_st_tensor;

typedef struct sg_st_file {
    sg_st_tensor *tensors;
    size_t count;
    char **meta_keys, **meta_values; /* __metadata__ */
    size_t meta_count;
} sg_st_file;

/* Read and validate a whole file. */
sg_status sg_st_read(const char *path, sg_st_file *out);
void sg_st_free(sg_st_file *f);
const sg_st_tensor *sg_st_find(const sg_st_file *f, const char *name);
const char *sg_st_meta(const sg_st_file *f, const char *key);

/* Write atomically (temporary file + fsync + rename). Tensors are written in the
 * given order; data pointers are borrowed. */
sg_status sg_st_write(const char *path, const sg_st_tensor *tensors, size_t count,
                      const char *const *meta_keys, const char *const *meta_values,
                      size_t meta_count);

size_t sg_st_dtype_size(sg_st_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif
