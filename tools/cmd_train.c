/* sgad train: train a model on the normal images of a dataset (the spec's
 * leave-one-class-out protocol when --abnormal-class is given), save a
 * checkpoint every epoch, calibrate the threshold on held-out normal images.
 * Ctrl-C stops after the current step and saves; a second Ctrl-C kills. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "sgad/file.h"

static const char USAGE[] =
    "usage: sgad train [options]\n"
    "Train Skip-GANomaly++ on normal images; the state is saved every epoch to OUT.partial,\n"
    "and OUT is written only when the training finishes (Ctrl-C leaves OUT as it was).\n"
    "\n"
    "data:\n"
    "  --dataset NAME         fashion-mnist (default), cifar10 or folder\n"
    "  --data DIR             dataset folder (fashion-mnist: the Debian package's by default;\n"
    "                         folder: DIR/train and DIR/test with one sub-folder per class, or\n"
    "                         DIR itself: images directly in it are all normal)\n"
    "  --abnormal-class C     leave class C (index or name) out: train on the other classes\n"
    "  --limit N              use only N training images (a seeded choice), for quick runs\n"
    "  --channels 1|3         image channels (default: 1 for fashion-mnist, else 3)\n"
    "model (taken from the checkpoint with --resume):\n"
    "  --arch A               skipganomaly++ (default) or skipganomaly\n"
    "  --size S               input size, a power of two 32..512 (default 32)\n"
    "  --width W              generator width multiplier, 0.25..16 in steps of 1/16 (default 1)\n"
    "  --upsample U           transposed (default) or nearest\n"
    "  --drop-skips LEVELS    leave these skip connections out: 1 (full resolution), 2, 3, e.g. 1,2;\n"
    "                         none (default) is the spec's generator (docs/training.md, \"Skips left out\")\n"
    "  --seed N               initialisation and shuffling seed (default 0)\n"
    "training:\n"
    "  --epochs N             total epochs (default 15)\n"
    "  --steps N              train for about N optimiser steps instead: the epochs they need, rounded up\n"
    "                         (a 270-image clip at batch 64 is 3 steps an epoch)\n"
    "  --batch-size N         images per step (default 64)\n"
    "  --lr X                 Adam learning rate (default 0.0002)\n"
    "  --w-adv X, --w-con X, --w-lat X   loss weights (default 1, 50, 1); with --w-adv 0 --w-lat 0\n"
    "                         the generator trains on the reconstruction alone and D is left out\n"
    "  --detach-latent        no latent-loss gradient into the generator (the ++ reference)\n"
    "  --holdout F            fraction of normal images held out for calibration (default 0.1)\n"
    "  --quantile Q           threshold quantile of held-out scores (default 0.995)\n"
    "  --lambda L             the score's weight of the pixel term, 0..1 (default the spec's 0.9; 1:\n"
    "                         reconstruction error alone), stored in the checkpoint\n"
    "  --augment-shift N      move each training image by up to N pixels each way (borders repeated)\n"
    "  --augment-flip F       mirror half of the training images: h, v or hv (only where the scene allows)\n"
    "  --augment-brightness B scale each training image's intensity by a gain in [1-B, 1+B]\n"
    "                         (augmentation is off by default, as in the spec; held-out images are never augmented)\n"
    "  --warmup-steps N       train G on the reconstruction first: the adversarial and latent weights\n"
    "                         ramp from 0 to their values over the first N optimiser steps (default 0)\n"
    "  --eval-interval N      measure the reconstruction loss of (up to 128) held-out images every N\n"
    "                         steps and after the last, shown in the progress (default 10; 0: never)\n"
    "  --patience P           stop once P measurements after the warm-up brought no lower held-out loss,\n"
    "                         and keep the model of the best one (default 0: train every epoch, keep the last)\n"
    "  --frame-score SPEC     how the error map becomes the pixel term: mean (the spec's), max or topk=F,\n"
    "                         then ,smooth=R (box radius) and ,std (per-pixel standardisation by training\n"
    "                         images' statistics); stored in the checkpoint (default max,std, which measured\n"
    "                         best, docs/training.md; with --resume the checkpoint's; mean: the spec's)\n"
    "  --device D             Vulkan device index or name (see 'sgad devices')\n"
    "  --out PATH             checkpoint (default model.safetensors; with --resume, the resumed file)\n"
    "  --resume PATH          continue training from this checkpoint\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1; /* SA_RESETHAND: the next Ctrl-C terminates */
}

