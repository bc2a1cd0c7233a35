/* Instance, physical-device choice, logical device and queue. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "internal.h"

#define SG_MIN_API VK_API_VERSION_1_2 /* buffer device addresses are core in 1.2 */

static const char *VALIDATION_LAYER = "VK_LAYER_KHRONOS_validation";

/* every device's messages, also those of objects still alive when a device is destroyed */
static uint32_t messages_in_process;

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)type;
    sg_device *dev = user;
    if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
        return VK_FALSE;
    __atomic_add_fetch(&dev->validation_messages, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&messages_in_process, 1, __ATOMIC_RELAXED);
    fprintf(stderr, "sgad: Vulkan validation: %s\n", data->pMessage);
    return VK_FALSE;
}

static bool layer_available(const char *name)
{
    uint32_t n = 0;
    vkEnumerateInstanceLayerProperties(&n, NULL);
    VkLayerProperties *layers = calloc(n ? n : 1, sizeof *layers);
    if (!layers)
        return false;
    vkEnumerateInstanceLayerProperties(&n, layers);
    bool found = false;
    for (uint32_t i = 0; i < n && !found; i++)
        found = strcmp(layers[i].layerName, name) == 0;
    free(layers);
    return found;
}

static sg_device_kind kind_of(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return SG_DEVICE_DISCRETE_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return SG_DEVICE_INTEGRATED_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return SG_DEVICE_VIRTUAL_GPU;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return SG_DEVICE_CPU;
    default: return SG_DEVICE_OTHER;
    }
}

const char *sg_device_kind_name(sg_device_kind kind)
{
    switch (kind) {
    case SG_DEVICE_DISCRETE_GPU: return "discrete GPU";
    case SG_DEVICE_INTEGRATED_GPU: return "integrated GPU";
    case SG_DEVICE_VIRTUAL_GPU: return "virtual GPU";
    case SG_DEVICE_CPU: return "CPU";
    default: return "other";
    }
}

static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

static int find_compute_queue(VkPhysicalDevice pd)
{
    uint32_t n = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, NULL);
    VkQueueFamilyProperties *q = calloc(n ? n : 1, sizeof *q);
    if (!q)
        return -1;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &n, q);
    int found = -1;
    /* a compute queue family; the first one with compute is the universal one */
    for (uint32_t i = 0; i < n && found < 0; i++)
        if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            found = (int)i;
    free(q);
    return found;
}

/* Preference among usable devices: discrete > integrated > virtual > CPU. */
static int kind_rank(sg_device_kind k)
{
    switch (k) {
    case SG_DEVICE_DISCRETE_GPU: return 4;
    case SG_DEVICE_INTEGRATED_GPU: return 3;
    case SG_DEVICE_VIRTUAL_GPU: return 2;
    case SG_DEVICE_CPU: return 1;
    default: return 0;
    }
}

static const char *NO_DEVICE_ADVICE =
    "install a GPU driver with Vulkan support, or the CPU implementation with "
    "'apt-get install mesa-vulkan-drivers' (Debian), then check with 'vulkaninfo --summary'";

static sg_status create_instance(sg_device *dev, bool validation)
{
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "sgad",
        .pEngineName = "sgad",
        .apiVersion = SG_MIN_API,
    };
    const char *layers[1] = {VALIDATION_LAYER};
    const char *exts[1] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkValidationFeatureEnableEXT enables[1] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pApplicationInfo = &app,
    };
    if (validation) {
        if (!layer_available(VALIDATION_LAYER))
            return sg_fail(SG_ERR_NO_DEVICE,
                           "validation requested but %s is not installed "
                           "(apt-get install vulkan-validationlayers)", VALIDATION_LAYER);
        ci.enabledLayerCount = 1;
        ci.ppEnabledLayerNames = layers;
        ci.enabledExtensionCount = 1;
        ci.ppEnabledExtensionNames = exts;
        ci.pNext = &features;
    }
    VkResult r = vkCreateInstance(&ci, NULL, &dev->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED)
        return sg_fail(SG_ERR_NO_DEVICE, "no Vulkan driver found: %s", NO_DEVICE_ADVICE);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateInstance");
    if (validation) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(dev->instance, "vkCreateDebugUtilsMessengerEXT");
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
            .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
            .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
            .pfnUserCallback = on_validation_message,
            .pUserData = dev,
        };
        if (!create || create(dev->instance, &mi, NULL, &dev->messenger) != VK_SUCCESS)
            return sg_fail(SG_ERR_VULKAN, "could not install the validation message callback");
    }
    return SG_OK;
}

