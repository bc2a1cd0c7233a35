/* Datasets in memory: their storage and the spec's leave-one-class-out split.
 * The loaders, one file per format: cifar10.c, idx.c (Fashion-MNIST), image_folder.c.
 *
 * Storage: the arrays grow by doubling. sg_dataset has no capacity field, so the
 * capacity is implied by the count (the next power of two, at least 16) and every
 * dataset this file produces is grown through sg_dataset_slot(); a dataset whose
 * arrays were allocated some other way must not be passed to sg_dataset_append.
 *
 * Pixel conversion (channel change, x/127.5 - 1, bilinear resize) is
 * sg_image_from_u8 in image.c, shared with sg_image_load. */
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "dataset_internal.h"

/* ---- Storage ----------------------------------------------------------- */

size_t sg_dataset_image_floats(const sg_dataset *d)
{
    return (size_t)d->channels * d->size * d->size;
}

static size_t capacity_of(size_t count)
{
    if (count == 0)
        return 0;
    size_t c = 16;
    while (c < count)
        c *= 2;
    return c;
}

sg_status sg_dataset_slot(sg_dataset *d, float **slot)
{
    size_t per = sg_dataset_image_floats(d);
    if (d->count == capacity_of(d->count)) {
        size_t cap = capacity_of(d->count + 1);
        if (cap > SIZE_MAX / sizeof(float) / per)
            return sg_fail(SG_ERR_OUT_OF_MEMORY, "dataset: %zu images of %zu floats do not fit in memory",
                           cap, per);
        float *p = realloc(d->pixels, cap * per * sizeof(float));
        if (!p)
            return sg_fail(SG_ERR_OUT_OF_MEMORY, "dataset: out of host memory for %zu images", cap);
        d->pixels = p;
        int32_t *l = realloc(d->labels, cap * sizeof(int32_t));
        if (!l)
            return sg_fail(SG_ERR_OUT_OF_MEMORY, "dataset: out of host memory for %zu labels", cap);
        d->labels = l;
    }
    *slot = d->pixels + d->count * per;
    return SG_OK;
}

void sg_dataset_commit(sg_dataset *d, int32_t label)
{
    d->labels[d->count++] = label;
    if (label >= d->num_classes)
        d->num_classes = label + 1;
}

void sg_dataset_free(sg_dataset *d)
{
    if (!d)
        return;
    free(d->pixels);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

sg_status sg_dataset_init(sg_dataset *d, int channels, int size)
{
    if (!d)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_init: dataset is NULL");
    memset(d, 0, sizeof *d);
    if (channels < 1 || channels > 4 || size < 1 || size > SG_DATASET_MAX_SIZE)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_init: need 1..4 channels and a size in 1..%d (got %d, %d)",
                       SG_DATASET_MAX_SIZE, channels, size);
    d->channels = channels;
    d->size = size;
    return SG_OK;
}

sg_status sg_dataset_append(sg_dataset *d, const float *image, int32_t label)
{
    if (!d || !image || d->channels < 1 || d->size < 1)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_append: need an initialised dataset and an image");
    if (label < 0)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_append: label %d is negative", (int)label);
    float *slot;
    sg_status s = sg_dataset_slot(d, &slot);
    if (s != SG_OK)
        return s;
    memcpy(slot, image, sg_dataset_image_floats(d) * sizeof(float));
    sg_dataset_commit(d, label);
    return SG_OK;
}

sg_status sg_dataset_check_load_args(const sg_dataset *d, const char *what, const char *path, int channels,
                                 int size)
{
    if (!d || !path || (channels != 1 && channels != 3) || size < 1 || size > SG_DATASET_MAX_SIZE)
        return sg_fail(SG_ERR_ARGUMENT,
                       "%s: need a dataset, a path, channels 1 or 3 and a size in 1..%d (got channels %d, "
                       "size %d)", what, SG_DATASET_MAX_SIZE, channels, size);
    return SG_OK;
}

/* ---- Leave-one-class-out split ----------------------------------------- */

static sg_status append_where(sg_dataset *out, const sg_dataset *in, int32_t cls, int equal,
                              uint8_t *truth, uint8_t truth_value)
{
    size_t per = sg_dataset_image_floats(in);
    for (size_t i = 0; i < in->count; i++) {
        if ((in->labels[i] == cls) != equal)
            continue;
        if (truth)
            truth[out->count] = truth_value;
        sg_status s = sg_dataset_append(out, in->pixels + i * per, in->labels[i]);
        if (s != SG_OK)
            return s;
    }
    return SG_OK;
}

static size_t count_label(const sg_dataset *d, int32_t cls)
{
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        n += d->labels[i] == cls;
    return n;
}

sg_status sg_dataset_leave_one_out(const sg_dataset *train, const sg_dataset *test, int abnormal_class,
                                   sg_dataset *train_out, sg_dataset *test_out,
                                   uint8_t **test_truth)
{
    if (!train || !test || !train_out || !test_out || !test_truth)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_leave_one_out: NULL argument");
    if (train_out == test_out || train_out == train || train_out == test || test_out == train ||
        test_out == test)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_leave_one_out: the outputs must be distinct datasets");
    *test_truth = NULL;
    if (train->channels != test->channels || train->size != test->size)
        return sg_fail(SG_ERR_SHAPE, "sg_dataset_leave_one_out: training images are %dx%dx%d, test images %dx%dx%d",
                       train->channels, train->size, train->size, test->channels, test->size, test->size);
    int classes = train->num_classes > test->num_classes ? train->num_classes : test->num_classes;
    if (abnormal_class < 0 || abnormal_class >= classes)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_leave_one_out: abnormal class %d is not in 0..%d",
                       abnormal_class, classes - 1);
    size_t train_abnormal = count_label(train, abnormal_class);
    size_t test_abnormal = count_label(test, abnormal_class);
    size_t test_normal = test->count - test_abnormal;
    if (train->count == train_abnormal)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_leave_one_out: no training images outside class %d",
                       abnormal_class);
    if (test_normal == 0 || train_abnormal + test_abnormal == 0)
        return sg_fail(SG_ERR_ARGUMENT,
                       "sg_dataset_leave_one_out: the test set needs normal and abnormal images "
                       "(%zu normal test images, %zu images of class %d)", test_normal,
                       train_abnormal + test_abnormal, abnormal_class);

    uint8_t *truth = malloc(test_normal + train_abnormal + test_abnormal);
    if (!truth)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "sg_dataset_leave_one_out: out of host memory");
    sg_status s = sg_dataset_init(train_out, train->channels, train->size);
    if (s == SG_OK)
        s = sg_dataset_init(test_out, test->channels, test->size);
    /* the reference's order: normal test images, abnormal training images, abnormal test images */
    if (s == SG_OK)
        s = append_where(train_out, train, abnormal_class, 0, NULL, 0);
    if (s == SG_OK)
        s = append_where(test_out, test, abnormal_class, 0, truth, 0);
    if (s == SG_OK)
        s = append_where(test_out, train, abnormal_class, 1, truth, 1);
    if (s == SG_OK)
        s = append_where(test_out, test, abnormal_class, 1, truth, 1);
    if (s != SG_OK) {
        sg_dataset_free(train_out);
        sg_dataset_free(test_out);
        free(truth);
        return s;
    }
    train_out->num_classes = test_out->num_classes = classes;
    *test_truth = truth;
    return SG_OK;
}
