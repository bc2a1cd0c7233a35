/* Datasets: CIFAR-10 binary batches, IDX files (Fashion-MNIST), folders of
 * PNG/JPEG images, and the spec's leave-one-class-out split.
 *
 * Storage: the arrays grow by doubling. sg_dataset has no capacity field, so the
 * capacity is implied by the count (the next power of two, at least 16) and every
 * dataset this file produces is grown through dataset_slot(); a dataset whose
 * arrays were allocated some other way must not be passed to sg_dataset_append.
 *
 * Pixel conversion (channel change, x/127.5 - 1, bilinear resize) is
 * sg_image_from_u8 in image.c, shared with sg_image_load. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <zlib.h>

#include "../core/array.h"
#include "../core/error.h"
#include "sgad/dataset.h"
#include "file_open.h"

#define MAX_SIZE 4096          /* largest S accepted */
#define IDX_MAX_SIDE 4096      /* largest IDX image side accepted */
#define CIFAR_RECORD 3073      /* 1 label byte + 3 planes of 32x32 */
#define CIFAR_CLASSES 10
#define IDX_CLASSES 10         /* MNIST, Fashion-MNIST */
#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Defined in image.c: interleaved 8-bit pixels (1 or 3 channels) -> `channels`
 * planes of size x size floats in [-1, 1]. */
sg_status sg_image_from_u8(const uint8_t *src, int width, int height, int src_channels, int channels,
                           int size, float *out);

/* ---- Storage ----------------------------------------------------------- */

static size_t image_floats(const sg_dataset *d)
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

/* Room for one more image: returns where image d->count goes (written by the
 * caller, then committed with dataset_commit). */
static sg_status dataset_slot(sg_dataset *d, float **slot)
{
    size_t per = image_floats(d);
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

static void dataset_commit(sg_dataset *d, int32_t label)
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
    if (channels < 1 || channels > 4 || size < 1 || size > MAX_SIZE)
        return sg_fail(SG_ERR_ARGUMENT, "sg_dataset_init: need 1..4 channels and a size in 1..%d (got %d, %d)",
                       MAX_SIZE, channels, size);
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
    sg_status s = dataset_slot(d, &slot);
    if (s != SG_OK)
        return s;
    memcpy(slot, image, image_floats(d) * sizeof(float));
    dataset_commit(d, label);
    return SG_OK;
}

/* The loaders accept what the model takes: 1 or 3 channels. */
static sg_status check_load_args(const sg_dataset *d, const char *what, const char *path, int channels,
                                 int size)
{
    if (!d || !path || (channels != 1 && channels != 3) || size < 1 || size > MAX_SIZE)
        return sg_fail(SG_ERR_ARGUMENT,
                       "%s: need a dataset, a path, channels 1 or 3 and a size in 1..%d (got channels %d, "
                       "size %d)", what, MAX_SIZE, channels, size);
    return SG_OK;
}

/* ---- CIFAR-10 ---------------------------------------------------------- */

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
        s = dataset_slot(d, &slot);
        if (s == SG_OK)
            s = sg_image_from_u8(hwc, 32, 32, 3, d->channels, d->size, slot);
        if (s == SG_OK)
            dataset_commit(d, rec[0]);
    }
    fclose(f);
    if (d->num_classes < CIFAR_CLASSES)
        d->num_classes = CIFAR_CLASSES; /* the format has ten classes, present or not */
    return s;
}

sg_status sg_dataset_load_cifar10_file(sg_dataset *d, const char *path, int channels, int size)
{
    sg_status s = check_load_args(d, "sg_dataset_load_cifar10_file", path, channels, size);
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
    sg_status s = check_load_args(d, "sg_dataset_load_cifar10", dir, channels, size);
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

/* ---- IDX (MNIST, Fashion-MNIST) ------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* zlib's error message without the "path: " it starts with. */
static const char *gz_message(gzFile gz, const char *path, int *err)
{
    const char *msg = gzerror(gz, err);
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        msg += n + 2;
    return msg;
}

/* An IDX file being read: zlib's gzFile (it reads gzip and plain files) and
 * the CRC-32 and length of what came out, to check the gzip trailer against. */
typedef struct idx_stream {
    gzFile gz;
    uLong crc;
    uint64_t total;
} idx_stream;

/* Read exactly n bytes; a short read is a truncated or corrupt file. */
static sg_status gz_read_exact(idx_stream *st, const char *path, void *buf, size_t n, const char *what)
{
    gzFile gz = st->gz;
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int got = gzread(gz, (uint8_t *)buf + done, chunk);
        if (got <= 0)
            break;
        done += (size_t)got;
    }
    for (size_t at = 0; at < done;) {
        uInt chunk = done - at > (1u << 30) ? (1u << 30) : (uInt)(done - at);
        st->crc = crc32(st->crc, (const Bytef *)buf + at, chunk);
        at += chunk;
    }
    st->total += done;
    if (done == n)
        return SG_OK;
    int err;
    const char *msg = gz_message(gz, path, &err);
    if (err == Z_ERRNO)
        return sg_fail(SG_ERR_IO, "%s: read error: %s", path, strerror(errno));
    if (err != Z_OK && err != Z_STREAM_END)
        return sg_fail(SG_ERR_FORMAT, "%s: corrupt gzip data (%s)", path, msg);
    return sg_fail(SG_ERR_FORMAT, "%s: file ends in the %s (%zu of %zu bytes)", path, what, done, n);
}

