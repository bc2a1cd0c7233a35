/* IDX files (MNIST, Fashion-MNIST), gzip-compressed or not. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "../core/error.h"
#include "dataset_internal.h"
#include "file_open.h"

#define IDX_MAX_SIDE 4096      /* largest IDX image side accepted */
#define IDX_CLASSES 10         /* MNIST, Fashion-MNIST */
#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

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
        s = sg_dataset_slot(d, &slot);
        if (s == SG_OK)
            s = pad ? sg_image_from_u8(padded, 32, 32, 1, d->channels, d->size, slot)
                    : sg_image_from_u8(img, (int)cols, (int)rows, 1, d->channels, d->size, slot);
        if (s == SG_OK)
            sg_dataset_commit(d, labels[i]);
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
    sg_status s = sg_dataset_check_load_args(d, "sg_dataset_load_idx", images_path, channels, size);
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
    sg_status s = sg_dataset_check_load_args(d, "sg_dataset_load_fashion_mnist", dir, channels, size);
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