static void fill_info(sg_device *dev, VkPhysicalDevice pd, uint32_t index)
{
    VkPhysicalDeviceIDProperties ids = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES,
                                                 .pNext = &ids};
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                              .pNext = &m3};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sub};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    memcpy(dev->info.uuid, ids.deviceUUID, sizeof dev->info.uuid);
    for (int i = 0; i < 3; i++)
        dev->max_groups[i] = p2.properties.limits.maxComputeWorkGroupCount[i];
    dev->max_allocation = m3.maxMemoryAllocationSize;
    dev->info.max_allocation = m3.maxMemoryAllocationSize;
    /* both powers of two: the larger is a multiple of the smaller */
    VkDeviceSize texel_align = p2.properties.limits.minTexelBufferOffsetAlignment;
    dev->texel_align = texel_align > 16 ? texel_align : 16;
    dev->max_texels = p2.properties.limits.maxTexelBufferElements;
    VkDeviceSize store_align = p2.properties.limits.minStorageBufferOffsetAlignment;
    dev->store_align = store_align > 16 ? store_align : 16;
    dev->max_store_range = p2.properties.limits.maxStorageBufferRange;
    snprintf(dev->info.name, sizeof dev->info.name, "%s", p2.properties.deviceName);
    dev->info.kind = kind_of(p2.properties.deviceType);
    dev->info.api_version = p2.properties.apiVersion;
    dev->info.index = index;
    dev->info.subgroup_size = sub.subgroupSize;
    dev->timestamp_period = p2.properties.limits.timestampComputeAndGraphics
                                ? p2.properties.limits.timestampPeriod : 0.0f;
    vkGetPhysicalDeviceMemoryProperties(pd, &dev->memory_props);
    for (uint32_t i = 0; i < dev->memory_props.memoryHeapCount; i++)
        if ((dev->memory_props.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            dev->memory_props.memoryHeaps[i].size > dev->info.device_memory)
            dev->info.device_memory = dev->memory_props.memoryHeaps[i].size;
}

static bool device_usable(VkPhysicalDevice pd)
{
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(pd, &p);
    if (p.apiVersion < SG_MIN_API || find_compute_queue(pd) < 0)
        return false;
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    /* the convolution kernels share weights across a subgroup (broadcast, ballot) */
    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sub};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_BALLOT_BIT;
    bool subgroups = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) && (sub.supportedOperations & need) == need;
    return f12.bufferDeviceAddress && f2.features.shaderInt64 && subgroups;
}

