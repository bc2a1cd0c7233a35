/* Core internals shared by device.c, memory.c, tensor.c, pipeline.c, seq.c. */
#ifndef SGAD_CORE_INTERNAL_H
#define SGAD_CORE_INTERNAL_H

#include <pthread.h>
#include <vulkan/vulkan.h>

#include "kernel.h"
#include "sgad/device.h"

typedef struct sg_block {
    VkDeviceMemory memory;
    VkBuffer buffer;
    VkDeviceAddress address;
    uint8_t *mapped; /* non-NULL when host-visible */
    VkDeviceSize size;
    struct sg_free_range *free_list; /* sorted by offset */
    struct sg_block *next;
} sg_block;

typedef struct sg_pipeline_entry {
    const sg_kernel *kernel;
    VkShaderModule module;
    VkPipeline pipeline;
    struct sg_pipeline_entry *next;
} sg_pipeline_entry;

struct sg_device {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    sg_device_info info;
    VkPhysicalDeviceMemoryProperties memory_props;
    uint32_t memory_type;      /* for tensors */
    uint32_t staging_type;     /* host-visible coherent, for staging */
    float timestamp_period;    /* ns per tick; 0 when unsupported */
    uint32_t max_groups[3];    /* maxComputeWorkGroupCount */
    VkDeviceSize max_allocation; /* maxMemoryAllocationSize: the largest VkDeviceMemory */
    VkDeviceSize texel_align;  /* texel views start at multiples of this (>= 16: whole vec4) */
    uint32_t max_texels;       /* maxTexelBufferElements */
    VkDeviceSize store_align;  /* storage-buffer bindings start at multiples of this (>= 16) */
    VkDeviceSize max_store_range; /* maxStorageBufferRange */
    uint32_t validation_messages;
    bool force_staging;        /* options.staged */
    bool buffer_reads;         /* options.buffer_reads: no texel reads */
    bool buffer_stores;        /* options.buffer_stores: no storage-buffer stores */
    bool tiled_convs;          /* options.tiled_convs or $SGAD_TILED_CONVS */

    pthread_mutex_t queue_lock;  /* vkQueueSubmit only: never held across a wait */
    pthread_mutex_t transfer_lock; /* the staging buffer and transfer command buffer below */
    uint64_t submits;            /* vkQueueSubmit calls (sg_device_submit_count), atomic */
    pthread_mutex_t memory_lock; /* blocks and free lists */
    pthread_mutex_t pipeline_lock;

    sg_block *blocks;
    uint64_t bytes_in_use;

    /* set 0: SG_MAX_TEXELS uniform texel buffers, then SG_MAX_STORES storage buffers */
    VkDescriptorSetLayout texel_set_layout;
    VkPipelineLayout pipeline_layout;
    VkPipelineCache pipeline_cache;
    sg_pipeline_entry *pipelines;

    /* staging for devices whose tensor memory is not host-visible */
    VkBuffer staging_buffer;
    VkDeviceMemory staging_memory;
    void *staging_mapped;
    VkDeviceSize staging_size;
    VkCommandPool transfer_pool;
    VkCommandBuffer transfer_cmd;
    VkFence transfer_fence;
};

struct sg_tensor {
    sg_device *dev;
    sg_block *block;
    VkDeviceSize offset; /* bytes into block */
    VkDeviceSize bytes;
    sg_shape shape;
    int is_view;
    struct sg_tensor *root; /* itself, or the tensor a view was made from (a view's root's) */
    uint64_t generation;    /* root only: writes so far (sg_tensor_generation), atomic */
};

/* A write to t's memory (an upload, or a submitted sequence writing it). */
static inline void sg_tensor_touch(const sg_tensor *t)
{
    __atomic_add_fetch(&t->root->generation, 1, __ATOMIC_SEQ_CST);
}

/* memory.c */
sg_status sg_memory_alloc(sg_device *dev, VkDeviceSize bytes, sg_block **block,
                          VkDeviceSize *offset);
void sg_memory_free(sg_device *dev, sg_block *block, VkDeviceSize offset, VkDeviceSize bytes);
void sg_memory_destroy_all(sg_device *dev);
sg_status sg_find_memory_type(sg_device *dev, uint32_t type_bits, VkMemoryPropertyFlags want,
                              uint32_t *out);
sg_status sg_memory_choose_types(sg_device *dev);

/* pipeline.c */
sg_status sg_pipeline_layout_create(sg_device *dev);
sg_status sg_pipeline_get(sg_device *dev, const sg_kernel *kernel, VkPipeline *out);
void sg_pipelines_destroy(sg_device *dev);

/* device.c: vkQueueSubmit under queue_lock, counted */
VkResult sg_queue_submit(sg_device *dev, const VkSubmitInfo *info, VkFence fence);

/* tensor.c: staging helpers */
void sg_staging_destroy(sg_device *dev);
/* A buffer in host-visible coherent memory of its own, mapped (freeing the
 * memory unmaps it); nothing is left made on failure. */
sg_status sg_host_buffer_create(sg_device *dev, VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer *buffer,
                                VkDeviceMemory *memory, void **mapped);

/* error.c */
sg_status sg_vk_fail(VkResult r, const char *what);

#define SG_PUSH_CONSTANT_BYTES 128u

#endif
