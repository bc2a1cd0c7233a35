/* Engine core: device choice, tensors, transfers, views, barriers, replay, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../engine/core/kernel.h"

static void test_device_info(void)
{
    const sg_device_info *info = sg_device_get_info(t_dev);
    t_check(info->name[0] != '\0', "device has a name: %s (%s)", info->name, sg_device_kind_name(info->kind));
    char list[4096];
    int n = sg_device_list(list, sizeof list);
    t_check(n >= 1 && strstr(list, info->name) != NULL, "device list (%d) names the chosen device", n);
}

static void test_select_by_name(void)
{
    const sg_device_info *info = sg_device_get_info(t_dev);
    char sub[8];
    snprintf(sub, sizeof sub, "%.5s", info->name);
    sg_device *d = NULL;
    sg_device_options opt = {.select = sub, .quiet = true};
    sg_status s = sg_device_create(&opt, &d);
    t_check(s == SG_OK && strcmp(sg_device_get_info(d)->name, info->name) == 0,
            "select by name substring '%s'", sub);
    if (d) {
        t_check(sg_device_validation_messages(d) == 0, "second device: no validation messages");
        sg_device_destroy(d);
    }
    opt.select = "no-such-device-xyz";
    s = sg_device_create(&opt, &d);
    t_check(s == SG_ERR_NO_DEVICE && strstr(sg_error_message(), "no-such-device-xyz"),
            "unknown device name refused: %s", sg_error_message());
    opt.select = "99";
    s = sg_device_create(&opt, &d);
    t_check(s == SG_ERR_NO_DEVICE, "device index out of range refused: %s", sg_error_message());
}

static void test_upload_download(void)
{
    sg_shape s = sg_shape4(2, 3, 5, 7);
    size_t n = sg_shape_count(s);
    float *a = t_alloc(n);
    t_random(a, n, -1, 1, 1);
    sg_tensor *t = t_tensor(s, a);
    float *b = t_download(t);
    t_check(memcmp(a, b, n * sizeof *a) == 0, "upload then download is exact");
    float part[4] = {9, 8, 7, 6};
    t_ok(sg_tensor_upload_range(t, 10, 4, part), "upload_range");
    float back[6];
    t_ok(sg_tensor_download_range(t, 9, 6, back), "download_range");
    t_check(back[0] == a[9] && back[1] == 9 && back[4] == 6 && back[5] == a[14], "partial transfers");
    t_check(sg_tensor_download_range(t, n - 2, 4, back) == SG_ERR_SHAPE, "out-of-range download refused");
    sg_tensor_destroy(t);
    free(a);
    free(b);
}

/* The staged path of discrete GPUs (tensor memory not mapped), on whatever device runs the tests. */
static void test_staged_transfers(void)
{
    sg_device_options opt = {.staged = true, .quiet = true};
    sg_device *dev = NULL;
    t_ok(sg_device_create(&opt, &dev), "device with staged transfers");
    t_check(!sg_device_get_info(dev)->host_visible_memory, "tensors are not mapped");
    /* larger than the first 16 MiB staging buffer, so it grows once */
    sg_shape s = sg_shape4(1, 1, 2048, 2304);
    size_t n = sg_shape_count(s);
    float *a = t_random_array(n, -1, 1, 3), *b = t_alloc(n);
    sg_tensor *t = NULL, *u = NULL;
    t_ok(sg_tensor_create(dev, s, &t), "tensor");
    t_ok(sg_tensor_create(dev, s, &u), "tensor");
    t_ok(sg_tensor_upload(t, a), "staged upload");
    sg_seq *seq;
    t_ok(sg_seq_create(dev, &seq), "seq");
    t_ok(sg_copy(seq, t, u), "copy");
    t_ok(sg_seq_run(seq), "run");
    t_ok(sg_tensor_download(u, b), "staged download");
    t_check(memcmp(a, b, n * sizeof *a) == 0, "staged upload, a copy on the device, staged download: exact");
    float part[4] = {9, 8, 7, 6}, back[6];
    t_ok(sg_tensor_upload_range(u, 10, 4, part), "staged upload_range");
    t_ok(sg_tensor_download_range(u, 9, 6, back), "staged download_range");
    t_check(back[0] == a[9] && back[1] == 9 && back[4] == 6 && back[5] == a[14], "staged partial transfers");
    sg_seq_destroy(seq);
    sg_tensor_destroy(t);
    sg_tensor_destroy(u);
    t_check(sg_device_validation_messages(dev) == 0, "no validation messages on the staged device");
    sg_device_destroy(dev);
    free(a);
    free(b);
}

