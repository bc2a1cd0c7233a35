/* Images: PNG (libpng) and JPEG (libjpeg) decoding, conversion to the model's
 * input (planar CHW floats x/127.5 - 1), bilinear resizing, PNG writing.
 *
 * Decoders produce 8-bit interleaved pixels with 1 (gray) or 3 (RGB) channels:
 * - PNG of any bit depth and color type: palettes and low bit depths are
 *   expanded, 16-bit samples reduced to 8, and an alpha channel (or tRNS) is
 *   DROPPED, not composited, as PIL's convert('RGB') does, so the color values
 *   of transparent pixels are what the model sees.
 * - JPEG: gray or YCbCr (decoded to RGB); CMYK/YCCK JPEGs are refused. libjpeg's
 *   "corrupt data" warnings (a truncated file, a bad Huffman code) are treated as
 *   errors: libjpeg would otherwise fill the missing part with gray silently.
 * Channel conversion follows PIL: gray = 0.299 R + 0.587 G + 0.114 B rounded to
 * an integer (PIL's convert('L') fixed-point formula); gray -> RGB replicates.
 * Both decoders run under setjmp in a helper whose state lives in a context
 * struct owned by the caller, so a longjmp never leaves a local indeterminate. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "../core/error.h"
#include "file_open.h"
#include "sgad/dataset.h"

/* Images larger than this on a side are refused (a corrupt header could
 * otherwise ask for gigabytes). */
#define MAX_SIDE 16384
/* Largest output size accepted (matches the dataset loaders). */
#define MAX_SIZE 4096

/* Shared with dataset.c (the model layer has no internal header). */
sg_status sg_image_from_u8(const uint8_t *src, int width, int height, int src_channels, int channels,
                           int size, float *out);

/* ---- Resizing ---------------------------------------------------------- */

/* Bilinear resampling as PIL's Image.resize(BILINEAR): pixel centres at
 * (i + 0.5) * scale, a triangle filter whose support widens by the scale when
 * shrinking (so a downscale averages every input pixel instead of skipping
 * some), weights renormalised at the borders. For an upscale this is plain
 * half-pixel bilinear interpolation with clamped edges. */
typedef struct resample_table {
    int taps;     /* weights per output index */
    int *start;   /* first input index of each output index */
    int *count;   /* used weights of each output index */
    double *w;    /* out * taps weights */
} resample_table;

static void resample_table_free(resample_table *t)
{
    free(t->start);
    free(t->count);
    free(t->w);
}

static int resample_table_init(resample_table *t, int in, int out)
{
    double scale = (double)in / out;
    double filterscale = scale > 1.0 ? scale : 1.0;
    double support = 1.0 * filterscale; /* the triangle filter has support 1 */
    t->taps = (int)ceil(support) * 2 + 1;
    t->start = malloc(sizeof(int) * (size_t)out);
    t->count = malloc(sizeof(int) * (size_t)out);
    t->w = malloc(sizeof(double) * (size_t)out * (size_t)t->taps);
    if (!t->start || !t->count || !t->w) {
        resample_table_free(t);
        return -1;
    }
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        if (hi - lo > t->taps)
            hi = lo + t->taps;
        double *w = t->w + (size_t)i * t->taps;
        double sum = 0.0;
        for (int k = 0; k < hi - lo; k++) {
            double x = fabs((lo + k - center + 0.5) / filterscale);
            w[k] = x < 1.0 ? 1.0 - x : 0.0;
            sum += w[k];
        }
        for (int k = 0; k < hi - lo; k++)
            w[k] = sum > 0.0 ? w[k] / sum : 0.0;
        t->start[i] = lo;
        t->count[i] = hi - lo;
    }
    return 0;
}

