/* sgad-bench-engine: the engine's speed where it matters most, the convolutions.
 *
 * Measures the device's peak FMA rate with its own shader, then the GFLOPS of
 * conv2d and transposed conv2d at the shapes of the Skip-GANomaly++ generator
 * (for 32x32 and 256x256 inputs, batch 1 and 64), forward and backward (input
 * plus weight gradient), each as a fraction of that peak. With --torch, the
 * same layers are timed in PyTorch on the CPU in the same run (tools/bench_torch_conv.py).
 * The input gradient alone ("dx") is timed too, since its kernel differs from the
 * weight gradient's.
 *
 * --cpu-time: on a machine shared with other work, wall time measures the other
 * work as much as ours. With this option every rate (the peak's included) is
 * FLOP / (process CPU seconds / online cores): the rate the run would have had
 * with the cores to itself, as long as it keeps them all busy. A CPU driver such
 * as lavapipe waits for work without spinning, so its idle threads cost no CPU time.
 * The peak shader times itself by the wall clock, so its rate is rescaled by the
 * share of the cores the process had meanwhile (approximate: under heavy load
 * it reads high); --peak GFLOPS takes a peak measured on a quiet machine instead.
 *
 * --scoring: the forward as a scorer runs it, the weights packed beforehand in
 * a sequence of their own (at batch 1 repacking them would outweigh the
 * convolution), and three more layers of batch-1 scoring at 32x32 (the bridge's
 * 4x4 maps, the discriminator's last two; without PyTorch twins, so the
 * all-layers PyTorch ratio then covers only the others).
 *
 * --compile: instead of speeds, the time the driver takes to compile each
 * convolution kernel on its first use, measured as (recording + first run) minus
 * a second run of a tiny convolution that is the first to use that kernel. On
 * lavapipe most of it is LLVM compiling the shader at the first dispatch, so it
 * is what every process (an element's start, a test) pays once per kernel.
 * Run it with MESA_SHADER_CACHE_DISABLE=true for the compile itself.
 *
 *   sgad-bench-engine [--sizes 32,256] [--batches 1,64] [--torch] [--quick] [--cpu-time] [--peak GFLOPS] [--layer INDEX] [--scoring]
 *   sgad-bench-engine --compile */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sgad/bench.h"
#include "sgad/sgad.h"
#include "datafile.h"
#include "torch_twin.h"
#include "sgad/util.h"

typedef struct layer {
    const char *name;
    int ci, co, k, stride, pad, dil;
    int scale; /* input map = S / scale */
    int transposed;
} layer;

/* Representative convolutions of the generator (widths 16..256, S = input size). */
static const layer LAYERS[] = {
    {"stem conv3x3 3->16", 3, 16, 3, 1, 1, 1, 1, 0},
    {"stem conv3x3 16->16", 16, 16, 3, 1, 1, 1, 1, 0},
    {"res conv3x3 16->32 s2", 16, 32, 3, 2, 1, 1, 1, 0},
    {"res conv3x3 64->64", 64, 64, 3, 1, 1, 1, 4, 0},
    {"res conv3x3 128->128", 128, 128, 3, 1, 1, 1, 8, 0},
    {"aspp conv3x3 128->256 d6", 128, 256, 3, 1, 6, 6, 8, 0},
    {"decoder conv3x3 320->128", 320, 128, 3, 1, 1, 1, 4, 0},
    {"attention conv3x3 16->64", 16, 64, 3, 1, 1, 1, 1, 0},
    {"up convT4x4 256->256 s2", 256, 256, 4, 2, 1, 1, 8, 1},
    {"up convT4x4 64->64 s2", 64, 64, 4, 2, 1, 1, 2, 1},
    {"disc conv4x4 64->128 s2", 64, 128, 4, 2, 1, 1, 2, 0},
};
#define NLAYERS (sizeof LAYERS / sizeof LAYERS[0])

/* --scoring: the layers above, then the other large convolutions of batch-1
 * scoring at 32x32 (the bridge's 4x4 maps and the discriminator's last two). */
static const layer SCORING_EXTRA[] = {
    {"bridge conv3x3 256->256", 256, 256, 3, 1, 1, 1, 8, 0},
    {"disc conv4x4 128->256 s2", 128, 256, 4, 2, 1, 1, 4, 0},
    {"disc conv4x4 256->100 (1x1 out)", 256, 100, 4, 1, 0, 1, 8, 0},
};
#define NEXTRA (sizeof SCORING_EXTRA / sizeof SCORING_EXTRA[0])

static int scoring; /* --scoring: forward with the weights packed beforehand, as the scorer runs it */