/* Host transfers recorded into a sequence (sg_seq_stage_in/out) on dev: each
 * run is one submission; what goes in is the input's value when the run
 * begins, what comes out the output's when it ends. */
static void stage_runs(sg_device *dev, const char *how)
{
    const size_t n = 1000;
    sg_tensor *x = NULL, *y = NULL;
    t_ok(sg_tensor_create(dev, sg_shape4(1, 1, 1, (int)n), &x), "tensor");
    t_ok(sg_tensor_create(dev, sg_shape4(1, 1, 1, (int)n), &y), "tensor");
    sg_seq *seq;
    t_ok(sg_seq_create(dev, &seq), "seq");
    const float *out = NULL;
    float *in = NULL;
    /* staged out before the ops that write y: still y at the end of the run */
    t_ok(sg_seq_stage_out(seq, y, 5, 10, &out), "stage_out");
    t_ok(sg_seq_stage_in(seq, x, &in), "stage_in");
    t_ok(sg_copy(seq, x, y), "copy");
    t_ok(sg_axpy(seq, 2.0f, x, y), "axpy");
    t_ok(sg_seq_finish(seq), "finish");
    float *unused = NULL;
    t_check(sg_seq_stage_in(seq, y, &unused) == SG_ERR_STATE, "%sstage_in after finish refused: %s", how,
            sg_error_message());
    bool exact = true, one_submit = true;
    uint64_t g0 = sg_tensor_generation(x);
    for (int run = 0; run < 3; run++) {
        for (size_t i = 0; i < n; i++)
            in[i] = (float)(run * 1000 + (int)i); /* whole numbers: 3x is exact */
        uint64_t before = sg_device_submit_count(dev);
        t_ok(sg_seq_run(seq), "run");
        one_submit = one_submit && sg_device_submit_count(dev) == before + 1;
        for (int i = 0; i < 10; i++)
            exact = exact && out[i] == 3.0f * (float)(run * 1000 + 5 + i);
    }
    t_check(exact, "%sthree runs: y[5..14] = 3 x, with each run's x", how);
    t_check(one_submit, "%sone submission per run, the transfers included", how);
    t_check(sg_tensor_generation(x) == g0 + 3, "%sa copy in counts as a write of the tensor at each run", how);
    sg_seq_destroy(seq);
    sg_tensor_destroy(x);
    sg_tensor_destroy(y);
}

static void test_seq_stages(void)
{
    stage_runs(t_dev, "");
    sg_device_options opt = {.staged = true, .quiet = true};
    sg_device *dev = NULL;
    t_ok(sg_device_create(&opt, &dev), "device with staged transfers");
    stage_runs(dev, "[staged] ");
    /* the same transfers through sg_tensor_upload and download: three round trips */
    sg_tensor *x = NULL;
    t_ok(sg_tensor_create(dev, sg_shape4(1, 1, 1, 8), &x), "tensor");
    sg_seq *seq;
    t_ok(sg_seq_create(dev, &seq), "seq");
    t_ok(sg_axpy(seq, 1.0f, x, x), "axpy");
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t before = sg_device_submit_count(dev);
    t_ok(sg_tensor_upload(x, v), "upload");
    t_ok(sg_seq_run(seq), "run");
    t_ok(sg_tensor_download(x, v), "download");
    t_check(sg_device_submit_count(dev) == before + 3 && v[7] == 16,
            "[staged] upload, run, download: %llu submissions",
            (unsigned long long)(sg_device_submit_count(dev) - before));
    sg_seq_destroy(seq);
    float *p_in;
    T_REFUSED(SG_ERR_ARGUMENT, "another device", sg_seq_stage_in(seq, x, &p_in));
    sg_tensor_destroy(x);
    t_check(sg_device_validation_messages(dev) == 0, "no validation messages on the staged device");
    sg_device_destroy(dev);

    sg_tensor *t = NULL;
    t_ok(sg_tensor_create(t_dev, sg_shape4(1, 1, 1, 100), &t), "tensor");
    const float *p;
    T_REFUSED(SG_ERR_SHAPE, "sg_seq_stage_out", sg_seq_stage_out(seq, t, 95, 10, &p));
    T_REFUSED(SG_ERR_SHAPE, "sg_seq_stage_out", sg_seq_stage_out(seq, t, 0, 0, &p));
    T_REFUSED(SG_ERR_SHAPE, "sg_seq_stage_out", sg_seq_stage_out(seq, t, (size_t)-1, 2, &p));
    sg_tensor_destroy(t);
}

