/* Recording and replaying sequences of dispatches.
 *
 * Barriers: the recorder remembers the byte ranges read and written since the
 * last barrier. A dispatch that reads what is pending a write (RAW) or writes
 * what is pending a read or write (WAR, WAW) gets a compute->compute memory
 * barrier first; independent dispatches run without one. Every recording starts
 * with a barrier that orders it after host writes and earlier submissions, and
 * ends with one that makes its writes visible to the host and later work.
 *
 * Texel reads and storage-buffer stores (kernel.h): the sequence owns the
 * buffer views and descriptor sets its dispatches bind, made while recording
 * and kept until it is destroyed, since a recording is replayed many times.
 *
 * Host transfers (sg_seq_stage_in/out): where tensors are not host-visible the
 * sequence owns a host-visible buffer per transfer, and a run submits three
 * command buffers at once: the copies in, the recorded commands, the copies
 * out. One submission and one wait per run, however many tensors go in and
 * out (a staged sg_tensor_upload or download is a submission and a wait each). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "internal.h"
#include "profile.h"

typedef struct sg_texel_view {
    const sg_block *block;
    VkDeviceSize offset, range;
    VkFormat format;
    VkBufferView view;
} sg_texel_view;

/* A host transfer of the run: the tensor's bytes [at, at + bytes) of its
 * block, and the host memory they go from or to. Where tensors are
 * host-visible, host points into the tensor and buffer is VK_NULL_HANDLE. */
typedef struct sg_stage {
    const sg_tensor *tensor;
    VkDeviceSize at, bytes;
    bool in;
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *host;
} sg_stage;

typedef struct sg_range {
    const sg_block *block;
    VkDeviceSize begin, end;
    bool write;
} sg_range;

/* A tensor the sequence made from the bytes of another (a packed copy of a
 * weight), reused while no recorded command writes those bytes. */
typedef struct sg_derived {
    const sg_block *block;
    VkDeviceSize begin, end; /* the source's bytes */
    uint32_t key[4];
    sg_tensor *tensor;
} sg_derived;

struct sg_seq {
    sg_device *dev;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkQueryPool timestamps;
    sg_profile *profile; /* SGAD_PROFILE only */
    bool recording, submitted;
    sg_status status;
    char message[1024];

    sg_range *pending;
    size_t pending_count, pending_cap;
    VkPipeline bound;

    sg_tensor **scratch;
    size_t scratch_count, scratch_cap;

    const sg_tensor **written; /* roots of the tensors the ops write: touched at each submit */
    size_t written_count, written_cap;
    sg_texel_view *views;
    size_t view_count, view_cap;
    sg_derived *derived;
    size_t derived_count, derived_cap;
    VkDescriptorPool *pools; /* the last one has room, or is full and gets a successor */
    size_t pool_count, pool_cap;
    sg_stage *stages;
    size_t stage_count, stage_cap;
    VkCommandBuffer copies_in, copies_out; /* recorded by sg_seq_finish when a stage has a buffer */

    uint32_t dispatches, barriers;
    double last_gpu_seconds;
};

sg_status sg_seq_fail(sg_seq *seq, sg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (seq && seq->status == SG_OK) {
        seq->status = status;
        snprintf(seq->message, sizeof seq->message, "%s", msg);
    }
    return sg_fail(status, "%s", msg);
}

static void barrier(sg_seq *seq, VkPipelineStageFlags src, VkAccessFlags src_access,
                    VkPipelineStageFlags dst, VkAccessFlags dst_access)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = src_access,
        .dstAccessMask = dst_access,
    };
    vkCmdPipelineBarrier(seq->cmd, src, dst, 0, 1, &mb, 0, NULL, 0, NULL);
}