static int use_cpu_time; /* --cpu-time */

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The benchmark's clock: wall seconds (sg_now), or with --cpu-time the process's CPU seconds over the online cores. */
static double bench_now(void)
{
    if (!use_cpu_time)
        return sg_now();
    static double cores;
    if (cores == 0)
        cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    return clock_seconds(CLOCK_PROCESS_CPUTIME_ID) / (cores > 0 ? cores : 1);
}

static void die(sg_status s, const char *what)
{
    fprintf(stderr, "sgad-bench-engine: %s: %s\n", what, sg_error_message());
    exit(s == SG_ERR_NO_DEVICE ? 2 : 1);
}

/* Best wall time of a sequence over repeats, after one warm-up run. */
static double time_seq(sg_seq *seq, double budget)
{
    sg_status s = sg_seq_run(seq);
    if (s != SG_OK)
        die(s, "run");
    double best = 1e30, spent = 0;
    for (int i = 0; i < 20 && (i < 2 || spent < budget); i++) {
        double t0 = bench_now();
        if ((s = sg_seq_run(seq)) != SG_OK)
            die(s, "run");
        double t = bench_now() - t0;
        spent += t;
        if (t < best)
            best = t;
    }
    return best;
}

static sg_tensor *tensor(sg_device *dev, sg_shape shape)
{
    sg_tensor *t;
    sg_status s = sg_tensor_create(dev, shape, &t);
    if (s != SG_OK)
        die(s, "tensor");
    size_t n = sg_shape_count(shape);
    float *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    sg_tensor_upload(t, h);
    free(h);
    return t;
}

typedef struct result {
    double flop, fwd_s, dx_s, bwd_s;
} result;

static result bench_layer(sg_device *dev, const layer *l, int size, int batch, double budget)
{
    int h = size / l->scale;
    sg_conv2d p = {l->k, l->k, l->stride, l->pad, l->dil};
    int oh = l->transposed ? sg_conv_transpose2d_out_size(h, l->k, l->stride, l->pad, l->dil)
                           : sg_conv2d_out_size(h, l->k, l->stride, l->pad, l->dil);
    sg_shape xs = sg_shape4(batch, l->ci, h, h), ys = sg_shape4(batch, l->co, oh, oh);
    sg_shape ws = l->transposed ? sg_shape4(l->ci, l->co, l->k, l->k) : sg_shape4(l->co, l->ci, l->k, l->k);
    sg_tensor *x = tensor(dev, xs), *w = tensor(dev, ws), *b = tensor(dev, sg_shape4(1, l->co, 1, 1));
    sg_tensor *y = tensor(dev, ys), *dx = tensor(dev, xs), *dw = tensor(dev, ws);
    sg_seq *fwd, *dxs, *bwd, *pack;
    sg_status s;
    if ((s = sg_seq_create(dev, &fwd)) || (s = sg_seq_create(dev, &dxs)) || (s = sg_seq_create(dev, &bwd)) ||
        (s = sg_seq_create(dev, &pack)))
        die(s, "sequence");
    sg_conv_epilogue packed_once = {.pack = pack}; /* --scoring: no batch norm, packed in `pack` */
    if (scoring) {
        s = l->transposed ? sg_conv_transpose2d_forward_fused(fwd, &p, x, w, b, &packed_once, y)
                          : sg_conv2d_forward_fused(fwd, &p, x, w, b, &packed_once, y);
        if (s == SG_OK)
            s = sg_seq_run(pack);
        if (s == SG_OK)
            s = l->transposed ? sg_conv_transpose2d_backward(dxs, &p, x, w, y, dx, NULL, NULL)
                              : sg_conv2d_backward(dxs, &p, x, w, y, dx, NULL, NULL);
        if (s == SG_OK)
            s = l->transposed ? sg_conv_transpose2d_backward(bwd, &p, x, w, y, dx, dw, NULL)
                              : sg_conv2d_backward(bwd, &p, x, w, y, dx, dw, NULL);
    } else if (l->transposed) {
        s = sg_conv_transpose2d_forward(fwd, &p, x, w, b, y);
        if (s == SG_OK)
            s = sg_conv_transpose2d_backward(dxs, &p, x, w, y, dx, NULL, NULL);
        if (s == SG_OK)
            s = sg_conv_transpose2d_backward(bwd, &p, x, w, y, dx, dw, NULL);
    } else {
        s = sg_conv2d_forward(fwd, &p, x, w, b, y);
        if (s == SG_OK)
            s = sg_conv2d_backward(dxs, &p, x, w, y, dx, NULL, NULL);
        if (s == SG_OK)
            s = sg_conv2d_backward(bwd, &p, x, w, y, dx, dw, NULL);
    }
    if (s != SG_OK)
        die(s, l->name);
    /* nominal FLOP: every tap of every output, padding included */
    int small = l->transposed ? h : oh;
    result r;
    r.flop = 2.0 * batch * l->ci * l->co * (double)l->k * l->k * small * small;
    r.fwd_s = time_seq(fwd, budget);
    r.dx_s = time_seq(dxs, budget);
    r.bwd_s = time_seq(bwd, budget);
    sg_seq_destroy(fwd);
    sg_seq_destroy(dxs);
    sg_seq_destroy(bwd);
    sg_seq_destroy(pack);
    sg_tensor *all[] = {x, w, b, y, dx, dw};
    for (int i = 0; i < 6; i++)
        sg_tensor_destroy(all[i]);
    return r;
}

