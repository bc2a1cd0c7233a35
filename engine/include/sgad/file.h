/* Checks on the files a long piece of work will write at its end (a trained
 * model, an evaluation's outputs), made before the work starts so that an
 * unwritable destination fails at once rather than after hours of training
 * or scoring. Used by the `sgad` tools and the skipganomaly element alike. */
#ifndef SGAD_FILE_H
#define SGAD_FILE_H

#include <stdbool.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `path` can be written as a file: it is not a folder, its folder exists, and
 * a new file can be created in that folder (a temporary file is created there
 * and removed at once: permission bits say nothing to root, and a read-only
 * mount or /proc refuses root too). SG_ERR_IO otherwise, with a message naming
 * the path and the cause. */
sg_status sg_check_writable_file(const char *path);

/* `dir` is a folder a new file can be created in; with `create`, a missing
 * last component is created first (as mkdir does, not its parents).
 * SG_ERR_IO otherwise, with a message naming the folder and the cause. */
sg_status sg_check_writable_dir(const char *dir, bool create);

#ifdef __cplusplus
}
#endif
#endif