sg_status sg_seq_create(sg_device *dev, sg_seq **out)
{
    if (!dev || !out)
        return sg_fail(SG_ERR_ARGUMENT, "sg_seq_create: NULL argument");
    sg_seq *seq = calloc(1, sizeof *seq);
    if (!seq)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    seq->dev = dev;
    VkCommandPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .queueFamilyIndex = dev->queue_family,
    };
    VkResult r = vkCreateCommandPool(dev->device, &pi, NULL, &seq->pool);
    if (r == VK_SUCCESS) {
        VkCommandBufferAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
            .commandPool = seq->pool,
            .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
            .commandBufferCount = 1,
        };
        r = vkAllocateCommandBuffers(dev->device, &ai, &seq->cmd);
    }
    if (r == VK_SUCCESS) {
        VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
        r = vkCreateFence(dev->device, &fi, NULL, &seq->fence);
    }
    if (r == VK_SUCCESS && dev->timestamp_period > 0) {
        VkQueryPoolCreateInfo qi = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = 2,
        };
        r = vkCreateQueryPool(dev->device, &qi, NULL, &seq->timestamps);
    }
    if (r == VK_SUCCESS) {
        VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
        r = vkBeginCommandBuffer(seq->cmd, &bi);
    }
    if (r != VK_SUCCESS) {
        sg_status s = sg_vk_fail(r, "creating a command sequence");
        sg_seq_destroy(seq);
        return s;
    }
    if (seq->timestamps) {
        vkCmdResetQueryPool(seq->cmd, seq->timestamps, 0, 2);
        vkCmdWriteTimestamp(seq->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, seq->timestamps, 0);
    }
    seq->profile = sg_profile_create(dev, seq->cmd);
    /* after host writes, earlier submissions and this run's copies in */
    barrier(seq, VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_HOST_WRITE_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
    seq->recording = true;
    *out = seq;
    return SG_OK;
}

void sg_seq_destroy(sg_seq *seq)
{
    if (!seq)
        return;
    sg_device *dev = seq->dev;
    if (seq->submitted)
        vkWaitForFences(dev->device, 1, &seq->fence, VK_TRUE, UINT64_MAX);
    for (size_t i = 0; i < seq->scratch_count; i++)
        sg_tensor_destroy(seq->scratch[i]);
    free(seq->scratch);
    free(seq->written);
    free(seq->pending);
    free(seq->derived);
    sg_profile_destroy(seq->profile, dev);
    for (size_t i = 0; i < seq->view_count; i++)
        vkDestroyBufferView(dev->device, seq->views[i].view, NULL);
    free(seq->views);
    for (size_t i = 0; i < seq->pool_count; i++)
        vkDestroyDescriptorPool(dev->device, seq->pools[i], NULL);
    free(seq->pools);
    for (size_t i = 0; i < seq->stage_count; i++) {
        if (seq->stages[i].buffer)
            vkDestroyBuffer(dev->device, seq->stages[i].buffer, NULL);
        if (seq->stages[i].memory)
            vkFreeMemory(dev->device, seq->stages[i].memory, NULL);
    }
    free(seq->stages);
    if (seq->timestamps)
        vkDestroyQueryPool(dev->device, seq->timestamps, NULL);
    if (seq->fence)
        vkDestroyFence(dev->device, seq->fence, NULL);
    if (seq->pool)
        vkDestroyCommandPool(dev->device, seq->pool, NULL);
    free(seq);
}

sg_status sg_seq_status(const sg_seq *seq)
{
    return seq->status;
}

uint32_t sg_seq_dispatch_count(const sg_seq *seq)
{
    return seq->dispatches;
}

uint32_t sg_seq_barrier_count(const sg_seq *seq)
{
    return seq->barriers;
}

double sg_seq_last_gpu_seconds(const sg_seq *seq)
{
    return seq->last_gpu_seconds;
}

static bool overlaps(const sg_range *a, const sg_range *b)
{
    return a->block == b->block && a->begin < b->end && b->begin < a->end;
}

static sg_range range_of(const sg_tensor *t, bool write)
{
    sg_range r = {t->block, t->offset, t->offset + t->bytes, write};
    return r;
}

/* The bytes of t's storage-buffer binding (from an aligned offset at or below
 * its first element, at most maxStorageBufferRange), for the barriers. */
static sg_range store_range_of(const sg_tensor *t, bool write)
{
    VkDeviceSize begin = t->offset - t->offset % t->dev->store_align, end = t->offset + t->bytes;
    if (end - begin > t->dev->max_store_range)
        end = begin + t->dev->max_store_range;
    sg_range r = {t->block, begin, end, write};
    return r;
}

/* Between two recorded commands that touch the same bytes: the sequence's
 * commands are dispatches and buffer fills (vkCmdFillBuffer, transfer
 * writes), so a barrier orders both kinds after both. */