/* One convolution that is the first in its run to use a kernel (see compile_times). */
typedef struct compile_case {
    const char *kernels; /* what it compiles */
    int transposed, backward, weight_grad;
    int n, ci, h, co, k, stride, pad;
} compile_case;

/* Ordered so that each case meets one new convolution kernel (the first also
 * meets conv_pack, the weight-gradient one conv_reduce, both small). Outputs
 * under 1024 pixels take the 8-lane variants (weight gradients: under 8192);
 * the _texel builds wherever the device's texel views hold the tensors, the
 * weight gradient's tap-rows builds (_taps3, _taps4) for 3x3 stride 1 and 4x4
 * stride 2 on rows of whole runs (engine/ops/conv.c). */
static const compile_case COMPILE_CASES[] = {
    {"conv_pack + conv_fwd[_texel]/8", 0, 0, 0, 1, 3, 8, 5, 3, 1, 1},
    {"conv_fwd[_texel] (64 lanes)", 0, 0, 0, 1, 3, 40, 5, 3, 1, 1},
    {"conv_bwd_data[_texel]/8", 0, 1, 0, 1, 3, 8, 5, 3, 1, 1},
    {"conv_bwd_data[_texel] (64 lanes)", 0, 1, 0, 1, 3, 40, 5, 3, 1, 1},
    {"conv_bwd_weight_taps3/8 + conv_reduce", 0, 1, 1, 1, 3, 8, 5, 3, 1, 1},
    {"conv_bwd_weight_taps3 (64 lanes)", 0, 1, 1, 1, 3, 96, 5, 3, 1, 1},
    {"conv_bwd_weight_taps4/8", 0, 1, 1, 1, 3, 16, 5, 4, 2, 1},
    {"conv_bwd_weight[_texel]/8", 0, 1, 1, 1, 3, 8, 5, 3, 2, 1},
};
#define NCOMPILE (sizeof COMPILE_CASES / sizeof COMPILE_CASES[0])

static void compile_times(sg_device *dev)
{
    /* the driver's own first-use costs (threads, the fill kernel) before any case */
    sg_tensor *warm = tensor(dev, sg_shape4(1, 1, 1, 16));
    sg_seq *seq;
    sg_status s = sg_seq_create(dev, &seq);
    if (s == SG_OK && (s = sg_fill(seq, warm, 0)) == SG_OK)
        s = sg_seq_run(seq);
    if (s != SG_OK)
        die(s, "warm-up");
    sg_seq_destroy(seq);
    sg_tensor_destroy(warm);
    printf("%-40s %10s %10s %10s %12s\n", "first use of", "record s", "1st run s", "compile s", "compile CPU s");
    for (size_t i = 0; i < NCOMPILE; i++) {
        const compile_case *c = &COMPILE_CASES[i];
        sg_conv2d p = {c->k, c->k, c->stride, c->pad, 1};
        int oh = c->transposed ? sg_conv_transpose2d_out_size(c->h, c->k, c->stride, c->pad, 1)
                               : sg_conv2d_out_size(c->h, c->k, c->stride, c->pad, 1);
        sg_shape xs = sg_shape4(c->n, c->ci, c->h, c->h), ys = sg_shape4(c->n, c->co, oh, oh);
        sg_shape ws = c->transposed ? sg_shape4(c->ci, c->co, c->k, c->k) : sg_shape4(c->co, c->ci, c->k, c->k);
        sg_tensor *x = tensor(dev, xs), *w = tensor(dev, ws), *y = tensor(dev, ys), *dw = tensor(dev, ws);
        if ((s = sg_seq_create(dev, &seq)) != SG_OK)
            die(s, "sequence");
        double c0 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID), t0 = sg_now();
        if (!c->backward)
            s = c->transposed ? sg_conv_transpose2d_forward(seq, &p, x, w, NULL, y)
                              : sg_conv2d_forward(seq, &p, x, w, NULL, y);
        else if (c->transposed)
            s = sg_conv_transpose2d_backward(seq, &p, x, w, y, c->weight_grad ? NULL : x, c->weight_grad ? dw : NULL, NULL);
        else
            s = sg_conv2d_backward(seq, &p, x, w, y, c->weight_grad ? NULL : x, c->weight_grad ? dw : NULL, NULL);
        if (s != SG_OK)
            die(s, c->kernels);
        double t1 = sg_now();
        if ((s = sg_seq_run(seq)) != SG_OK)
            die(s, c->kernels);
        double t2 = sg_now(), c2 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        if ((s = sg_seq_run(seq)) != SG_OK)
            die(s, c->kernels);
        double t3 = sg_now(), c3 = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
        printf("%-40s %10.3f %10.3f %10.3f %12.3f\n", c->kernels, t1 - t0, t2 - t1, (t2 - t0) - (t3 - t2),
               (c2 - c0) - (c3 - c2));
        fflush(stdout);
        sg_seq_destroy(seq);
        sg_tensor *all[] = {x, w, y, dw};
        for (int j = 0; j < 4; j++)
            sg_tensor_destroy(all[j]);
    }
}