/* Resize c planes of ih x iw floats to oh x ow (separable: rows, then columns). */
static sg_status resize_planes(const float *in, int c, int ih, int iw, float *out, int oh, int ow)
{
    resample_table th = {0}, tv = {0};
    float *tmp = malloc(sizeof(float) * (size_t)c * ih * ow);
    if (!tmp || resample_table_init(&th, iw, ow) || resample_table_init(&tv, ih, oh)) {
        free(tmp);
        resample_table_free(&th);
        resample_table_free(&tv);
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "image resize: out of host memory");
    }
    for (int p = 0; p < c; p++) {
        const float *src = in + (size_t)p * ih * iw;
        float *mid = tmp + (size_t)p * ih * ow;
        for (int y = 0; y < ih; y++)
            for (int x = 0; x < ow; x++) {
                const double *w = th.w + (size_t)x * th.taps;
                double acc = 0.0;
                for (int k = 0; k < th.count[x]; k++)
                    acc += w[k] * src[(size_t)y * iw + th.start[x] + k];
                mid[(size_t)y * ow + x] = (float)acc;
            }
        float *dst = out + (size_t)p * oh * ow;
        for (int y = 0; y < oh; y++) {
            const double *w = tv.w + (size_t)y * tv.taps;
            for (int x = 0; x < ow; x++) {
                double acc = 0.0;
                for (int k = 0; k < tv.count[y]; k++)
                    acc += w[k] * mid[(size_t)(tv.start[y] + k) * ow + x];
                dst[(size_t)y * ow + x] = (float)acc;
            }
        }
    }
    free(tmp);
    resample_table_free(&th);
    resample_table_free(&tv);
    return SG_OK;
}

/* ---- Conversion -------------------------------------------------------- */

/* PIL's convert('L'): 0.299 R + 0.587 G + 0.114 B in 16-bit fixed point, rounded. */
static inline uint8_t gray_of(const uint8_t *rgb)
{
    return (uint8_t)((rgb[0] * 19595u + rgb[1] * 38470u + rgb[2] * 7471u + 0x8000u) >> 16);
}

/* Interleaved 8-bit pixels (1 or 3 channels) -> `channels` planes of size x size
 * floats in [-1, 1]: channel conversion on the bytes, then scaling, then resize. */
sg_status sg_image_from_u8(const uint8_t *src, int width, int height, int src_channels, int channels,
                           int size, float *out)
{
    if ((src_channels != 1 && src_channels != 3) || (channels != 1 && channels != 3) || width < 1 ||
        height < 1 || size < 1)
        return sg_fail(SG_ERR_ARGUMENT, "image conversion: %dx%dx%d -> %d channels of %dx%d unsupported",
                       width, height, src_channels, channels, size, size);
    int direct = width == size && height == size;
    size_t plane = (size_t)width * height;
    float *planes = direct ? out : malloc(sizeof(float) * plane * channels);
    if (!planes)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "image conversion: out of host memory");
    for (size_t i = 0; i < plane; i++) {
        const uint8_t *px = src + i * src_channels;
        for (int c = 0; c < channels; c++) {
            uint8_t v;
            if (src_channels == channels)
                v = px[c];
            else if (channels == 1)
                v = gray_of(px);
            else
                v = px[0];
            planes[(size_t)c * plane + i] = (float)v / 127.5f - 1.0f;
        }
    }
    if (direct)
        return SG_OK;
    sg_status s = resize_planes(planes, channels, height, width, out, size, size);
    free(planes);
    return s;
}

/* ---- PNG --------------------------------------------------------------- */

typedef struct png_ctx {
    FILE *f;
    png_structp png;
    png_infop info;
    uint8_t *pixels;
    png_bytep *rows;
    int width, height, channels;
    char msg[256];
} png_ctx;