typedef struct train_ctx {
    cli_progress progress;
    const char *out;
    bool announced;
} train_ctx;

static bool on_progress(const sg_fit_progress *p, void *user)
{
    train_ctx *c = user;
    cli_progress_update(&c->progress, p);
    if (interrupted && !c->announced) {
        cli_progress_finish(&c->progress);
        fprintf(stderr, "interrupted: saving the unfinished state to %s.partial (%s is not replaced; Ctrl-C "
                "again to quit without saving)\n", c->out, c->out);
        c->announced = true;
    }
    return !interrupted;
}

enum {
    O_DATASET = 256, O_DATA, O_ABNORMAL, O_LIMIT, O_CHANNELS, O_ARCH, O_SIZE, O_WIDTH, O_UPSAMPLE, O_SKIPS, O_SEED,
    O_EPOCHS, O_STEPS, O_BATCH, O_LR, O_WADV, O_WCON, O_WLAT, O_DETACH, O_HOLDOUT, O_QUANTILE, O_LAMBDA, O_FRAME_SCORE, O_AUG_SHIFT, O_AUG_FLIP, O_AUG_BRIGHT, O_WARMUP, O_EVAL_INTERVAL, O_PATIENCE, O_DEVICE, O_OUT,
    O_RESUME, O_HELP
};

