/* Datasets and images: PNG/JPEG decoding and resizing, CIFAR-10 batches, IDX
 * files (gzipped and plain), folders of images, the leave-one-class-out split.
 *
 * No Vulkan device is needed: this is a plain program (t_check from the harness
 * prints one line per check). Every input is written here, in the real formats,
 * into a fresh folder under /tmp that is removed at the end. The real
 * Fashion-MNIST test set is checked when Debian's package is installed. */
#include <ftw.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "harness.h"
#include "sgad/dataset.h"

static char *tmp_root;

/* A path under the temporary folder (static rotating buffers, enough for one call). */
static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    int n = snprintf(b, sizeof bufs[0], "%s/", tmp_root);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, sizeof bufs[0] - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

static void make_dir(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", path);
        exit(1);
    }
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static size_t read_bytes(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, cap, f) : 0;
    if (f)
        fclose(f);
    return n;
}

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile gz = gzopen(path, "wb");
    if (!gz || gzwrite(gz, data, (unsigned)n) != (int)n || gzclose(gz) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static uint64_t rng_state = 12345;
static uint8_t rnd8(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint8_t)(rng_state >> 56);
}

static float scaled(int v)
{
    return (float)v / 127.5f - 1.0f;
}

/* PIL's 'L' as the spec states it: 0.299 R + 0.587 G + 0.114 B, rounded. */
static int gray_of(int r, int g, int b)
{
    return (int)floor(0.299 * r + 0.587 * g + 0.114 * b + 0.5);
}

/* |a - b| <= tol everywhere; prints the first difference when not. */
static bool near(const float *a, const float *b, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)a[i] - b[i]) <= tol)) {
            printf("  first difference at %zu: %.7g vs %.7g (tolerance %g)\n", i, a[i], b[i], tol);
            return false;
        }
    return true;
}

static bool error_names(const char *path)
{
    return strstr(sg_error_message(), path) != NULL;
}

/* ---- Writers for the test images --------------------------------------- */

/* Any PNG through libpng: color type, bit depth, optional palette/tRNS, interlace. */
typedef struct png_spec {
    int width, height, bit_depth, color_type, interlace;
    const uint8_t *rows; /* packed rows as libpng wants them */
    size_t row_bytes;
    const png_color *palette;
    int palette_size;
    const uint8_t *trans;
    int trans_size;
} png_spec;

static void write_png_spec(const char *path, const png_spec *s)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (!f || !png || !info || setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, s->width, s->height, s->bit_depth, s->color_type,
                 s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (s->palette)
        png_set_PLTE(png, info, s->palette, s->palette_size);
    if (s->trans)
        png_set_tRNS(png, info, s->trans, s->trans_size, NULL);
    png_write_info(png, info);
    png_bytep rows[64];
    for (int y = 0; y < s->height; y++)
        rows[y] = (png_bytep)s->rows + (size_t)y * s->row_bytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static void write_jpeg(const char *path, int width, int height, int channels, const uint8_t *pixels,
                       int quality)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    jpeg_stdio_dest(&c, f);
    c.image_width = width;
    c.image_height = height;
    c.input_components = channels;
    c.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)pixels + (size_t)c.next_scanline * width * channels;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
}

/* A PNG of one constant gray value (for folder tests: identifies the image). */
static void write_gray_png(const char *path, int size, uint8_t value)
{
    uint8_t px[16 * 16];
    memset(px, value, sizeof px);
    if (sg_image_write_png(path, size, size, 1, px) != SG_OK) {
        fprintf(stderr, "cannot write %s: %s\n", path, sg_error_message());
        exit(1);
    }
}

/* ---- Storage ----------------------------------------------------------- */

static void test_storage(void)
{
    sg_dataset d;
    t_check(sg_dataset_init(&d, 0, 8) == SG_ERR_ARGUMENT, "init refuses 0 channels: %s", sg_error_message());
    t_check(sg_dataset_init(&d, 3, 0) == SG_ERR_ARGUMENT, "init refuses size 0: %s", sg_error_message());
    t_check(sg_dataset_init(&d, 3, 4) == SG_OK && d.count == 0 && d.num_classes == 0 && d.channels == 3 &&
                d.size == 4, "init: empty dataset of 3x4x4");
    /* 40 images cross two growth steps (16, 32) */
    float img[48];
    bool ok = true;
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < 48; k++)
            img[k] = (float)(i * 100 + k);
        ok &= sg_dataset_append(&d, img, i % 7) == SG_OK;
    }
    for (int i = 0; i < 40 && ok; i++)
        for (int k = 0; k < 48; k++)
            ok &= d.pixels[i * 48 + k] == (float)(i * 100 + k) && d.labels[i] == i % 7;
    t_check(ok && d.count == 40 && d.num_classes == 7, "append 40 images: pixels and labels kept, 7 classes");
    t_check(sg_dataset_append(&d, img, -1) == SG_ERR_ARGUMENT && d.count == 40,
            "append refuses a negative label: %s", sg_error_message());
    sg_dataset_free(&d);
    t_check(d.pixels == NULL && d.labels == NULL && d.count == 0, "free clears the dataset");
}

/* ---- Images ------------------------------------------------------------ */