static void test_bad_shapes(void)
{
    sg_tensor *t = NULL;
    t_check(sg_tensor_create(t_dev, sg_shape4(1, 0, 4, 4), &t) == SG_ERR_SHAPE && t == NULL,
            "zero-size tensor refused: %s", sg_error_message());
    t_check(sg_tensor_create(t_dev, sg_shape4(1, -3, 4, 4), &t) == SG_ERR_SHAPE, "negative size refused");
    sg_tensor *a = t_tensor_fill(sg_shape4(1, 1, 4, 4), 1), *b = t_tensor_fill(sg_shape4(1, 1, 4, 5), 1);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    sg_status s = sg_axpy(seq, 1.0f, a, b);
    t_check(s == SG_ERR_SHAPE && strstr(sg_error_message(), "axpy"), "mismatched axpy refused: %s",
            sg_error_message());
    t_check(sg_seq_run(seq) == SG_ERR_SHAPE, "a sequence with a refused op does not run");
    sg_seq_destroy(seq);
    sg_tensor_destroy(a);
    sg_tensor_destroy(b);
}

static void test_out_of_memory(void)
{
    sg_tensor *t = NULL;
    /* 2^31 elements is the documented limit; beyond it is refused up front */
    t_check(sg_tensor_create(t_dev, sg_shape4(1 << 16, 1 << 16, 1, 1), &t) == SG_ERR_SHAPE,
            "over-large tensor refused: %s", sg_error_message());
    /* the shaders index with int: exactly 2^31 elements is already one too many */
    t_check(sg_tensor_create(t_dev, sg_shape4(1, 1, 1 << 15, 1 << 16), &t) == SG_ERR_SHAPE && t == NULL,
            "a tensor of exactly 2^31 elements refused: %s", sg_error_message());
    /* a tensor lives in one allocation: past maxMemoryAllocationSize it is refused with the reason */
    uint64_t max = sg_device_get_info(t_dev)->max_allocation;
    if (max && max / sizeof(float) < (1ull << 31) - 4096) {
        int h = (int)((max / sizeof(float)) / 4096) + 1;
        sg_status s = sg_tensor_create(t_dev, sg_shape4(1, 1, h, 4096), &t);
        t_check(s == SG_ERR_OUT_OF_MEMORY && t == NULL && strstr(sg_error_message(), "maxMemoryAllocationSize"),
                "a tensor past the largest allocation (%.0f MiB) refused: %s", (double)max / (1 << 20),
                sg_error_message());
    } else {
        printf("note: maxMemoryAllocationSize allows every tensor the shaders can index; not exercised\n");
    }
}

static void test_error_prefix(void)
{
    /* the cause stays readable behind the context (sg_fail(..., sg_error_message()) lost it) */
    sg_fail(SG_ERR_VULKAN, "vkAllocateMemory: out of device memory");
    sg_status s = sg_fail_prefix(SG_ERR_OUT_OF_MEMORY, "could not allocate %d MiB", 256);
    t_check(s == SG_ERR_OUT_OF_MEMORY &&
                strcmp(sg_error_message(), "could not allocate 256 MiB: vkAllocateMemory: out of device memory") == 0,
            "the prefixed message keeps its cause: \"%s\"", sg_error_message());
    sg_fail_prefix(SG_ERR_IO, "reading %s", "x.safetensors");
    t_check(strcmp(sg_error_message(), "reading x.safetensors: could not allocate 256 MiB: "
                                       "vkAllocateMemory: out of device memory") == 0,
            "prefixes nest: \"%s\"", sg_error_message());
}

