/* SGAD_PROFILE=1: where a sequence's device time goes, per kernel (profile.h).
 * A timestamp is written after every dispatch; the device runs a sequence's
 * dispatches one after another (lavapipe always does; on a GPU, independent
 * dispatches between two barriers may overlap, and the time then lands on the
 * last of them), so the difference between consecutive timestamps is the
 * dispatch's time. Summed over every run and printed, per kernel, on stderr
 * when the sequence is destroyed. A developer's tool: never on by default. */
#include "profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_QUERIES 4096u /* dispatches beyond this many go unmeasured */

struct sg_profile {
    VkQueryPool pool;
    uint32_t used;               /* queries written: 1 + dispatches */
    const char **kernel;         /* per dispatch */
    double *seconds;             /* per dispatch, summed over runs */
    uint64_t runs;
};

sg_profile *sg_profile_create(sg_device *dev, VkCommandBuffer cmd)
{
    const char *env = getenv("SGAD_PROFILE");
    if (!env || !*env || strcmp(env, "0") == 0 || dev->timestamp_period <= 0)
        return NULL;
    sg_profile *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->kernel = calloc(PROFILE_QUERIES, sizeof *p->kernel);
    p->seconds = calloc(PROFILE_QUERIES, sizeof *p->seconds);
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = PROFILE_QUERIES};
    if (!p->kernel || !p->seconds || vkCreateQueryPool(dev->device, &qi, NULL, &p->pool) != VK_SUCCESS) {
        free(p->kernel), free(p->seconds), free(p);
        return NULL;
    }
    vkCmdResetQueryPool(cmd, p->pool, 0, PROFILE_QUERIES);
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, p->pool, 0);
    p->used = 1;
    return p;
}

void sg_profile_dispatched(sg_profile *p, VkCommandBuffer cmd, const char *kernel)
{
    if (!p || p->used >= PROFILE_QUERIES)
        return;
    p->kernel[p->used - 1] = kernel;
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, p->pool, p->used++);
}

void sg_profile_collect(sg_profile *p, sg_device *dev)
{
    if (!p || p->used < 2)
        return;
    uint64_t ts[PROFILE_QUERIES];
    if (vkGetQueryPoolResults(dev->device, p->pool, 0, p->used, sizeof ts, ts, sizeof ts[0],
                              VK_QUERY_RESULT_64_BIT) != VK_SUCCESS)
        return;
    for (uint32_t i = 0; i + 1 < p->used; i++)
        p->seconds[i] += (double)(ts[i + 1] - ts[i]) * dev->timestamp_period * 1e-9;
    p->runs++;
}

void sg_profile_destroy(sg_profile *p, sg_device *dev)
{
    if (!p)
        return;
    if (p->runs) {
        /* per kernel name, in order of first use */
        uint32_t n = p->used - 1, kinds = 0;
        const char *name[PROFILE_QUERIES];
        double total = 0, sum[PROFILE_QUERIES];
        uint32_t count[PROFILE_QUERIES];
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = 0;
            while (k < kinds && strcmp(name[k], p->kernel[i]) != 0)
                k++;
            if (k == kinds)
                name[kinds] = p->kernel[i], sum[kinds] = 0, count[kinds++] = 0;
            sum[k] += p->seconds[i];
            count[k]++;
            total += p->seconds[i];
        }
        fprintf(stderr, "sgad profile: a sequence of %u dispatches, %llu runs, %.3f ms per run\n", n,
                (unsigned long long)p->runs, total / (double)p->runs * 1e3);
        for (uint32_t k = 0; k < kinds; k++)
            fprintf(stderr, "sgad profile:   %-20s %5u dispatches %9.3f ms per run %5.1f%%\n", name[k], count[k],
                    sum[k] / (double)p->runs * 1e3, total > 0 ? 100.0 * sum[k] / total : 0.0);
    }
    vkDestroyQueryPool(dev->device, p->pool, NULL);
    free(p->kernel), free(p->seconds), free(p);
}
