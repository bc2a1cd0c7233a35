/* Shared by the dataset files of engine/io: the storage (dataset.c) and one
 * loader per format (cifar10.c, idx.c, image_folder.c). */
#ifndef SGAD_IO_DATASET_INTERNAL_H
#define SGAD_IO_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sgad/dataset.h"

#define SG_DATASET_MAX_SIZE 4096 /* largest S accepted */

/* Floats per image of d. */
size_t sg_dataset_image_floats(const sg_dataset *d);
/* Room for one more image: returns where image d->count goes (written by the
 * caller, then committed with sg_dataset_commit). */
sg_status sg_dataset_slot(sg_dataset *d, float **slot);
void sg_dataset_commit(sg_dataset *d, int32_t label);
/* The loaders accept what the model takes: 1 or 3 channels. */
sg_status sg_dataset_check_load_args(const sg_dataset *d, const char *what, const char *path, int channels,
                                     int size);

/* Defined in image.c: interleaved 8-bit pixels (1 or 3 channels) -> `channels`
 * planes of size x size floats in [-1, 1]. */
sg_status sg_image_from_u8(const uint8_t *src, int width, int height, int src_channels, int channels,
                           int size, float *out);

#endif
