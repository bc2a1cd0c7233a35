/* Per-dispatch device time of a sequence, with SGAD_PROFILE=1 (profile.c). Internal to core. */
#ifndef SGAD_CORE_PROFILE_H
#define SGAD_CORE_PROFILE_H

#include "internal.h"

typedef struct sg_profile sg_profile;

/* NULL (no profiling) unless SGAD_PROFILE is set and the device has timestamps;
 * records the sequence's first timestamp into cmd. */
sg_profile *sg_profile_create(sg_device *dev, VkCommandBuffer cmd);
/* After each recorded dispatch; detail (may be NULL) is copied. */
void sg_profile_dispatched(sg_profile *p, VkCommandBuffer cmd, const char *kernel, const char *detail);
/* After each completed run. */
void sg_profile_collect(sg_profile *p, sg_device *dev);
/* Prints the per-kernel summary on stderr, then frees. */
void sg_profile_destroy(sg_profile *p, sg_device *dev);

#endif