static const struct option OPTIONS[] = {
    {"dataset", required_argument, 0, O_DATASET}, {"data", required_argument, 0, O_DATA},
    {"abnormal-class", required_argument, 0, O_ABNORMAL}, {"limit", required_argument, 0, O_LIMIT},
    {"channels", required_argument, 0, O_CHANNELS}, {"arch", required_argument, 0, O_ARCH},
    {"size", required_argument, 0, O_SIZE}, {"width", required_argument, 0, O_WIDTH},
    {"upsample", required_argument, 0, O_UPSAMPLE}, {"drop-skips", required_argument, 0, O_SKIPS},
    {"seed", required_argument, 0, O_SEED},
    {"epochs", required_argument, 0, O_EPOCHS}, {"steps", required_argument, 0, O_STEPS}, {"batch-size", required_argument, 0, O_BATCH},
    {"lr", required_argument, 0, O_LR}, {"w-adv", required_argument, 0, O_WADV},
    {"w-con", required_argument, 0, O_WCON}, {"w-lat", required_argument, 0, O_WLAT},
    {"detach-latent", no_argument, 0, O_DETACH}, {"holdout", required_argument, 0, O_HOLDOUT},
    {"quantile", required_argument, 0, O_QUANTILE}, {"lambda", required_argument, 0, O_LAMBDA},
    {"frame-score", required_argument, 0, O_FRAME_SCORE},
    {"augment-shift", required_argument, 0, O_AUG_SHIFT}, {"augment-flip", required_argument, 0, O_AUG_FLIP},
    {"augment-brightness", required_argument, 0, O_AUG_BRIGHT},
    {"warmup-steps", required_argument, 0, O_WARMUP}, {"eval-interval", required_argument, 0, O_EVAL_INTERVAL},
    {"patience", required_argument, 0, O_PATIENCE},
    {"device", required_argument, 0, O_DEVICE},
    {"out", required_argument, 0, O_OUT}, {"resume", required_argument, 0, O_RESUME},
    {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};

typedef struct train_args {
    cli_dataset_args data;
    sg_model_config model;
    bool model_given; /* an architecture option was passed */
    long channels;    /* 0: the dataset's */
    uint64_t seed;
    sg_fit_options fit;
    double lambda; /* < 0: not given */
    long steps;    /* 0: --epochs counts */
    bool epochs_given;
    bool frame_score_given;
    sg_frame_score_config frame_score;
    const char *device, *out, *resume;
} train_args;

/* Returns 0, or the exit code for a bad command line. */
static int parse(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    a->data.kind = CLI_FASHION_MNIST;
    a->model = sg_model_config_default();
    a->fit = sg_fit_options_default();
    a->lambda = -1;
    long v;
    double x;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", OPTIONS, NULL)) != -1) {
        switch (opt) {
        case O_DATASET:
            if (!cli_parse_dataset_kind(optarg, &a->data.kind))
                return cli_usage_error("train", "--dataset must be fashion-mnist, cifar10 or folder, not '%s'", optarg);
            break;
        case O_DATA: a->data.dir = optarg; break;
        case O_ABNORMAL: a->data.abnormal = optarg; break;
        case O_LIMIT:
            if (!cli_parse_int(optarg, 1, 1L << 40, &a->data.limit))
                return cli_usage_error("train", "--limit needs a positive count, not '%s'", optarg);
            break;
        case O_CHANNELS:
            if (!cli_parse_int(optarg, 1, 3, &a->channels) || a->channels == 2)
                return cli_usage_error("train", "--channels must be 1 or 3");
            break;
        case O_ARCH:
            if (!strcmp(optarg, "skipganomaly++"))
                a->model.arch = SG_ARCH_SKIPGANOMALY_PP;
            else if (!strcmp(optarg, "skipganomaly"))
                a->model.arch = SG_ARCH_SKIPGANOMALY;
            else
                return cli_usage_error("train", "--arch must be skipganomaly++ or skipganomaly, not '%s'", optarg);
            a->model_given = true;
            break;
        case O_SIZE:
            if (!cli_parse_int(optarg, 32, 512, &v))
                return cli_usage_error("train", "--size must be a power of two from 32 to 512");
            a->model.size = (int)v;
            a->model_given = true;
            break;
        case O_WIDTH: {
            double w;
            if (!cli_parse_float(optarg, 0.25, 16, &w))
                return cli_usage_error("train", "--width must be a multiple of 1/16 from 0.25 to 16");
            a->model.width = (float)w;
            a->model_given = true;
            break;
        }
        case O_UPSAMPLE:
            if (!strcmp(optarg, "transposed"))
                a->model.upsample = SG_UPSAMPLE_TRANSPOSED;
            else if (!strcmp(optarg, "nearest"))
                a->model.upsample = SG_UPSAMPLE_NEAREST;
            else
                return cli_usage_error("train", "--upsample must be transposed or nearest, not '%s'", optarg);
            a->model_given = true;
            break;
        case O_SKIPS: {
            const char *bad = sg_skips_parse(optarg, &a->model.dropped_skips);
            if (bad)
                return cli_usage_error("train", "--drop-skips '%s': %s", optarg, bad);
            a->model_given = true;
            break;
        }
        case O_SEED:
            if (!cli_parse_int(optarg, 0, 1L << 62, &v))
                return cli_usage_error("train", "--seed needs a non-negative integer");
            a->seed = (uint64_t)v;
            a->model_given = true;
            break;
        case O_EPOCHS:
            if (!cli_parse_int(optarg, 1, 1000000, &v))
                return cli_usage_error("train", "--epochs needs a positive count");
            a->fit.epochs = (uint32_t)v;
            a->epochs_given = true;
            break;
        case O_STEPS:
            if (!cli_parse_int(optarg, 1, 1L << 40, &a->steps))
                return cli_usage_error("train", "--steps needs a positive count");
            break;
        case O_BATCH:
            if (!cli_parse_int(optarg, 1, 4096, &v))
                return cli_usage_error("train", "--batch-size must be 1..4096");
            a->fit.train.batch = (int)v;
            break;
        case O_LR:
        case O_WADV:
        case O_WCON:
        case O_WLAT:
            if (!cli_parse_float(optarg, opt == O_LR ? 1e-12 : 0, 1e6, &x))
                return cli_usage_error("train", "--%s needs a %s number, not '%s'",
                                       opt == O_LR ? "lr" : opt == O_WADV ? "w-adv" : opt == O_WCON ? "w-con" : "w-lat",
                                       opt == O_LR ? "positive" : "non-negative", optarg);
            *(opt == O_LR ? &a->fit.train.lr : opt == O_WADV ? &a->fit.train.w_adv
                          : opt == O_WCON ? &a->fit.train.w_con : &a->fit.train.w_lat) = (float)x;
            break;
        case O_DETACH: a->fit.train.detach_latent = true; break;
        case O_HOLDOUT:
            if (!cli_parse_float(optarg, 0, 0.9, &x))
                return cli_usage_error("train", "--holdout must be a fraction from 0 to 0.9");
            a->fit.holdout = (float)x;
            break;
        case O_QUANTILE:
            if (!cli_parse_float(optarg, 1e-6, 1, &x))
                return cli_usage_error("train", "--quantile must be in (0, 1]");
            a->fit.quantile = (float)x;
            break;
        case O_LAMBDA:
            if (!cli_parse_float(optarg, 0, 1, &a->lambda))
                return cli_usage_error("train", "--lambda must be from 0 to 1");
            break;
        case O_AUG_SHIFT:
            if (!cli_parse_int(optarg, 0, 64, &v))
                return cli_usage_error("train", "--augment-shift must be 0..64 pixels");
            a->fit.augment.shift = (int)v;
            break;
        case O_AUG_FLIP:
            if (strcmp(optarg, "h") && strcmp(optarg, "v") && strcmp(optarg, "hv"))
                return cli_usage_error("train", "--augment-flip must be h, v or hv, not '%s'", optarg);
            a->fit.augment.hflip = strchr(optarg, 'h') != NULL;
            a->fit.augment.vflip = strchr(optarg, 'v') != NULL;
            break;
        case O_AUG_BRIGHT:
            if (!cli_parse_float(optarg, 0, 0.99, &x))
                return cli_usage_error("train", "--augment-brightness must be 0..0.99");
            a->fit.augment.brightness = (float)x;
            break;
        case O_WARMUP:
            if (!cli_parse_int(optarg, 0, UINT32_MAX, &v))
                return cli_usage_error("train", "--warmup-steps needs a count of steps (0: none)");
            a->fit.warmup_steps = (uint32_t)v;
            break;
        case O_EVAL_INTERVAL:
            if (!cli_parse_int(optarg, 0, UINT32_MAX, &v))
                return cli_usage_error("train", "--eval-interval needs a count of steps (0: never)");
            a->fit.eval_interval = (uint32_t)v;
            break;
        case O_PATIENCE:
            if (!cli_parse_int(optarg, 0, UINT32_MAX, &v))
                return cli_usage_error("train", "--patience needs a count of measurements (0: no early stop)");
            a->fit.patience = (uint32_t)v;
            break;
        case O_FRAME_SCORE: {
            const char *bad = sg_frame_score_config_parse(optarg, &a->frame_score);
            if (bad)
                return cli_usage_error("train", "--frame-score '%s': %s", optarg, bad);
            a->frame_score_given = true;
            break;
        }
        case O_DEVICE: a->device = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_RESUME: a->resume = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return -1;
        default: return cli_usage_hint("train");
        }
    }
    if (optind < argc)
        return cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (a->fit.patience && !a->fit.eval_interval)
        return cli_usage_error("train", "--patience counts held-out measurements: it needs --eval-interval above 0");
    if (!sg_train_config_adversarial(&a->fit.train)) {
        /* the discriminator is not trained: its features carry nothing the score could use */
        if (a->lambda >= 0 && a->lambda < 1)
            return cli_usage_error("train", "--lambda %g weighs the discriminator's features, which --w-adv 0 "
                                            "--w-lat 0 does not train: use --lambda 1", a->lambda);
        a->lambda = 1;
    }
    if (a->steps && a->epochs_given)
        return cli_usage_error("train", "--steps and --epochs both set the length: give one");
    if (a->data.kind != CLI_FASHION_MNIST && !a->data.dir)
        return cli_usage_error("train", "--data DIR is needed for --dataset %s", cli_dataset_kind_name(a->data.kind));
    if (a->resume && a->model_given)
        return cli_usage_error("train", "--arch, --size, --width, --upsample, --drop-skips and --seed come from the checkpoint "
                                        "when resuming");
    if (!a->out)
        a->out = a->resume ? a->resume : "model.safetensors";
    a->model.channels = a->channels ? (int)a->channels : cli_dataset_default_channels(a->data.kind);
    const char *why = a->resume ? NULL : sg_model_config_check(&a->model);
    if (why)
        return cli_usage_error("train", "%s", why);
    return 0;
}