/* After the data the header announced, nothing may follow: neither more data
 * nor, in a gzip file, bytes after the compressed stream (zlib skips those
 * silently). A gzip file ends in the CRC-32 and length of what it holds. */
static sg_status gz_expect_end(idx_stream *st, const char *path)
{
    gzFile gz = st->gz;
    uint8_t extra;
    int got = gzread(gz, &extra, 1);
    if (got > 0)
        return sg_fail(SG_ERR_FORMAT, "%s: data length does not match the header (extra bytes follow)", path);
    int err;
    const char *msg = gz_message(gz, path, &err);
    if (err != Z_OK && err != Z_STREAM_END)
        return sg_fail(SG_ERR_FORMAT, "%s: corrupt gzip data at the end (%s)", path, msg);
    if (gzdirect(gz))
        return SG_OK;
    FILE *f = fopen(path, "rb");
    uint8_t tail[8] = {0};
    bool have = f && fseek(f, -8, SEEK_END) == 0 && fread(tail, 1, 8, f) == 8;
    if (f)
        fclose(f);
    uint32_t crc = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
    uint32_t size = (uint32_t)tail[4] | (uint32_t)tail[5] << 8 | (uint32_t)tail[6] << 16 | (uint32_t)tail[7] << 24;
    if (!have || crc != (uint32_t)st->crc || size != (uint32_t)st->total)
        return sg_fail(SG_ERR_FORMAT, "%s: bytes follow the end of the gzip stream (the file does not end with "
                       "its stream's checksum and length)", path);
    return SG_OK;
}

/* Open an IDX file (gzipped or plain: gzopen reads both) and check its magic:
 * two zero bytes, type 0x08 (unsigned byte), the number of dimensions. */
static sg_status idx_open(const char *path, int dims, uint8_t *header, idx_stream *out)
{
    *out = (idx_stream){NULL, crc32(0L, Z_NULL, 0), 0};
    int fd;
    sg_status s = sg_open_regular(path, "IDX file", &fd);
    if (s != SG_OK)
        return s;
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return sg_fail(SG_ERR_IO, "cannot open IDX file %s: %s", path, strerror(errno));
    }
    out->gz = gz;
    size_t header_bytes = 4 + 4 * (size_t)dims;
    s = gz_read_exact(out, path, header, header_bytes, "header");
    uint32_t magic = s == SG_OK ? be32(header) : 0;
    if (s == SG_OK && magic != (0x00000800u | (uint32_t)dims))
        s = sg_fail(SG_ERR_FORMAT, "%s: magic 0x%08x, expected 0x%08x (IDX, unsigned bytes, %d dimension%s)",
                    path, magic, 0x00000800u | (uint32_t)dims, dims, dims > 1 ? "s" : "");
    if (s != SG_OK) {
        gzclose(gz);
        out->gz = NULL;
    }
    return s;
}

