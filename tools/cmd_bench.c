/* sgad bench: training and inference speed of the whole model (images per
 * second) at several input sizes and batch sizes, and, when /usr/bin/python3
 * has torch, the same model in PyTorch on the CPU timed in the same run
 * (tools/bench_torch_model.py) with the ratio. Every measurement is one
 * warm-up run (pipeline creation, first-touch memory) then the best of the
 * timed runs (one only when a run is slow). On lavapipe a 32x32 training step at batch 64 takes tens of
 * seconds, so by default a (size, batch) pair is only run when its work is at
 * most that of batch 64 at 32x32 (batch * (size/32)^2 <= 64); --full runs all.
 * PyTorch's rate on a shared CPU moves by more than the difference being
 * measured (8 to 14 images/s between runs a minute apart, docs/benchmarks.md):
 * --rounds N measures PyTorch and the engine in turn N times and ends with the
 * median of the N ratios. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "datafile.h"
#include "torch_twin.h"
#include "sgad/util.h"


static const char USAGE[] =
    "usage: sgad bench [options]\n"
    "Images per second of training steps and of inference, beside PyTorch when available.\n"
    "With inference it also prints \"scorer MB\": the device memory that creating a scorer of\n"
    "that batch took beside the model's own (its graph's nodes, planned by lifetime, and its\n"
    "folded weights).\n"
    "\n"
    "  --sizes LIST           input sizes (default 32,64,128,256)\n"
    "  --batches LIST         batch sizes (default 1,64)\n"
    "  --mode M               train, infer or both (default both)\n"
    "  --reps N               timed runs after one warm-up (default 2, only 1 when a run takes\n"
    "                         over 20 s; the best is kept)\n"
    "  --rounds N             measure PyTorch and the engine in turn N times (default 1), then the\n"
    "                         median of the N ratios\n"
    "  --full                 also run pairs with batch * (size/32)^2 > 64 (slow on lavapipe)\n"
    "  --arch A, --width W, --upsample U, --channels C   the model (default skipganomaly++, 1,\n"
    "                         transposed, 3)\n"
    "  --no-torch             do not time PyTorch\n"
    "  --torch-script PATH    the PyTorch twin (default: bench_torch_model.py beside sgad or installed)\n"
    "  --device D             Vulkan device index or name\n";

enum { MAX_LIST = 8, MAX_ROUNDS = 50 };

typedef struct bench_args {
    int sizes[MAX_LIST], nsizes, batches[MAX_LIST], nbatches;
    bool train, infer, full, torch;
    long reps, rounds;
    sg_model_config model;
    const char *script, *device;
    const char *torch_device; /* where PyTorch runs: as the engine, on a GPU or the CPU */
} bench_args;

