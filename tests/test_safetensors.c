/* safetensors: round trips, the bytes of a known-good file, every validation
 * error on a hand-made file, and atomic writing (old file untouched on failure,
 * fully replaced on success). Needs no Vulkan device, so no harness device. */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "harness.h"
#include "sgad/safetensors.h"

static int failures;
static char *dir; /* a fresh folder under $TMPDIR */

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", cond ? "ok" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!cond)
        failures++;
}

static const char *in_dir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static void write_raw(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* Whole file into a malloc'd buffer; NULL if it cannot be read. */
static uint8_t *read_raw(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, r;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
        }
        r = fread(buf + len, 1, cap - len, f);
        len += r;
    } while (r > 0);
    fclose(f);
    *n = len;
    return buf;
}

static int same_file_bytes(const char *path, const uint8_t *bytes, size_t n)
{
    size_t len;
    uint8_t *got = read_raw(path, &len);
    int same = got && len == n && memcmp(got, bytes, n) == 0;
    free(got);
    return same;
}

/* A file made of the 8-byte length of `json`, `json` itself and data_len bytes
 * of `data` (or 0, 1, 2, ... when data is NULL). */
static void make_file_with(const char *path, const char *json, const uint8_t *data, size_t data_len)
{
    size_t hl = strlen(json);
    size_t n = 8 + hl + data_len;
    uint8_t *buf = malloc(n);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, json, hl);
    for (size_t i = 0; i < data_len; i++)
        buf[8 + hl + i] = data ? data[i] : (uint8_t)i;
    write_raw(path, buf, n);
    free(buf);
}

static void make_file(const char *path, const char *json, size_t data_len)
{
    make_file_with(path, json, NULL, data_len);
}

/* The header length stored in a file's first 8 bytes (0 if unreadable). */
static uint64_t header_length(const char *path)
{
    size_t len;
    uint8_t *raw = read_raw(path, &len);
    uint64_t hl = 0;
    for (int i = 7; i >= 0 && raw && len >= 8; i--)
        hl = hl << 8 | raw[i];
    free(raw);
    return hl;
}

/* Temporary files left behind in the test folder. */
static int leftover_temporaries(void)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, ".tmp-") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void expect_read_error(const char *what, const char *path, sg_status want, const char *needle)
{
    sg_st_file f;
    memset(&f, 0xab, sizeof f); /* must come back emptied */
    sg_status s = sg_st_read(path, &f);
    const char *msg = sg_error_message();
    check(s == want && strstr(msg, path) && strstr(msg, needle) && f.count == 0 && f.tensors == NULL &&
          f.meta_count == 0,
          "%s refused (status %d, want %d): %s", what, (int)s, (int)want, msg);
    sg_st_free(&f);
}

static void expect_format(const char *what, const char *json, size_t data_len, const char *needle)
{
    char path[256];
    make_file(in_dir(path, sizeof path, "bad.safetensors"), json, data_len);
    expect_read_error(what, path, SG_ERR_FORMAT, needle);
}

static sg_st_tensor tensor(const char *name, sg_st_dtype dtype, int ndim, const int64_t *shape, void *data)
{
    sg_st_tensor t = {.name = (char *)name, .dtype = dtype, .ndim = ndim, .data = data};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    t.nbytes = n * sg_st_dtype_size(dtype);
    return t;
}

static int same_tensor(const sg_st_tensor *got, const sg_st_tensor *want)
{
    if (!got || strcmp(got->name, want->name) != 0 || got->dtype != want->dtype || got->ndim != want->ndim ||
        got->nbytes != want->nbytes || !got->data)
        return 0;
    for (int i = 0; i < want->ndim; i++)
        if (got->shape[i] != want->shape[i])
            return 0;
    return want->nbytes == 0 || memcmp(got->data, want->data, want->nbytes) == 0;
}

static void test_dtype_sizes(void)
{
    check(sg_st_dtype_size(SG_ST_F32) == 4 && sg_st_dtype_size(SG_ST_I64) == 8 && sg_st_dtype_size(SG_ST_F64) == 8 &&
          sg_st_dtype_size(SG_ST_I32) == 4 && sg_st_dtype_size(SG_ST_U8) == 1 &&
          sg_st_dtype_size((sg_st_dtype)99) == 0, "dtype sizes");
}