static void test_png_exact(void)
{
    /* 6x6 RGB with random bytes: loading at the same size is exact */
    uint8_t rgb[6 * 6 * 3], gray[6 * 6], rgba[6 * 6 * 4];
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = rnd8();
    for (size_t i = 0; i < sizeof gray; i++)
        gray[i] = rnd8();
    for (int i = 0; i < 36; i++) {
        memcpy(rgba + i * 4, rgb + i * 3, 3);
        rgba[i * 4 + 3] = (uint8_t)(i % 3 == 0 ? 0 : rnd8()); /* some fully transparent */
    }
    t_check(sg_image_write_png(P("rgb.png"), 6, 6, 3, rgb) == SG_OK &&
                sg_image_write_png(P("gray.png"), 6, 6, 1, gray) == SG_OK &&
                sg_image_write_png(P("rgba.png"), 6, 6, 4, rgba) == SG_OK, "write PNGs (1, 3, 4 channels)");

    float got[3 * 36], want[3 * 36];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 36; i++)
            want[c * 36 + i] = scaled(rgb[i * 3 + c]);
    t_check(sg_image_load(P("rgb.png"), 3, 6, got) == SG_OK && near(got, want, 108, 0),
            "RGB PNG -> 3x6x6 planar, x/127.5-1 exactly");
    t_check(sg_image_load(P("rgba.png"), 3, 6, got) == SG_OK && near(got, want, 108, 0),
            "RGBA PNG: alpha dropped, colors of transparent pixels kept");

    for (int i = 0; i < 36; i++)
        want[i] = scaled(gray_of(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]));
    t_check(sg_image_load(P("rgb.png"), 1, 6, got) == SG_OK && near(got, want, 36, 1.0 / 127.5 + 1e-6),
            "RGB PNG -> gray 0.299R+0.587G+0.114B (within one level)");

    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 36; i++)
            want[c * 36 + i] = scaled(gray[i]);
    t_check(sg_image_load(P("gray.png"), 1, 6, got) == SG_OK && near(got, want, 36, 0),
            "gray PNG -> 1 channel exactly");
    t_check(sg_image_load(P("gray.png"), 3, 6, got) == SG_OK && near(got, want, 108, 0),
            "gray PNG -> 3 equal channels");

    /* PIL's 'L' on the primaries: 76, 150, 29, and white stays 255 */
    static const uint8_t prim[4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    static const int prim_gray[4] = {76, 150, 29, 255};
    uint8_t prim_img[2 * 2 * 3];
    memcpy(prim_img, prim, sizeof prim_img);
    sg_image_write_png(P("prim.png"), 2, 2, 3, prim_img);
    bool ok = sg_image_load(P("prim.png"), 1, 2, got) == SG_OK;
    for (int i = 0; i < 4 && ok; i++)
        ok = got[i] == scaled(prim_gray[i]);
    t_check(ok, "gray of red, green, blue, white = 76, 150, 29, 255");
}

static void test_png_kinds(void)
{
    float got[3 * 16], want[3 * 16];

    /* palette with tRNS: expanded to RGB, transparency dropped */
    png_color pal[4] = {{10, 20, 30}, {200, 100, 0}, {0, 255, 128}, {77, 77, 77}};
    uint8_t trans[4] = {0, 128, 255, 255};
    uint8_t idx[16];
    for (int i = 0; i < 16; i++)
        idx[i] = (uint8_t)((i * 7) % 4);
    png_spec s = {4, 4, 8, PNG_COLOR_TYPE_PALETTE, 0, idx, 4, pal, 4, trans, 4};
    write_png_spec(P("palette.png"), &s);
    for (int i = 0; i < 16; i++) {
        want[i] = scaled(pal[idx[i]].red);
        want[16 + i] = scaled(pal[idx[i]].green);
        want[32 + i] = scaled(pal[idx[i]].blue);
    }
    t_check(sg_image_load(P("palette.png"), 3, 4, got) == SG_OK && near(got, want, 48, 0),
            "palette PNG with tRNS -> RGB of the palette");

    /* 16-bit RGB: v * 257 reads back as v */
    uint8_t rgb16[4 * 4 * 6], v8[48];
    for (int i = 0; i < 48; i++) {
        v8[i] = rnd8();
        rgb16[i * 2] = v8[i], rgb16[i * 2 + 1] = v8[i]; /* big-endian v*257 */
    }
    png_spec s16 = {4, 4, 16, PNG_COLOR_TYPE_RGB, 0, rgb16, 24, NULL, 0, NULL, 0};
    write_png_spec(P("rgb16.png"), &s16);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 16; i++)
            want[c * 16 + i] = scaled(v8[i * 3 + c]);
    t_check(sg_image_load(P("rgb16.png"), 3, 4, got) == SG_OK && near(got, want, 48, 0),
            "16-bit RGB PNG -> 8-bit values");

    /* 2-bit gray: 0..3 expand to 0, 85, 170, 255 */
    uint8_t g2[4]; /* 4 rows of 4 pixels, 2 bits each = 1 byte per row */
    int g2v[16];
    for (int y = 0; y < 4; y++) {
        g2[y] = 0;
        for (int x = 0; x < 4; x++) {
            g2v[y * 4 + x] = (y + x) % 4;
            g2[y] |= (uint8_t)(g2v[y * 4 + x] << (6 - 2 * x));
        }
    }
    png_spec s2 = {4, 4, 2, PNG_COLOR_TYPE_GRAY, 0, g2, 1, NULL, 0, NULL, 0};
    write_png_spec(P("gray2.png"), &s2);
    for (int i = 0; i < 16; i++)
        want[i] = scaled(g2v[i] * 85);
    t_check(sg_image_load(P("gray2.png"), 1, 4, got) == SG_OK && near(got, want, 16, 0),
            "2-bit gray PNG -> 0, 85, 170, 255");

    /* gray + alpha, interlaced */
    uint8_t ga[16 * 2];
    for (int i = 0; i < 16; i++)
        ga[i * 2] = rnd8(), ga[i * 2 + 1] = rnd8();
    png_spec sga = {4, 4, 8, PNG_COLOR_TYPE_GRAY_ALPHA, 1, ga, 8, NULL, 0, NULL, 0};
    write_png_spec(P("gray_alpha.png"), &sga);
    for (int i = 0; i < 16; i++)
        want[i] = scaled(ga[i * 2]);
    t_check(sg_image_load(P("gray_alpha.png"), 1, 4, got) == SG_OK && near(got, want, 16, 0),
            "interlaced gray+alpha PNG -> gray, alpha dropped");
}