/* Keep the images whose label is not `cls` (in place). */
static void drop_class(sg_dataset *d, int cls)
{
    size_t image = (size_t)d->channels * d->size * d->size, kept = 0;
    for (size_t i = 0; i < d->count; i++) {
        if (d->labels[i] == cls)
            continue;
        if (kept != i)
            memcpy(d->pixels + kept * image, d->pixels + i * image, image * sizeof(float));
        d->labels[kept++] = d->labels[i];
    }
    d->count = kept;
}

/* --abnormal-class as an index (-1 when not given); false if unknown. */
static bool resolve_abnormal(const train_args *a, int *abnormal)
{
    *abnormal = -1;
    if (!a->data.abnormal)
        return true;
    char **names;
    int n = cli_class_names(&a->data, &names);
    if (n == 0)
        return false;
    *abnormal = cli_resolve_class(a->data.abnormal, names, n);
    if (*abnormal < 0)
        cli_fail(SG_OK, "unknown --abnormal-class '%s' (the classes are 0..%d or their names, e.g. %s)",
                 a->data.abnormal, n - 1, names[0]);
    else
        fprintf(stderr, "abnormal class %d (%s): training on the other %d classes\n", *abnormal, names[*abnormal],
                n - 1);
    cli_class_names_free(names, n);
    return *abnormal >= 0;
}

