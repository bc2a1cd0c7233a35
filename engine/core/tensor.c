/* Tensors and host<->device transfers (mapped directly, or through staging). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

sg_status sg_tensor_create(sg_device *dev, sg_shape shape, sg_tensor **out)
{
    if (!dev || !out)
        return sg_fail(SG_ERR_ARGUMENT, "sg_tensor_create: NULL argument");
    *out = NULL;
    if (shape.n <= 0 || shape.c <= 0 || shape.h <= 0 || shape.w <= 0)
        return sg_fail(SG_ERR_SHAPE, "tensor shape (%d,%d,%d,%d) has a zero or negative size",
                       shape.n, shape.c, shape.h, shape.w);
    size_t count = sg_shape_count(shape);
    /* the shaders index elements with 32-bit signed ints */
    if (count >= (1ull << 31))
        return sg_fail(SG_ERR_SHAPE, "tensor of %zu elements is too large (at most 2^31 - 1)", count);
    sg_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    t->dev = dev;
    t->shape = shape;
    t->bytes = count * sizeof(float);
    t->root = t;
    sg_status s = sg_memory_alloc(dev, t->bytes, &t->block, &t->offset);
    if (s != SG_OK) {
        free(t);
        return s;
    }
    *out = t;
    return SG_OK;
}

sg_status sg_tensor_view(sg_tensor *parent, size_t offset, sg_shape shape, sg_tensor **out)
{
    if (!parent || !out)
        return sg_fail(SG_ERR_ARGUMENT, "sg_tensor_view: NULL argument");
    *out = NULL;
    size_t count = sg_shape_count(shape);
    if (shape.n <= 0 || shape.c <= 0 || shape.h <= 0 || shape.w <= 0 ||
        offset + count > sg_tensor_count(parent))
        return sg_fail(SG_ERR_SHAPE, "view of %zu elements at %zu does not fit a tensor of %zu",
                       count, offset, sg_tensor_count(parent));
    if ((offset * sizeof(float)) % 16 != 0)
        return sg_fail(SG_ERR_ARGUMENT, "view offset %zu is not a multiple of 4 elements (16 bytes)", offset);
    sg_tensor *t = calloc(1, sizeof *t);
    if (!t)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    t->dev = parent->dev;
    t->block = parent->block;
    t->offset = parent->offset + offset * sizeof(float);
    t->bytes = count * sizeof(float);
    t->shape = shape;
    t->is_view = 1;
    t->root = parent->root;
    *out = t;
    return SG_OK;
}

void sg_tensor_destroy(sg_tensor *t)
{
    if (!t)
        return;
    if (!t->is_view)
        sg_memory_free(t->dev, t->block, t->offset, t->bytes);
    free(t);
}

sg_shape sg_tensor_shape(const sg_tensor *t)
{
    return t->shape;
}

size_t sg_tensor_count(const sg_tensor *t)
{
    return sg_shape_count(t->shape);
}

sg_device *sg_tensor_device(const sg_tensor *t)
{
    return t->dev;
}

uint32_t sg_tensor_texel_base(const sg_tensor *t)
{
    return (uint32_t)((t->offset % t->dev->texel_align) / sizeof(float));
}

bool sg_tensor_texel_ok(const sg_tensor *t, uint32_t components)
{
    uint64_t floats = (uint64_t)sg_tensor_texel_base(t) + t->bytes / sizeof(float);
    return !t->dev->buffer_reads && (floats + components - 1) / components <= t->dev->max_texels;
}

bool sg_tensor_tiled_convs(const sg_tensor *t)
{
    return t->dev->tiled_convs;
}

uint32_t sg_tensor_store_base(const sg_tensor *t)
{
    return (uint32_t)((t->offset % t->dev->store_align) / sizeof(float));
}

bool sg_tensor_store_ok(const sg_tensor *t)
{
    return !t->dev->buffer_stores && sg_tensor_store_base(t) * sizeof(float) + t->bytes <= t->dev->max_store_range;
}

uint64_t sg_tensor_address(const sg_tensor *t)
{
    return t->block->address + t->offset;
}