static void test_round_trip(void)
{
    float f32[6] = {1.5f, -2.25f, 0.0f, 3e-7f, -1e30f, 42.0f};
    int64_t i64[4] = {-1, INT64_MAX, INT64_MIN, 7};
    double f64 = 3.141592653589793;
    int32_t i32[6] = {1, -2, 3, INT32_MAX, INT32_MIN, 0};
    uint8_t u8[5] = {0, 1, 127, 128, 255};
    const int64_t s23[] = {2, 3}, s4[] = {4}, s312[] = {3, 1, 2}, s5[] = {5}, s04[] = {0, 4};
    const int64_t s8[] = {1, 1, 1, 1, 1, 1, 1, 6};
    sg_st_tensor ts[] = {
        tensor("g.c1.weight", SG_ST_F32, 2, s23, f32),
        tensor("steps", SG_ST_I64, 1, s4, i64),
        tensor("scalar", SG_ST_F64, 0, NULL, &f64),
        tensor("ünï/cøde \"q\"", SG_ST_I32, 3, s312, i32),
        tensor("bytes", SG_ST_U8, 1, s5, u8),
        tensor("empty", SG_ST_F32, 2, s04, NULL),
        tensor("eight.dims", SG_ST_F32, 8, s8, f32),
    };
    size_t count = sizeof ts / sizeof ts[0];
    const char *keys[] = {"format", "note"};
    const char *values[] = {"pt", "héllo \"quoted\"\n\ttab"};
    char path[256];
    in_dir(path, sizeof path, "round.safetensors");

    sg_status s = sg_st_write(path, ts, count, keys, values, 2);
    check(s == SG_OK, "write %zu tensors of all dtypes (scalar, empty, 8-dim) and metadata: %s", count,
          s ? sg_error_message() : "");
    struct stat st = {0};
    int stat_ok = stat(path, &st) == 0;
    check(stat_ok && (st.st_mode & 0777) == 0644, "new file has mode 0644 under umask 022 (%o)",
          (unsigned)(st.st_mode & 0777));

    sg_st_file f;
    s = sg_st_read(path, &f);
    check(s == SG_OK && f.count == count && f.meta_count == 2, "read back: %zu tensors, %zu metadata entries %s",
          f.count, f.meta_count, s ? sg_error_message() : "");
    for (size_t i = 0; i < count; i++)
        check(same_tensor(sg_st_find(&f, ts[i].name), &ts[i]), "tensor '%s' round-trips (dtype, shape, bytes)",
              ts[i].name);
    check(sg_st_find(&f, "empty") && sg_st_find(&f, "empty")->data != NULL, "an empty tensor's data is not NULL");
    check(sg_st_meta(&f, "format") && strcmp(sg_st_meta(&f, "format"), "pt") == 0 && sg_st_meta(&f, "note") &&
          strcmp(sg_st_meta(&f, "note"), values[1]) == 0, "metadata round-trips (with quotes and control chars)");
    check(sg_st_find(&f, "missing") == NULL && sg_st_meta(&f, "missing") == NULL && sg_st_find(NULL, "x") == NULL &&
          sg_st_meta(NULL, "x") == NULL, "missing names give NULL");
    sg_st_free(&f);
    check(f.count == 0 && f.tensors == NULL && f.meta_count == 0, "sg_st_free empties the struct");
    sg_st_free(&f); /* a second free is harmless */

    /* Layout: aligned data section, tensors contiguous in the given order. */
    size_t len;
    uint8_t *raw = read_raw(path, &len);
    uint64_t hl = 0;
    for (int i = 7; i >= 0 && raw && len >= 8; i--)
        hl = hl << 8 | raw[i];
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += ts[i].nbytes;
    int layout = raw && (8 + hl) % 8 == 0 && len == 8 + hl + total && raw[8] == '{';
    size_t pos = 8 + hl;
    for (size_t i = 0; layout && i < count; pos += ts[i].nbytes, i++)
        layout = ts[i].nbytes == 0 || memcmp(raw + pos, ts[i].data, ts[i].nbytes) == 0;
    size_t last = 8 + hl - 1;
    while (layout && raw[last] == ' ')
        last--;
    layout = layout && raw[last] == '}';
    check(layout, "file layout: header %llu bytes (8-byte aligned data, space padding), data contiguous in order",
          (unsigned long long)hl);
    free(raw);

    /* No tensors, no metadata: still a valid file. */
    s = sg_st_write(path, NULL, 0, NULL, NULL, 0);
    s = s == SG_OK ? sg_st_read(path, &f) : s;
    check(s == SG_OK && f.count == 0 && f.meta_count == 0, "a file with no tensors round-trips");
    sg_st_free(&f);
    check(leftover_temporaries() == 0, "no temporary files left after writing");
}