/* Runs the PyTorch twin of this benchmark; fills torch_fwd/bwd (seconds) per row. */
static int run_torch(const char *script, const char *device, int size, int batch, double *fwd, double *bwd)
{
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd, "'%s' '%s' --device %s --size %d --batch %d", torch_twin_python(), script,
                     device, size, batch);
    for (size_t i = 0; i < NLAYERS; i++) {
        const layer *l = &LAYERS[i];
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %d,%d,%d,%d,%d,%d,%d,%d", l->ci, l->co, l->k,
                      l->stride, l->pad, l->dil, l->scale, l->transposed);
    }
    FILE *f = popen(cmd, "r");
    if (!f)
        return 0;
    size_t got = 0;
    while (got < NLAYERS && fscanf(f, "%lf %lf", &fwd[got], &bwd[got]) == 2)
        got++;
    int rc = pclose(f);
    return rc == 0 && got == NLAYERS;
}

static void parse_list(const char *s, int *out, int *n)
{
    *n = 0;
    while (*s && *n < 8) {
        out[(*n)++] = atoi(s);
        const char *c = strchr(s, ',');
        if (!c)
            break;
        s = c + 1;
    }
}

int main(int argc, char **argv)
{
    int sizes[8] = {32, 256}, nsizes = 2, batches[8] = {1, 64}, nbatches = 2;
    int torch = 0, only = -1, compile = 0;
    double budget = 1.0, given_peak = 0;
    const char *script = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--sizes") && i + 1 < argc)
            parse_list(argv[++i], sizes, &nsizes);
        else if (!strcmp(argv[i], "--batches") && i + 1 < argc)
            parse_list(argv[++i], batches, &nbatches);
        else if (!strcmp(argv[i], "--torch"))
            torch = 1;
        else if (!strcmp(argv[i], "--torch-script") && i + 1 < argc)
            script = argv[++i];
        else if (!strcmp(argv[i], "--quick"))
            budget = 0.2;
        else if (!strcmp(argv[i], "--cpu-time"))
            use_cpu_time = 1;
        else if (!strcmp(argv[i], "--peak") && i + 1 < argc)
            given_peak = atof(argv[++i]);
        else if (!strcmp(argv[i], "--layer") && i + 1 < argc)
            only = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compile"))
            compile = 1;
        else if (!strcmp(argv[i], "--scoring"))
            scoring = 1;
        else {
            fprintf(stderr, "usage: %s [--sizes 32,256] [--batches 1,64] [--torch] [--torch-script PATH] [--quick] [--cpu-time] [--peak GFLOPS] [--layer INDEX] [--scoring] | --compile\n",
                    argv[0]);
            return 2;
        }
    }
    if (!script)
        script = sgad_data_file("bench_torch_conv.py");

    sg_device *dev;
    sg_status s = sg_device_create(NULL, &dev);
    if (s != SG_OK)
        die(s, "device");
    const sg_device_info *info = sg_device_get_info(dev);
    if (compile) {
        printf("device: %s (%s)\n", info->name, sg_device_kind_name(info->kind));
        compile_times(dev);
        sg_device_destroy(dev);
        return 0;
    }
    double peak = given_peak, first = 0;
    /* a first run compiles the shader; only the second is timed (it set peak
     * itself once, so the timed run never ran and the rescaling divided the
     * wall time by next to no CPU time: 3735 GFLOPS on a 2-core machine) */
    if (peak <= 0 && use_cpu_time && (s = sg_measure_peak_gflops(dev, &first)) != SG_OK)
        die(s, "peak");
    double wall0 = clock_seconds(CLOCK_MONOTONIC), cpu0 = bench_now();
    if (peak <= 0 && (s = sg_measure_peak_gflops(dev, &peak)) != SG_OK)
        die(s, "peak");
    /* the peak measurement times itself by the wall clock: rescale it by the
     * share of the cores this process had meanwhile */
    if (use_cpu_time && given_peak <= 0)
        peak *= (clock_seconds(CLOCK_MONOTONIC) - wall0) / (bench_now() - cpu0);
    printf("device: %s (%s)\n", info->name, sg_device_kind_name(info->kind));
    printf("%s peak fp32 FMA rate: %.1f GFLOPS%s\n\n", given_peak > 0 ? "given" : "measured", peak,
           use_cpu_time ? " (rates from CPU time: as if the cores were ours alone)" : "");

    for (int si = 0; si < nsizes; si++)
        for (int bi = 0; bi < nbatches; bi++) {
            int size = sizes[si], batch = batches[bi];
            double tf[NLAYERS], tb[NLAYERS];
            int have_torch = torch && run_torch(script, torch_twin_device(info), size, batch, tf, tb);
            if (torch && !have_torch)
                printf("(PyTorch timing unavailable: can %s import torch, with %s?)\n", torch_twin_python(),
                       torch_twin_device(info));
            printf("input %dx%d, batch %d\n", size, size, batch);
            printf("%-28s %11s | %9s %6s | %8s %6s | %9s %6s%s\n", "layer", "GFLOP/pass", "fwd GF/s", "%peak",
                   "dx GF/s", "%peak", "bwd GF/s", "%peak",
                   have_torch ? " | torch fwd  bwd GF/s | speedup fwd bwd" : "");
            double tot_flop = 0, tot_f = 0, tot_dx = 0, tot_b = 0, tot_tf = 0, tot_tb = 0;
            for (size_t i = 0; i < NLAYERS + (scoring ? NEXTRA : 0); i++) {
                const layer *l = i < NLAYERS ? &LAYERS[i] : &SCORING_EXTRA[i - NLAYERS];
                if (size / l->scale < 4 || (only >= 0 && (size_t)only != i))
                    continue;
                result r = bench_layer(dev, l, size, batch, budget);
                double gf = r.flop / r.fwd_s * 1e-9, gd = r.flop / r.dx_s * 1e-9, gb = 2 * r.flop / r.bwd_s * 1e-9;
                printf("%-28s %11.3f | %9.1f %5.1f%% | %8.1f %5.1f%% | %9.1f %5.1f%%", l->name,
                       r.flop * 1e-9, gf, 100 * gf / peak, gd, 100 * gd / peak, gb, 100 * gb / peak);
                if (have_torch && i < NLAYERS)
                    printf(" | %9.1f %6.1f | %7.2fx %5.2fx", r.flop / tf[i] * 1e-9, 2 * r.flop / tb[i] * 1e-9,
                           tf[i] / r.fwd_s, tb[i] / r.bwd_s);
                printf("\n");
                fflush(stdout);
                tot_flop += r.flop;
                tot_f += r.fwd_s;
                tot_dx += r.dx_s;
                tot_b += r.bwd_s;
                if (have_torch && i < NLAYERS) {
                    tot_tf += tf[i];
                    tot_tb += tb[i];
                }
            }
            double gf = tot_flop / tot_f * 1e-9, gd = tot_flop / tot_dx * 1e-9, gb = 2 * tot_flop / tot_b * 1e-9;
            printf("%-28s %11.3f | %9.1f %5.1f%% | %8.1f %5.1f%% | %9.1f %5.1f%%", "all layers", tot_flop * 1e-9,
                   gf, 100 * gf / peak, gd, 100 * gd / peak, gb, 100 * gb / peak);
            if (have_torch)
                printf(" | %9.1f %6.1f | %7.2fx %5.2fx", tot_flop / tot_tf * 1e-9, 2 * tot_flop / tot_tb * 1e-9,
                       tot_tf / tot_f, tot_tb / tot_b);
            printf("\n\n");
        }
    sg_device_destroy(dev);
    return 0;
}