/* The normal training images: every class but the abnormal one. */
static bool load_normal(const train_args *a, sg_model *m, int abnormal, sg_dataset *train)
{
    const sg_model_config *c = sg_model_get_config(m);
    sg_dataset test;
    if (!cli_load_sets(&a->data, c->channels, c->size, true, false, train, &test))
        return false;
    if (abnormal >= 0)
        drop_class(train, abnormal);
    /* the checkpoint's seed, so a resumed --limit run picks the same images */
    if (!cli_subset(train, (size_t)a->data.limit, sg_model_training_state(m)->seed, NULL)) {
        sg_dataset_free(train);
        return false;
    }
    if (train->count == 0) {
        sg_dataset_free(train);
        cli_fail(SG_OK, "no normal training images left");
        return false;
    }
    return true;
}

static void print_model(sg_model *m, size_t images, const sg_fit_options *fit)
{
    const sg_model_config *c = sg_model_get_config(m);
    const sg_training_state *st = sg_model_training_state(m);
    size_t held = (size_t)(fit->holdout * (double)images); /* as sg_fit: at least one when holding out */
    if (fit->holdout > 0 && held == 0 && images > 1)
        held = 1;
    char skips[16];
    sg_skips_describe(c->dropped_skips, skips, sizeof skips);
    fprintf(stderr, "model: %s, %d channel%s, %dx%d, width %g%s%s%s%s%s; %zu generator + %zu discriminator parameters\n",
            sg_arch_name(c->arch), c->channels, c->channels > 1 ? "s" : "", c->size, c->size, (double)c->width,
            c->arch == SG_ARCH_SKIPGANOMALY_PP ? ", upsampling " : "",
            c->arch == SG_ARCH_SKIPGANOMALY_PP ? sg_upsample_name(c->upsample) : "", c->dropped_skips ? ", skips " : "",
            c->dropped_skips ? skips : "", c->dropped_skips ? " left out" : "", sg_model_generator_parameters(m),
            sg_model_discriminator_parameters(m));
    if (!sg_train_config_adversarial(&fit->train))
        fprintf(stderr, "training: the reconstruction alone (--w-adv 0 --w-lat 0): the discriminator is not trained\n");
    fprintf(stderr, "data: %zu normal images (%zu held out for calibration), batch %d", images, held,
            fit->train.batch);
    if (st->epoch || st->epoch_step)
        fprintf(stderr, "; resuming after epoch %u, step %u of the next", st->epoch, st->epoch_step);
    fputc('\n', stderr);
    if (fit->warmup_steps || fit->patience)
        fprintf(stderr, "schedule: warm-up %u steps, held-out reconstruction loss every %u steps, patience %u%s\n",
                fit->warmup_steps, fit->eval_interval, fit->patience,
                fit->patience ? " (the best model measured is kept)" : "");
}

