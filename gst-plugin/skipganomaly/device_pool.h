/* A process-wide pool of engine devices, refcounted and keyed by the device's
 * UUID (a selection is an index or name as in SGAD_DEVICE, NULL or "" for the
 * automatic choice; "0" and the name of device 0 share one entry), so that several skipganomaly instances in one process (one per
 * camera) share one Vulkan device instead of each opening its own. */
#ifndef SGAD_DEVICE_POOL_H
#define SGAD_DEVICE_POOL_H

#include <sgad/device.h>

/* Take a reference on the device for `select`, creating it on first use.
 * On failure returns the engine's status; sg_error_message() explains. */
sg_status sgad_device_pool_acquire(const char *select, sg_device **out);
/* Take one more reference on a device the caller already holds. */
void sgad_device_pool_ref(sg_device *dev);
/* Drop a reference taken by sgad_device_pool_acquire; the last one destroys it. */
void sgad_device_pool_release(sg_device *dev);

#endif