/* The bytes Python's safetensors writes for
 * save_file({"step": tensor(7), "weight": tensor([[0.5, -1.5]], float64), "bias": tensor([1., -2.])},
 *           metadata={"format": "pt"}): compact JSON, "__metadata__" first, spaces to a multiple of 8. */
static const char known_header[] =
    "{\"__metadata__\":{\"format\":\"pt\"},"
    "\"step\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
    "\"weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[8,24]},"
    "\"bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}}  ";
static const uint8_t known_length[8] = {0xd0, 0, 0, 0, 0, 0, 0, 0}; /* 208 */
static const uint8_t known_data[32] = {
    0x07, 0, 0, 0, 0, 0, 0, 0,                     /* I64 7 */
    0, 0, 0, 0, 0, 0, 0xe0, 0x3f,                  /* F64 0.5 */
    0, 0, 0, 0, 0, 0, 0xf8, 0xbf,                  /* F64 -1.5 */
    0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0,               /* F32 1.0, -2.0 */
};

static void test_known_file(void)
{
    char path[256];
    in_dir(path, sizeof path, "known.safetensors");
    uint8_t bytes[8 + sizeof known_header - 1 + sizeof known_data];
    memcpy(bytes, known_length, 8);
    memcpy(bytes + 8, known_header, sizeof known_header - 1);
    memcpy(bytes + 8 + sizeof known_header - 1, known_data, sizeof known_data);
    check(sizeof known_header - 1 == 208, "the hand-made header is 208 bytes");
    write_raw(path, bytes, sizeof bytes);

    sg_st_file f;
    sg_status s = sg_st_read(path, &f);
    check(s == SG_OK && f.count == 3, "read a known-good file %s", s ? sg_error_message() : "");
    const sg_st_tensor *step = sg_st_find(&f, "step"), *w = sg_st_find(&f, "weight"), *b = sg_st_find(&f, "bias");
    check(step && step->dtype == SG_ST_I64 && step->ndim == 0 && step->nbytes == 8 &&
          *(const int64_t *)step->data == 7, "known file: I64 scalar 'step' = 7");
    check(w && w->dtype == SG_ST_F64 && w->ndim == 2 && w->shape[0] == 1 && w->shape[1] == 2 &&
          ((const double *)w->data)[0] == 0.5 && ((const double *)w->data)[1] == -1.5,
          "known file: F64 [1, 2] 'weight' = [[0.5, -1.5]]");
    check(b && b->dtype == SG_ST_F32 && b->ndim == 1 && b->shape[0] == 2 && ((const float *)b->data)[0] == 1.0f &&
          ((const float *)b->data)[1] == -2.0f, "known file: F32 [2] 'bias' = [1, -2]");
    check(sg_st_meta(&f, "format") && strcmp(sg_st_meta(&f, "format"), "pt") == 0, "known file: metadata format=pt");
    sg_st_free(&f);

    /* Writing the same tensors in the same order gives the same bytes. */
    int64_t seven = 7;
    double wv[2] = {0.5, -1.5};
    float bv[2] = {1.0f, -2.0f};
    const int64_t s12[] = {1, 2}, s2[] = {2};
    sg_st_tensor ts[3] = {tensor("step", SG_ST_I64, 0, NULL, &seven), tensor("weight", SG_ST_F64, 2, s12, wv),
                          tensor("bias", SG_ST_F32, 1, s2, bv)};
    char out[256];
    in_dir(out, sizeof out, "known-rewritten.safetensors");
    const char *k = "format", *v = "pt";
    s = sg_st_write(out, ts, 3, &k, &v, 1);
    check(s == SG_OK && same_file_bytes(out, bytes, sizeof bytes), "our writer reproduces the known file byte for byte");

    /* Key order is free: tensors sorted by name, fields shuffled, offsets out of name order. */
    make_file_with(path,
                   "{\"bias\":{\"data_offsets\":[24,32],\"shape\":[2],\"dtype\":\"F32\"},"
                   "\"step\":{\"shape\":[],\"data_offsets\":[0,8],\"dtype\":\"I64\"},"
                   "\"weight\":{\"dtype\":\"F64\",\"data_offsets\":[8,24],\"shape\":[1,2]},"
                   "\"__metadata__\":{\"format\":\"pt\"}}",
                   known_data, sizeof known_data);
    s = sg_st_read(path, &f);
    check(s == SG_OK && f.count == 3 && same_tensor(sg_st_find(&f, "weight"), &ts[1]) &&
          same_tensor(sg_st_find(&f, "step"), &ts[0]) && same_tensor(sg_st_find(&f, "bias"), &ts[2]),
          "sorted keys and shuffled fields read the same %s", s ? sg_error_message() : "");
    sg_st_free(&f);
}