static int parse(int argc, char **argv, bench_args *a)
{
    enum { O_SIZES = 256, O_BATCHES, O_MODE, O_REPS, O_ROUNDS, O_FULL, O_ARCH, O_WIDTH, O_UPSAMPLE, O_CHANNELS,
           O_NOTORCH, O_SCRIPT, O_DEVICE, O_HELP };
    static const struct option options[] = {
        {"sizes", required_argument, 0, O_SIZES}, {"batches", required_argument, 0, O_BATCHES},
        {"mode", required_argument, 0, O_MODE}, {"reps", required_argument, 0, O_REPS},
        {"rounds", required_argument, 0, O_ROUNDS},
        {"full", no_argument, 0, O_FULL}, {"arch", required_argument, 0, O_ARCH},
        {"width", required_argument, 0, O_WIDTH}, {"upsample", required_argument, 0, O_UPSAMPLE},
        {"channels", required_argument, 0, O_CHANNELS}, {"no-torch", no_argument, 0, O_NOTORCH},
        {"torch-script", required_argument, 0, O_SCRIPT}, {"device", required_argument, 0, O_DEVICE},
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    const int sizes[] = {32, 64, 128, 256}, batches[] = {1, 64};
    memcpy(a->sizes, sizes, sizeof sizes);
    a->nsizes = 4;
    memcpy(a->batches, batches, sizeof batches);
    a->nbatches = 2;
    a->train = a->infer = a->torch = true;
    a->reps = 2;
    a->rounds = 1;
    a->model = sg_model_config_default();
    a->script = sgad_data_file("bench_torch_model.py");
    long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_SIZES:
            if (!cli_parse_int_list(optarg, 32, 512, a->sizes, MAX_LIST, &a->nsizes))
                return cli_usage_error("bench", "--sizes needs up to %d sizes from 32 to 512, e.g. 32,64", MAX_LIST);
            break;
        case O_BATCHES:
            if (!cli_parse_int_list(optarg, 1, 1024, a->batches, MAX_LIST, &a->nbatches))
                return cli_usage_error("bench", "--batches needs up to %d batch sizes, e.g. 1,64", MAX_LIST);
            break;
        case O_MODE:
            a->train = !strcmp(optarg, "train") || !strcmp(optarg, "both");
            a->infer = !strcmp(optarg, "infer") || !strcmp(optarg, "both");
            if (!a->train && !a->infer)
                return cli_usage_error("bench", "--mode must be train, infer or both");
            break;
        case O_REPS:
            if (!cli_parse_int(optarg, 1, 1000, &a->reps))
                return cli_usage_error("bench", "--reps must be 1..1000");
            break;
        case O_ROUNDS:
            if (!cli_parse_int(optarg, 1, MAX_ROUNDS, &a->rounds))
                return cli_usage_error("bench", "--rounds must be 1..%d", MAX_ROUNDS);
            break;
        case O_FULL: a->full = true; break;
        case O_ARCH:
            if (strcmp(optarg, "skipganomaly++") && strcmp(optarg, "skipganomaly"))
                return cli_usage_error("bench", "--arch must be skipganomaly++ or skipganomaly");
            a->model.arch = strcmp(optarg, "skipganomaly") ? SG_ARCH_SKIPGANOMALY_PP : SG_ARCH_SKIPGANOMALY;
            break;
        case O_WIDTH: {
            double w;
            if (!cli_parse_float(optarg, 0.25, 16, &w))
                return cli_usage_error("bench", "--width must be a multiple of 1/16 from 0.25 to 16");
            a->model.width = (float)w;
            break;
        }
        case O_UPSAMPLE:
            if (strcmp(optarg, "transposed") && strcmp(optarg, "nearest"))
                return cli_usage_error("bench", "--upsample must be transposed or nearest");
            a->model.upsample = strcmp(optarg, "nearest") ? SG_UPSAMPLE_TRANSPOSED : SG_UPSAMPLE_NEAREST;
            break;
        case O_CHANNELS:
            if (!cli_parse_int(optarg, 1, 3, &v) || v == 2)
                return cli_usage_error("bench", "--channels must be 1 or 3");
            a->model.channels = (int)v;
            break;
        case O_NOTORCH: a->torch = false; break;
        case O_SCRIPT: a->script = optarg; break;
        case O_DEVICE: a->device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return -1;
        default: return cli_usage_hint("bench");
        }
    }
    if (optind < argc)
        return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    for (int i = 0; i < a->nsizes; i++) {
        a->model.size = a->sizes[i];
        const char *why = sg_model_config_check(&a->model);
        if (why)
            return cli_usage_error("bench", "size %d: %s", a->sizes[i], why);
    }
    return 0;
}

static bool selected(const bench_args *a, int size, int batch)
{
    return a->full || (double)batch * (size / 32.0) * (size / 32.0) <= 64.0;
}

/* Timed runs after the warm-up: `reps`, but only one when a run takes longer
 * than this (a 256x256 step on lavapipe takes minutes). */
#define SLOW_RUN_S 20.0

static bool another_run(long r, long reps, double spent)
{
    return r < 0 || (r < reps && (r == 0 || spent < SLOW_RUN_S));
}

/* Images per second of training steps (best run); NAN on failure, -1 when the
 * batch is too small to train (BatchNorm needs batch statistics of 2 images). */
static double time_train(sg_model *m, int batch, const float *images, long reps)
{
    if (batch < 2)
        return -1;
    sg_train_config tc = sg_train_config_default();
    tc.batch = batch;
    sg_trainer *t = NULL;
    sg_status s = sg_trainer_create(m, &tc, &t);
    double best = INFINITY, spent = 0;
    sg_train_losses l;
    for (long r = -1; s == SG_OK && another_run(r, reps, spent); r++) { /* r = -1: the warm-up */
        double t0 = sg_now();
        s = sg_trainer_step(t, images, &l);
        spent = sg_now() - t0;
        if (r >= 0)
            best = fmin(best, spent);
    }
    if (s != SG_OK) {
        cli_fail(s, "training step at batch %d", batch);
        best = NAN;
    }
    sg_trainer_destroy(t);
    return batch / best;
}