static void test_workgroup_limit(void)
{
    /* more workgroups than maxComputeWorkGroupCount is refused while recording, naming the kernel */
    static const uint32_t no_code[1] = {0};
    const sg_kernel kernel = {.name = "probe", .spirv = no_code, .spirv_size = sizeof no_code, .local_size_x = 64};
    /* UINT32_MAX is past every device's limit (they report at most 2^31 - 1) */
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    sg_dispatch d = {.kernel = &kernel, .groups = {UINT32_MAX, 1, 1}};
    sg_status s = sg_seq_dispatch(seq, &d);
    t_check(s == SG_ERR_SHAPE && strstr(sg_error_message(), "probe") &&
                strstr(sg_error_message(), "maxComputeWorkGroupCount"),
            "too many workgroups refused: %s", sg_error_message());
    sg_seq_destroy(seq);
}

static void test_views_and_replay(void)
{
    /* all "parameters" in one tensor, updated through views; replayed 5 times */
    sg_tensor *all = t_tensor_fill(sg_shape4(1, 1, 1, 64), 0.0f);
    sg_tensor *v1, *v2, *step = t_tensor_fill(sg_shape4(1, 1, 1, 1), 0.0f);
    t_ok(sg_tensor_view(all, 0, sg_shape4(1, 1, 1, 32), &v1), "view 1");
    t_ok(sg_tensor_view(all, 32, sg_shape4(1, 1, 1, 32), &v2), "view 2");
    t_check(sg_tensor_view(all, 2, sg_shape4(1, 1, 1, 4), &(sg_tensor *){0}) == SG_ERR_ARGUMENT,
            "unaligned view refused");
    t_check(sg_tensor_view(all, 40, sg_shape4(1, 1, 1, 32), &(sg_tensor *){0}) == SG_ERR_SHAPE,
            "view past the end refused");
    sg_tensor *ones = t_tensor_fill(sg_shape4(1, 1, 1, 32), 1.0f);
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_axpy(seq, 1.0f, ones, v1), "axpy v1");
    t_ok(sg_axpy(seq, 2.0f, ones, v2), "axpy v2");   /* independent of the first: no barrier */
    t_ok(sg_axpy(seq, 1.0f, v1, v2), "axpy v1->v2"); /* reads v1, writes v2: barrier */
    t_ok(sg_step_increment(seq, step), "step");
    t_ok(sg_seq_finish(seq), "finish");
    t_check(sg_seq_dispatch_count(seq) == 4, "4 dispatches recorded");
    t_check(sg_seq_barrier_count(seq) == 1, "exactly one barrier needed (%u)", sg_seq_barrier_count(seq));
    t_check(sg_axpy(seq, 1.0f, ones, v1) == SG_ERR_STATE, "recording after finish refused");
    for (int i = 0; i < 5; i++)
        t_ok(sg_seq_run(seq), "run");
    float *h = t_download(all), *st = t_download(step);
    /* after k runs: v1 = k, v2 = sum_{i=1..k} (2 + i) */
    float want2 = 0;
    for (int i = 1; i <= 5; i++)
        want2 += 2 + i;
    t_check(h[0] == 5 && h[31] == 5 && h[32] == want2 && h[63] == want2 && st[0] == 5,
            "replayed 5 times: v1=%g v2=%g step=%g", h[0], h[32], st[0]);
    free(h);
    free(st);
    sg_seq_destroy(seq);
    sg_tensor_destroy(v1);
    sg_tensor_destroy(v2);
    sg_tensor_destroy(all);
    sg_tensor_destroy(ones);
    sg_tensor_destroy(step);
}

static void test_fill_copy_large(void)
{
    /* more than 65535 workgroups of 256: exercises the 2-D group split */
    sg_shape s = sg_shape4(1, 1, 1, 65536 * 256 + 77);
    sg_tensor *a, *b;
    t_ok(sg_tensor_create(t_dev, s, &a), "a");
    t_ok(sg_tensor_create(t_dev, s, &b), "b");
    T_RUN(sg_fill(seq, a, 3.5f));
    T_RUN(sg_copy(seq, a, b));
    float *h = t_download(b);
    size_t n = sg_shape_count(s), bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += h[i] != 3.5f;
    t_check(bad == 0, "fill+copy of %zu elements (%zu wrong)", n, bad);
    free(h);
    sg_tensor_destroy(a);
    sg_tensor_destroy(b);
}