static void work_barrier(sg_seq *seq)
{
    barrier(seq, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
    seq->barriers++;
    seq->pending_count = 0;
}

static bool needs_barrier(const sg_seq *seq, const sg_range *r)
{
    for (size_t i = 0; i < seq->pending_count; i++)
        if ((r->write || seq->pending[i].write) && overlaps(r, &seq->pending[i]))
            return true;
    return false;
}

static sg_status remember_written(sg_seq *seq, const sg_tensor *t)
{
    for (size_t i = 0; i < seq->written_count; i++)
        if (seq->written[i] == t->root)
            return SG_OK;
    if (!sg_array_reserve((void **)&seq->written, &seq->written_cap, seq->written_count, sizeof *seq->written, 32))
        return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
    seq->written[seq->written_count++] = t->root;
    return SG_OK;
}

static sg_status remember(sg_seq *seq, sg_range r)
{
    if (!sg_array_reserve((void **)&seq->pending, &seq->pending_cap, seq->pending_count, sizeof *seq->pending, 32))
        return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
    seq->pending[seq->pending_count++] = r;
    return SG_OK;
}

/* A view of t as texels of `components` floats, made once per sequence. */
static sg_status texel_view(sg_seq *seq, const sg_tensor *t, uint32_t components, VkBufferView *out)
{
    sg_device *dev = seq->dev;
    VkDeviceSize begin = t->offset - t->offset % dev->texel_align, texel = components * sizeof(float);
    /* whole texels: allocations are rounded to 256 bytes, so the last one stays in the buffer */
    VkDeviceSize range = (t->offset + t->bytes - begin + texel - 1) / texel * texel;
    VkFormat format = components == 4 ? VK_FORMAT_R32G32B32A32_SFLOAT : VK_FORMAT_R32_SFLOAT;
    for (size_t i = 0; i < seq->view_count; i++) {
        const sg_texel_view *v = &seq->views[i];
        if (v->block == t->block && v->offset == begin && v->range == range && v->format == format) {
            *out = v->view;
            return SG_OK;
        }
    }
    if (!sg_array_reserve((void **)&seq->views, &seq->view_cap, seq->view_count, sizeof *seq->views, 16))
        return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
    VkBufferViewCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = t->block->buffer,
        .format = format,
        .offset = begin,
        .range = range,
    };
    VkResult r = vkCreateBufferView(dev->device, &vi, NULL, out);
    if (r != VK_SUCCESS)
        return sg_seq_fail(seq, SG_ERR_VULKAN, "vkCreateBufferView failed (%d)", r);
    seq->views[seq->view_count++] = (sg_texel_view){t->block, begin, range, format, *out};
    return SG_OK;
}

/* A descriptor set of the texel layout, from the sequence's pools. */
static sg_status texel_set(sg_seq *seq, VkDescriptorSet *out)
{
    sg_device *dev = seq->dev;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (seq->pool_count) {
            VkDescriptorSetAllocateInfo ai = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                .descriptorPool = seq->pools[seq->pool_count - 1],
                .descriptorSetCount = 1,
                .pSetLayouts = &dev->texel_set_layout,
            };
            VkResult r = vkAllocateDescriptorSets(dev->device, &ai, out);
            if (r == VK_SUCCESS)
                return SG_OK;
            if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
                return sg_seq_fail(seq, SG_ERR_VULKAN, "vkAllocateDescriptorSets failed (%d)", r);
        }
        /* the last pool is full (or there is none): start another */
        if (!sg_array_reserve((void **)&seq->pools, &seq->pool_cap, seq->pool_count, sizeof *seq->pools, 4))
            return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
        const uint32_t sets = 64;
        VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, sets * SG_MAX_TEXELS},
                                         {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, sets * SG_MAX_STORES}};
        VkDescriptorPoolCreateInfo pi = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
            .maxSets = sets,
            .poolSizeCount = 2,
            .pPoolSizes = sizes,
        };
        VkResult r = vkCreateDescriptorPool(dev->device, &pi, NULL, &seq->pools[seq->pool_count]);
        if (r != VK_SUCCESS)
            return sg_seq_fail(seq, SG_ERR_VULKAN, "vkCreateDescriptorPool failed (%d)", r);
        seq->pool_count++;
    }
    return sg_seq_fail(seq, SG_ERR_VULKAN, "a new descriptor pool had no room for one set");
}