/* Images per second of sg_scorer_run; *mb gets the device memory the scorer holds. */
static double time_infer(sg_model *m, int batch, const float *images, long reps, double *mb)
{
    sg_scorer *sc = NULL;
    uint64_t before = sg_device_bytes_in_use(sg_model_device(m));
    sg_status s = sg_scorer_create(m, batch, &sc);
    *mb = s == SG_OK ? (double)(sg_device_bytes_in_use(sg_model_device(m)) - before) / 1e6 : NAN;
    float *scores = malloc((size_t)batch * sizeof *scores);
    double best = INFINITY, spent = 0;
    for (long r = -1; s == SG_OK && scores && another_run(r, reps, spent); r++) {
        double t0 = sg_now();
        s = sg_scorer_run(sc, images, batch, scores, NULL, NULL);
        spent = sg_now() - t0;
        if (r >= 0)
            best = fmin(best, spent);
    }
    if (s != SG_OK || !scores) {
        cli_fail(s, "inference at batch %d", batch);
        best = NAN;
    }
    sg_scorer_destroy(sc);
    free(scores);
    return batch / best;
}

/* PyTorch's images/s for one size: lines "train|infer BATCH IMAGES_PER_S". */
static bool run_torch(const bench_args *a, int size, double train[MAX_LIST], double infer[MAX_LIST])
{
    char cmd[2048], list[256] = "";
    size_t n = 0;
    for (int b = 0; b < a->nbatches; b++)
        if (selected(a, size, a->batches[b]))
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%d", n ? "," : "", a->batches[b]);
    if (!n)
        return false;
    snprintf(cmd, sizeof cmd,
             "'%s' '%s' --device %s --size %d --batches %s --reps %ld --channels %d --width %g --arch %s "
             "--upsample %s --mode %s",
             torch_twin_python(), a->script, a->torch_device, size, list, a->reps, a->model.channels,
             (double)a->model.width,
             a->model.arch == SG_ARCH_SKIPGANOMALY ? "skipganomaly" : "skipganomaly++",
             sg_upsample_name(a->model.upsample), a->train && a->infer ? "both" : a->train ? "train" : "infer");
    FILE *p = popen(cmd, "r");
    if (!p)
        return false;
    char mode[16];
    int batch;
    double ips;
    bool any = false;
    while (fscanf(p, "%15s %d %lf", mode, &batch, &ips) == 3)
        for (int b = 0; b < a->nbatches; b++)
            if (a->batches[b] == batch) {
                (!strcmp(mode, "train") ? train : infer)[b] = ips;
                any = true;
            }
    return pclose(p) == 0 && any;
}

static void cell(double ips, double torch_ips, bool torch)
{
    if (ips < 0) { /* not measurable */
        printf(" %10s%s", "n/a", torch ? "                   " : "");
        return;
    }
    if (isnan(ips))
        printf(" %10s", "-");
    else
        printf(" %10.2f", ips);
    if (torch) {
        if (isnan(torch_ips) || isnan(ips))
            printf(" %10s %7s", isnan(torch_ips) ? "-" : "", "-");
        else
            printf(" %10.2f %6.3gx", torch_ips, ips / torch_ips);
    }
}

static int compare_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The median of the finite ratios among v[0..n) (NAN if none); *count says how
 * many, *lo and *hi the smallest and the largest. */
static double median_ratio(const double *v, long n, long *count, double *lo, double *hi)
{
    double k[MAX_ROUNDS];
    long m = 0;
    for (long i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > 0)
            k[m++] = v[i];
    *count = m;
    if (!m)
        return NAN;
    qsort(k, (size_t)m, sizeof *k, compare_double);
    *lo = k[0];
    *hi = k[m - 1];
    return m % 2 ? k[m / 2] : 0.5 * (k[m / 2 - 1] + k[m / 2]);
}