static sg_status idx_append(sg_dataset *d, const char *images_path, const char *labels_path)
{
    uint8_t ih[16], lh[8];
    idx_stream gi = {0}, gl = {0};
    uint8_t *labels = NULL, *img = NULL, *padded = NULL;
    sg_status s = idx_open(images_path, 3, ih, &gi);
    if (s == SG_OK)
        s = idx_open(labels_path, 1, lh, &gl);
    uint32_t count = 0, rows = 0, cols = 0;
    if (s == SG_OK) {
        count = be32(ih + 4), rows = be32(ih + 8), cols = be32(ih + 12);
        uint32_t nlabels = be32(lh + 4);
        if (rows < 1 || cols < 1 || rows > IDX_MAX_SIDE || cols > IDX_MAX_SIDE)
            s = sg_fail(SG_ERR_FORMAT, "%s: images of %ux%u (sides must be 1..%d)", images_path, rows, cols,
                        IDX_MAX_SIDE);
        else if (count == 0)
            s = sg_fail(SG_ERR_FORMAT, "%s: the file holds no images", images_path);
        else if (count != nlabels)
            s = sg_fail(SG_ERR_FORMAT, "%s holds %u images but %s holds %u labels", images_path, count,
                        labels_path, nlabels);
    }
    if (s == SG_OK) {
        labels = malloc(count);
        img = malloc((size_t)rows * cols);
        padded = calloc(32 * 32, 1); /* the border stays 0, i.e. -1 after scaling */
        if (!labels || !img || !padded)
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of host memory", images_path);
    }
    if (s == SG_OK)
        s = gz_read_exact(&gl, labels_path, labels, count, "labels");
    if (s == SG_OK)
        s = gz_expect_end(&gl, labels_path);
    /* the IDX sets read here (MNIST, Fashion-MNIST) have ten classes, as CIFAR-10 */
    for (uint32_t i = 0; i < count && s == SG_OK; i++)
        if (labels[i] >= IDX_CLASSES)
            s = sg_fail(SG_ERR_FORMAT, "%s: label %u of item %u (the classes are 0..%d)", labels_path, labels[i], i,
                        IDX_CLASSES - 1);
    /* 28x28 (MNIST, Fashion-MNIST) is zero-padded to 32x32, centred, as the
     * spec's protocol says; other sizes are resized directly. */
    int pad = rows == 28 && cols == 28;
    for (uint32_t i = 0; i < count && s == SG_OK; i++) {
        char what[64];
        snprintf(what, sizeof what, "data of image %u", i);
        s = gz_read_exact(&gi, images_path, img, (size_t)rows * cols, what);
        if (s != SG_OK)
            break;
        if (pad)
            for (int y = 0; y < 28; y++)
                memcpy(padded + (y + 2) * 32 + 2, img + y * 28, 28);
        float *slot;
        s = dataset_slot(d, &slot);
        if (s == SG_OK)
            s = pad ? sg_image_from_u8(padded, 32, 32, 1, d->channels, d->size, slot)
                    : sg_image_from_u8(img, (int)cols, (int)rows, 1, d->channels, d->size, slot);
        if (s == SG_OK)
            dataset_commit(d, labels[i]);
    }
    if (s == SG_OK)
        s = gz_expect_end(&gi, images_path);
    if (gi.gz)
        gzclose(gi.gz);
    if (gl.gz)
        gzclose(gl.gz);
    free(labels);
    free(img);
    free(padded);
    return s;
}

sg_status sg_dataset_load_idx(sg_dataset *d, const char *images_path, const char *labels_path,
                              int channels, int size)
{
    sg_status s = check_load_args(d, "sg_dataset_load_idx", images_path, channels, size);
    if (s == SG_OK && !labels_path)
        s = sg_fail(SG_ERR_ARGUMENT, "sg_dataset_load_idx: labels path is NULL");
    if (s != SG_OK)
        return s;
    s = sg_dataset_init(d, channels, size);
    if (s == SG_OK)
        s = idx_append(d, images_path, labels_path);
    if (s != SG_OK)
        sg_dataset_free(d);
    return s;
}

