/* Error reporting shared by every engine call.
 *
 * Calls that can fail return an sg_status; on failure a human-readable message
 * describing what went wrong (and, where possible, what to do) is kept per
 * thread and can be read with sg_error_message() until the next failing call. */
#ifndef SGAD_STATUS_H
#define SGAD_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_status {
    SG_OK = 0,
    SG_ERR_NO_DEVICE,     /* no usable Vulkan device */
    SG_ERR_VULKAN,        /* a Vulkan call failed */
    SG_ERR_OUT_OF_MEMORY, /* host or device memory exhausted */
    SG_ERR_SHAPE,         /* tensor shapes do not fit the operation */
    SG_ERR_ARGUMENT,      /* an invalid argument (NULL, zero size, bad parameter) */
    SG_ERR_STATE,         /* call made in the wrong state (e.g. recording a finished sequence) */
    SG_ERR_IO,            /* file input/output failed */
    SG_ERR_FORMAT,        /* a file's content is malformed */
    SG_ERR_NUMERIC,       /* NaN or Inf where a finite value was required */
} sg_status;

/* Message of the last failure on this thread ("" when none). */
const char *sg_error_message(void);

/* Short name of a status code, e.g. "shape mismatch". */
const char *sg_status_name(sg_status status);

#ifdef __cplusplus
}
#endif
#endif
