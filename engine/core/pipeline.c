/* Compute pipelines, created on first use of a kernel and kept for the
 * device's lifetime. One pipeline layout serves all of them: a 128-byte
 * push-constant block (tensors are passed as device addresses) and one
 * descriptor set of SG_MAX_TEXELS uniform texel buffers and SG_MAX_STORES
 * storage buffers, for the kernels that read tensors as texels or reach them
 * through descriptors (kernel.h); the others never bind it. */
#include <stdlib.h>

#include "internal.h"

sg_status sg_pipeline_layout_create(sg_device *dev)
{
    VkPushConstantRange range = {
        .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        .offset = 0,
        .size = SG_PUSH_CONSTANT_BYTES,
    };
    VkDescriptorSetLayoutBinding bindings[SG_MAX_TEXELS + SG_MAX_STORES];
    for (uint32_t i = 0; i < SG_MAX_TEXELS + SG_MAX_STORES; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                                     .descriptorType = i >= SG_STORE_BINDING
                                                                           ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
                                                                           : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
                                                     .descriptorCount = 1,
                                                     .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    _Static_assert(SG_STORE_BINDING == SG_MAX_TEXELS, "the storage buffers follow the texel bindings");
    VkDescriptorSetLayoutCreateInfo si = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = SG_MAX_TEXELS + SG_MAX_STORES,
        .pBindings = bindings,
    };
    VkResult r = vkCreateDescriptorSetLayout(dev->device, &si, NULL, &dev->texel_set_layout);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateDescriptorSetLayout");
    VkPipelineLayoutCreateInfo li = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &dev->texel_set_layout,
        .pushConstantRangeCount = 1,
        .pPushConstantRanges = &range,
    };
    r = vkCreatePipelineLayout(dev->device, &li, NULL, &dev->pipeline_layout);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreatePipelineLayout");
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    r = vkCreatePipelineCache(dev->device, &ci, NULL, &dev->pipeline_cache);
    return r == VK_SUCCESS ? SG_OK : sg_vk_fail(r, "vkCreatePipelineCache");
}

static sg_status create_pipeline(sg_device *dev, const sg_kernel *k, sg_pipeline_entry *e)
{
    VkShaderModuleCreateInfo mi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = k->spirv_size,
        .pCode = k->spirv,
    };
    VkResult r = vkCreateShaderModule(dev->device, &mi, NULL, &e->module);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateShaderModule");
    /* constant 0: the workgroup size; 1: whole_groups (ignored by the shaders
     * that do not declare it) */
    uint32_t values[2] = {k->local_size_x, k->whole_groups};
    VkSpecializationMapEntry entries[2] = {{.constantID = 0, .offset = 0, .size = sizeof values[0]},
                                           {.constantID = 1, .offset = sizeof values[0], .size = sizeof values[1]}};
    VkSpecializationInfo spec = {
        .mapEntryCount = 2,
        .pMapEntries = entries,
        .dataSize = sizeof values,
        .pData = values,
    };
    VkComputePipelineCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = e->module,
            .pName = "main",
            .pSpecializationInfo = &spec,
        },
        .layout = dev->pipeline_layout,
    };
    r = vkCreateComputePipelines(dev->device, dev->pipeline_cache, 1, &pi, NULL, &e->pipeline);
    if (r != VK_SUCCESS) {
        vkDestroyShaderModule(dev->device, e->module, NULL);
        return sg_vk_fail(r, k->name);
    }
    return SG_OK;
}

sg_status sg_pipeline_get(sg_device *dev, const sg_kernel *kernel, VkPipeline *out)
{
    pthread_mutex_lock(&dev->pipeline_lock);
    sg_pipeline_entry *e = dev->pipelines;
    while (e && e->kernel != kernel)
        e = e->next;
    sg_status s = SG_OK;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) {
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
        } else if ((s = create_pipeline(dev, kernel, e)) != SG_OK) {
            free(e);
            e = NULL;
        } else {
            e->kernel = kernel;
            e->next = dev->pipelines;
            dev->pipelines = e;
        }
    }
    if (e)
        *out = e->pipeline;
    pthread_mutex_unlock(&dev->pipeline_lock);
    return s;
}

void sg_pipelines_destroy(sg_device *dev)
{
    for (sg_pipeline_entry *e = dev->pipelines, *next; e; e = next) {
        next = e->next;
        vkDestroyPipeline(dev->device, e->pipeline, NULL);
        vkDestroyShaderModule(dev->device, e->module, NULL);
        free(e);
    }
    dev->pipelines = NULL;
    if (dev->pipeline_cache)
        vkDestroyPipelineCache(dev->device, dev->pipeline_cache, NULL);
    if (dev->pipeline_layout)
        vkDestroyPipelineLayout(dev->device, dev->pipeline_layout, NULL);
    if (dev->texel_set_layout)
        vkDestroyDescriptorSetLayout(dev->device, dev->texel_set_layout, NULL);
}
