#include "harness.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sgad/util.h"

sg_device *t_dev;
int t_failures;
int t_checks;
static const char *t_name;

void t_begin(const char *name)
{
    t_name = name;
    sg_device_options opt = {.quiet = false};
    sg_status s = sg_device_create(&opt, &t_dev);
    if (s != SG_OK) {
        fprintf(stderr, "%s: %s\n", name, sg_error_message());
        exit(s == SG_ERR_NO_DEVICE ? 77 : 1);
    }
}

char *t_tmpdir(const char *prefix)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    size_t n = strlen(base) + strlen(prefix) + 16;
    char *path = malloc(n);
    if (!path) {
        fprintf(stderr, "out of host memory\n");
        exit(1);
    }
    snprintf(path, n, "%s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(path)) {
        fprintf(stderr, "cannot make a temporary folder %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return path;
}

const char *t_path_in(const char *dir, const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) % 4;
    if ((size_t)snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name) >= sizeof buf[i]) {
        fprintf(stderr, "test path too long: %s/%s\n", dir, name);
        exit(1);
    }
    return buf[i];
}

const char *t_reads = "";

static void again_with(const sg_device_options *opt, const char *label, void (*cases)(void))
{
    sg_device *texel_dev = t_dev;
    sg_status s = sg_device_create(opt, &t_dev);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "device for %s", label);
    t_ok(s, prefix);
    snprintf(prefix, sizeof prefix, "[%s] ", label);
    t_reads = prefix;
    cases();
    t_check(sg_device_bytes_in_use(t_dev) == 0, "every tensor freed on the %s device", label);
    sg_device_destroy(t_dev);
    t_reads = "";
    t_dev = texel_dev;
}

void t_again_with_buffer_reads(void (*cases)(void))
{
    sg_device_options opt = {.buffer_reads = true, .quiet = true};
    again_with(&opt, "buffer reads", cases);
}

void t_again_with_buffer_stores(void (*cases)(void))
{
    sg_device_options opt = {.buffer_stores = true, .quiet = true};
    again_with(&opt, "buffer stores", cases);
}

void t_again_with_tiled_convs(void (*cases)(void))
{
    sg_device_options opt = {.tiled_convs = true, .quiet = true};
    again_with(&opt, "tiled convolutions", cases);
}

int t_end(void)
{
    uint64_t in_use = sg_device_bytes_in_use(t_dev);
    t_check(in_use == 0, "every tensor freed (%llu bytes still in use)", (unsigned long long)in_use);
    sg_device_destroy(t_dev);
    /* after the destroy: Vulkan objects left alive are reported by it */
    uint32_t v = sg_validation_messages_in_process();
    t_check(v == 0, "no Vulkan validation messages (%u seen)", v);
    printf("%s: %d checks, %d failed\n", t_name, t_checks, t_failures);
    return t_failures ? 1 : 0;
}

bool t_check(bool cond, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t_checks++;
    if (!cond)
        t_failures++;
    printf("%s - %s\n", cond ? "ok" : "FAIL", msg);
    fflush(stdout);
    return cond;
}

void t_ok(sg_status s, const char *what)
{
    if (s == SG_OK)
        return;
    printf("FAIL - %s: %s: %s\n", what, sg_status_name(s), sg_error_message());
    exit(1);
}

void t_random(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    uint64_t st = seed * 7919 + 1;
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)((sg_splitmix64_next(&st) >> 40) * (1.0 / 16777216.0));
}

float *t_alloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

float *t_random_array(size_t n, float lo, float hi, uint64_t seed)
{
    float *x = t_alloc(n);
    t_random(x, n, lo, hi, seed);
    return x;
}

float *t_disc_images(size_t n, int size, float noise, uint64_t seed)
{
    const size_t plane = (size_t)size * size, image = 3 * plane;
    float *x = t_random_array(n * image, -noise, noise, seed), *pos = t_random_array(2 * n, 8, 24, seed + 1);
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < size; y++)
                for (int xx = 0; xx < size; xx++) {
                    float dx = xx - pos[2 * i], dy = y - pos[2 * i + 1];
                    x[i * image + (size_t)c * plane + (size_t)y * size + xx] +=
                        0.8f * expf(-(dx * dx + dy * dy) / 20.0f);
                }
    free(pos);
    return x;
}

float *t_copy_array(const float *src, size_t n)
{
    float *x = t_alloc(n);
    memcpy(x, src, n * sizeof *x);
    return x;
}

sg_tensor *t_tensor(sg_shape s, const float *data)
{
    sg_tensor *t;
    t_ok(sg_tensor_create(t_dev, s, &t), "sg_tensor_create");
    if (data)
        t_ok(sg_tensor_upload(t, data), "sg_tensor_upload");
    return t;
}

sg_tensor *t_tensor_fill(sg_shape s, float value)
{
    size_t n = sg_shape_count(s);
    float *h = t_alloc(n);
    for (size_t i = 0; i < n; i++)
        h[i] = value;
    sg_tensor *t = t_tensor(s, h);
    free(h);
    return t;
}

float *t_download(const sg_tensor *t)
{
    float *h = t_alloc(sg_tensor_count(t));
    t_ok(sg_tensor_download(t, h), "sg_tensor_download");
    return h;
}

bool t_close(const char *what, const float *got, const float *want, size_t n, double atol, double rtol)
{
    size_t worst = 0;
    double worst_excess = -1e300, worst_err = 0;
    bool finite = true;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) && isfinite(want[i]))
            finite = false;
        double err = fabs((double)got[i] - (double)want[i]);
        double excess = err - (atol + rtol * fabs((double)want[i]));
        if (!(excess <= worst_excess) || isnan(err)) {
            worst_excess = isnan(err) ? 1e300 : excess;
            worst_err = err;
            worst = i;
        }
    }
    bool ok = finite && worst_excess <= 0;
    return t_check(ok, "%s: %zu values, max error %.3g at %zu (got %.6g want %.6g; atol %.0e rtol %.0e)",
                   what, n, worst_err, worst, n ? got[worst] : 0.0, n ? want[worst] : 0.0, atol, rtol);
}

bool t_grad_check(const char *what, t_forward_fn forward, void *ctx, float *param, size_t n,
                  const float *analytic, const float *r, size_t ny, float eps, double atol,
                  double rtol, int samples)
{
    float *y = t_alloc(ny);
    double worst_excess = -1e300, worst_num = 0, worst_ana = 0;
    size_t worst = 0;
    size_t step = n > (size_t)samples ? n / (size_t)samples : 1;
    for (size_t j = step / 2; j < n; j += step) {
        float saved = param[j];
        param[j] = saved + eps;
        forward(ctx, y);
        double lp = 0;
        for (size_t i = 0; i < ny; i++)
            lp += (double)r[i] * y[i];
        param[j] = saved - eps;
        forward(ctx, y);
        double lm = 0;
        for (size_t i = 0; i < ny; i++)
            lm += (double)r[i] * y[i];
        param[j] = saved;
        double num = (lp - lm) / (2.0 * eps);
        double excess = fabs(num - analytic[j]) - (atol + rtol * fabs(num));
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = j;
            worst_num = num;
            worst_ana = analytic[j];
        }
    }
    free(y);
    return t_check(worst_excess <= 0,
                   "%s: finite differences over %zu of %zu, worst at %zu: numeric %.6g analytic %.6g",
                   what, (n + step - 1 - step / 2) / step, n, worst, worst_num, worst_ana);
}