static void png_error_fn(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* Warnings (e.g. about color profiles) do not affect the pixels: ignore them. */
static void png_warning_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int png_decode(png_ctx *c)
{
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    png_init_io(c->png, c->f);
    png_set_sig_bytes(c->png, 8); /* the caller has read the signature */
    png_set_user_limits(c->png, MAX_SIDE, MAX_SIDE);
    png_read_info(c->png, c->info);
    png_set_expand(c->png);      /* palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha */
    png_set_strip_16(c->png);    /* 16-bit samples -> 8 */
    png_set_strip_alpha(c->png); /* drop alpha (see the top of the file) */
    png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    c->width = (int)png_get_image_width(c->png, c->info);
    c->height = (int)png_get_image_height(c->png, c->info);
    c->channels = png_get_channels(c->png, c->info);
    if (c->channels != 1 && c->channels != 3)
        png_error(c->png, "unexpected channel count after conversion");
    if (png_get_rowbytes(c->png, c->info) != (size_t)c->width * c->channels)
        png_error(c->png, "unexpected row size after conversion");
    c->pixels = malloc((size_t)c->width * c->height * c->channels);
    c->rows = malloc(sizeof(png_bytep) * (size_t)c->height);
    if (!c->pixels || !c->rows)
        png_error(c->png, "out of host memory");
    for (int y = 0; y < c->height; y++)
        c->rows[y] = c->pixels + (size_t)y * c->width * c->channels;
    png_read_image(c->png, c->rows);
    png_read_end(c->png, NULL);
    return 0;
}

/* ---- JPEG -------------------------------------------------------------- */

typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    int warned;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

typedef struct jpeg_ctx {
    struct jpeg_decompress_struct cinfo;
    jpeg_err err;
    FILE *f;
    uint8_t *pixels;
    int width, height, channels;
} jpeg_ctx;

static void jpeg_error_exit_fn(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    cinfo->err->format_message(cinfo, e->msg);
    longjmp(e->jmp, 1);
}

/* Level -1 is a warning about corrupt data: keep the first one and fail after
 * decoding. Extraneous bytes before a marker are skipped without loss, so they
 * are accepted. Trace messages (level >= 0) are ignored. */
static void jpeg_emit_fn(j_common_ptr cinfo, int level)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    if (level >= 0 || cinfo->err->msg_code == JWRN_EXTRANEOUS_DATA)
        return;
    if (!e->warned)
        cinfo->err->format_message(cinfo, e->msg);
    e->warned = 1;
}

static int jpeg_decode(jpeg_ctx *c)
{
    if (setjmp(c->err.jmp))
        return -1;
    jpeg_create_decompress(&c->cinfo);
    jpeg_stdio_src(&c->cinfo, c->f);
    jpeg_read_header(&c->cinfo, TRUE);
    switch (c->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: c->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK:
        snprintf(c->err.msg, sizeof c->err.msg, "CMYK JPEG images are not supported");
        return -1;
    default: c->cinfo.out_color_space = JCS_RGB; break;
    }
    if (c->cinfo.image_width > MAX_SIDE || c->cinfo.image_height > MAX_SIDE) {
        snprintf(c->err.msg, sizeof c->err.msg, "image of %ux%u is larger than %d on a side",
                 (unsigned)c->cinfo.image_width, (unsigned)c->cinfo.image_height, MAX_SIDE);
        return -1;
    }
    jpeg_start_decompress(&c->cinfo);
    c->width = (int)c->cinfo.output_width;
    c->height = (int)c->cinfo.output_height;
    c->channels = c->cinfo.output_components;
    if (c->channels != 1 && c->channels != 3) {
        snprintf(c->err.msg, sizeof c->err.msg, "unexpected %d components", c->channels);
        return -1;
    }
    c->pixels = malloc((size_t)c->width * c->height * c->channels);
    if (!c->pixels) {
        snprintf(c->err.msg, sizeof c->err.msg, "out of host memory");
        return -1;
    }
    while (c->cinfo.output_scanline < c->cinfo.output_height) {
        JSAMPROW row = c->pixels + (size_t)c->cinfo.output_scanline * c->width * c->channels;
        jpeg_read_scanlines(&c->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&c->cinfo);
    return c->err.warned ? -1 : 0;
}

/* ---- Loading ----------------------------------------------------------- */

sg_status sg_image_load(const char *path, int channels, int size, float *out)
{
    if (!path || !out || (channels != 1 && channels != 3) || size < 1 || size > MAX_SIZE)
        return sg_fail(SG_ERR_ARGUMENT,
                       "sg_image_load: need a path, an output, channels 1 or 3 and a size in 1..%d "
                       "(got channels %d, size %d)", MAX_SIZE, channels, size);
    int fd;
    sg_status opened = sg_open_regular(path, "image", &fd);
    if (opened != SG_OK)
        return opened;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return sg_fail(SG_ERR_IO, "cannot open image %s: %s", path, strerror(errno));
    }
    uint8_t sig[8];
    size_t got = fread(sig, 1, sizeof sig, f);
    sg_status s = SG_OK;
    uint8_t *pixels = NULL;
    int w = 0, h = 0, ch = 0;
    if (got == 8 && png_sig_cmp(sig, 0, 8) == 0) {
        png_ctx c = {.f = f};
        c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_error_fn, png_warning_fn);
        c.info = c.png ? png_create_info_struct(c.png) : NULL;
        if (!c.png || !c.info)
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: cannot create a PNG decoder", path);
        else if (png_decode(&c) != 0)
            s = sg_fail(SG_ERR_FORMAT, "%s: corrupt PNG image (%s)", path, c.msg);
        png_destroy_read_struct(c.png ? &c.png : NULL, c.info ? &c.info : NULL, NULL);
        free(c.rows);
        pixels = c.pixels;
        w = c.width, h = c.height, ch = c.channels;
    } else if (got >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) {
        rewind(f);
        /* the context holds a jmp_buf and libjpeg's state: keep it off the stack */
        jpeg_ctx *c = calloc(1, sizeof *c);
        if (!c) {
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: out of host memory", path);
        } else {
            c->f = f;
            c->cinfo.err = jpeg_std_error(&c->err.pub);
            c->err.pub.error_exit = jpeg_error_exit_fn;
            c->err.pub.emit_message = jpeg_emit_fn;
            if (jpeg_decode(c) != 0)
                s = sg_fail(SG_ERR_FORMAT, "%s: corrupt JPEG image (%s)", path, c->err.msg);
            jpeg_destroy_decompress(&c->cinfo);
            pixels = c->pixels;
            w = c->width, h = c->height, ch = c->channels;
            free(c);
        }
    } else {
        s = sg_fail(SG_ERR_FORMAT, "%s: not a PNG or JPEG image", path);
    }
    fclose(f);
    if (s == SG_OK)
        s = sg_image_from_u8(pixels, w, h, ch, channels, size, out);
    free(pixels);
    return s;
}