static sg_status pick_physical(sg_device *dev, const char *select)
{
    uint32_t n = 0;
    VkResult r = vkEnumeratePhysicalDevices(dev->instance, &n, NULL);
    if (r != VK_SUCCESS || n == 0)
        return sg_fail(SG_ERR_NO_DEVICE, "no Vulkan device found: %s", NO_DEVICE_ADVICE);
    VkPhysicalDevice *pds = calloc(n, sizeof *pds);
    if (!pds)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    vkEnumeratePhysicalDevices(dev->instance, &n, pds);

    int chosen = -1, best_rank = -1;
    if (select && *select) {
        char *end;
        long idx = strtol(select, &end, 10);
        bool is_index = *end == '\0';
        for (uint32_t i = 0; i < n && chosen < 0; i++) {
            VkPhysicalDeviceProperties p;
            vkGetPhysicalDeviceProperties(pds[i], &p);
            if (is_index ? (long)i == idx : contains_nocase(p.deviceName, select))
                chosen = (int)i;
        }
        if (chosen < 0) {
            free(pds);
            return sg_fail(SG_ERR_NO_DEVICE,
                           "no Vulkan device matches '%s' (SGAD_DEVICE / device selection); "
                           "run 'sgad devices' or 'vulkaninfo --summary' to list them", select);
        }
        if (!device_usable(pds[chosen])) {
            free(pds);
            return sg_fail(SG_ERR_NO_DEVICE,
                           "Vulkan device '%s' lacks Vulkan 1.2 with buffer device addresses, "
                           "64-bit integers and compute subgroups (basic, ballot), which the engine needs", select);
        }
    } else {
        for (uint32_t i = 0; i < n; i++) {
            if (!device_usable(pds[i]))
                continue;
            VkPhysicalDeviceProperties p;
            vkGetPhysicalDeviceProperties(pds[i], &p);
            int rank = kind_rank(kind_of(p.deviceType));
            if (rank > best_rank) {
                best_rank = rank;
                chosen = (int)i;
            }
        }
        if (chosen < 0) {
            free(pds);
            return sg_fail(SG_ERR_NO_DEVICE,
                           "no Vulkan device supports Vulkan 1.2 with buffer device addresses: %s",
                           NO_DEVICE_ADVICE);
        }
    }
    dev->physical = pds[chosen];
    fill_info(dev, dev->physical, (uint32_t)chosen);
    free(pds);
    return SG_OK;
}

static sg_status create_logical(sg_device *dev)
{
    dev->queue_family = (uint32_t)find_compute_queue(dev->physical);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo qi = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = dev->queue_family,
        .queueCount = 1,
        .pQueuePriorities = &priority,
    };
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .bufferDeviceAddress = VK_TRUE,
    };
    VkPhysicalDeviceFeatures2 f2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
        .pNext = &f12,
        .features = {.shaderInt64 = VK_TRUE},
    };
    VkDeviceCreateInfo di = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = &f2,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qi,
    };
    VkResult r = vkCreateDevice(dev->physical, &di, NULL, &dev->device);
    if (r != VK_SUCCESS)
        return sg_vk_fail(r, "vkCreateDevice");
    vkGetDeviceQueue(dev->device, dev->queue_family, 0, &dev->queue);

    return sg_memory_choose_types(dev);
}

sg_status sg_device_create(const sg_device_options *options, sg_device **out)
{
    sg_device_options defaults = {0};
    if (!options)
        options = &defaults;
    if (!out)
        return sg_fail(SG_ERR_ARGUMENT, "sg_device_create: out is NULL");
    *out = NULL;
    sg_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    pthread_mutex_init(&dev->queue_lock, NULL);
    pthread_mutex_init(&dev->transfer_lock, NULL);
    pthread_mutex_init(&dev->memory_lock, NULL);
    pthread_mutex_init(&dev->pipeline_lock, NULL);
    /* SGAD_STAGED=1: a discrete GPU's transfers on any device, to measure them */
    dev->force_staging = options->staged || sg_env_flag("SGAD_STAGED");
    dev->buffer_reads = options->buffer_reads;
    dev->buffer_stores = options->buffer_stores;
    dev->tiled_convs = options->tiled_convs || sg_env_flag("SGAD_TILED_CONVS");

    bool validation = options->validation || sg_env_flag("SGAD_VALIDATION");
    const char *select = options->select ? options->select : getenv("SGAD_DEVICE");
    sg_status s = create_instance(dev, validation);
    if (s == SG_OK)
        s = pick_physical(dev, select);
    if (s == SG_OK)
        s = create_logical(dev);
    if (s == SG_OK)
        s = sg_pipeline_layout_create(dev);
    if (s != SG_OK) {
        char msg[1024]; /* the destroy may report validation messages */
        snprintf(msg, sizeof msg, "%s", sg_error_message());
        sg_device_destroy(dev);
        return sg_fail(s, "%s", msg);
    }
    if (!options->quiet && !sg_env_flag("SGAD_QUIET"))
        fprintf(stderr, "sgad: using Vulkan device %u: %s (%s)%s%s\n", dev->info.index, dev->info.name,
                sg_device_kind_name(dev->info.kind), validation ? ", validation on" : "",
                dev->tiled_convs ? ", convolutions in shared-memory tiles" : "");
    *out = dev;
    return SG_OK;
}

