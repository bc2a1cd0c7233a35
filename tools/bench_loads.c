/* bench_loads: what one loaded float costs a compute shader on this Vulkan
 * device, by load path (buffer reference, texel buffer, SSBO, UBO), each
 * feeding the same 16 FMAs per float (tools/bench_loads/bench_loads.comp says
 * what each variant does); and what one stored float costs, by store path
 * (buffer reference, SSBO, storage texel buffer; plain and added into, with
 * 16 FMAs per float: tools/bench_loads/bench_stores.comp). Not installed: it
 * measures, for docs/benchmarks.md, whether a load or store path is worth
 * moving the convolutions to.
 *
 *   build/tools/sgad-bench-loads [--rounds N] [--device I]
 *
 * Loads in three modes: lanes at different addresses, all at one address
 * built from the lane index (as the convolutions' weights are), and all at
 * one address built from uniform values only, which a compiler could load
 * once for the lanes (lavapipe 22.3 does not: docs/benchmarks.md).
 * The variants run alternately, N rounds; each figure is the best of its
 * rounds, in process CPU time (lavapipe runs shaders on this process's
 * threads, so this is the CPU the shader took whatever else the machine runs)
 * and wall time. A loaded (stored) float's cost is the variant's time minus
 * the no-load (no-store) baseline, over the floats loaded (stored), also given
 * in FMA-equivalents (the baseline's time per FMA). */
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vulkan/vulkan.h>

#include "bench_loads.spv.h"
#include "bench_stores.spv.h"

