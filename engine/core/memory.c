/* Device memory: large blocks, each one VkBuffer with a device address, carved
 * into tensors by a first-fit free list. Drivers cap the number of allocations
 * (often 4096), so tensors never get a VkDeviceMemory of their own. */
#include <stdlib.h>

#include "internal.h"

#define SG_BLOCK_BYTES (256ull << 20)
#define SG_ALIGN 256ull /* >= every device's storage-buffer offset alignment */

typedef struct sg_free_range {
    VkDeviceSize offset, size;
    struct sg_free_range *next;
} sg_free_range;

sg_status sg_find_memory_type(sg_device *dev, uint32_t type_bits, VkMemoryPropertyFlags want,
                              uint32_t *out)
{
    for (uint32_t i = 0; i < dev->memory_props.memoryTypeCount; i++)
        if ((type_bits & (1u << i)) && (dev->memory_props.memoryTypes[i].propertyFlags & want) == want) {
            *out = i;
            return SG_OK;
        }
    return SG_ERR_NO_DEVICE;
}

#define SG_TENSOR_USAGE (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | \
                         VK_BUFFER_USAGE_TRANSFER_DST_BIT | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT | \
                         VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT)
#define SG_STAGING_USAGE (VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)

/* Which memory types a buffer of this usage may live in: Vulkan gives the same
 * memoryTypeBits to every buffer created with the same usage and flags, so a
 * small probe buffer tells it before any tensor exists. */
static sg_status usable_types(sg_device *dev, VkBufferUsageFlags usage, uint32_t *bits)
{
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = SG_ALIGN,
        .usage = usage,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer probe;
    VkResult r = vkCreateBuffer(dev->device, &bi, NULL, &probe);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateBuffer (memory type probe)");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, probe, &req);
    vkDestroyBuffer(dev->device, probe, NULL);
    *bits = req.memoryTypeBits;
    return SG_OK;
}

sg_status sg_memory_choose_types(sg_device *dev)
{
    uint32_t tensor_bits, staging_bits;
    sg_status s = usable_types(dev, SG_TENSOR_USAGE, &tensor_bits);
    if (s == SG_OK)
        s = usable_types(dev, SG_STAGING_USAGE, &staging_bits);
    if (s != SG_OK)
        return s;
    /* Tensor memory: device-local. On unified-memory devices (CPU, integrated)
     * prefer a type that is host-visible too, so tensors are mapped directly. */
    VkMemoryPropertyFlags mapped = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    bool unified = dev->info.kind != SG_DEVICE_DISCRETE_GPU;
    if (!(unified && sg_find_memory_type(dev, tensor_bits, mapped, &dev->memory_type) == SG_OK) &&
        sg_find_memory_type(dev, tensor_bits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, &dev->memory_type) != SG_OK)
        return sg_fail(SG_ERR_NO_DEVICE, "the Vulkan device has no device-local memory type for storage buffers");
    dev->info.host_visible_memory = !dev->force_staging &&
        (dev->memory_props.memoryTypes[dev->memory_type].propertyFlags & mapped) == mapped;
    if (sg_find_memory_type(dev, staging_bits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                            &dev->staging_type) != SG_OK)
        return sg_fail(SG_ERR_NO_DEVICE, "the Vulkan device has no host-visible memory type for staging");
    return SG_OK;
}

static sg_status block_create(sg_device *dev, VkDeviceSize size, sg_block **out)
{
    sg_block *b = calloc(1, sizeof *b);
    sg_free_range *fr = calloc(1, sizeof *fr);
    if (!b || !fr) {
        free(b);
        free(fr);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = SG_TENSOR_USAGE,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(dev->device, &bi, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        free(b);
        free(fr);
        return sg_vk_fail(r, "vkCreateBuffer");
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, b->buffer, &req);
    VkMemoryAllocateFlagsInfo flags = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
        .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
    };
    VkMemoryAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &flags,
        .allocationSize = req.size,
        .memoryTypeIndex = dev->memory_type,
    };
    if (!(req.memoryTypeBits & (1u << dev->memory_type))) {
        vkDestroyBuffer(dev->device, b->buffer, NULL);
        free(b);
        free(fr);
        return sg_fail(SG_ERR_VULKAN, "storage buffers cannot live in the chosen memory type");
    }
    r = vkAllocateMemory(dev->device, &ai, NULL, &b->memory);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(dev->device, b->buffer, NULL);
        free(b);
        free(fr);
        sg_vk_fail(r, "vkAllocateMemory");
        return sg_fail_prefix(SG_ERR_OUT_OF_MEMORY, "could not allocate %.1f MiB of device memory",
                              (double)size / (1 << 20));
    }
    r = vkBindBufferMemory(dev->device, b->buffer, b->memory, 0);
    if (r != VK_SUCCESS) {
        vkDestroyBuffer(dev->device, b->buffer, NULL);
        vkFreeMemory(dev->device, b->memory, NULL);
        free(b);
        free(fr);
        return sg_vk_fail(r, "vkBindBufferMemory");
    }
    if (dev->info.host_visible_memory) {
        void *p = NULL;
        r = vkMapMemory(dev->device, b->memory, 0, VK_WHOLE_SIZE, 0, &p);
        if (r != VK_SUCCESS) {
            vkDestroyBuffer(dev->device, b->buffer, NULL);
            vkFreeMemory(dev->device, b->memory, NULL);
            free(b);
            free(fr);
            return sg_vk_fail(r, "vkMapMemory");
        }
        b->mapped = p;
    }
    VkBufferDeviceAddressInfo addr = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b->buffer};
    b->address = vkGetBufferDeviceAddress(dev->device, &addr);
    b->size = size;
    fr->offset = 0;
    fr->size = size;
    b->free_list = fr;
    *out = b;
    return SG_OK;
}