void sg_device_destroy(sg_device *dev)
{
    if (!dev)
        return;
    if (dev->device) {
        vkDeviceWaitIdle(dev->device);
        sg_staging_destroy(dev);
        sg_pipelines_destroy(dev);
        sg_memory_destroy_all(dev);
        vkDestroyDevice(dev->device, NULL);
    }
    if (dev->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)
            vkGetInstanceProcAddr(dev->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy(dev->instance, dev->messenger, NULL);
    }
    if (dev->instance)
        vkDestroyInstance(dev->instance, NULL);
    pthread_mutex_destroy(&dev->queue_lock);
    pthread_mutex_destroy(&dev->transfer_lock);
    pthread_mutex_destroy(&dev->memory_lock);
    pthread_mutex_destroy(&dev->pipeline_lock);
    free(dev);
}

int sg_device_list(char *buf, size_t size)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .apiVersion = SG_MIN_API};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance inst;
    if (size)
        buf[0] = '\0';
    if (vkCreateInstance(&ci, NULL, &inst) != VK_SUCCESS)
        return 0;
    uint32_t n = 0;
    vkEnumeratePhysicalDevices(inst, &n, NULL);
    VkPhysicalDevice *pds = calloc(n ? n : 1, sizeof *pds);
    if (pds)
        vkEnumeratePhysicalDevices(inst, &n, pds);
    size_t used = 0;
    for (uint32_t i = 0; pds && i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(pds[i], &p);
        if (used < size)
            used += (size_t)snprintf(buf + used, size - used, "%u: %s (%s)%s\n", i, p.deviceName,
                                     sg_device_kind_name(kind_of(p.deviceType)),
                                     device_usable(pds[i]) ? "" : " [unusable: needs Vulkan 1.2, buffer device address, int64, subgroups]");
    }
    free(pds);
    vkDestroyInstance(inst, NULL);
    return (int)n;
}

sg_status sg_device_identify(const char *select, sg_device_info *out)
{
    if (!out)
        return sg_fail(SG_ERR_ARGUMENT, "sg_device_identify: out is NULL");
    sg_device probe = {0};
    if (!select)
        select = getenv("SGAD_DEVICE");
    sg_status s = create_instance(&probe, false);
    if (s == SG_OK)
        s = pick_physical(&probe, select);
    if (s == SG_OK)
        *out = probe.info;
    if (probe.instance)
        vkDestroyInstance(probe.instance, NULL);
    return s;
}

const sg_device_info *sg_device_get_info(const sg_device *dev)
{
    return &dev->info;
}

uint32_t sg_validation_messages_in_process(void)
{
    return __atomic_load_n(&messages_in_process, __ATOMIC_RELAXED);
}

uint32_t sg_device_validation_messages(const sg_device *dev)
{
    return __atomic_load_n(&dev->validation_messages, __ATOMIC_RELAXED);
}

/* Vulkan wants a queue's submissions externally synchronised; the lock is
 * held for the call alone, never across a fence wait, so one sequence's wait
 * never holds up another's submission. */
VkResult sg_queue_submit(sg_device *dev, const VkSubmitInfo *info, VkFence fence)
{
    pthread_mutex_lock(&dev->queue_lock);
    VkResult r = vkQueueSubmit(dev->queue, 1, info, fence);
    pthread_mutex_unlock(&dev->queue_lock);
    __atomic_add_fetch(&dev->submits, 1, __ATOMIC_RELAXED);
    return r;
}

uint64_t sg_device_submit_count(const sg_device *dev)
{
    return __atomic_load_n(&dev->submits, __ATOMIC_RELAXED);
}

uint64_t sg_device_bytes_in_use(const sg_device *dev)
{
    sg_device *d = (sg_device *)dev;
    pthread_mutex_lock(&d->memory_lock);
    uint64_t v = d->bytes_in_use;
    pthread_mutex_unlock(&d->memory_lock);
    return v;
}