/* Views of the dispatch's texel reads and its storage buffers, written to a
 * new set and bound. */
static sg_status bind_descriptors(sg_seq *seq, const sg_dispatch *d)
{
    VkBufferView views[SG_MAX_TEXELS];
    VkWriteDescriptorSet writes[SG_MAX_TEXELS + SG_MAX_STORES];
    VkDescriptorBufferInfo stored[SG_MAX_STORES];
    uint32_t count = 0;
    sg_status s;
    for (uint32_t i = 0; i < SG_MAX_TEXELS; i++) {
        const sg_texel_read *t = &d->texels[i];
        if (!t->tensor)
            continue;
        if (t->components != 1 && t->components != 4)
            return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: texels of %u floats (1 or 4)", d->kernel->name,
                               t->components);
        if (!sg_tensor_texel_ok(t->tensor, t->components))
            return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: a tensor of %zu elements exceeds the device's %u texels "
                               "(maxTexelBufferElements)", d->kernel->name, sg_tensor_count(t->tensor),
                               seq->dev->max_texels);
        if ((s = texel_view(seq, t->tensor, t->components, &views[i])) != SG_OK)
            return s;
        writes[count++] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
            .pTexelBufferView = &views[i],
        };
    }
    for (uint32_t i = 0; i < SG_MAX_STORES; i++) {
        const sg_tensor *t = d->stores[i].tensor;
        if (!t)
            continue;
        sg_range r = store_range_of(t, false);
        stored[i] = (VkDescriptorBufferInfo){t->block->buffer, r.begin, r.end - r.begin};
        writes[count++] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstBinding = SG_STORE_BINDING + i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &stored[i],
        };
    }
    if (!count)
        return SG_OK;
    VkDescriptorSet set;
    if ((s = texel_set(seq, &set)) != SG_OK)
        return s;
    for (uint32_t i = 0; i < count; i++)
        writes[i].dstSet = set;
    vkUpdateDescriptorSets(seq->dev->device, count, writes, 0, NULL);
    vkCmdBindDescriptorSets(seq->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, seq->dev->pipeline_layout, 0, 1, &set, 0,
                            NULL);
    return SG_OK;
}

/* Whatever was derived from bytes that a command now writes is out of date. */
static void forget_derived(sg_seq *seq, sg_range written)
{
    for (size_t i = 0; i < seq->derived_count;) {
        sg_range source = {seq->derived[i].block, seq->derived[i].begin, seq->derived[i].end, false};
        if (overlaps(&written, &source))
            seq->derived[i] = seq->derived[--seq->derived_count];
        else
            i++;
    }
}

/* Orders the dispatch d after the pending accesses it conflicts with (one
 * barrier for all of them), then adds its own accesses to the pending ones. */
static sg_status order_after_pending(sg_seq *seq, const sg_dispatch *d)
{
    sg_status s;
    bool need = false;
    for (int i = 0; i < 8 && !need; i++) {
        if (d->reads[i]) {
            sg_range r = range_of(d->reads[i], false);
            need = needs_barrier(seq, &r);
        }
        if (d->writes[i] && !need) {
            sg_range r = range_of(d->writes[i], true);
            need = needs_barrier(seq, &r);
        }
        if (i < SG_MAX_TEXELS && d->texels[i].tensor && !need) {
            sg_range r = range_of(d->texels[i].tensor, false);
            need = needs_barrier(seq, &r);
        }
    }
    for (int i = 0; i < SG_MAX_STORES && !need; i++) {
        if (d->stores[i].tensor) {
            sg_range r = store_range_of(d->stores[i].tensor, d->stores[i].write);
            need = needs_barrier(seq, &r);
        }
    }
    if (need)
        work_barrier(seq);
    for (int i = 0; i < 8; i++) {
        if (d->reads[i] && (s = remember(seq, range_of(d->reads[i], false))) != SG_OK)
            return s;
        if (d->writes[i] && ((s = remember(seq, range_of(d->writes[i], true))) != SG_OK ||
                             (s = remember_written(seq, d->writes[i])) != SG_OK))
            return s;
        if (d->writes[i])
            forget_derived(seq, range_of(d->writes[i], true));
        if (i < SG_MAX_TEXELS && d->texels[i].tensor &&
            (s = remember(seq, range_of(d->texels[i].tensor, false))) != SG_OK)
            return s;
    }
    for (int i = 0; i < SG_MAX_STORES; i++) {
        const sg_storage *b = &d->stores[i];
        if (!b->tensor)
            continue;
        if ((s = remember(seq, store_range_of(b->tensor, b->write))) != SG_OK ||
            (b->write && (s = remember_written(seq, b->tensor)) != SG_OK))
            return s;
        if (b->write)
            forget_derived(seq, store_range_of(b->tensor, true));
    }
    return SG_OK;
}