static void test_resize(void)
{
    /* 4 -> 2 (PIL bilinear, support widened by the scale 2): per axis the
     * weights of output 0 over inputs 0..2 are 3/7, 3/7, 1/7; output 1 mirrors. */
    uint8_t px[16];
    for (int i = 0; i < 16; i++)
        px[i] = rnd8();
    sg_image_write_png(P("r4.png"), 4, 4, 1, px);
    const double w[2][4] = {{3 / 7.0, 3 / 7.0, 1 / 7.0, 0}, {0, 1 / 7.0, 3 / 7.0, 3 / 7.0}};
    float got[16], want[16];
    for (int oy = 0; oy < 2; oy++)
        for (int ox = 0; ox < 2; ox++) {
            double acc = 0;
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    acc += w[oy][y] * w[ox][x] * scaled(px[y * 4 + x]);
            want[oy * 2 + ox] = (float)acc;
        }
    t_check(sg_image_load(P("r4.png"), 1, 2, got) == SG_OK && near(got, want, 4, 1e-5),
            "downscale 4 -> 2: weights 3/7, 3/7, 1/7 per axis");

    /* 2 -> 4: half-pixel bilinear, edges clamped: rows 1, .75/.25, .25/.75, 1 */
    uint8_t p2[4] = {0, 200, 100, 255};
    sg_image_write_png(P("r2.png"), 2, 2, 1, p2);
    const double u[4][2] = {{1, 0}, {0.75, 0.25}, {0.25, 0.75}, {0, 1}};
    for (int oy = 0; oy < 4; oy++)
        for (int ox = 0; ox < 4; ox++) {
            double acc = 0;
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 2; x++)
                    acc += u[oy][y] * u[ox][x] * scaled(p2[y * 2 + x]);
            want[oy * 4 + ox] = (float)acc;
        }
    t_check(sg_image_load(P("r2.png"), 1, 4, got) == SG_OK && near(got, want, 16, 1e-5),
            "upscale 2 -> 4: half-pixel bilinear with clamped edges");

    /* a constant non-square image stays constant at any size (weights sum to 1) */
    uint8_t c[7 * 5 * 3];
    for (int i = 0; i < 35; i++)
        c[i * 3] = 40, c[i * 3 + 1] = 90, c[i * 3 + 2] = 250;
    sg_image_write_png(P("const.png"), 7, 5, 3, c);
    float big[3 * 9 * 9];
    bool ok = sg_image_load(P("const.png"), 3, 9, big) == SG_OK;
    for (int i = 0; i < 81 && ok; i++)
        ok = fabsf(big[i] - scaled(40)) < 1e-5f && fabsf(big[81 + i] - scaled(90)) < 1e-5f &&
             fabsf(big[162 + i] - scaled(250)) < 1e-5f;
    t_check(ok, "constant 7x5 image resized to 9x9 stays constant");
    ok = sg_image_load(P("const.png"), 3, 3, big) == SG_OK;
    for (int i = 0; i < 9 && ok; i++)
        ok = fabsf(big[i] - scaled(40)) < 1e-5f && fabsf(big[18 + i] - scaled(250)) < 1e-5f;
    t_check(ok, "constant 7x5 image resized to 3x3 stays constant");
}

static void test_jpeg(void)
{
    uint8_t rgb[16 * 16 * 3], gray[16 * 16];
    for (int i = 0; i < 256; i++) {
        rgb[i * 3] = 200, rgb[i * 3 + 1] = 100, rgb[i * 3 + 2] = 50;
        gray[i] = (uint8_t)(i % 16 * 16); /* a horizontal ramp */
    }
    write_jpeg(P("rgb.jpg"), 16, 16, 3, rgb, 100);
    write_jpeg(P("gray.jpeg"), 16, 16, 1, gray, 100);
    float got[3 * 256], want[3 * 256];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 256; i++)
            want[c * 256 + i] = scaled(rgb[i * 3 + c]);
    /* JPEG is lossy: quality 100 of a flat color is within a few levels */
    t_check(sg_image_load(P("rgb.jpg"), 3, 16, got) == SG_OK && near(got, want, 768, 4 / 127.5),
            "RGB JPEG decodes to its color within 4 levels");
    for (int i = 0; i < 256; i++)
        want[i] = scaled(gray[i]);
    t_check(sg_image_load(P("gray.jpeg"), 1, 16, got) == SG_OK && near(got, want, 256, 4 / 127.5),
            "gray JPEG decodes to its ramp within 4 levels");
    float g3[3 * 256];
    t_check(sg_image_load(P("gray.jpeg"), 3, 16, g3) == SG_OK && near(g3, got, 256, 0) &&
                near(g3 + 256, got, 256, 0) && near(g3 + 512, got, 256, 0),
            "gray JPEG -> 3 channels replicates the gray");
    float small[3 * 4 * 4];
    bool ok = sg_image_load(P("rgb.jpg"), 3, 4, small) == SG_OK;
    for (int i = 0; i < 16 && ok; i++)
        ok = fabsf(small[i] - scaled(200)) < 4 / 127.5f && fabsf(small[32 + i] - scaled(50)) < 4 / 127.5f;
    t_check(ok, "RGB JPEG resized 16 -> 4 keeps the color");
}