/* Fills (vkCmdFillBuffer, a transfer) between dispatches that read and write
 * the same tensor, in a sequence replayed twice: the barriers must order the
 * transfers and the shaders both ways (validation's synchronisation checks). */
static void test_fill_between_dispatches(void)
{
    sg_shape s = sg_shape4(1, 1, 1, 1000);
    sg_tensor *a, *b, *ones = t_tensor_fill(s, 1.0f);
    t_ok(sg_tensor_create(t_dev, s, &a), "a");
    t_ok(sg_tensor_create(t_dev, s, &b), "b");
    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_fill(seq, a, 5.0f), "fill");
    t_ok(sg_axpy(seq, 1.0f, ones, a), "a += 1 after the fill");
    t_ok(sg_copy(seq, a, b), "b = a");
    t_ok(sg_fill(seq, a, 2.0f), "fill after a read");
    t_ok(sg_axpy(seq, 1.0f, ones, a), "a += 1");
    size_t bad = 0;
    for (int run = 0; run < 2; run++) {
        t_ok(sg_seq_run(seq), "run");
        float *ha = t_download(a), *hb = t_download(b);
        for (size_t i = 0; i < sg_shape_count(s); i++)
            bad += ha[i] != 3.0f || hb[i] != 6.0f;
        free(ha);
        free(hb);
    }
    t_check(bad == 0, "fills ordered with the dispatches around them (%zu wrong)", bad);
    sg_seq_destroy(seq);
    sg_tensor_destroy(a);
    sg_tensor_destroy(b);
    sg_tensor_destroy(ones);
}

/* sg_tensor_generation counts writes: uploads, and each submit of a sequence
 * that writes the tensor (not recording, not reading); views share their
 * parent's count. The scorer's packed weights rely on it (test_scorer_fold). */
static void test_generations(void)
{
    sg_tensor *parent, *view, *other;
    t_ok(sg_tensor_create(t_dev, sg_shape4(1, 1, 1, 16), &parent), "parent");
    t_ok(sg_tensor_view(parent, 8, sg_shape4(1, 1, 1, 8), &view), "view");
    t_ok(sg_tensor_create(t_dev, sg_shape4(1, 1, 1, 8), &other), "other");
    float data[16] = {0};
    uint64_t g0 = sg_tensor_generation(parent), o0 = sg_tensor_generation(other);
    t_check(sg_tensor_generation(view) == g0, "a view has its parent's generation");
    t_ok(sg_tensor_upload(parent, data), "upload");
    t_check(sg_tensor_generation(parent) == g0 + 1 && sg_tensor_generation(view) == g0 + 1,
            "an upload to the parent counts for the view too");
    t_ok(sg_tensor_upload(view, data), "upload view");
    t_check(sg_tensor_generation(parent) == g0 + 2, "an upload to a view counts for its parent");
    t_ok(sg_tensor_download(parent, data), "download");
    t_check(sg_tensor_generation(parent) == g0 + 2, "a download is not a write");

    sg_seq *seq;
    t_ok(sg_seq_create(t_dev, &seq), "seq");
    t_ok(sg_copy(seq, other, view), "record a copy into the view");
    t_check(sg_tensor_generation(parent) == g0 + 2, "recording is not a write");
    t_ok(sg_seq_run(seq), "run");
    t_ok(sg_seq_run(seq), "run again");
    t_check(sg_tensor_generation(parent) == g0 + 4, "each run of a sequence writing the view counts once for "
            "the parent (generation %llu, want %llu)", (unsigned long long)sg_tensor_generation(parent),
            (unsigned long long)(g0 + 4));
    t_check(sg_tensor_generation(other) == o0, "a tensor the sequence only reads keeps its generation");
    sg_seq_destroy(seq);
    sg_tensor_destroy(view);
    sg_tensor_destroy(parent);
    sg_tensor_destroy(other);
}

int main(void)
{
    t_begin("core");
    test_device_info();
    test_select_by_name();
    test_upload_download();
    test_staged_transfers();
    test_seq_stages();
    test_bad_shapes();
    test_out_of_memory();
    test_error_prefix();
    test_workgroup_limit();
    test_views_and_replay();
    test_fill_copy_large();
    test_fill_between_dispatches();
    test_generations();
    return t_end();
}