/* A command can be recorded: the sequence is recording and no command failed. */
static sg_status still_recording(const sg_seq *seq)
{
    if (!seq->recording)
        /* the recording itself stays valid: do not poison its status */
        return sg_fail(SG_ERR_STATE, "sequence already finished: record ops before sg_seq_finish");
    if (seq->status != SG_OK)
        return sg_fail(seq->status, "%s", seq->message);
    return SG_OK;
}

sg_status sg_seq_dispatch(sg_seq *seq, const sg_dispatch *d)
{
    sg_status s = still_recording(seq);
    if (s != SG_OK)
        return s;
    if (d->push_size > SG_PUSH_CONSTANT_BYTES)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: %u bytes of push constants (max %u)",
                           d->kernel->name, d->push_size, SG_PUSH_CONSTANT_BYTES);
    for (int i = 0; i < 8; i++)
        if ((d->reads[i] && d->reads[i]->dev != seq->dev) || (d->writes[i] && d->writes[i]->dev != seq->dev) ||
            (i < SG_MAX_TEXELS && d->texels[i].tensor && d->texels[i].tensor->dev != seq->dev) ||
            (i < SG_MAX_STORES && d->stores[i].tensor && d->stores[i].tensor->dev != seq->dev))
            return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: a tensor belongs to another device", d->kernel->name);
    for (int i = 0; i < 3; i++)
        if (d->groups[i] > seq->dev->max_groups[i])
            return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: %u workgroups along %c exceed the device's limit of %u "
                               "(maxComputeWorkGroupCount)", d->kernel->name, d->groups[i], "xyz"[i],
                               seq->dev->max_groups[i]);
    VkPipeline pipeline;
    s = sg_pipeline_get(seq->dev, d->kernel, &pipeline);
    if (s != SG_OK)
        return sg_seq_fail(seq, s, "%s", sg_error_message());

    if ((s = order_after_pending(seq, d)) != SG_OK)
        return s;
    if ((s = bind_descriptors(seq, d)) != SG_OK)
        return s;
    if (pipeline != seq->bound) {
        vkCmdBindPipeline(seq->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
        seq->bound = pipeline;
    }
    uint8_t push[SG_PUSH_CONSTANT_BYTES] = {0};
    memcpy(push, d->push, d->push_size);
    vkCmdPushConstants(seq->cmd, seq->dev->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       SG_PUSH_CONSTANT_BYTES, push);
    vkCmdDispatch(seq->cmd, d->groups[0] ? d->groups[0] : 1, d->groups[1] ? d->groups[1] : 1,
                  d->groups[2] ? d->groups[2] : 1);
    seq->dispatches++;
    sg_profile_dispatched(seq->profile, seq->cmd, d->kernel->name, d->detail);
    return SG_OK;
}

sg_status sg_seq_fill(sg_seq *seq, sg_tensor *t, uint32_t bits)
{
    sg_status s = still_recording(seq);
    if (s != SG_OK)
        return s;
    if (t->dev != seq->dev)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "fill: the tensor belongs to another device");
    sg_dispatch d = {.writes = {t}};
    if ((s = order_after_pending(seq, &d)) != SG_OK)
        return s;
    /* tensors start on 16 bytes and hold whole floats: fills' multiples of 4 */
    vkCmdFillBuffer(seq->cmd, t->block->buffer, t->offset, t->bytes, bits);
    seq->dispatches++;
    sg_profile_dispatched(seq->profile, seq->cmd, "fill", NULL);
    return SG_OK;
}

sg_tensor *sg_seq_derived_find(sg_seq *seq, const sg_tensor *source, const uint32_t key[4])
{
    sg_range r = range_of(source, false);
    for (size_t i = 0; i < seq->derived_count; i++) {
        const sg_derived *d = &seq->derived[i];
        if (d->block == r.block && d->begin == r.begin && d->end == r.end && memcmp(d->key, key, sizeof d->key) == 0)
            return d->tensor;
    }
    return NULL;
}