/* dir/name.gz, or dir/name when only the uncompressed file is there. */
static sg_status idx_path(const char *dir, const char *name, char *path, size_t cap)
{
    int n = snprintf(path, cap, "%s/%s.gz", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return sg_fail(SG_ERR_ARGUMENT, "Fashion-MNIST folder name too long: %s", dir);
    if (access(path, F_OK) != 0) {
        char plain[4096];
        snprintf(plain, sizeof plain, "%s/%s", dir, name);
        if (access(plain, F_OK) == 0)
            snprintf(path, cap, "%s", plain);
    }
    return SG_OK;
}

sg_status sg_dataset_load_fashion_mnist(sg_dataset *d, const char *dir, int train, int channels,
                                        int size)
{
    sg_status s = check_load_args(d, "sg_dataset_load_fashion_mnist", dir, channels, size);
    char images[4096], labels[4096];
    const char *prefix = train ? "train" : "t10k";
    char name[64];
    if (s == SG_OK) {
        snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
        s = idx_path(dir, name, images, sizeof images);
    }
    if (s == SG_OK) {
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
        s = idx_path(dir, name, labels, sizeof labels);
    }
    if (s == SG_OK)
        s = sg_dataset_load_idx(d, images, labels, channels, size);
    return s;
}

const char *sg_dataset_fashion_mnist_default_dir(void)
{
    static const char *const files[] = {
        FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz",
        FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", FASHION_MNIST_DIR "/t10k-labels-idx1-ubyte.gz"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (access(files[i], R_OK) != 0)
            return NULL;
    return FASHION_MNIST_DIR;
}

/* ---- Folders of images ------------------------------------------------- */

typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *name)
{
    if (!sg_array_reserve((void **)&l->v, &l->cap, l->n, sizeof *l->v, 64))
        return -1;
    if (!(l->v[l->n] = strdup(name)))
        return -1;
    l->n++;
    return 0;
}

/* Byte order, so the labels do not depend on the locale. */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *name)
{
    const char *ext = strrchr(name, '.');
    return ext && (!strcasecmp(ext, ".png") || !strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg"));
}

/* Full paths of the PNG/JPEG files of `dir` and (when subdirs is not NULL) of its
 * sub-folders, each list sorted. Hidden entries (".name") are skipped. */
static sg_status list_folder(const char *dir, name_list *files, name_list *subdirs)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return sg_fail(SG_ERR_IO, "cannot open folder %s: %s", dir, strerror(errno));
    sg_status s = SG_OK;
    struct dirent *e;
    while (s == SG_OK && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "listing %s: out of host memory", dir);
            break;
        }
        struct stat st;
        int listed = 0;
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode) && subdirs)
                listed = names_push(subdirs, path) == 0 ? 1 : -1;
            else if (S_ISREG(st.st_mode) && is_image_name(e->d_name))
                listed = names_push(files, path) == 0 ? 1 : -1;
        }
        if (listed < 0)
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "listing %s: out of host memory", dir);
        free(path);
    }
    closedir(dp);
    if (files->n)
        qsort(files->v, files->n, sizeof *files->v, cmp_names);
    if (subdirs && subdirs->n)
        qsort(subdirs->v, subdirs->n, sizeof *subdirs->v, cmp_names);
    return s;
}

static sg_status folder_append_files(sg_dataset *d, const name_list *files, int32_t label)
{
    for (size_t i = 0; i < files->n; i++) {
        float *slot;
        sg_status s = dataset_slot(d, &slot);
        if (s == SG_OK)
            s = sg_image_load(files->v[i], d->channels, d->size, slot);
        if (s != SG_OK)
            return s; /* sg_image_load's message names the file */
        dataset_commit(d, label);
    }
    return SG_OK;
}

sg_status sg_dataset_load_folder(sg_dataset *d, const char *dir, int channels, int size)
{
    sg_status s = check_load_args(d, "sg_dataset_load_folder", dir, channels, size);
    if (s != SG_OK)
        return s;
    name_list files = {0}, subdirs = {0};
    s = sg_dataset_init(d, channels, size);
    if (s == SG_OK)
        s = list_folder(dir, &files, &subdirs);
    if (s == SG_OK)
        s = folder_append_files(d, &files, 0); /* files directly in the folder: label 0 */
    for (size_t c = 0; c < subdirs.n && s == SG_OK; c++) {
        name_list class_files = {0};
        s = list_folder(subdirs.v[c], &class_files, NULL);
        if (s == SG_OK)
            s = folder_append_files(d, &class_files, (int32_t)c);
        names_free(&class_files);
    }
    if (s == SG_OK && d->count == 0)
        s = sg_fail(SG_ERR_FORMAT, "no PNG or JPEG images in %s (nor in its sub-folders)", dir);
    /* the label is the sub-folder's index, so an empty sub-folder still counts */
    if (s == SG_OK && (size_t)d->num_classes < subdirs.n)
        d->num_classes = (int)subdirs.n;
    names_free(&files);
    names_free(&subdirs);
    if (s != SG_OK)
        sg_dataset_free(d);
    return s;
}

/* ---- Leave-one-class-out split ----------------------------------------- */

static sg_status append_where(sg_dataset *out, const sg_dataset *in, int32_t cls, int equal,
                              uint8_t *truth, uint8_t truth_value)
{
    size_t per = image_floats(in);
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
