/* CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"
#include "dataset_internal.h"
#include "file_open.h"

#define CIFAR_RECORD 3073      /* 1 label byte + 3 planes of 32x32 */
#define CIFAR_CLASSES 10

static sg_status cifar_append_file(sg_dataset *d, const char *path)
{
    int fd;
    sg_status opened = sg_open_regular(path, "CIFAR-10 batch", &fd);
    if (opened != SG_OK)
        return opened;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return sg_fail(SG_ERR_IO, "cannot open CIFAR-10 batch %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return sg_fail(SG_ERR_IO, "cannot read CIFAR-10 batch %s: %s", path, strerror(errno));
    }
    if (st.st_size <= 0 || st.st_size % CIFAR_RECORD != 0) {
        fclose(f);
        return sg_fail(SG_ERR_FORMAT,
                       "%s: %lld bytes is not a CIFAR-10 batch (a non-zero multiple of the %d-byte record: "
                       "1 label byte + 32x32 R, G, B planes)", path, (long long)st.st_size, CIFAR_RECORD);
    }
    size_t records = (size_t)st.st_size / CIFAR_RECORD;
    uint8_t rec[CIFAR_RECORD], hwc[3072];
    sg_status s = SG_OK;
    for (size_t r = 0; r < records && s == SG_OK; r++) {
        if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
            s = sg_fail(SG_ERR_IO, "%s: read error in record %zu", path, r);
            break;
        }
        if (rec[0] >= CIFAR_CLASSES) {
            s = sg_fail(SG_ERR_FORMAT, "%s: record %zu has label %d (CIFAR-10 labels are 0..9)", path, r,
                        rec[0]);
            break;
        }
        /* planar R, G, B -> interleaved, the layout the converter takes */
        for (int i = 0; i < 1024; i++)
            for (int c = 0; c < 3; c++)
                hwc[i * 3 + c] = rec[1 + c * 1024 + i];
        float *slot;
        s = sg_dataset_slot(d, &slot);
        if (s == SG_OK)
            s = sg_image_from_u8(hwc, 32, 32, 3, d->channels, d->size, slot);
        if (s == SG_OK)
            sg_dataset_commit(d, rec[0]);
    }
    fclose(f);
    if (d->num_classes < CIFAR_CLASSES)
        d->num_classes = CIFAR_CLASSES; /* the format has ten classes, present or not */
    return s;
}

sg_status sg_dataset_load_cifar10_file(sg_dataset *d, const char *path, int channels, int size)
{
    sg_status s = sg_dataset_check_load_args(d, "sg_dataset_load_cifar10_file", path, channels, size);
    if (s != SG_OK)
        return s; /* d is not ours to touch */
    s = sg_dataset_init(d, channels, size);
    if (s == SG_OK)
        s = cifar_append_file(d, path);
    if (s != SG_OK)
        sg_dataset_free(d);
    return s;
}

sg_status sg_dataset_load_cifar10(sg_dataset *d, const char *dir, int train, int channels, int size)
{
    sg_status s = sg_dataset_check_load_args(d, "sg_dataset_load_cifar10", dir, channels, size);
    if (s != SG_OK)
        return s;
    s = sg_dataset_init(d, channels, size);
    for (int b = 1; b <= (train ? 5 : 1) && s == SG_OK; b++) {
        char path[4096];
        int n = train ? snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, b)
                      : snprintf(path, sizeof path, "%s/test_batch.bin", dir);
        if (n < 0 || (size_t)n >= sizeof path)
            s = sg_fail(SG_ERR_ARGUMENT, "sg_dataset_load_cifar10: folder name too long: %s", dir);
        else
            s = cifar_append_file(d, path);
    }
    if (s != SG_OK)
        sg_dataset_free(d);
    return s;
}