/* After several rounds: each (size, batch)'s median ratio and the range. */
static void print_medians(const bench_args *a, int size, const double (*train)[MAX_ROUNDS],
                          const double (*infer)[MAX_ROUNDS])
{
    for (int b = 0; b < a->nbatches; b++) {
        if (!selected(a, size, a->batches[b]))
            continue;
        for (int mode = 0; mode < 2; mode++) {
            if (!(mode ? a->infer : a->train))
                continue;
            const double *v = mode ? infer[b] : train[b];
            long n;
            double lo, hi, med = median_ratio(v, a->rounds, &n, &lo, &hi);
            if (!n)
                continue;
            printf("size %d batch %d %s: median ratio to PyTorch %.3gx over %ld round%s (%.3g-%.3gx)\n", size,
                   a->batches[b], mode ? "inference" : "training", med, n, n > 1 ? "s" : "", lo, hi);
        }
    }
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    sg_device *dev;
    if (!cli_open_device(a.device, &dev))
        return EXIT_ERROR;
    a.torch_device = torch_twin_device(sg_device_get_info(dev));
    char probe[512];
    snprintf(probe, sizeof probe,
             "'%s' -c 'import sys, torch; sys.exit(\"%s\" == \"cuda\" and not torch.cuda.is_available())' "
             ">/dev/null 2>&1",
             torch_twin_python(), a.torch_device);
    bool torch = a.torch && system(probe) == 0;
    if (a.torch && !torch)
        printf("PyTorch not timed: %s cannot import torch or has no %s device (Debian: python3-torch; another "
               "Python: SGAD_PYTHON)\n", torch_twin_python(), a.torch_device);
    else if (torch)
        printf("PyTorch: %s, on its %s device\n", torch_twin_python(), a.torch_device);
    printf("%s, %d channel%s, width %g, %s upsampling; %ld timed run%s after a warm-up, best kept",
           sg_arch_name(a.model.arch), a.model.channels, a.model.channels > 1 ? "s" : "", (double)a.model.width,
           sg_upsample_name(a.model.upsample), a.reps, a.reps > 1 ? "s" : "");
    if (a.rounds > 1)
        printf("; %ld rounds, PyTorch then the engine", a.rounds);
    printf("\n");
    printf("%5s %5s |", "size", "batch");
    if (a.train)
        printf(" %10s%s |", "train im/s", torch ? "      torch   ratio" : "");
    if (a.infer)
        printf(" %10s%s | %9s |", "infer im/s", torch ? "      torch   ratio" : "", "scorer MB");
    printf("\n");
    fflush(stdout);

    size_t most = 0;
    for (int i = 0; i < a.nsizes; i++)
        for (int b = 0; b < a.nbatches; b++)
            if (selected(&a, a.sizes[i], a.batches[b])) {
                size_t n = (size_t)a.batches[b] * a.model.channels * a.sizes[i] * a.sizes[i];
                most = n > most ? n : most;
            }
    float *images = malloc((most ? most : 1) * sizeof *images);
    if (!images) {
        cli_close_device(dev);
        return cli_fail(SG_OK, "out of memory");
    }
    uint32_t state = 12345; /* fixed pseudo-random pixels in [-1, 1) */
    for (size_t i = 0; i < most; i++) {
        state = state * 1664525u + 1013904223u;
        images[i] = (float)(state >> 8) / (float)(1u << 23) - 1.0f;
    }

    int skipped = 0;
    bool untrainable = false;
    for (int i = 0; i < a.nsizes && rc == 0; i++) {
        sg_model_config c = a.model;
        c.size = a.sizes[i];
        sg_model *m;
        sg_status s = sg_model_create(dev, &c, 1, &m);
        if (s != SG_OK) {
            rc = cli_fail(s, "cannot create the %dx%d model", c.size, c.size);
            break;
        }
        double ratio_train[MAX_LIST][MAX_ROUNDS], ratio_infer[MAX_LIST][MAX_ROUNDS];
        for (long round = 0; round < a.rounds && rc == 0; round++) {
            double t_train[MAX_LIST], t_infer[MAX_LIST];
            for (int b = 0; b < MAX_LIST; b++)
                t_train[b] = t_infer[b] = NAN;
            bool have_torch = torch && run_torch(&a, a.sizes[i], t_train, t_infer);
            if (torch && !have_torch)
                printf("(PyTorch timing failed at size %d: run %s by hand to see why)\n", a.sizes[i], a.script);
            for (int b = 0; b < a.nbatches; b++) {
                int batch = a.batches[b];
                if (!selected(&a, c.size, batch)) {
                    skipped += round == 0;
                    continue;
                }
                double tr = a.train ? time_train(m, batch, images, a.reps) : NAN;
                untrainable |= tr < 0;
                double mb = NAN, in = a.infer ? time_infer(m, batch, images, a.reps, &mb) : NAN;
                ratio_train[b][round] = tr / t_train[b];
                ratio_infer[b][round] = in / t_infer[b];
                printf("%5d %5d |", c.size, batch);
                if (a.train) {
                    cell(tr, t_train[b], torch);
                    printf(" |");
                }
                if (a.infer) {
                    cell(in, t_infer[b], torch);
                    printf(" | %9.1f |", mb);
                }
                printf("\n");
                fflush(stdout);
                if ((a.train && isnan(tr)) || (a.infer && isnan(in)))
                    rc = EXIT_ERROR;
            }
        }
        if (torch && a.rounds > 1 && rc == 0)
            print_medians(&a, c.size, (const double(*)[MAX_ROUNDS])ratio_train,
                          (const double(*)[MAX_ROUNDS])ratio_infer);
        sg_model_destroy(m);
    }
    if (untrainable)
        printf("n/a: training needs batches of at least 2 images (BatchNorm's batch statistics)\n");
    if (skipped)
        printf("%d pair%s with batch * (size/32)^2 > 64 skipped (--full runs them)\n", skipped,
               skipped > 1 ? "s" : "");
    free(images);
    cli_close_device(dev);
    return rc;
}
