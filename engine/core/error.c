/* Per-thread error messages. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char error_message[1024];

const char *sg_error_message(void)
{
    return error_message;
}

const char *sg_status_name(sg_status status)
{
    switch (status) {
    case SG_OK: return "ok";
    case SG_ERR_NO_DEVICE: return "no Vulkan device";
    case SG_ERR_VULKAN: return "Vulkan error";
    case SG_ERR_OUT_OF_MEMORY: return "out of memory";
    case SG_ERR_SHAPE: return "shape mismatch";
    case SG_ERR_ARGUMENT: return "invalid argument";
    case SG_ERR_STATE: return "invalid state";
    case SG_ERR_IO: return "input/output error";
    case SG_ERR_FORMAT: return "malformed file";
    case SG_ERR_NUMERIC: return "non-finite value";
    }
    return "unknown error";
}

static void set_message(const char *fmt, va_list ap)
{
    vsnprintf(error_message, sizeof error_message, fmt, ap);
}

sg_status sg_fail(sg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return status;
}

sg_status sg_fail_prefix(sg_status status, const char *fmt, ...)
{
    char cause[sizeof error_message];
    memcpy(cause, error_message, sizeof cause);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_message, sizeof error_message, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof error_message && cause[0])
        snprintf(error_message + n, sizeof error_message - (size_t)n, ": %s", cause);
    return status;
}

sg_status sg_vk_fail(VkResult r, const char *what)
{
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of %s memory", what,
                       r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? "device" : "host");
    if (r == VK_ERROR_DEVICE_LOST)
        return sg_fail(SG_ERR_VULKAN, "%s: the Vulkan device was lost (driver reset or crash)", what);
    return sg_fail(SG_ERR_VULKAN, "%s failed (VkResult %d)", what, (int)r);
}