sg_status sg_host_buffer_create(sg_device *dev, VkDeviceSize size, VkBufferUsageFlags usage, VkBuffer *buffer_out,
                                VkDeviceMemory *memory_out, void **mapped_out)
{
    VkBufferCreateInfo bi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = usage,
    };
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    void *mapped = NULL;
    VkResult r = vkCreateBuffer(dev->device, &bi, NULL, &buffer);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateBuffer (staging)");
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev->device, buffer, &req);
    sg_status s = SG_OK;
    if (!(req.memoryTypeBits & (1u << dev->staging_type))) {
        s = sg_fail(SG_ERR_VULKAN, "staging buffers cannot live in the host-visible memory type");
    } else {
        VkMemoryAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .allocationSize = req.size,
            .memoryTypeIndex = dev->staging_type,
        };
        if ((r = vkAllocateMemory(dev->device, &ai, NULL, &memory)) != VK_SUCCESS)
            s = sg_vk_fail(r, "vkAllocateMemory (staging)");
        else if ((r = vkBindBufferMemory(dev->device, buffer, memory, 0)) != VK_SUCCESS)
            s = sg_vk_fail(r, "vkBindBufferMemory (staging)");
        else if ((r = vkMapMemory(dev->device, memory, 0, VK_WHOLE_SIZE, 0, &mapped)) != VK_SUCCESS)
            s = sg_vk_fail(r, "vkMapMemory (staging)");
    }
    if (s != SG_OK) {
        vkDestroyBuffer(dev->device, buffer, NULL);
        if (memory)
            vkFreeMemory(dev->device, memory, NULL);
        return s;
    }
    *buffer_out = buffer;
    *memory_out = memory;
    *mapped_out = mapped;
    return SG_OK;
}

void sg_staging_destroy(sg_device *dev)
{
    if (dev->transfer_fence)
        vkDestroyFence(dev->device, dev->transfer_fence, NULL);
    if (dev->transfer_pool)
        vkDestroyCommandPool(dev->device, dev->transfer_pool, NULL);
    if (dev->staging_buffer)
        vkDestroyBuffer(dev->device, dev->staging_buffer, NULL);
    if (dev->staging_memory)
        vkFreeMemory(dev->device, dev->staging_memory, NULL);
    dev->transfer_fence = VK_NULL_HANDLE;
    dev->transfer_pool = VK_NULL_HANDLE;
    dev->transfer_cmd = VK_NULL_HANDLE;
    dev->staging_mapped = NULL;
    dev->staging_buffer = VK_NULL_HANDLE;
    dev->staging_memory = VK_NULL_HANDLE;
    dev->staging_size = 0;
}

/* The command pool, command buffer and fence of staged transfers: all three
 * or none are set, so a failure here cannot leave a half-made set behind. */
static sg_status transfer_objects_create(sg_device *dev)
{
    VkCommandPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = dev->queue_family,
    };
    VkCommandPool pool = VK_NULL_HANDLE;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    VkResult r = vkCreateCommandPool(dev->device, &pi, NULL, &pool);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateCommandPool (transfers)");
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    r = vkAllocateCommandBuffers(dev->device, &ai, &cmd);
    const char *what = "vkAllocateCommandBuffers (transfers)";
    if (r == VK_SUCCESS) {
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        r = vkCreateFence(dev->device, &fi, NULL, &fence);
        what = "vkCreateFence (transfers)";
    }
    if (r != VK_SUCCESS) {
        vkDestroyCommandPool(dev->device, pool, NULL); /* frees cmd too */
        return sg_vk_fail(r, what);
    }
    dev->transfer_pool = pool;
    dev->transfer_cmd = cmd;
    dev->transfer_fence = fence;
    return SG_OK;
}

/* Make sure the staging buffer holds `bytes`; called with transfer_lock held.
 * On failure the device keeps no staging buffer (the next call tries again). */
static sg_status staging_reserve(sg_device *dev, VkDeviceSize bytes)
{
    sg_status s;
    if (!dev->transfer_pool && (s = transfer_objects_create(dev)) != SG_OK)
        return s;
    if (dev->staging_size >= bytes)
        return SG_OK;
    if (dev->staging_buffer) {
        vkDestroyBuffer(dev->device, dev->staging_buffer, NULL);
        vkFreeMemory(dev->device, dev->staging_memory, NULL);
        dev->staging_buffer = VK_NULL_HANDLE;
        dev->staging_memory = VK_NULL_HANDLE;
        dev->staging_mapped = NULL;
        dev->staging_size = 0;
    }
    VkDeviceSize size = bytes < (16u << 20) ? (16u << 20) : bytes;
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;
    if ((s = sg_host_buffer_create(dev, size, VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                   &buffer, &memory, &mapped)) != SG_OK)
        return s;
    dev->staging_buffer = buffer;
    dev->staging_memory = memory;
    dev->staging_mapped = mapped;
    dev->staging_size = size;
    return SG_OK;
}