static void test_image_errors(void)
{
    float out[3 * 16 * 16];
    uint8_t buf[8192];

    /* truncated PNG */
    uint8_t big[32 * 32 * 3];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = rnd8(); /* noise: the compressed data is long */
    sg_image_write_png(P("full.png"), 32, 32, 3, big);
    size_t n = read_bytes(P("full.png"), buf, sizeof buf);
    write_bytes(P("cut.png"), buf, n / 2);
    sg_status s = sg_image_load(P("cut.png"), 3, 16, out);
    t_check(s == SG_ERR_FORMAT && error_names(P("cut.png")), "truncated PNG refused: %s", sg_error_message());

    /* PNG with a damaged IDAT (CRC mismatch) */
    memcpy(buf + n / 2, "\x00\x01\x02\x03\x04\x05\x06\x07", 8);
    write_bytes(P("bad.png"), buf, n);
    s = sg_image_load(P("bad.png"), 3, 16, out);
    t_check(s == SG_ERR_FORMAT && error_names(P("bad.png")), "damaged PNG refused: %s", sg_error_message());

    /* truncated JPEG (libjpeg would fill the rest with gray) */
    write_jpeg(P("full.jpg"), 32, 32, 3, big, 90);
    n = read_bytes(P("full.jpg"), buf, sizeof buf);
    write_bytes(P("cut.jpg"), buf, n / 2);
    s = sg_image_load(P("cut.jpg"), 3, 16, out);
    t_check(s == SG_ERR_FORMAT && error_names(P("cut.jpg")), "truncated JPEG refused: %s", sg_error_message());

    /* JPEG signature followed by garbage */
    uint8_t junk[200] = {0xFF, 0xD8, 0xFF};
    for (int i = 3; i < 200; i++)
        junk[i] = rnd8();
    write_bytes(P("junk.jpg"), junk, sizeof junk);
    s = sg_image_load(P("junk.jpg"), 3, 16, out);
    t_check(s == SG_ERR_FORMAT && error_names(P("junk.jpg")), "corrupt JPEG refused: %s", sg_error_message());

    write_bytes(P("text.png"), "not an image at all", 19);
    s = sg_image_load(P("text.png"), 3, 16, out);
    t_check(s == SG_ERR_FORMAT && error_names(P("text.png")), "a text file named .png refused: %s",
            sg_error_message());

    s = sg_image_load(P("missing.png"), 3, 16, out);
    t_check(s == SG_ERR_IO && error_names(P("missing.png")), "missing file: %s", sg_error_message());
    s = sg_image_load(P("full.png"), 2, 16, out);
    t_check(s == SG_ERR_ARGUMENT, "2 output channels refused: %s", sg_error_message());

    uint8_t px[4] = {0};
    s = sg_image_write_png(P("x.png"), 2, 1, 2, px);
    t_check(s == SG_ERR_ARGUMENT, "writing a 2-channel PNG refused: %s", sg_error_message());
    s = sg_image_write_png(P("no/such/dir/x.png"), 2, 2, 1, px);
    t_check(s == SG_ERR_IO && error_names("no/such/dir/x.png"), "writing into a missing folder: %s",
            sg_error_message());
}

/* ---- CIFAR-10 ---------------------------------------------------------- */

/* n records with labels[i] and random planes; the bytes go to rec. */
static void make_cifar(const char *path, int n, const int *labels, uint8_t *rec)
{
    for (int r = 0; r < n; r++) {
        rec[r * 3073] = (uint8_t)labels[r];
        for (int i = 1; i < 3073; i++)
            rec[r * 3073 + i] = rnd8();
    }
    write_bytes(path, rec, (size_t)n * 3073);
}

