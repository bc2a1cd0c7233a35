/* Tensors: fp32 NCHW arrays in device memory.
 *
 * A tensor is sub-allocated from large device-memory blocks. A view shares the
 * storage of a parent tensor (llm.c style: all parameters of a model live in one
 * tensor, each layer's weight is a view, and Adam updates the whole at once).
 * Views must not outlive their parent. */
#ifndef SGAD_TENSOR_H
#define SGAD_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_shape {
    int n, c, h, w;
} sg_shape;

static inline sg_shape sg_shape4(int n, int c, int h, int w)
{
    sg_shape s = {n, c, h, w};
    return s;
}
static inline size_t sg_shape_count(sg_shape s)
{
    return (size_t)s.n * (size_t)s.c * (size_t)s.h * (size_t)s.w;
}
static inline int sg_shape_equal(sg_shape a, sg_shape b)
{
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

typedef struct sg_tensor sg_tensor;

/* A new tensor of the given shape (contents undefined). */
sg_status sg_tensor_create(sg_device *dev, sg_shape shape, sg_tensor **out);
/* A view of `count` elements of parent starting at element `offset`, reshaped. */
sg_status sg_tensor_view(sg_tensor *parent, size_t offset, sg_shape shape, sg_tensor **out);
void sg_tensor_destroy(sg_tensor *t);

sg_shape sg_tensor_shape(const sg_tensor *t);
size_t sg_tensor_count(const sg_tensor *t);
sg_device *sg_tensor_device(const sg_tensor *t);

/* How many times the tensor's memory was written so far: by an upload or by a
 * submitted sequence with an op writing it. A view shares the count of the
 * tensor it was made from (a write to any part of it counts for all). Anything
 * computed from a tensor is current while this count stays the same. */
uint64_t sg_tensor_generation(const sg_tensor *t);

/* Blocking host<->device copies of the whole tensor (count floats). */
sg_status sg_tensor_upload(sg_tensor *t, const float *src);
sg_status sg_tensor_download(const sg_tensor *t, float *dst);
/* Partial copies: `count` floats starting at element `offset`. */
sg_status sg_tensor_upload_range(sg_tensor *t, size_t offset, size_t count, const float *src);
sg_status sg_tensor_download_range(const sg_tensor *t, size_t offset, size_t count, float *dst);

#ifdef __cplusplus
}
#endif
#endif
