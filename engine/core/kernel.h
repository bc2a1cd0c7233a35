/* What an op needs from the engine core to record a compute dispatch.
 *
 * Internal to the engine (ops include it; users do not). The core knows no op:
 * an op describes its shader with an sg_kernel (the embedded SPIR-V), passes its
 * parameters as push constants (device addresses first, then 32-bit values, as
 * in the shader's push_constant block) and lists which tensors the dispatch
 * reads and writes. From those lists the recorder decides where barriers go. */
#ifndef SGAD_CORE_KERNEL_H
#define SGAD_CORE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sgad/seq.h"

typedef struct sg_kernel {
    const char *name;
    const uint32_t *spirv;
    size_t spirv_size; /* bytes */
    uint32_t local_size_x; /* workgroup size (set in the shader with local_size_x_id = 0) */
    uint32_t whole_groups; /* specialization constant 1, for the kernels that declare it: 1 builds
                            * their form for dispatches of whole workgroups, every invocation in
                            * range, with no condition before its stores (on lavapipe any branch,
                            * even on a push constant, makes every later store a loop over the
                            * lanes: ~3x slower, docs/benchmarks.md) */
} sg_kernel;

/* Device address of element `offset` of a tensor (for push constants). */
uint64_t sg_tensor_address(const sg_tensor *t);

/* Tensors read as uniform texel buffers. On lavapipe (Mesa 22.3) a float read
 * through a buffer reference costs about 64 FMAs, a float of a vec4 texelFetch
 * about 4 (docs/benchmarks.md, tools/bench_loads.c), so the hottest kernels read
 * their inputs as texels. Binding i of descriptor set 0 is texels[i]: a view of
 * the tensor as R32_SFLOAT (components 1) or R32G32B32A32_SFLOAT (4), starting
 * at the aligned offset at or below the tensor's first element; the kernel adds
 * sg_tensor_texel_base() (in floats) to its indices. Texel reads count as reads
 * for the barriers. */
#define SG_MAX_TEXELS 4
typedef struct sg_texel_read {
    const sg_tensor *tensor;
    uint32_t components; /* 1 or 4 */
} sg_texel_read;

/* Whether t fits in a texel view of `components` floats per texel on its device
 * (maxTexelBufferElements); a kernel that reads texels needs a fallback when not. */
bool sg_tensor_texel_ok(const sg_tensor *t, uint32_t components);
/* Floats between the start of t's texel views and t's first element. */
uint32_t sg_tensor_texel_base(const sg_tensor *t);

/* Tensors bound as storage-buffer descriptors (SSBOs). On lavapipe a float
 * stored through a buffer reference costs ~3x one stored through an SSBO, a
 * float added into (read, then written) ~3.4x, a float loaded ~4x
 * (docs/benchmarks.md, tools/bench_loads.c), so the kernels that write most
 * write their outputs so. Binding SG_STORE_BINDING + i of set 0 is stores[i]:
 * a storage buffer from the aligned offset at or below the tensor's first
 * element (the kernel adds sg_tensor_store_base(), in floats) to its end, cut
 * at the device's maxStorageBufferRange: a kernel given a tensor that does not
 * fit (sg_tensor_store_ok false) has it bound all the same (the descriptor must
 * be valid) and reaches it through its buffer reference instead. A written one
 * (write true) counts as written for the barriers, else as read; list it among
 * the dispatch's writes or reads too. */
#define SG_STORE_BINDING SG_MAX_TEXELS
#define SG_MAX_STORES 4 /* maxPerStageDescriptorStorageBuffers is at least 4 */
typedef struct sg_storage {
    const sg_tensor *tensor;
    bool write;
} sg_storage;
bool sg_tensor_store_ok(const sg_tensor *t);
/* Floats between the start of t's storage-buffer binding and t's first element. */
uint32_t sg_tensor_store_base(const sg_tensor *t);

/* Whether convolutions on t's device take their forward in shared-memory
 * workgroup tiles (conv_fwd_tiled: sg_device_options.tiled_convs). */
bool sg_tensor_tiled_convs(const sg_tensor *t);

typedef struct sg_dispatch {
    const sg_kernel *kernel;
    const void *push;      /* push-constant block, at most 128 bytes */
    uint32_t push_size;
    uint32_t groups[3];    /* workgroup counts; 0 is treated as 1 */
    const sg_tensor *reads[8];
    const sg_tensor *writes[8]; /* read-modify-write tensors go here */
    sg_texel_read texels[SG_MAX_TEXELS]; /* bindings 0.. of set 0; unused ones have tensor NULL */
    sg_storage stores[SG_MAX_STORES]; /* bindings SG_STORE_BINDING.. of set 0; unused ones have tensor NULL */
    const char *detail;    /* optional: what this dispatch computes (a layer's shape), for SGAD_PROFILE=2 */
} sg_dispatch;

/* Record one dispatch (with a barrier first when it depends on earlier work). */
sg_status sg_seq_dispatch(sg_seq *seq, const sg_dispatch *d);

/* Record t's every 32-bit word set to `bits` (vkCmdFillBuffer: a memset on
 * lavapipe, where a fill shader stores one float per invocation), ordered
 * like a dispatch that writes t; counted among the dispatches. */
sg_status sg_seq_fill(sg_seq *seq, sg_tensor *t, uint32_t bits);

/* Tensors derived from another within one recording (a packed copy of a
 * weight): _add remembers `derived` (a scratch tensor of seq, written by
 * commands already recorded) as made from `source` in the way `key` names;
 * _find returns it while no command recorded since has written any byte of
 * source, else NULL. Every replay runs the commands that made it again, at
 * their place, so writes between replays (uploads) cannot make it stale. */
sg_tensor *sg_seq_derived_find(sg_seq *seq, const sg_tensor *source, const uint32_t key[4]);
sg_status sg_seq_derived_add(sg_seq *seq, const sg_tensor *source, const uint32_t key[4], sg_tensor *derived);

/* Scratch tensor owned by the sequence (freed with it). */
sg_status sg_seq_scratch(sg_seq *seq, sg_shape shape, sg_tensor **out);

/* Fail the recording with a message (ops call this for bad arguments). The
 * status is returned for convenience and kept as the sequence's status. */
sg_status sg_seq_fail(sg_seq *seq, sg_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Workgroup count to cover n items with groups of size g. */
static inline uint32_t sg_div_up(uint64_t n, uint64_t g)
{
    return (uint32_t)((n + g - 1) / g);
}

/* Split a 1-D count of workgroups into x,y so that x stays within Vulkan's
 * guaranteed limit of 65535; the shader's group index is then
 * gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x (it must skip
 * indices past the real count). */
static inline void sg_groups_1d(uint32_t groups, uint32_t out[3])
{
    if (groups <= 65535u) {
        out[0] = groups ? groups : 1;
        out[1] = 1;
    } else {
        out[0] = 65535u;
        out[1] = (groups + 65534u) / 65535u;
    }
    out[2] = 1;
}

#endif
