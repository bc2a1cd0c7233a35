/* Datasets of images for training and evaluation.
 *
 * Every loader produces the same thing: an in-memory set of images converted
 * to the model's input (C channels, S x S, float pixels scaled to [-1, 1] as
 * x/127.5 - 1, planar CHW per image) with an integer label per image.
 *
 * Formats:
 * - CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin): records of
 *   1 label byte + 3072 bytes (planes R, G, B, 32x32).
 * - Fashion-MNIST gzipped IDX files (train-images-idx3-ubyte.gz, ...): 28x28 gray,
 *   zero-padded to 32x32 (the spec's protocol); labels from the idx1 file.
 * - A folder of PNG/JPEG images, optionally with one sub-folder per class
 *   (label = index of the sub-folder in sorted order; files directly in the folder
 *   get label 0). Images are resized (bilinear) to S x S.
 * Malformed files are refused with SG_ERR_FORMAT and a message naming the file. */
#ifndef SGAD_DATASET_H
#define SGAD_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_dataset {
    int channels, size;   /* C and S */
    size_t count;         /* number of images */
    float *pixels;        /* count * C * S * S floats, image i at i*C*S*S */
    int32_t *labels;      /* count labels */
    int num_classes;      /* labels are 0..num_classes-1 */
} sg_dataset;

/* Release the arrays (the struct itself is the caller's). */
void sg_dataset_free(sg_dataset *d);

/* An empty dataset of given geometry, and appending one image (CHW floats in [-1,1]). */
sg_status sg_dataset_init(sg_dataset *d, int channels, int size);
sg_status sg_dataset_append(sg_dataset *d, const float *image, int32_t label);

/* CIFAR-10: `dir` holds data_batch_1..5.bin and test_batch.bin; train selects
 * which. size: 32 (native) or another power of two (resized). channels 3 or 1 (gray). */
sg_status sg_dataset_load_cifar10(sg_dataset *d, const char *dir, int train, int channels, int size);
/* One CIFAR-10 binary batch file. */
sg_status sg_dataset_load_cifar10_file(sg_dataset *d, const char *path, int channels, int size);

/* Fashion-MNIST (or MNIST): `dir` holds {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
 * 28x28 images are zero-padded to 32x32 (size 32); other sizes are resized from that. */
sg_status sg_dataset_load_fashion_mnist(sg_dataset *d, const char *dir, int train, int channels,
                                        int size);
/* A pair of IDX files (gzipped or not). */
sg_status sg_dataset_load_idx(sg_dataset *d, const char *images_path, const char *labels_path,
                              int channels, int size);

/* A folder of PNG/JPEG images (see above). */
sg_status sg_dataset_load_folder(sg_dataset *d, const char *dir, int channels, int size);

/* Where Debian's dataset-fashion-mnist package put its files, or NULL. */
const char *sg_dataset_fashion_mnist_default_dir(void);

/* Leave-one-class-out split of the spec's protocol: train = training images of
 * the normal classes; test = test images of the normal classes plus every image
 * (train and test) of the abnormal class; test_truth[i] = 1 for abnormal. */
sg_status sg_dataset_leave_one_out(const sg_dataset *train, const sg_dataset *test, int abnormal_class,
                                   sg_dataset *train_out, sg_dataset *test_out,
                                   uint8_t **test_truth);

/* Bytes of a decoded image file, resized to channels x size x size in [-1,1]
 * (for `score` on single files and the GStreamer tests). */
sg_status sg_image_load(const char *path, int channels, int size, float *out);
/* Write an 8-bit PNG (channels 1, 3 or 4, interleaved HWC). */
sg_status sg_image_write_png(const char *path, int width, int height, int channels,
                             const uint8_t *pixels);

#ifdef __cplusplus
}
#endif
#endif
