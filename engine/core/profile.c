/* SGAD_PROFILE=1: where a sequence's device time goes, per kernel (profile.h).
 * A timestamp is written after every dispatch; the device runs a sequence's
 * dispatches one after another (lavapipe always does; on a GPU, independent
 * dispatches between two barriers may overlap, and the time then lands on the
 * last of them), so the difference between consecutive timestamps is the
 * dispatch's time. Summed over every run and printed, per kernel, on stderr
 * when the sequence is destroyed. With SGAD_PROFILE=2, grouped by kernel and
 * the dispatch's detail (a convolution's shape and pass), largest first.
 * A sequence's first run is left out once a later one exists: lavapipe
 * compiles a pipeline at its first dispatch, inside the timestamps, and that
 * second or so swamped the small kernels' averages.
 * A developer's tool: never on by default. */
#include "profile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_QUERIES 4096u /* dispatches beyond this many go unmeasured */

struct sg_profile {
    VkQueryPool pool;
    uint32_t used;               /* queries written: 1 + dispatches */
    const char **kernel;         /* per dispatch */
    char **detail;               /* per dispatch, SGAD_PROFILE=2 only (owned) */
    bool by_detail;              /* SGAD_PROFILE=2 */
    double *seconds;             /* per dispatch, summed over the runs after the first */
    double *first;               /* per dispatch, the first run's */
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
    p->by_detail = strcmp(env, "2") == 0;
    p->kernel = calloc(PROFILE_QUERIES, sizeof *p->kernel);
    p->detail = calloc(PROFILE_QUERIES, sizeof *p->detail);
    p->seconds = calloc(PROFILE_QUERIES, sizeof *p->seconds);
    p->first = calloc(PROFILE_QUERIES, sizeof *p->first);
    VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                .queryType = VK_QUERY_TYPE_TIMESTAMP, .queryCount = PROFILE_QUERIES};
    if (!p->kernel || !p->detail || !p->seconds || !p->first ||
        vkCreateQueryPool(dev->device, &qi, NULL, &p->pool) != VK_SUCCESS) {
        free(p->kernel), free(p->detail), free(p->seconds), free(p->first), free(p);
        return NULL;
    }
    vkCmdResetQueryPool(cmd, p->pool, 0, PROFILE_QUERIES);
    vkCmdWriteTimestamp(cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, p->pool, 0);
    p->used = 1;
    return p;
}

void sg_profile_dispatched(sg_profile *p, VkCommandBuffer cmd, const char *kernel, const char *detail)
{
    if (!p || p->used >= PROFILE_QUERIES)
        return;
    p->kernel[p->used - 1] = kernel;
    if (p->by_detail) {
        /* "kernel  detail": the name the summary groups by */
        size_t len = strlen(kernel) + (detail ? strlen(detail) + 2 : 0) + 1;
        char *name = malloc(len);
        if (name) {
            snprintf(name, len, "%s%s%s", kernel, detail ? "  " : "", detail ? detail : "");
            p->detail[p->used - 1] = name;
            p->kernel[p->used - 1] = name;
        }
    }
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
    double *into = p->runs == 0 ? p->first : p->seconds;
    for (uint32_t i = 0; i + 1 < p->used; i++)
        into[i] += (double)(ts[i + 1] - ts[i]) * dev->timestamp_period * 1e-9;
    p->runs++;
}

void sg_profile_destroy(sg_profile *p, sg_device *dev)
{
    if (!p)
        return;
    if (p->runs) {
        const double *seconds = p->runs > 1 ? p->seconds : p->first;
        const uint64_t runs = p->runs > 1 ? p->runs - 1 : 1;
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
            sum[k] += seconds[i];
            count[k]++;
            total += seconds[i];
        }
        fprintf(stderr, "sgad profile: a sequence of %u dispatches, %llu runs%s, %.3f ms per run\n", n,
                (unsigned long long)runs, p->runs > 1 ? " (the first left out)" : "", total / (double)runs * 1e3);
        uint32_t order[PROFILE_QUERIES];
        for (uint32_t k = 0; k < kinds; k++)
            order[k] = k;
        for (uint32_t a = 1; p->by_detail && a < kinds; a++) /* largest first (insertion sort) */
            for (uint32_t b = a; b > 0 && sum[order[b]] > sum[order[b - 1]]; b--) {
                uint32_t t = order[b];
                order[b] = order[b - 1], order[b - 1] = t;
            }
        for (uint32_t i = 0; i < kinds; i++) {
            uint32_t k = order[i];
            fprintf(stderr, "sgad profile:   %-20s %5u dispatches %9.3f ms per run %5.1f%%\n", name[k], count[k],
                    sum[k] / (double)runs * 1e3, total > 0 ? 100.0 * sum[k] / total : 0.0);
        }
    }
    for (uint32_t i = 0; i < PROFILE_QUERIES; i++)
        free(p->detail[i]);
    vkDestroyQueryPool(dev->device, p->pool, NULL);
    free(p->kernel), free(p->detail), free(p->seconds), free(p->first), free(p);
}