/* Copy between the staging buffer and a tensor range; transfer_lock held. */
static sg_status staging_copy(sg_device *dev, sg_block *block, VkDeviceSize offset,
                              VkDeviceSize bytes, bool to_device)
{
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult r = vkResetCommandBuffer(dev->transfer_cmd, 0);
    if (r == VK_SUCCESS)
        r = vkBeginCommandBuffer(dev->transfer_cmd, &bi);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "recording a tensor transfer");
    /* earlier compute work must be done with the range before we copy */
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_SHADER_READ_BIT,
        .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(dev->transfer_cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VkBufferCopy region = {
        .srcOffset = to_device ? 0 : offset,
        .dstOffset = to_device ? offset : 0,
        .size = bytes,
    };
    if (to_device)
        vkCmdCopyBuffer(dev->transfer_cmd, dev->staging_buffer, block->buffer, 1, &region);
    else
        vkCmdCopyBuffer(dev->transfer_cmd, block->buffer, dev->staging_buffer, 1, &region);
    VkMemoryBarrier after = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
    };
    vkCmdPipelineBarrier(dev->transfer_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &after,
                         0, NULL, 0, NULL);
    if ((r = vkEndCommandBuffer(dev->transfer_cmd)) != VK_SUCCESS)
        return sg_vk_fail(r, "vkEndCommandBuffer (tensor transfer)");
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &dev->transfer_cmd,
    };
    r = sg_queue_submit(dev, &si, dev->transfer_fence);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkQueueSubmit (tensor transfer)");
    r = vkWaitForFences(dev->device, 1, &dev->transfer_fence, VK_TRUE, UINT64_MAX);
    if (r == VK_SUCCESS)
        r = vkResetFences(dev->device, 1, &dev->transfer_fence);
    return r == VK_SUCCESS ? SG_OK : sg_vk_fail(r, "waiting for a tensor transfer");
}

static sg_status check_range(const sg_tensor *t, size_t offset, size_t count, const void *p)
{
    if (!t || !p)
        return sg_fail(SG_ERR_ARGUMENT, "tensor transfer: NULL argument");
    if (offset + count > sg_tensor_count(t) || count == 0)
        return sg_fail(SG_ERR_SHAPE, "tensor transfer of %zu elements at %zu outside a tensor of %zu",
                       count, offset, sg_tensor_count(t));
    return SG_OK;
}

/* Mapped transfers are a memcpy: the caller is responsible for not racing a
 * running sequence on the same tensor. Staged ones share the device's staging
 * buffer and transfer command buffer (transfer_lock); the queue is taken only
 * to submit. */
static sg_status transfer(sg_tensor *t, size_t offset, size_t count, void *host, bool to_device)
{
    sg_device *dev = t->dev;
    VkDeviceSize at = t->offset + offset * sizeof(float), bytes = count * sizeof(float);
    if (t->block->mapped) {
        if (to_device)
            memcpy(t->block->mapped + at, host, bytes);
        else
            memcpy(host, t->block->mapped + at, bytes);
        return SG_OK;
    }
    pthread_mutex_lock(&dev->transfer_lock);
    sg_status s = staging_reserve(dev, bytes);
    if (s == SG_OK && to_device) {
        memcpy(dev->staging_mapped, host, bytes);
        s = staging_copy(dev, t->block, at, bytes, true);
    } else if (s == SG_OK) {
        s = staging_copy(dev, t->block, at, bytes, false);
        if (s == SG_OK)
            memcpy(host, dev->staging_mapped, bytes);
    }
    pthread_mutex_unlock(&dev->transfer_lock);
    return s;
}

sg_status sg_tensor_upload_range(sg_tensor *t, size_t offset, size_t count, const float *src)
{
    sg_status s = check_range(t, offset, count, src);
    if (s == SG_OK)
        s = transfer(t, offset, count, (void *)src, true);
    if (s == SG_OK)
        sg_tensor_touch(t);
    return s;
}

uint64_t sg_tensor_generation(const sg_tensor *t)
{
    return __atomic_load_n(&t->root->generation, __ATOMIC_SEQ_CST);
}

sg_status sg_tensor_download_range(const sg_tensor *t, size_t offset, size_t count, float *dst)
{
    sg_status s = check_range(t, offset, count, dst);
    return s != SG_OK ? s : transfer((sg_tensor *)t, offset, count, dst, false);
}

sg_status sg_tensor_upload(sg_tensor *t, const float *src)
{
    return t ? sg_tensor_upload_range(t, 0, sg_tensor_count(t), src)
             : sg_fail(SG_ERR_ARGUMENT, "sg_tensor_upload: NULL tensor");
}

sg_status sg_tensor_download(const sg_tensor *t, float *dst)
{
    return t ? sg_tensor_download_range(t, 0, sg_tensor_count(t), dst)
             : sg_fail(SG_ERR_ARGUMENT, "sg_tensor_download: NULL tensor");
}