sg_status sg_seq_derived_add(sg_seq *seq, const sg_tensor *source, const uint32_t key[4], sg_tensor *derived)
{
    if (!sg_array_reserve((void **)&seq->derived, &seq->derived_cap, seq->derived_count, sizeof *seq->derived, 16))
        return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_range r = range_of(source, false);
    sg_derived *d = &seq->derived[seq->derived_count++];
    *d = (sg_derived){r.block, r.begin, r.end, {key[0], key[1], key[2], key[3]}, derived};
    return SG_OK;
}

sg_status sg_seq_scratch(sg_seq *seq, sg_shape shape, sg_tensor **out)
{
    if (!sg_array_reserve((void **)&seq->scratch, &seq->scratch_cap, seq->scratch_count, sizeof *seq->scratch, 8))
        return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_status s = sg_tensor_create(seq->dev, shape, out);
    if (s != SG_OK)
        return sg_seq_fail(seq, s, "%s", sg_error_message());
    seq->scratch[seq->scratch_count++] = *out;
    return SG_OK;
}

/* Stage a host transfer of count floats of t from element offset. */
static sg_status stage(sg_seq *seq, const sg_tensor *t, size_t offset, size_t count, bool in, void **host)
{
    const char *what = in ? "sg_seq_stage_in" : "sg_seq_stage_out";
    sg_status s = still_recording(seq);
    if (s != SG_OK)
        return s;
    if (!t || !host)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: NULL argument", what);
    if (t->dev != seq->dev)
        return sg_seq_fail(seq, SG_ERR_ARGUMENT, "%s: the tensor belongs to another device", what);
    size_t n = t->bytes / sizeof(float);
    if (count == 0 || offset > n || count > n - offset)
        return sg_seq_fail(seq, SG_ERR_SHAPE, "%s: %zu elements at %zu outside a tensor of %zu", what, count, offset,
                           n);
    if (!sg_array_reserve((void **)&seq->stages, &seq->stage_cap, seq->stage_count, sizeof *seq->stages, 8))
        return sg_seq_fail(seq, SG_ERR_OUT_OF_MEMORY, "out of host memory");
    /* a copy in writes the tensor at every run (sg_tensor_generation) */
    if (in && (s = remember_written(seq, t)) != SG_OK)
        return s;
    sg_stage st = {t, t->offset + offset * sizeof(float), count * sizeof(float), in, VK_NULL_HANDLE, VK_NULL_HANDLE,
                   NULL};
    if (t->block->mapped) {
        st.host = t->block->mapped + st.at;
    } else if ((s = sg_host_buffer_create(seq->dev, st.bytes,
                                          in ? VK_BUFFER_USAGE_TRANSFER_SRC_BIT : VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                          &st.buffer, &st.memory, &st.host)) != SG_OK) {
        return sg_seq_fail(seq, s, "%s: %s", what, sg_error_message());
    }
    seq->stages[seq->stage_count++] = st;
    *host = st.host;
    return SG_OK;
}

sg_status sg_seq_stage_in(sg_seq *seq, sg_tensor *t, float **host)
{
    return stage(seq, t, 0, t ? t->bytes / sizeof(float) : 0, true, (void **)host);
}

sg_status sg_seq_stage_out(sg_seq *seq, const sg_tensor *t, size_t offset, size_t count, const float **host)
{
    return stage(seq, t, offset, count, false, (void **)host);
}

/* The copies in (or out) of the staged transfers that have a buffer, in a
 * command buffer of their own; none is made when there is none. */