int cmd_train(int argc, char **argv)
{
    train_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;

    int abnormal;
    if (!resolve_abnormal(&a, &abnormal))
        return EXIT_ERROR;
    /* a checkpoint that cannot be written fails now, not after the training */
    if (sg_check_writable_file(a.out) != SG_OK)
        return cli_fail(SG_OK, "%s", sg_error_message());
    /* Ctrl-C from here on stops training cleanly (also before it starts) */
    struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = SA_RESETHAND}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    sg_device *dev;
    if (!cli_open_device(a.device, &dev))
        return EXIT_ERROR;
    sg_model *m = NULL;
    sg_status s = a.resume ? sg_model_load(dev, a.resume, &m) : sg_model_create(dev, &a.model, a.seed, &m);
    if (s != SG_OK) {
        cli_close_device(dev);
        return a.resume ? cli_fail(s, "cannot resume from %s", a.resume) : cli_fail(s, "cannot create the model");
    }
    if (!sg_model_training_state(m)->has_optimizer_state) {
        sg_model_destroy(m);
        cli_close_device(dev);
        return cli_fail(SG_OK, "cannot resume from %s: it was saved for scoring, without the optimiser state "
                        "(resume from the checkpoint training wrote)", a.resume);
    }
    if (a.lambda >= 0 && (s = sg_model_set_score_lambda(m, (float)a.lambda)) != SG_OK) {
        sg_model_destroy(m);
        cli_close_device(dev);
        return cli_fail(s, "--lambda");
    }
    /* a new model gets the shipped default unless told; a resumed one keeps its own */
    if (!a.frame_score_given && !a.resume)
        a.frame_score = sg_frame_score_config_default(), a.frame_score_given = true;
    if (a.frame_score_given && (s = sg_model_set_frame_score(m, &a.frame_score)) != SG_OK) {
        sg_model_destroy(m);
        cli_close_device(dev);
        return cli_fail(s, "--frame-score");
    }
    if (!a.steps && a.fit.epochs <= sg_model_training_state(m)->epoch) {
        fprintf(stderr, "%s has already run %u epochs; pass --epochs above that to continue\n", a.resume,
                sg_model_training_state(m)->epoch);
        sg_model_destroy(m);
        cli_close_device(dev);
        return EXIT_USAGE;
    }
    sg_dataset train;
    if (!load_normal(&a, m, abnormal, &train)) {
        sg_model_destroy(m);
        cli_close_device(dev);
        return EXIT_ERROR;
    }
    if (a.steps) { /* whole epochs keep the seeded order and resumption as they are */
        uint32_t per_epoch = sg_fit_steps_per_epoch(train.count, &a.fit);
        uint64_t done = sg_model_training_state(m)->step;
        if (per_epoch > 0) {
            uint64_t epochs = ((uint64_t)a.steps + per_epoch - 1) / per_epoch;
            a.fit.epochs = (uint32_t)(epochs < 1000000 ? epochs : 1000000);
            printf("%ld steps: %u epochs of %u steps (%llu steps)\n", a.steps, a.fit.epochs, per_epoch,
                   (unsigned long long)a.fit.epochs * per_epoch);
            fflush(stdout);
        }
        if (per_epoch > 0 && a.fit.epochs <= sg_model_training_state(m)->epoch) {
            fprintf(stderr, "%s has already run %llu steps; pass --steps above that to continue\n", a.resume,
                    (unsigned long long)done);
            sg_dataset_free(&train);
            sg_model_destroy(m);
            cli_close_device(dev);
            return EXIT_USAGE;
        }
    }
    print_model(m, train.count, &a.fit);
    if (interrupted) {
        fprintf(stderr, "interrupted before training started: nothing saved\n");
        sg_dataset_free(&train);
        sg_model_destroy(m);
        cli_close_device(dev);
        return 130;
    }

    train_ctx ctx = {.out = a.out};
    cli_progress_init(&ctx.progress, a.fit.train.batch);
    a.fit.checkpoint = a.out;
    a.fit.progress = on_progress;
    a.fit.user = &ctx;
    sg_fit_result r;
    s = sg_fit(m, &train, &a.fit, &r);
    sigaction(SIGINT, &old, NULL);
    cli_progress_finish(&ctx.progress);

    if (s == SG_ERR_NUMERIC)
        rc = cli_fail(s, "training diverged; %s was not replaced (%s.partial keeps the last good epoch, if one "
                      "was saved)", a.out, a.out);
    else if (s != SG_OK)
        rc = cli_fail(s, "training failed");
    else if (r.interrupted) {
        const sg_training_state *st = sg_model_training_state(m);
        printf("interrupted after %llu steps (epoch %u, step %u); %s was not replaced, the unfinished state is in "
               "%s.partial: continue with --resume %s.partial --out %s\n",
               (unsigned long long)st->step, st->epoch + 1, st->epoch_step, a.out, a.out, a.out, a.out);
        rc = 130; /* the shell's code for a SIGINT-terminated program */
    } else {
        const sg_calibration *cal = sg_model_calibration(m);
        printf("trained %u epochs (%llu steps) in %.1f s; saved %s\n", r.epochs_run, (unsigned long long)r.steps_run,
               r.seconds, a.out);
        if (r.stopped_early)
            printf("stopped early: %u held-out measurements without a lower reconstruction loss; kept the model of "
                   "step %llu (held-out con %.6g; the last measured %.6g)\n", a.fit.patience,
                   (unsigned long long)r.best_step, r.best_heldout_con, r.heldout_con);
        else if (a.fit.patience && !isnan(r.best_heldout_con) && r.best_heldout_con < r.heldout_con)
            printf("kept the model of step %llu, the best measured (held-out con %.6g; the last step's %.6g)\n",
                   (unsigned long long)r.best_step, r.best_heldout_con, r.heldout_con);
        else if (!isnan(r.heldout_con))
            printf("held-out reconstruction loss %.6g at the end\n", r.heldout_con);
        if (cal->valid) {
            char fs[64];
            sg_frame_score_config_describe(sg_model_frame_score(m), fs, sizeof fs);
            printf("threshold %.6g (quantile %.4g of %u held-out normal scores; mean %.6g, std %.6g; frame score "
                   "%s; lambda %g)\n",
                   cal->threshold, cal->quantile, cal->samples, cal->normal_mean, cal->normal_std, fs,
                   (double)sg_model_score_lambda(m));
            /* fewer than 1/(1-q) scores: the quantile is their maximum or beyond it */
            if ((double)cal->samples * (1.0 - (double)cal->quantile) < 1.0 - 1e-6)
                fprintf(stderr, "sgad: warning: a %.4g quantile of %u held-out scores is little more than their "
                        "largest: the false-alarm rate on new normal images can be well above %.2g%%; hold out at "
                        "least %.0f images (--holdout, or more training images)\n", cal->quantile, cal->samples,
                        100.0 * (1.0 - cal->quantile), ceil(1.0 / (1.0 - cal->quantile) - 1e-2));
        }
        else
            printf("no images were held out: the checkpoint has no threshold (score needs --threshold)\n");
    }
    sg_dataset_free(&train);
    sg_model_destroy(m);
    cli_close_device(dev);
    return rc;
}