static void test_cifar(void)
{
    static uint8_t rec[3 * 3073];
    int labels[3] = {7, 0, 9};
    make_cifar(P("batch.bin"), 3, labels, rec);
    sg_dataset d;
    sg_status s = sg_dataset_load_cifar10_file(&d, P("batch.bin"), 3, 32);
    bool ok = s == SG_OK && d.count == 3 && d.channels == 3 && d.size == 32 && d.num_classes == 10;
    for (int r = 0; r < 3 && ok; r++) {
        ok = d.labels[r] == labels[r];
        for (int i = 0; i < 3072 && ok; i++)
            ok = d.pixels[(size_t)r * 3072 + i] == scaled(rec[r * 3073 + 1 + i]);
    }
    t_check(ok, "CIFAR-10 batch of 3 records: labels and R, G, B planes exact");
    sg_dataset_free(&d);

    s = sg_dataset_load_cifar10_file(&d, P("batch.bin"), 1, 32);
    ok = s == SG_OK && d.count == 3 && d.channels == 1;
    for (int r = 0; r < 3 && ok; r++)
        for (int i = 0; i < 1024 && ok; i++) {
            const uint8_t *p = rec + r * 3073 + 1;
            ok = fabsf(d.pixels[r * 1024 + i] - scaled(gray_of(p[i], p[1024 + i], p[2048 + i]))) <=
                 1 / 127.5f + 1e-6f;
        }
    t_check(ok, "CIFAR-10 as gray: 0.299R+0.587G+0.114B (within one level)");
    sg_dataset_free(&d);

    /* resized: the same as the image path on a PNG of record 1 */
    uint8_t hwc[3072];
    for (int i = 0; i < 1024; i++)
        for (int c = 0; c < 3; c++)
            hwc[i * 3 + c] = rec[3073 + 1 + c * 1024 + i];
    sg_image_write_png(P("rec1.png"), 32, 32, 3, hwc);
    float want[3 * 16 * 16];
    s = sg_dataset_load_cifar10_file(&d, P("batch.bin"), 3, 16);
    ok = s == SG_OK && d.size == 16 && sg_image_load(P("rec1.png"), 3, 16, want) == SG_OK &&
         near(d.pixels + 768, want, 768, 0);
    t_check(ok, "CIFAR-10 at size 16 equals the image loader's bilinear resize");
    sg_dataset_free(&d);

    /* malformed batches */
    write_bytes(P("short.bin"), rec, 3072);
    s = sg_dataset_load_cifar10_file(&d, P("short.bin"), 3, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("short.bin")) && d.count == 0 && d.pixels == NULL,
            "3072-byte file refused: %s", sg_error_message());
    write_bytes(P("empty.bin"), rec, 0);
    s = sg_dataset_load_cifar10_file(&d, P("empty.bin"), 3, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("empty.bin")), "empty file refused: %s", sg_error_message());
    int bad_labels[2] = {3, 10};
    make_cifar(P("label10.bin"), 2, bad_labels, rec);
    s = sg_dataset_load_cifar10_file(&d, P("label10.bin"), 3, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("label10.bin")) && strstr(sg_error_message(), "record 1"),
            "label 10 refused: %s", sg_error_message());
    s = sg_dataset_load_cifar10_file(&d, P("none.bin"), 3, 32);
    t_check(s == SG_ERR_IO && error_names(P("none.bin")), "missing batch: %s", sg_error_message());
    s = sg_dataset_load_cifar10_file(&d, P("batch.bin"), 2, 32);
    t_check(s == SG_ERR_ARGUMENT, "2 channels refused: %s", sg_error_message());

    /* the folder: data_batch_1..5 in order, then test_batch */
    make_dir(P("cifar"));
    static uint8_t recs[5][2 * 3073];
    for (int b = 0; b < 5; b++) {
        int l[2] = {b, 9 - b};
        make_cifar(P("cifar/data_batch_%d.bin", b + 1), 2, l, recs[b]);
    }
    int tl[3] = {1, 1, 8};
    make_cifar(P("cifar/test_batch.bin"), 3, tl, rec);
    s = sg_dataset_load_cifar10(&d, P("cifar"), 1, 3, 32);
    ok = s == SG_OK && d.count == 10;
    for (int b = 0; b < 5 && ok; b++)
        ok = d.labels[2 * b] == b && d.labels[2 * b + 1] == 9 - b &&
             d.pixels[(size_t)(2 * b + 1) * 3072 + 5] == scaled(recs[b][3073 + 1 + 5]);
    t_check(ok, "CIFAR-10 training folder: 5 batches in order");
    sg_dataset_free(&d);
    s = sg_dataset_load_cifar10(&d, P("cifar"), 0, 3, 32);
    t_check(s == SG_OK && d.count == 3 && d.labels[2] == 8 && d.num_classes == 10, "CIFAR-10 test batch");
    sg_dataset_free(&d);
    remove(P("cifar/data_batch_3.bin"));
    s = sg_dataset_load_cifar10(&d, P("cifar"), 1, 3, 32);
    t_check(s == SG_ERR_IO && error_names("data_batch_3.bin") && d.count == 0,
            "missing data_batch_3.bin reported: %s", sg_error_message());
}

/* ---- IDX --------------------------------------------------------------- */

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* IDX images file (header + data) into buf; returns its length. */
static size_t idx_images(uint8_t *buf, uint32_t magic, uint32_t count, uint32_t rows, uint32_t cols,
                         const uint8_t *data)
{
    be32(buf, magic), be32(buf + 4, count), be32(buf + 8, rows), be32(buf + 12, cols);
    memcpy(buf + 16, data, (size_t)count * rows * cols);
    return 16 + (size_t)count * rows * cols;
}

static size_t idx_labels(uint8_t *buf, uint32_t count, const uint8_t *labels)
{
    be32(buf, 0x00000801), be32(buf + 4, count);
    memcpy(buf + 8, labels, count);
    return 8 + count;
}