static sg_status record_copies(sg_seq *seq, bool in, VkCommandBuffer *out)
{
    size_t n = 0;
    for (size_t i = 0; i < seq->stage_count; i++)
        n += seq->stages[i].buffer && seq->stages[i].in == in;
    if (n == 0)
        return SG_OK;
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = seq->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VkCommandBuffer cmd;
    VkResult r = vkAllocateCommandBuffers(seq->dev->device, &ai, &cmd);
    if (r != VK_SUCCESS)
        return sg_seq_fail(seq, SG_ERR_VULKAN, "vkAllocateCommandBuffers (staged transfers) failed (%d)", r);
    *out = cmd; /* freed with the pool */
    if ((r = vkBeginCommandBuffer(cmd, &bi)) != VK_SUCCESS)
        return sg_seq_fail(seq, SG_ERR_VULKAN, "vkBeginCommandBuffer (staged transfers) failed (%d)", r);
    for (size_t i = 0; i < seq->stage_count; i++) {
        const sg_stage *st = &seq->stages[i];
        if (!st->buffer || st->in != in)
            continue;
        VkBufferCopy region = {.srcOffset = in ? 0 : st->at, .dstOffset = in ? st->at : 0, .size = st->bytes};
        if (in)
            vkCmdCopyBuffer(cmd, st->buffer, st->tensor->block->buffer, 1, &region);
        else
            vkCmdCopyBuffer(cmd, st->tensor->block->buffer, st->buffer, 1, &region);
    }
    /* the recorded commands' first barrier orders them after the copies in;
     * their last makes their writes visible to the copies out, which the host reads */
    if (!in) {
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        };
        vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0,
                             NULL);
    }
    if ((r = vkEndCommandBuffer(cmd)) != VK_SUCCESS)
        return sg_seq_fail(seq, SG_ERR_VULKAN, "vkEndCommandBuffer (staged transfers) failed (%d)", r);
    return SG_OK;
}

sg_status sg_seq_finish(sg_seq *seq)
{
    if (!seq->recording)
        return SG_OK;
    sg_status s;
    if ((s = record_copies(seq, true, &seq->copies_in)) || (s = record_copies(seq, false, &seq->copies_out))) {
        seq->recording = false;
        vkEndCommandBuffer(seq->cmd);
        return s;
    }
    barrier(seq, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                VK_ACCESS_TRANSFER_READ_BIT);
    if (seq->timestamps)
        vkCmdWriteTimestamp(seq->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, seq->timestamps, 1);
    seq->recording = false;
    VkResult r = vkEndCommandBuffer(seq->cmd);
    return r == VK_SUCCESS ? SG_OK : sg_seq_fail(seq, SG_ERR_VULKAN, "vkEndCommandBuffer failed (%d)", r);
}

sg_status sg_seq_submit(sg_seq *seq)
{
    if (seq->status != SG_OK)
        return sg_fail(seq->status, "sequence recording failed earlier: %s", seq->message);
    sg_status s = sg_seq_finish(seq);
    if (s != SG_OK)
        return s;
    if (seq->submitted && (s = sg_seq_wait(seq)) != SG_OK)
        return s;
    VkCommandBuffer cmds[3];
    uint32_t n = 0;
    if (seq->copies_in)
        cmds[n++] = seq->copies_in;
    cmds[n++] = seq->cmd;
    if (seq->copies_out)
        cmds[n++] = seq->copies_out;
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = n,
        .pCommandBuffers = cmds,
    };
    VkResult r = sg_queue_submit(seq->dev, &si, seq->fence);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkQueueSubmit");
    seq->submitted = true;
    for (size_t i = 0; i < seq->written_count; i++)
        sg_tensor_touch(seq->written[i]);
    return SG_OK;
}

sg_status sg_seq_wait(sg_seq *seq)
{
    if (!seq->submitted)
        return SG_OK;
    VkResult r = vkWaitForFences(seq->dev->device, 1, &seq->fence, VK_TRUE, UINT64_MAX);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkWaitForFences");
    seq->submitted = false;
    if ((r = vkResetFences(seq->dev->device, 1, &seq->fence)) != VK_SUCCESS)
        return sg_vk_fail(r, "vkResetFences");
    if (seq->timestamps) {
        uint64_t ts[2];
        if (vkGetQueryPoolResults(seq->dev->device, seq->timestamps, 0, 2, sizeof ts, ts, sizeof ts[0],
                                  VK_QUERY_RESULT_64_BIT) == VK_SUCCESS)
            seq->last_gpu_seconds = (double)(ts[1] - ts[0]) * seq->dev->timestamp_period * 1e-9;
    }
    sg_profile_collect(seq->profile, seq->dev);
    return SG_OK;
}

sg_status sg_seq_run(sg_seq *seq)
{
    sg_status s = sg_seq_submit(seq);
    return s == SG_OK ? sg_seq_wait(seq) : s;
}
