/* The Vulkan device the engine computes on.
 *
 * Selection: a discrete GPU is preferred, then an integrated GPU, then a virtual
 * GPU, then a CPU implementation (Mesa's lavapipe). The environment variable
 * SGAD_DEVICE (or sg_device_options.select) overrides this with a device index
 * (as listed by sg_device_list) or a case-insensitive substring of its name.
 *
 * Validation: with SGAD_VALIDATION=1 in the environment (or options.validation)
 * the Khronos validation layer is enabled and every message it emits is counted;
 * tests fail when sg_device_validation_messages() is not zero.
 *
 * A device may be shared by several threads: allocation, pipeline creation and
 * queue submission are serialised internally. */
#ifndef SGAD_DEVICE_H
#define SGAD_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_device sg_device;

typedef struct sg_device_options {
    const char *select; /* index or name substring; NULL: $SGAD_DEVICE, else automatic */
    bool validation;    /* enable the Khronos validation layer (also $SGAD_VALIDATION=1) */
    bool quiet;         /* do not print the chosen device on stderr */
    bool staged;        /* move tensor data through a staging buffer even where device memory is
                         * host-visible: the path of discrete GPUs, for testing and measuring it on
                         * any device (also $SGAD_STAGED=1) */
    bool buffer_reads;  /* kernels read every tensor through buffer references, never as texels: the
                         * path of tensors over the device's texel limit, for testing it on any device */
    bool buffer_stores; /* kernels write every tensor through buffer references, never through
                         * storage-buffer descriptors: the path of tensors over the device's
                         * maxStorageBufferRange, for testing it on any device */
    bool tiled_convs;   /* convolutions' forwards in workgroup tiles staged through shared memory
                         * (conv_fwd_tiled), the form GPUs are built for: to test it on any device
                         * and to measure it on a GPU (also $SGAD_TILED_CONVS=1). Not the default
                         * anywhere until measured on a GPU (docs/benchmarks.md) */
} sg_device_options;

typedef enum sg_device_kind {
    SG_DEVICE_OTHER = 0,
    SG_DEVICE_CPU,
    SG_DEVICE_VIRTUAL_GPU,
    SG_DEVICE_INTEGRATED_GPU,
    SG_DEVICE_DISCRETE_GPU,
} sg_device_kind;

typedef struct sg_device_info {
    char name[256];
    sg_device_kind kind;
    uint32_t api_version;
    uint32_t index;            /* position in the Vulkan enumeration */
    uint32_t subgroup_size;
    uint64_t device_memory;    /* bytes in the largest device-local heap */
    bool host_visible_memory;  /* tensors are mapped directly, no staging */
    uint64_t max_allocation;   /* bytes of the largest tensor the device can hold (maxMemoryAllocationSize) */
    uint8_t uuid[16];          /* VkPhysicalDeviceIDProperties::deviceUUID: the same GPU however selected */
} sg_device_info;

/* Create (or fail with SG_ERR_NO_DEVICE and advice on what to install). */
sg_status sg_device_create(const sg_device_options *options, sg_device **out);
void sg_device_destroy(sg_device *dev);

/* Write a line per Vulkan device into buf ("index: name (kind)"); returns the count. */
int sg_device_list(char *buf, size_t size);

/* The device a selection names (as sg_device_create would choose it), without
 * opening it: "0" and a name of the same GPU give the same info.uuid. */
sg_status sg_device_identify(const char *select, sg_device_info *out);

const sg_device_info *sg_device_get_info(const sg_device *dev);
const char *sg_device_kind_name(sg_device_kind kind);

/* Number of validation-layer messages seen so far (0 when validation is off). */
uint32_t sg_device_validation_messages(const sg_device *dev);
/* The same over every device of the process, destroyed ones included: objects left alive when a
 * device is destroyed are reported during sg_device_destroy, so check this after it. */
uint32_t sg_validation_messages_in_process(void);

/* Bytes of device memory currently held by live tensors. */
uint64_t sg_device_bytes_in_use(const sg_device *dev);

/* Queue submissions made on the device so far (sequence runs and staged
 * tensor transfers): what a frame or a training step costs in round trips. */
uint64_t sg_device_submit_count(const sg_device *dev);

#ifdef __cplusplus
}
#endif
#endif