static void test_idx(void)
{
    enum { N = 5 };
    static uint8_t data[N * 28 * 28], file[16 + N * 28 * 28], lfile[8 + N];
    uint8_t labels[N] = {3, 0, 9, 3, 5};
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = rnd8() | 1; /* never 0, so the padding is recognisable */
    size_t ni = idx_images(file, 0x00000803, N, 28, 28, data);
    size_t nl = idx_labels(lfile, N, labels);
    make_dir(P("fm"));
    write_gz(P("fm/t10k-images-idx3-ubyte.gz"), file, ni);
    write_gz(P("fm/t10k-labels-idx1-ubyte.gz"), lfile, nl);

    sg_dataset d;
    sg_status s = sg_dataset_load_fashion_mnist(&d, P("fm"), 0, 1, 32);
    bool ok = s == SG_OK && d.count == N && d.channels == 1 && d.size == 32 && d.num_classes == 10;
    bool pad_ok = ok, inner_ok = ok;
    for (int n = 0; n < N && ok; n++) {
        ok = d.labels[n] == labels[n];
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                float v = d.pixels[n * 1024 + y * 32 + x];
                if (y < 2 || y >= 30 || x < 2 || x >= 30)
                    pad_ok &= v == -1.0f;
                else
                    inner_ok &= v == scaled(data[n * 784 + (y - 2) * 28 + (x - 2)]);
            }
    }
    t_check(ok, "gzipped IDX pair: 5 images, labels kept, 10 classes (max label 9)");
    t_check(pad_ok && inner_ok, "28x28 zero-padded to 32x32, centred: border -1, inside exact");
    float first[1024];
    memcpy(first, d.pixels, sizeof first);
    sg_dataset_free(&d);

    s = sg_dataset_load_fashion_mnist(&d, P("fm"), 0, 3, 32);
    t_check(s == SG_OK && near(d.pixels, first, 1024, 0) && near(d.pixels + 1024, first, 1024, 0) &&
                near(d.pixels + 2048, first, 1024, 0), "IDX as 3 channels replicates the gray");
    sg_dataset_free(&d);

    /* size 16 resizes the padded 32x32 image */
    uint8_t padded[32 * 32] = {0};
    for (int y = 0; y < 28; y++)
        memcpy(padded + (y + 2) * 32 + 2, data + y * 28, 28);
    sg_image_write_png(P("padded.png"), 32, 32, 1, padded);
    float want[16 * 16];
    s = sg_dataset_load_fashion_mnist(&d, P("fm"), 0, 1, 16);
    t_check(s == SG_OK && sg_image_load(P("padded.png"), 1, 16, want) == SG_OK &&
                near(d.pixels, want, 256, 0), "IDX at size 16 = the padded 32x32 image resized");
    sg_dataset_free(&d);

    /* uncompressed files (no .gz) are found and read too */
    write_bytes(P("fm/train-images-idx3-ubyte"), file, ni);
    write_bytes(P("fm/train-labels-idx1-ubyte"), lfile, nl);
    s = sg_dataset_load_fashion_mnist(&d, P("fm"), 1, 1, 32);
    t_check(s == SG_OK && d.count == N && near(d.pixels, first, 1024, 0), "plain IDX pair (not gzipped)");
    sg_dataset_free(&d);

    /* another geometry (not 28x28): resized directly */
    uint8_t small[2 * 6 * 8];
    for (size_t i = 0; i < sizeof small; i++)
        small[i] = rnd8();
    static uint8_t sfile[16 + 96];
    uint8_t sl[2] = {1, 0};
    write_gz(P("s-img.gz"), sfile, idx_images(sfile, 0x00000803, 2, 6, 8, small));
    write_gz(P("s-lab.gz"), lfile, idx_labels(lfile, 2, sl));
    sg_image_write_png(P("s1.png"), 8, 6, 1, small + 48);
    s = sg_dataset_load_idx(&d, P("s-img.gz"), P("s-lab.gz"), 1, 8);
    t_check(s == SG_OK && d.count == 2 && d.num_classes == 2 && sg_image_load(P("s1.png"), 1, 8, want) == SG_OK &&
                near(d.pixels + 64, want, 64, 0), "6x8 IDX images resized to 8x8 like the image loader");
    sg_dataset_free(&d);

    /* malformed pairs */
    nl = idx_labels(lfile, N, labels);
    write_gz(P("labels.gz"), lfile, nl);
    ni = idx_images(file, 0x00000802, N, 28, 28, data);
    write_gz(P("magic.gz"), file, ni);
    s = sg_dataset_load_idx(&d, P("magic.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("magic.gz")), "bad magic refused: %s", sg_error_message());
    s = sg_dataset_load_idx(&d, P("labels.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("labels.gz")), "labels file as images refused: %s",
            sg_error_message());

    ni = idx_images(file, 0x00000803, N, 28, 28, data);
    write_gz(P("images.gz"), file, ni);
    write_gz(P("cut.gz"), file, ni - 100);
    s = sg_dataset_load_idx(&d, P("cut.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("cut.gz")) && d.count == 0, "short image data refused: %s",
            sg_error_message());
    static uint8_t longer[16 + N * 784 + 1];
    memcpy(longer, file, ni);
    write_gz(P("long.gz"), longer, ni + 1);
    s = sg_dataset_load_idx(&d, P("long.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("long.gz")), "extra image data refused: %s", sg_error_message());

    write_gz(P("labels4.gz"), lfile, idx_labels(lfile, 4, labels));
    s = sg_dataset_load_idx(&d, P("images.gz"), P("labels4.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("labels4.gz")), "5 images vs 4 labels refused: %s",
            sg_error_message());
    nl = idx_labels(lfile, N, labels);
    write_gz(P("lcut.gz"), lfile, nl - 1);
    s = sg_dataset_load_idx(&d, P("images.gz"), P("lcut.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("lcut.gz")), "short label data refused: %s", sg_error_message());

    ni = idx_images(file, 0x00000803, N, 0, 28, data);
    write_gz(P("rows0.gz"), file, 16);
    s = sg_dataset_load_idx(&d, P("rows0.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("rows0.gz")), "0 rows refused: %s", sg_error_message());
    be32(file + 8, 100000);
    be32(file + 12, 100000);
    write_gz(P("huge.gz"), file, 16);
    s = sg_dataset_load_idx(&d, P("huge.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("huge.gz")), "100000x100000 images refused: %s",
            sg_error_message());

    /* a gzip stream damaged in the middle */
    static uint8_t gzbuf[16 + N * 784 + 1024];
    ni = idx_images(file, 0x00000803, N, 28, 28, data);
    write_gz(P("images.gz"), file, ni);
    size_t gn = read_bytes(P("images.gz"), gzbuf, sizeof gzbuf);
    for (size_t i = gn / 2; i < gn / 2 + 64; i++)
        gzbuf[i] ^= 0x5A;
    write_bytes(P("damaged.gz"), gzbuf, gn);
    s = sg_dataset_load_idx(&d, P("damaged.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("damaged.gz")), "damaged gzip refused: %s", sg_error_message());

    /* issue 13: bytes after the gzip stream (zlib skips them) and labels >= 10 */
    ni = idx_images(file, 0x00000803, N, 28, 28, data);
    write_gz(P("images.gz"), file, ni);
    gn = read_bytes(P("images.gz"), gzbuf, sizeof gzbuf);
    memcpy(gzbuf + gn, "trailing junk", 13);
    write_bytes(P("trailing.gz"), gzbuf, gn + 13);
    s = sg_dataset_load_idx(&d, P("trailing.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("trailing.gz")) && strstr(sg_error_message(), "follow the end"),
            "bytes after the gzip stream refused: %s", sg_error_message());
    uint8_t big_labels[N] = {3, 0, 10, 3, 5};
    write_gz(P("label10.gz"), lfile, idx_labels(lfile, N, big_labels));
    s = sg_dataset_load_idx(&d, P("images.gz"), P("label10.gz"), 1, 32);
    t_check(s == SG_ERR_FORMAT && error_names(P("label10.gz")) && strstr(sg_error_message(), "label 10"),
            "a label of 10 refused: %s", sg_error_message());
    s = sg_dataset_load_idx(&d, P("images.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_OK && d.count == N, "the same files without the faults load: %s", s ? sg_error_message() : "");
    sg_dataset_free(&d);
    /* a FIFO is refused, not waited on */
    t_check(mkfifo(P("fifo.gz"), 0600) == 0, "mkfifo");
    s = sg_dataset_load_idx(&d, P("fifo.gz"), P("labels.gz"), 1, 32);
    t_check(s == SG_ERR_IO && strstr(sg_error_message(), "a FIFO"), "a FIFO as IDX refused: %s", sg_error_message());
    s = sg_dataset_load_cifar10_file(&d, P("fifo.gz"), 3, 32);
    t_check(s == SG_ERR_IO && strstr(sg_error_message(), "a FIFO"), "a FIFO as CIFAR-10 refused: %s",
            sg_error_message());
    unlink(P("fifo.gz"));

    s = sg_dataset_load_fashion_mnist(&d, P("nowhere"), 1, 1, 32);
    t_check(s == SG_ERR_IO && error_names("train-images-idx3-ubyte"), "missing folder: %s", sg_error_message());
}

/* ---- Folders ----------------------------------------------------------- */

static void test_folder(void)
{
    /* root: loose files (label 0), classes "a_cls" (0) and "b_cls" (1); other files ignored */
    make_dir(P("imgs/b_cls"));
    make_dir(P("imgs/a_cls"));
    make_dir(P("imgs/c_empty"));
    write_gray_png(P("imgs/z_loose.png"), 8, 10);
    write_gray_png(P("imgs/b_cls/2.png"), 12, 60);
    write_gray_png(P("imgs/b_cls/10.PNG"), 8, 50); /* "10" sorts before "2" */
    uint8_t flat[8 * 8 * 3];
    for (int i = 0; i < 64; i++)
        flat[i * 3] = 30, flat[i * 3 + 1] = 30, flat[i * 3 + 2] = 30;
    write_jpeg(P("imgs/a_cls/y.jpg"), 8, 8, 3, flat, 100);
    write_gray_png(P("imgs/a_cls/x.png"), 8, 20);
    write_bytes(P("imgs/a_cls/notes.txt"), "hello", 5);
    write_bytes(P("imgs/.hidden.png"), "junk", 4);

    sg_dataset d;
    sg_status s = sg_dataset_load_folder(&d, P("imgs"), 1, 8);
    /* expected order: z_loose (0), a_cls/x (0), a_cls/y (0), b_cls/10 (1), b_cls/2 (1) */
    const int want_label[5] = {0, 0, 0, 1, 1};
    const int want_value[5] = {10, 20, 30, 50, 60};
    bool ok = s == SG_OK && d.count == 5 && d.num_classes == 3; /* c_empty still holds index 2 */
    for (int i = 0; i < 5 && ok; i++) {
        ok = d.labels[i] == want_label[i];
        for (int k = 0; k < 64 && ok; k++)
            ok = fabsf(d.pixels[i * 64 + k] - scaled(want_value[i])) <= 3 / 127.5f;
    }
    t_check(ok, "folder: loose file first, then sorted class folders and sorted files; .txt and hidden ignored"
            " (%s)", s == SG_OK ? "loaded" : sg_error_message());
    sg_dataset_free(&d);

    /* only loose files: one class */
    make_dir(P("flat"));
    write_gray_png(P("flat/a.png"), 8, 100);
    write_gray_png(P("flat/b.png"), 8, 200);
    s = sg_dataset_load_folder(&d, P("flat"), 3, 4);
    t_check(s == SG_OK && d.count == 2 && d.num_classes == 1 && d.labels[1] == 0 &&
                d.pixels[48 + 47] == scaled(200), "flat folder: 2 images, label 0, 3 channels at 4x4");
    sg_dataset_free(&d);

    make_dir(P("empty/sub"));
    write_bytes(P("empty/readme.txt"), "x", 1);
    s = sg_dataset_load_folder(&d, P("empty"), 3, 8);
    t_check(s == SG_ERR_FORMAT && strstr(sg_error_message(), "no PNG or JPEG images in") &&
                error_names(P("empty")) && d.count == 0, "folder without images refused: %s", sg_error_message());

    write_bytes(P("imgs/b_cls/broken.png"), "\x89PNG\r\n\x1a\n garbage", 17);
    s = sg_dataset_load_folder(&d, P("imgs"), 1, 8);
    t_check(s == SG_ERR_FORMAT && error_names("b_cls/broken.png") && d.count == 0 && d.pixels == NULL,
            "corrupt image in a class folder refused: %s", sg_error_message());

    s = sg_dataset_load_folder(&d, P("no-such-folder"), 1, 8);
    t_check(s == SG_ERR_IO && error_names("no-such-folder"), "missing folder: %s", sg_error_message());
}

/* ---- Leave one class out ----------------------------------------------- */

/* A 1x2x2 dataset whose image i holds id + i in every pixel. */
static void make_set(sg_dataset *d, const int *labels, int n, float id)
{
    sg_dataset_init(d, 1, 2);
    for (int i = 0; i < n; i++) {
        float img[4] = {id + i, id + i, id + i, id + i};
        sg_dataset_append(d, img, labels[i]);
    }
}

static void test_leave_one_out(void)
{
    const int trl[7] = {0, 1, 2, 1, 0, 2, 1};
    const int tel[5] = {2, 1, 0, 0, 1};
    sg_dataset train, test, tr, te;
    make_set(&train, trl, 7, 100);
    make_set(&test, tel, 5, 200);
    uint8_t *truth = NULL;
    sg_status s = sg_dataset_leave_one_out(&train, &test, 1, &tr, &te, &truth);
    /* train: normal training images in order; test: normal test images, abnormal
     * training images, abnormal test images */
    const float want_tr[4] = {100, 102, 104, 105};
    const float want_te[8] = {200, 202, 203, 101, 103, 106, 201, 204};
    const int want_te_label[8] = {2, 0, 0, 1, 1, 1, 1, 1};
    const uint8_t want_truth[8] = {0, 0, 0, 1, 1, 1, 1, 1};
    bool ok = s == SG_OK && tr.count == 4 && te.count == 8 && truth && tr.num_classes == 3 &&
              te.num_classes == 3;
    for (int i = 0; i < 4 && ok; i++)
        ok = tr.pixels[i * 4 + 3] == want_tr[i] && tr.labels[i] != 1;
    for (int i = 0; i < 8 && ok; i++)
        ok = te.pixels[i * 4] == want_te[i] && te.labels[i] == want_te_label[i] && truth[i] == want_truth[i];
    t_check(ok, "leave class 1 out: 4 normal training images; 3 normal test + 3 + 2 abnormal, truth 1 for abnormal");
    sg_dataset_free(&tr);
    sg_dataset_free(&te);
    free(truth);

    s = sg_dataset_leave_one_out(&train, &test, 3, &tr, &te, &truth);
    t_check(s == SG_ERR_ARGUMENT && truth == NULL, "abnormal class 3 of 3 refused: %s", sg_error_message());
    s = sg_dataset_leave_one_out(&train, &test, 1, &tr, &tr, &truth);
    t_check(s == SG_ERR_ARGUMENT, "the same output twice refused: %s", sg_error_message());
    sg_dataset other;
    sg_dataset_init(&other, 3, 2);
    float img[12] = {0};
    sg_dataset_append(&other, img, 0);
    s = sg_dataset_leave_one_out(&train, &other, 1, &tr, &te, &truth);
    t_check(s == SG_ERR_SHAPE, "different geometry refused: %s", sg_error_message());
    sg_dataset_free(&other);
    sg_dataset_free(&train);
    sg_dataset_free(&test);
}

/* ---- The real Fashion-MNIST (Debian's dataset-fashion-mnist) ----------- */

static void test_fashion_mnist_real(void)
{
    const char *dir = sg_dataset_fashion_mnist_default_dir();
    if (!dir)
        return; /* main() checked: not reached */
    sg_dataset d;
    sg_status s = sg_dataset_load_fashion_mnist(&d, dir, 0, 1, 32);
    if (!t_check(s == SG_OK, "load the Fashion-MNIST test set from %s (%s)", dir,
                 s == SG_OK ? "ok" : sg_error_message()))
        return;
    size_t per_class[10] = {0};
    bool labels_ok = true;
    for (size_t i = 0; i < d.count; i++) {
        if (d.labels[i] < 0 || d.labels[i] > 9)
            labels_ok = false;
        else
            per_class[d.labels[i]]++;
    }
    for (int c = 0; c < 10; c++)
        labels_ok &= per_class[c] == 1000;
    t_check(d.count == 10000 && d.num_classes == 10 && labels_ok,
            "Fashion-MNIST test set: 10000 images, labels 0..9, 1000 each");
    bool range = true, border = true;
    for (size_t i = 0; i < d.count; i++)
        for (int k = 0; k < 1024; k++) {
            float v = d.pixels[i * 1024 + k];
            range &= v >= -1.0f && v <= 1.0f;
            int y = k / 32, x = k % 32;
            if (y < 2 || y >= 30 || x < 2 || x >= 30)
                border &= v == -1.0f;
        }
    t_check(range && border, "Fashion-MNIST pixels in [-1, 1], the 2-pixel padding is -1");

    /* the spec's counts: 54,000 normal training images, 9,000 + 7,000 test */
    sg_dataset train, tr, te;
    uint8_t *truth = NULL;
    s = sg_dataset_load_fashion_mnist(&train, dir, 1, 1, 32);
    if (t_check(s == SG_OK && train.count == 60000, "load the Fashion-MNIST training set (%zu images)",
                s == SG_OK ? train.count : 0)) {
        s = sg_dataset_leave_one_out(&train, &d, 0, &tr, &te, &truth);
        size_t abnormal = 0;
        for (size_t i = 0; s == SG_OK && i < te.count; i++)
            abnormal += truth[i];
        t_check(s == SG_OK && tr.count == 54000 && te.count == 16000 && abnormal == 7000,
                "leave class 0 out: 54000 training images, 9000 + 7000 test images");
        if (s == SG_OK) {
            sg_dataset_free(&tr);
            sg_dataset_free(&te);
            free(truth);
        }
        sg_dataset_free(&train);
    }
    sg_dataset_free(&d);
}

int main(int argc, char **argv)
{
    /* the real Fashion-MNIST is a test of its own, a meson skip (77) where Debian's package is missing */
    if (argc > 1 && strcmp(argv[1], "fashion_mnist") == 0) {
        if (!sg_dataset_fashion_mnist_default_dir()) {
            printf("skipped: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)\n");
            return 77;
        }
        test_fashion_mnist_real();
        printf("dataset_fashion_mnist: %d checks, %d failed\n", t_checks, t_failures);
        return t_failures ? 1 : 0;
    }
    tmp_root = t_tmpdir("sgad-dataset");
    test_storage();
    test_png_exact();
    test_png_kinds();
    test_resize();
    test_jpeg();
    test_image_errors();
    test_cifar();
    test_idx();
    test_folder();
    test_leave_one_out();
    nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(tmp_root);
    printf("dataset: %d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