/* ---- Writing ----------------------------------------------------------- */

typedef struct png_wctx {
    FILE *f;
    png_structp png;
    png_infop info;
    int width, height, channels;
    const uint8_t *pixels;
    char msg[256];
} png_wctx;

static void png_werror_fn(png_structp png, png_const_charp msg)
{
    png_wctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static int png_encode(png_wctx *c)
{
    static const int color_type[5] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB,
                                      PNG_COLOR_TYPE_RGB_ALPHA};
    if (setjmp(png_jmpbuf(c->png)))
        return -1;
    png_init_io(c->png, c->f);
    png_set_IHDR(c->png, c->info, (png_uint_32)c->width, (png_uint_32)c->height, 8,
                 color_type[c->channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(c->png, c->info);
    for (int y = 0; y < c->height; y++)
        png_write_row(c->png, c->pixels + (size_t)y * c->width * c->channels);
    png_write_end(c->png, NULL);
    return 0;
}

sg_status sg_image_write_png(const char *path, int width, int height, int channels,
                             const uint8_t *pixels)
{
    if (!path || !pixels || width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE ||
        (channels != 1 && channels != 3 && channels != 4))
        return sg_fail(SG_ERR_ARGUMENT,
                       "sg_image_write_png: need a path, pixels, 1..%d x 1..%d and channels 1, 3 or 4 "
                       "(got %dx%d, %d channels)", MAX_SIDE, MAX_SIDE, width, height, channels);
    FILE *f = fopen(path, "wb");
    if (!f)
        return sg_fail(SG_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    png_wctx c = {.f = f, .width = width, .height = height, .channels = channels, .pixels = pixels};
    sg_status s = SG_OK;
    c.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &c, png_werror_fn, png_warning_fn);
    c.info = c.png ? png_create_info_struct(c.png) : NULL;
    if (!c.png || !c.info)
        s = sg_fail(SG_ERR_OUT_OF_MEMORY, "%s: cannot create a PNG encoder", path);
    else if (png_encode(&c) != 0)
        s = sg_fail(SG_ERR_IO, "cannot write PNG %s: %s", path, c.msg);
    png_destroy_write_struct(c.png ? &c.png : NULL, c.info ? &c.info : NULL);
    if (fclose(f) != 0 && s == SG_OK)
        s = sg_fail(SG_ERR_IO, "cannot write PNG %s: %s", path, strerror(errno));
    if (s != SG_OK)
        remove(path); /* no half-written file left behind */
    return s;
}
