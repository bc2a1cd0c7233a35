/* Setting the thread's error message (engine-internal; every layer may use it).
 *
 * sg_fail replaces the message; sg_fail_prefix keeps the current one as the
 * cause and puts context before it ("loading x.safetensors: <cause>"). Never
 * pass sg_error_message() to sg_fail: it formats into the buffer it reads. */
#ifndef SGAD_CORE_ERROR_H
#define SGAD_CORE_ERROR_H

#include "sgad/status.h"

/* Set the thread's error message and return status. */
sg_status sg_fail(sg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the thread's current error message with "<formatted>: " and return status. */
sg_status sg_fail_prefix(sg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
