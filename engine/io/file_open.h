/* Opening input files without surprises, shared by the model layer's readers. */
#ifndef SGAD_MODEL_FILE_OPEN_H
#define SGAD_MODEL_FILE_OPEN_H

#include "sgad/status.h"

/* Open path read-only when it is a regular file; *fd_out is the descriptor
 * (blocking, close-on-exec). A FIFO, socket or device is refused without
 * waiting on it: open() of a FIFO blocks until a writer comes, and reading a
 * device may never end. `what` names the file in the message ("image"...). */
sg_status sg_open_regular(const char *path, const char *what, int *fd_out);

#endif