#define CHECK(call)                                                                   \
    do {                                                                              \
        VkResult r_ = (call);                                                         \
        if (r_ != VK_SUCCESS) {                                                       \
            fprintf(stderr, "bench_loads: %s failed (VkResult %d)\n", #call, (int)r_); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

enum { VARIANTS = 8, STORE_VARIANTS = 11, TABLE_VEC4 = 4096, LANES = 64, GROUPS = 512, BINDINGS = 9 };
static const char *variant_names[VARIANTS] = {
    "no load (FMA only)",
    "4 floats, buffer reference",
    "vec4, buffer reference",
    "4 texelFetch, R32_SFLOAT",
    "vec4 texelFetch, R32G32B32A32",
    "4 floats, SSBO descriptor",
    "vec4, UBO, non-uniform index",
    "vec4 texels staged in shared memory",
};
static const char *store_variant_names[STORE_VARIANTS] = {
    "no store (FMA only)",
    "4 floats, buffer reference",
    "4 floats, SSBO descriptor",
    "4 imageStore, r32f texel buffer",
    "vec4, buffer reference",
    "vec4, SSBO descriptor",
    "vec4 imageStore, rgba32f",
    "+= 4 floats, buffer reference",
    "+= 4 floats, SSBO descriptor",
    "+= texelFetch R32 + imageStore",
    "+= imageLoad + imageStore r32f",
};


typedef struct {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *map;
    VkDeviceAddress address;
} buffer;

static VkDevice dev;
static VkPhysicalDevice phys;

static buffer buffer_create(VkDeviceSize size, VkBufferUsageFlags usage)
{
    buffer b = {0};
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = size,
                             .usage = usage | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT,
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    CHECK(vkCreateBuffer(dev, &bi, NULL, &b.buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(dev, b.buffer, &req);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(phys, &mp);
    const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = UINT32_MAX;
    for (uint32_t i = 0; i < mp.memoryTypeCount && type == UINT32_MAX; i++)
        if ((req.memoryTypeBits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want)
            type = i;
    if (type == UINT32_MAX) {
        fprintf(stderr, "bench_loads: no host-visible memory type\n");
        exit(1);
    }
    VkMemoryAllocateFlagsInfo fi = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
                                    .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT};
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO, .pNext = &fi,
                               .allocationSize = req.size, .memoryTypeIndex = type};
    CHECK(vkAllocateMemory(dev, &ai, NULL, &b.memory));
    CHECK(vkBindBufferMemory(dev, b.buffer, b.memory, 0));
    CHECK(vkMapMemory(dev, b.memory, 0, VK_WHOLE_SIZE, 0, &b.map));
    VkBufferDeviceAddressInfo di = {.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO, .buffer = b.buffer};
    b.address = vkGetBufferDeviceAddress(dev, &di);
    return b;
}

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One row per variant: its CPU and wall seconds and what each float costs
 * beyond variant 0, the baseline (in ns of CPU and in FMA-equivalents: the
 * baseline's time per FMA), then the baseline's own rate. */
static void print_costs(const char *const *names, int count, const double *cpu, const double *wall, double floats,
                        double lane_fma, const char *baseline)
{
    const double cpu_per_fma = cpu[0] / lane_fma, wall_per_fma = wall[0] / lane_fma;
    for (int v = 0; v < count; v++) {
        double ns = v ? (cpu[v] - cpu[0]) / floats * 1e9 : 0;
        double fe = v ? (cpu[v] - cpu[0]) / floats / cpu_per_fma : 0;
        double fe_wall = v ? (wall[v] - wall[0]) / floats / wall_per_fma : 0;
        printf("%-32s %8.3f %8.3f %13.3f %12.1f (%6.1f)\n", names[v], cpu[v], wall[v], ns, fe, fe_wall);
    }
    printf("%s: %.1f GFLOPS by CPU time, %.1f by wall time\n", baseline, 2 * lane_fma / cpu[0] * 1e-9,
           2 * lane_fma / wall[0] * 1e-9);
}

int main(int argc, char **argv)
{
    int rounds = 5, device_index = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device_index = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--rounds N] [--device I]\n", argv[0]);
            return 2;
        }
    }

    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "bench_loads",
                             .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ii = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    VkInstance inst;
    CHECK(vkCreateInstance(&ii, NULL, &inst));
    uint32_t ndev = 0;
    CHECK(vkEnumeratePhysicalDevices(inst, &ndev, NULL));
    VkPhysicalDevice devs[16];
    ndev = ndev > 16 ? 16 : ndev;
    CHECK(vkEnumeratePhysicalDevices(inst, &ndev, devs));
    if (device_index < 0 || (uint32_t)device_index >= ndev) {
        fprintf(stderr, "bench_loads: no Vulkan device %d (%u found)\n", device_index, ndev);
        return 1;
    }
    phys = devs[device_index];
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(phys, &props);
    printf("device: %s\n", props.deviceName);

    uint32_t nq = 0, family = UINT32_MAX;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &nq, NULL);
    VkQueueFamilyProperties qf[16];
    nq = nq > 16 ? 16 : nq;
    vkGetPhysicalDeviceQueueFamilyProperties(phys, &nq, qf);
    for (uint32_t i = 0; i < nq && family == UINT32_MAX; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            family = i;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO, .queueFamilyIndex = family,
                                  .queueCount = 1, .pQueuePriorities = &prio};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .bufferDeviceAddress = VK_TRUE};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
    f2.features.shaderInt64 = VK_TRUE;
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .pNext = &f2,
                             .queueCreateInfoCount = 1, .pQueueCreateInfos = &qi};
    CHECK(vkCreateDevice(phys, &di, NULL, &dev));
    VkQueue queue;
    vkGetDeviceQueue(dev, family, 0, &queue);

    /* the table: 64 KiB (a UBO's limit), the same floats for every path */
    const VkDeviceSize table_size = TABLE_VEC4 * 16;
    buffer table = buffer_create(table_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |
                                                 VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT);
    float *tf = table.map;
    for (int i = 0; i < TABLE_VEC4 * 4; i++)
        tf[i] = (float)((i * 37) % 101) * 0.01f - 0.5f;
    const uint32_t invocations = GROUPS * LANES;
    buffer out = buffer_create(invocations * sizeof(float), VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
    /* the stores' destination: 4 slots of 4 floats per invocation, then one float each */
    const uint32_t slot = invocations * 4, dst_floats = 4 * slot + invocations;
    const VkDeviceSize dst_size = (VkDeviceSize)dst_floats * sizeof(float);
    buffer dst = buffer_create(dst_size, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_STORAGE_TEXEL_BUFFER_BIT |
                                             VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                                             VK_BUFFER_USAGE_TRANSFER_DST_BIT);
    /* R32 and RGBA32 storage texel buffers are required of every device; the size is not */
    if (dst_floats > props.limits.maxTexelBufferElements) {
        fprintf(stderr, "bench_loads: the stores' destination (%u floats) exceeds the device's %u texels\n",
                dst_floats, props.limits.maxTexelBufferElements);
        return 1;
    }

    VkBufferView views[4];
    const VkFormat formats[2] = {VK_FORMAT_R32_SFLOAT, VK_FORMAT_R32G32B32A32_SFLOAT};
    for (int i = 0; i < 4; i++) {
        /* 0, 1: the table; 2, 3: the stores' destination */
        VkBufferViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                     .buffer = i < 2 ? table.buffer : dst.buffer, .format = formats[i % 2],
                                     .offset = 0, .range = VK_WHOLE_SIZE};
        CHECK(vkCreateBufferView(dev, &vi, NULL, &views[i]));
    }

    VkDescriptorSetLayoutBinding bindings[BINDINGS] = {
        {0, VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {1, VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {2, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {3, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {4, VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {5, VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {6, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {7, VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
        {8, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, NULL},
    };
    VkDescriptorSetLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = BINDINGS, .pBindings = bindings};
    VkDescriptorSetLayout set_layout;
    CHECK(vkCreateDescriptorSetLayout(dev, &li, NULL, &set_layout));
    VkDescriptorPoolSize sizes[4] = {{VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 3},
                                     {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, 1},
                                     {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 3},
                                     {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, 2}};
    VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO, .maxSets = 1,
                                     .poolSizeCount = 4, .pPoolSizes = sizes};
    VkDescriptorPool pool;
    CHECK(vkCreateDescriptorPool(dev, &pi, NULL, &pool));
    VkDescriptorSetAllocateInfo sai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                       .descriptorPool = pool, .descriptorSetCount = 1, .pSetLayouts = &set_layout};
    VkDescriptorSet set;
    CHECK(vkAllocateDescriptorSets(dev, &sai, &set));
    VkDescriptorBufferInfo whole = {table.buffer, 0, table_size}, whole_dst = {dst.buffer, 0, dst_size};
    VkWriteDescriptorSet writes[BINDINGS] = {
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 0, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .pTexelBufferView = &views[0]},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 1, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .pTexelBufferView = &views[1]},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 2, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, .pBufferInfo = &whole},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 3, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &whole},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 4, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, .pTexelBufferView = &views[2]},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 5, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, .pTexelBufferView = &views[3]},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 6, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &whole_dst},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 7, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, .pTexelBufferView = &views[2]},
        {.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET, .dstSet = set, .dstBinding = 8, .descriptorCount = 1,
         .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, .pBufferInfo = &whole_dst},
    };
    vkUpdateDescriptorSets(dev, BINDINGS, writes, 0, NULL);

    struct {
        uint64_t src, dst;
        uint32_t iterations, mask, lane_step;
    } pc = {table.address, out.address, 0, TABLE_VEC4 * 4 - 1, 4};
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof pc};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO, .setLayoutCount = 1,
                                      .pSetLayouts = &set_layout, .pushConstantRangeCount = 1,
                                      .pPushConstantRanges = &range};
    VkPipelineLayout layout;
    CHECK(vkCreatePipelineLayout(dev, &pli, NULL, &layout));
    VkShaderModuleCreateInfo smi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                    .codeSize = sizeof bench_loads_spv, .pCode = bench_loads_spv};
    VkShaderModule module, store_module;
    CHECK(vkCreateShaderModule(dev, &smi, NULL, &module));
    smi.codeSize = sizeof bench_stores_spv;
    smi.pCode = bench_stores_spv;
    CHECK(vkCreateShaderModule(dev, &smi, NULL, &store_module));
    /* pipelines 0..VARIANTS-1 load, then the store variants, then the loads
     * again with addresses built from uniform values only */
    VkPipeline pipelines[VARIANTS + STORE_VARIANTS + VARIANTS];
    for (int v = 0; v < VARIANTS + STORE_VARIANTS + VARIANTS; v++) {
        bool load = v < VARIANTS || v >= VARIANTS + STORE_VARIANTS;
        int32_t spec_values[2] = {v < VARIANTS ? v : load ? v - VARIANTS - STORE_VARIANTS : v - VARIANTS,
                                  v >= VARIANTS + STORE_VARIANTS};
        VkSpecializationMapEntry entries[2] = {{0, 0, sizeof(int32_t)}, {1, sizeof(int32_t), sizeof(int32_t)}};
        VkSpecializationInfo spec = {2, entries, sizeof spec_values, spec_values};
        VkComputePipelineCreateInfo ci = {
            .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
            .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                      .stage = VK_SHADER_STAGE_COMPUTE_BIT, .module = load ? module : store_module,
                      .pName = "main",
                      .pSpecializationInfo = &spec},
            .layout = layout};
        CHECK(vkCreateComputePipelines(dev, VK_NULL_HANDLE, 1, &ci, NULL, &pipelines[v]));
    }

    VkCommandPoolCreateInfo cpi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                   .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                   .queueFamilyIndex = family};
    VkCommandPool cmd_pool;
    CHECK(vkCreateCommandPool(dev, &cpi, NULL, &cmd_pool));
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                       .commandPool = cmd_pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                       .commandBufferCount = 1};
    VkCommandBuffer cmd;
    CHECK(vkAllocateCommandBuffers(dev, &cai, &cmd));
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    CHECK(vkCreateFence(dev, &fci, NULL, &fence));

    /* each case (load path x lanes apart or together, then each store path)
     * runs once per round, the cases alternating; the first round (1 step)
     * only compiles (lavapipe compiles at the first dispatch) */
    enum { MODES = 3, LOAD_CASES = MODES * VARIANTS, CASES = LOAD_CASES + STORE_VARIANTS };
    const uint32_t lane_steps[MODES] = {4, 0, 0}; /* mode 2: lane step 0 known to the compiler */
    double cpu_best[CASES], wall_best[CASES];
    static float reference[MODES][GROUPS * LANES];
    /* (modes 1 and 2 read the same floats: 2 is checked against 1's reference) */
    float *store_reference[2] = {malloc(dst_size), malloc(dst_size)}; /* stored, added into */
    int mismatches = 0;
    const uint32_t iterations = 2048;
    for (int round = -1; round < rounds; round++) {
        for (int k = 0; k < CASES; k++) {
            int store = k >= LOAD_CASES, v = store ? k - LOAD_CASES : k % VARIANTS, mode = store ? 0 : k / VARIANTS;
            pc.iterations = round < 0 ? 1 : iterations;
            pc.lane_step = store ? slot : lane_steps[mode]; /* the store shader reads it as the slot size */
            pc.dst = store ? dst.address : out.address;
            CHECK(vkResetCommandBuffer(cmd, 0));
            VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                           .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
            CHECK(vkBeginCommandBuffer(cmd, &bi));
            if (store) {
                /* every store path starts from zeros (the added-into ones add to them) */
                vkCmdFillBuffer(cmd, dst.buffer, 0, dst_size, 0);
                VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                      .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                                      .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT};
                vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                                     &mb, 0, NULL, 0, NULL);
            }
            vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE,
                              pipelines[store ? VARIANTS + v : mode == 2 ? VARIANTS + STORE_VARIANTS + v : v]);
            vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
            vkCmdPushConstants(cmd, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof pc, &pc);
            vkCmdDispatch(cmd, GROUPS, 1, 1);
            VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                                       .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                                       .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
            vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host,
                                 0, NULL, 0, NULL);
            CHECK(vkEndCommandBuffer(cmd));
            VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1,
                               .pCommandBuffers = &cmd};
            double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
            CHECK(vkQueueSubmit(queue, 1, &si, fence));
            CHECK(vkWaitForFences(dev, 1, &fence, VK_TRUE, UINT64_MAX));
            double cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0, wall = now(CLOCK_MONOTONIC) - w0;
            CHECK(vkResetFences(dev, 1, &fence));
            if (round < 0)
                continue;
            if (round == 0 || cpu < cpu_best[k])
                cpu_best[k] = cpu;
            if (round == 0 || wall < wall_best[k])
                wall_best[k] = wall;
            if (store) {
                /* every store path leaves the same floats: the plain ones those of variant 1, the
                 * added-into ones those of 7; the no-store baseline the same final sums */
                int added = v >= 7, first = added ? 7 : 1;
                const float *got = dst.map;
                if (v == first && round == 0)
                    memcpy(store_reference[added], got, dst_size);
                else if (v == 0 ? round > 0 && memcmp(store_reference[0] + 4 * slot, got + 4 * slot,
                                                      invocations * sizeof(float))
                                : (v != first || round > 0) && memcmp(store_reference[added], got, dst_size)) {
                    fprintf(stderr, "bench_loads: %s left other values than %s\n", store_variant_names[v],
                            v ? store_variant_names[first] : "the stores");
                    mismatches++;
                }
                continue;
            }
            /* every load path reads the same floats: the sums must agree exactly */
            int ref = mode == 2 ? 1 : mode;
            if (v == 1 && round == 0 && mode != 2)
                memcpy(reference[mode], out.map, sizeof reference[mode]);
            else if (v > 0 && memcmp(reference[ref], out.map, sizeof reference[ref])) {
                fprintf(stderr, "bench_loads: %s (lane step %u) read other values than the buffer reference\n",
                        variant_names[v], pc.lane_step);
                mismatches++;
            }
        }
    }

    const double lane_fma = (double)invocations * iterations * 64, floats = (double)invocations * iterations * 4;
    printf("%u invocations x %u steps x (4 floats, 64 FMA); best of %d alternating rounds\n", invocations,
           iterations, rounds);
    printf("cost of a loaded float beyond the FMA-only baseline: ns of CPU, and FMA-equivalents (the baseline's\n"
           "CPU time per FMA; by wall time in brackets)\n");
    for (int mode = 0; mode < MODES; mode++) {
        const double *cpu_b = cpu_best + mode * VARIANTS, *wall_b = wall_best + mode * VARIANTS;
        printf("\n%s\n%-32s %8s %8s %13s %22s\n",
               mode == 2 ? "every lane reads the same address, built from uniform values only"
               : mode    ? "every lane reads the same address"
                         : "lanes read different addresses",
               "load path", "CPU s", "wall s", "ns CPU/float", "FMA-equivalents/float");
        print_costs(variant_names, VARIANTS, cpu_b, wall_b, floats, lane_fma, "FMA-only baseline");
    }

    /* stores: 4 floats per step of 64 FMAs, as loads */
    const double *cpu_s = cpu_best + LOAD_CASES, *wall_s = wall_best + LOAD_CASES;
    printf("\ncost of a stored float beyond the no-store baseline (lanes write different addresses; \"+=\":\n"
           "read, added to and written back)\n%-32s %8s %8s %13s %22s\n",
           "store path", "CPU s", "wall s", "ns CPU/float", "FMA-equivalents/float");
    print_costs(store_variant_names, STORE_VARIANTS, cpu_s, wall_s, floats, lane_fma, "no-store baseline");

    vkDestroyFence(dev, fence, NULL);
    vkDestroyCommandPool(dev, cmd_pool, NULL);
    for (int v = 0; v < VARIANTS + STORE_VARIANTS + VARIANTS; v++)
        vkDestroyPipeline(dev, pipelines[v], NULL);
    vkDestroyShaderModule(dev, module, NULL);
    vkDestroyShaderModule(dev, store_module, NULL);
    free(store_reference[0]);
    free(store_reference[1]);
    vkDestroyPipelineLayout(dev, layout, NULL);
    vkDestroyDescriptorPool(dev, pool, NULL);
    vkDestroyDescriptorSetLayout(dev, set_layout, NULL);
    for (int i = 0; i < 4; i++)
        vkDestroyBufferView(dev, views[i], NULL);
    buffer bufs[3] = {table, out, dst};
    for (int i = 0; i < 3; i++) {
        vkDestroyBuffer(dev, bufs[i].buffer, NULL);
        vkFreeMemory(dev, bufs[i].memory, NULL);
    }
    vkDestroyDevice(dev, NULL);
    vkDestroyInstance(inst, NULL);
    return mismatches ? 1 : 0;
}