#define ENTRY(name, dtype, shape, offsets) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

static void test_validation(void)
{
    char path[256];
    in_dir(path, sizeof path, "bad.safetensors");

    write_raw(path, "abcde", 5);
    expect_read_error("a 5-byte file", path, SG_ERR_FORMAT, "shorter than the 8-byte header length");
    write_raw(path, "", 0);
    expect_read_error("an empty file", path, SG_ERR_FORMAT, "shorter than the 8-byte header length");

    uint8_t big[10] = {0xe8, 0x03, 0, 0, 0, 0, 0, 0, '{', '}'}; /* header length 1000 */
    write_raw(path, big, sizeof big);
    expect_read_error("header length past the end of the file", path, SG_ERR_FORMAT, "larger than the rest");
    uint8_t absurd[10] = {0x00, 0xc2, 0xeb, 0x0b, 0, 0, 0, 0, '{', '}'}; /* 200 000 000 */
    write_raw(path, absurd, sizeof absurd);
    expect_read_error("a 200 MB header length", path, SG_ERR_FORMAT, "exceeds the 100000000-byte limit");
    uint8_t huge[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    write_raw(path, huge, sizeof huge);
    expect_read_error("a 2^64-1 header length", path, SG_ERR_FORMAT, "exceeds");

    expect_format("truncated JSON", "{\"a\":{\"dtype\":\"F32\",", 0, "not valid JSON");
    expect_format("trailing garbage", "{} x", 0, "not valid JSON");
    expect_format("a JSON list", "[1, 2]", 0, "not a JSON object");
    expect_format("a JSON string", "\"abc\"", 0, "not a JSON object");
    expect_format("an empty header", "", 0, "not a JSON object");
    expect_format("a blank header", "        ", 0, "not a JSON object");
    expect_format("non-UTF-8 header", "{\"\xff\xfe\":{}}", 0, "not valid UTF-8");
    {
        /* A real NUL inside the header bytes. */
        uint8_t nul[16] = {8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', 0, ' ', ' ', ' ', ' '};
        write_raw(path, nul, sizeof nul);
        expect_read_error("a NUL byte inside the header", path, SG_ERR_FORMAT, "not valid UTF-8");
    }

    expect_format("entry not an object", "{\"a\":5}", 0, "tensor 'a': entry is not a JSON object");
    expect_format("unknown dtype", "{" ENTRY("a", "F16", "[2]", "[0,4]") "}", 4, "tensor 'a': unsupported dtype 'F16'");
    expect_format("lower-case dtype", "{" ENTRY("a", "f32", "[1]", "[0,4]") "}", 4, "unsupported dtype 'f32'");
    expect_format("dtype not a string", "{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "\"dtype\" is missing or not a string");
    expect_format("dtype missing", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" is missing");

    expect_format("shape not a list", "{" ENTRY("a", "F32", "3", "[0,12]") "}", 12,
                  "\"shape\" is missing or not a list");
    expect_format("shape missing", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "\"shape\" is missing");
    expect_format("negative dimension", "{" ENTRY("a", "F32", "[-1]", "[0,0]") "}", 0,
                  "shape is not a list of non-negative integers");
    expect_format("float dimension", "{" ENTRY("a", "F32", "[2.0]", "[0,8]") "}", 8,
                  "shape is not a list of non-negative integers");
    expect_format("string dimension", "{" ENTRY("a", "F32", "[\"2\"]", "[0,8]") "}", 8,
                  "shape is not a list of non-negative integers");
    /* json-glib wraps integers past INT64_MAX (here to -1); whichever way it
     * takes them, the file must be refused. */
    expect_format("dimension past INT64_MAX", "{" ENTRY("a", "F32", "[99999999999999999999]", "[0,8]") "}", 8, "");
    expect_format("9 dimensions", "{" ENTRY("a", "U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") "}", 1,
                  "shape has 9 dimensions; at most 8");
    expect_format("shape overflowing 64 bits", "{" ENTRY("a", "F32", "[4294967296,4294967296,4294967296]", "[0,8]") "}",
                  8, "shape [4294967296, 4294967296, 4294967296] x F32 is too large");

    const char *not_two = "\"data_offsets\" is missing or not a list of 2 non-negative integers";
    expect_format("one offset", "{" ENTRY("a", "F32", "[1]", "[0]") "}", 4, not_two);
    expect_format("three offsets", "{" ENTRY("a", "F32", "[1]", "[0,4,8]") "}", 8, not_two);
    expect_format("string offset", "{" ENTRY("a", "F32", "[1]", "[\"0\",4]") "}", 4, not_two);
    expect_format("float offsets", "{" ENTRY("a", "F32", "[1]", "[0.0,4.0]") "}", 4, not_two);
    expect_format("negative offset", "{" ENTRY("a", "F32", "[1]", "[-4,0]") "}", 4, not_two);
    expect_format("offsets not a list", "{" ENTRY("a", "F32", "[1]", "\"0,4\"") "}", 4, not_two);
    expect_format("offsets missing", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, not_two);
    expect_format("end before begin", "{" ENTRY("a", "F32", "[0]", "[8,4]") "}", 8,
                  "tensor 'a': data_offsets [8, 4] end before they begin");
    expect_format("offsets past the data section", "{" ENTRY("a", "F32", "[4]", "[0,16]") "}", 8,
                  "tensor 'a': data_offsets [0, 16] go past the end of the data section (8 bytes");
    expect_format("begin past the data section", "{" ENTRY("a", "F32", "[0]", "[9,9]") "}", 8,
                  "go past the end of the data section");
    {
        char model[256], want[512];
        make_file(in_dir(model, sizeof model, "model.safetensors"),
                  "{" ENTRY("g.c1.weight", "F32", "[8,3,3,3]", "[0,100]") "}", 100);
        snprintf(want, sizeof want, "model.safetensors: tensor 'g.c1.weight': data_offsets [0, 100] do not match "
                 "shape [8, 3, 3, 3] x F32 = 864 bytes");
        expect_read_error("size not matching shape x dtype", model, SG_ERR_FORMAT, want);
        unlink(model);
    }
    expect_format("scalar with the wrong size", "{" ENTRY("s", "I64", "[]", "[0,4]") "}", 8,
                  "do not match shape [] x I64 = 8 bytes");

    expect_format("overlapping tensors",
                  "{" ENTRY("a", "F32", "[4]", "[0,16]") "," ENTRY("b", "F32", "[4]", "[8,24]") "}", 24,
                  "tensors 'a' [0, 16] and 'b' [8, 24] overlap");
    expect_format("a tensor inside another, listed first",
                  "{" ENTRY("in", "U8", "[2]", "[4,6]") "," ENTRY("c", "U8", "[2]", "[12,14]") ","
                  ENTRY("out", "U8", "[10]", "[0,10]") "}", 16, "tensors 'out' [0, 10] and 'in' [4, 6] overlap");
    expect_format("two tensors on the same bytes",
                  "{" ENTRY("a", "U8", "[4]", "[0,4]") "," ENTRY("b", "U8", "[4]", "[0,4]") "}", 4, "overlap");

    expect_format("metadata value not a string", "{\"__metadata__\":{\"k\":1}}", 0,
                  "\"__metadata__\": the value of 'k' is not a string");
    expect_format("metadata value null", "{\"__metadata__\":{\"ok\":\"x\",\"k\":null}}", 0,
                  "the value of 'k' is not a string");
    expect_format("metadata value an object", "{\"__metadata__\":{\"k\":{}}}", 0, "the value of 'k' is not a string");
    expect_format("metadata not an object", "{\"__metadata__\":[\"x\"]}", 0, "\"__metadata__\" is not a JSON object");

    expect_format("duplicate tensor name",
                  "{" ENTRY("a", "U8", "[4]", "[0,4]") "," ENTRY("b", "U8", "[4]", "[4,8]") ","
                  ENTRY("a", "U8", "[4]", "[8,12]") "}", 12, "duplicate tensor name 'a'");
    expect_format("duplicate name spelled with an escape",
                  "{" ENTRY("a", "U8", "[4]", "[0,4]") "," ENTRY("\\u0061", "U8", "[4]", "[4,8]") "}", 8,
                  "duplicate tensor name 'a'");
    expect_format("duplicate __metadata__", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
                  "\"__metadata__\" appears twice");
    expect_format("duplicate key in an entry",
                  "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4,
                  "tensor 'a': duplicate key 'dtype'");
    expect_format("duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
                  "\"__metadata__\": duplicate key 'k'");

    /* Allowed: data bytes no tensor covers, empty tensors anywhere, unknown
     * entry fields (the reference implementation ignores them too). */
    make_file(path,
              "{" ENTRY("b", "U8", "[2]", "[6,8]") "," ENTRY("a", "U8", "[2]", "[1,3]") ","
              ENTRY("e", "F32", "[0,3]", "[2,2]") ",\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9,10],"
              "\"extra\":[1]}}",
              12);
    sg_st_file f;
    sg_status s = sg_st_read(path, &f);
    const sg_st_tensor *a = sg_st_find(&f, "a"), *b = sg_st_find(&f, "b"), *e = sg_st_find(&f, "e"),
                       *x = sg_st_find(&f, "x");
    const uint8_t *ad = a ? a->data : NULL, *bd = b ? b->data : NULL, *xd = x ? x->data : NULL;
    check(s == SG_OK && f.count == 4 && ad && ad[0] == 1 && ad[1] == 2 && bd && bd[0] == 6 && bd[1] == 7 && e &&
          e->nbytes == 0 && e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 3 && xd && xd[0] == 9,
          "gaps, uncovered trailing bytes, an empty tensor inside another's range, extra fields: accepted %s",
          s ? sg_error_message() : "");
    sg_st_free(&f);

    in_dir(path, sizeof path, "does-not-exist.safetensors");
    expect_read_error("a missing file", path, SG_ERR_IO, strerror(ENOENT));
    expect_read_error("a folder", dir, SG_ERR_IO, "not a regular file");
    /* a FIFO with no writer: refused at once, not waited on (issue 13) */
    in_dir(path, sizeof path, "fifo.safetensors");
    check(mkfifo(path, 0600) == 0, "mkfifo: %s", strerror(errno));
    expect_read_error("a FIFO", path, SG_ERR_IO, "a FIFO, not a regular file");
    unlink(path);

    /* 80,000 nested arrays overflowed json-glib's stack (issue 13); depth 4
     * is already more than a safetensors header has; brackets in strings and
     * the usual three levels are fine */
    size_t deep = 80000;
    char *nested = malloc(2 * deep + 1);
    memset(nested, '[', deep);
    memset(nested + deep, ']', deep);
    nested[2 * deep] = 0;
    expect_format("80,000 nested arrays", nested, 0, "nests deeper than a safetensors header can");
    free(nested);
    expect_format("an array in an array in an entry", "{\"a\":{\"dtype\":\"U8\",\"shape\":[[4]],"
                  "\"data_offsets\":[0,4]}}", 4, "nests deeper than a safetensors header can");
    in_dir(path, sizeof path, "bad.safetensors");
    make_file(path, "{\"__metadata__\":{\"k\":\"[[[[{{{{\\\"]]]\"}," ENTRY("a", "U8", "[4]", "[0,4]") "}", 4);
    s = sg_st_read(path, &f);
    check(s == SG_OK && f.meta_count == 1 && strcmp(f.meta_values[0], "[[[[{{{{\"]]]") == 0,
          "brackets and an escaped quote in a string are text: %s", s ? sg_error_message() : "");
    sg_st_free(&f);
    check(sg_st_read(NULL, &f) == SG_ERR_ARGUMENT && sg_st_read(path, NULL) == SG_ERR_ARGUMENT,
          "NULL path or output refused: %s", sg_error_message());
    unlink(in_dir(path, sizeof path, "bad.safetensors"));
}

static void test_atomic_write(void)
{
    char path[256], other[256];
    in_dir(path, sizeof path, "model.safetensors");
    in_dir(other, sizeof other, "other.safetensors");

    /* Overwrite: a large file, then a smaller one; nothing of the first may remain. */
    static float big[4096];
    for (int i = 0; i < 4096; i++)
        big[i] = (float)i;
    const int64_t s4096[] = {4096}, s2[] = {2};
    int32_t small[2] = {5, -6};
    sg_st_tensor first[] = {tensor("big", SG_ST_F32, 1, s4096, big), tensor("small", SG_ST_I32, 1, s2, small)};
    const char *k = "version", *v = "1";
    sg_status s = sg_st_write(path, first, 2, &k, &v, 1);
    check(s == SG_OK, "write the first version %s", s ? sg_error_message() : "");
    chmod(path, 0600);
    sg_st_tensor second[] = {tensor("small", SG_ST_I32, 1, s2, small)};
    s = sg_st_write(path, second, 1, NULL, NULL, 0);
    sg_st_file f;
    s = s == SG_OK ? sg_st_read(path, &f) : s;
    struct stat st = {0};
    int stat_ok = stat(path, &st) == 0;
    check(s == SG_OK && f.count == 1 && f.meta_count == 0 && same_tensor(&f.tensors[0], &second[0]) && stat_ok &&
          (uint64_t)st.st_size == 8 + header_length(path) + 8,
          "writing over an existing file replaces it completely (%lld bytes)", (long long)st.st_size);
    check((st.st_mode & 0777) == 0600, "the replaced file keeps its mode 0600 (%o)", (unsigned)(st.st_mode & 0777));
    sg_st_free(&f);

    /* Keep a copy of both files' bytes to compare after failures. */
    s = sg_st_write(other, first, 2, &k, &v, 1);
    size_t path_len, other_len;
    uint8_t *path_bytes = read_raw(path, &path_len), *other_bytes = read_raw(other, &other_len);
    check(s == SG_OK && path_bytes && other_bytes, "prepared files to protect");

    /* Failure before writing: the folder does not exist. */
    char nowhere[256];
    in_dir(nowhere, sizeof nowhere, "no-such-folder/model.safetensors");
    s = sg_st_write(nowhere, first, 2, &k, &v, 1);
    check(s == SG_ERR_IO && strstr(sg_error_message(), nowhere) && strstr(sg_error_message(), strerror(ENOENT)),
          "write into a missing folder fails with SG_ERR_IO: %s", sg_error_message());
    check(same_file_bytes(other, other_bytes, other_len) && same_file_bytes(path, path_bytes, path_len),
          "other files untouched");

    /* Failure while writing, as on a full disk: a file-size limit makes write()
     * fail with EFBIG part-way (SIGXFSZ ignored so it returns an error). */
    struct rlimit old_limit, limit;
    getrlimit(RLIMIT_FSIZE, &old_limit);
    limit = old_limit;
    limit.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    int limited = setrlimit(RLIMIT_FSIZE, &limit) == 0;
    s = sg_st_write(other, first, 2, NULL, NULL, 0); /* 16 KiB of data */
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);
    check(limited && s == SG_ERR_IO && strstr(sg_error_message(), strerror(EFBIG)) &&
          strstr(sg_error_message(), other), "a write failing part-way returns SG_ERR_IO: %s", sg_error_message());
    check(same_file_bytes(other, other_bytes, other_len), "the failed write left the old file byte for byte");
    check(leftover_temporaries() == 0, "the failed write removed its temporary file");

    /* Failure at the rename: the target is a folder. */
    char folder[256];
    in_dir(folder, sizeof folder, "a-folder");
    mkdir(folder, 0755);
    s = sg_st_write(folder, second, 1, NULL, NULL, 0);
    check(s == SG_ERR_IO && strstr(sg_error_message(), "rename") && stat(folder, &st) == 0 && S_ISDIR(st.st_mode),
          "writing over a folder fails at the rename and keeps the folder: %s", sg_error_message());
    check(leftover_temporaries() == 0, "the failed rename removed its temporary file");
    rmdir(folder);

    /* Bad arguments: refused before any file is made. */
    char fresh[256];
    in_dir(fresh, sizeof fresh, "fresh.safetensors");
    sg_st_tensor dup[] = {second[0], second[0]};
    sg_st_tensor reserved = second[0];
    reserved.name = "__metadata__";
    sg_st_tensor wrong_size = second[0];
    wrong_size.nbytes = 12;
    sg_st_tensor no_data = second[0];
    no_data.data = NULL;
    sg_st_tensor bad_dtype = second[0];
    bad_dtype.dtype = (sg_st_dtype)9;
    sg_st_tensor nine_dims = second[0];
    nine_dims.ndim = 9;
    sg_st_tensor negative = second[0];
    negative.shape[0] = -2;
    negative.nbytes = 0;
    sg_st_tensor no_name = second[0];
    no_name.name = NULL;
    const char *keys2[] = {"k", "k"}, *values2[] = {"1", "2"}, *null_value[] = {NULL};
    struct {
        const char *what;
        const sg_st_tensor *t;
        size_t n;
        const char *const *keys, *const *values;
        size_t nmeta;
        const char *needle;
    } bad[] = {
        {"duplicate tensor names", dup, 2, NULL, NULL, 0, "duplicate tensor name 'small'"},
        {"the reserved name __metadata__", &reserved, 1, NULL, NULL, 0, "reserved"},
        {"nbytes not matching the shape", &wrong_size, 1, NULL, NULL, 0, "nbytes 12 does not match shape [2] x I32"},
        {"NULL data", &no_data, 1, NULL, NULL, 0, "data is NULL"},
        {"an invalid dtype", &bad_dtype, 1, NULL, NULL, 0, "invalid dtype 9"},
        {"9 dimensions", &nine_dims, 1, NULL, NULL, 0, "ndim 9"},
        {"a negative dimension", &negative, 1, NULL, NULL, 0, "does not match shape [-2]"},
        {"a NULL name", &no_name, 1, NULL, NULL, 0, "name is NULL"},
        {"NULL tensor array", NULL, 1, NULL, NULL, 0, "array is NULL"},
        {"duplicate metadata keys", second, 1, keys2, values2, 2, "duplicate metadata key 'k'"},
        {"a NULL metadata value", second, 1, keys2, null_value, 1, "key or value is NULL"},
        {"NULL metadata arrays", second, 1, NULL, NULL, 1, "array is NULL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = sg_st_write(fresh, bad[i].t, bad[i].n, bad[i].keys, bad[i].values, bad[i].nmeta);
        check(s == SG_ERR_ARGUMENT && strstr(sg_error_message(), bad[i].needle) && stat(fresh, &st) != 0,
              "write with %s refused, no file made: %s", bad[i].what, sg_error_message());
    }
    check(sg_st_write(NULL, second, 1, NULL, NULL, 0) == SG_ERR_ARGUMENT, "write with a NULL path refused");
    check(leftover_temporaries() == 0, "no temporary files left at the end");

    free(path_bytes);
    free(other_bytes);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    dir = t_tmpdir("sgad-st");
    umask(022);
    test_dtype_sizes();
    test_round_trip();
    test_known_file();
    test_validation();
    test_atomic_write();
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
    return failures ? 1 : 0;
}