static void block_destroy(sg_device *dev, sg_block *b)
{
    for (sg_free_range *f = b->free_list, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    if (b->mapped)
        vkUnmapMemory(dev->device, b->memory);
    vkDestroyBuffer(dev->device, b->buffer, NULL);
    vkFreeMemory(dev->device, b->memory, NULL);
    free(b);
}

static bool block_take(sg_block *b, VkDeviceSize bytes, VkDeviceSize *offset)
{
    for (sg_free_range **pp = &b->free_list; *pp; pp = &(*pp)->next) {
        sg_free_range *f = *pp;
        if (f->size < bytes)
            continue;
        *offset = f->offset;
        f->offset += bytes;
        f->size -= bytes;
        if (f->size == 0) {
            *pp = f->next;
            free(f);
        }
        return true;
    }
    return false;
}

sg_status sg_memory_alloc(sg_device *dev, VkDeviceSize bytes, sg_block **block, VkDeviceSize *offset)
{
    if (bytes == 0)
        return sg_fail(SG_ERR_ARGUMENT, "zero-sized allocation");
    bytes = (bytes + SG_ALIGN - 1) / SG_ALIGN * SG_ALIGN;
    /* a tensor lives in one VkDeviceMemory, which the driver caps */
    VkDeviceSize max = dev->max_allocation ? dev->max_allocation : SG_BLOCK_BYTES;
    if (bytes > max)
        return sg_fail(SG_ERR_OUT_OF_MEMORY,
                       "a tensor of %llu bytes exceeds the device's largest allocation (%llu bytes, "
                       "maxMemoryAllocationSize): use a smaller batch or image size",
                       (unsigned long long)bytes, (unsigned long long)max);
    VkDeviceSize block_bytes = SG_BLOCK_BYTES < max ? SG_BLOCK_BYTES : max;
    pthread_mutex_lock(&dev->memory_lock);
    for (sg_block *b = dev->blocks; b; b = b->next)
        if (block_take(b, bytes, offset)) {
            *block = b;
            dev->bytes_in_use += bytes;
            pthread_mutex_unlock(&dev->memory_lock);
            return SG_OK;
        }
    sg_block *b = NULL;
    sg_status s = block_create(dev, bytes > block_bytes ? bytes : block_bytes, &b);
    if (s == SG_OK) {
        b->next = dev->blocks;
        dev->blocks = b;
        block_take(b, bytes, offset);
        *block = b;
        dev->bytes_in_use += bytes;
    }
    pthread_mutex_unlock(&dev->memory_lock);
    return s;
}

void sg_memory_free(sg_device *dev, sg_block *b, VkDeviceSize offset, VkDeviceSize bytes)
{
    bytes = (bytes + SG_ALIGN - 1) / SG_ALIGN * SG_ALIGN;
    pthread_mutex_lock(&dev->memory_lock);
    dev->bytes_in_use -= bytes;
    /* insert sorted, then merge with neighbours */
    sg_free_range **pp = &b->free_list;
    while (*pp && (*pp)->offset < offset)
        pp = &(*pp)->next;
    sg_free_range *f = malloc(sizeof *f);
    if (!f) { /* leak the range rather than corrupt the list */
        pthread_mutex_unlock(&dev->memory_lock);
        return;
    }
    f->offset = offset;
    f->size = bytes;
    f->next = *pp;
    *pp = f;
    if (f->next && f->offset + f->size == f->next->offset) {
        sg_free_range *n = f->next;
        f->size += n->size;
        f->next = n->next;
        free(n);
    }
    for (sg_free_range *prev = b->free_list; prev && prev != f; prev = prev->next)
        if (prev->next == f && prev->offset + prev->size == f->offset) {
            prev->size += f->size;
            prev->next = f->next;
            free(f);
            break;
        }
    /* give an entirely free block back to the driver */
    if (b->free_list && b->free_list->offset == 0 && b->free_list->size == b->size && !b->free_list->next) {
        for (sg_block **bp = &dev->blocks; *bp; bp = &(*bp)->next)
            if (*bp == b) {
                *bp = b->next;
                break;
            }
        block_destroy(dev, b);
    }
    pthread_mutex_unlock(&dev->memory_lock);
}

void sg_memory_destroy_all(sg_device *dev)
{
    for (sg_block *b = dev->blocks, *next; b; b = next) {
        next = b->next;
        block_destroy(dev, b);
    }
    dev->blocks = NULL;
}
