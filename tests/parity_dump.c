/* Writes what the PyTorch parity test (tests/reference/test_parity.py) compares:
 *   <dir>/init.safetensors    a freshly initialised model (seeded), or that model trained for
 *                             STEPS steps on x (its outputs are then of order 1), without
 *                             optimiser state so that the step below is a first Adam step
 *   <dir>/io.safetensors      the input batch x, and the engine's eval outputs:
 *                             x_hat, f_x, f_x_hat, score, heatmap; the losses of one step
 *   <dir>/step1.safetensors   the model after one training step on x
 * Usage: parity_dump DIR ARCH(skipganomaly++|skipganomaly) UPSAMPLE(transposed|nearest) WIDTH [STEPS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgad/model.h"
#include "sgad/safetensors.h"
#include "sgad/sgad.h"

#define B 4
#define C 3
#define S 32

static void die(const char *what)
{
    fprintf(stderr, "parity_dump: %s: %s\n", what, sg_error_message());
    exit(1);
}

static sg_st_tensor tensor(const char *name, float *data, int ndim, int64_t a, int64_t b, int64_t c, int64_t d)
{
    sg_st_tensor t = {0};
    t.name = (char *)name;
    t.dtype = SG_ST_F32;
    t.ndim = ndim;
    int64_t dims[4] = {a, b, c, d};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = dims[i];
        n *= (size_t)dims[i];
    }
    t.nbytes = n * sizeof(float);
    t.data = data;
    return t;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: parity_dump DIR ARCH[/drop-skips=LEVELS] UPSAMPLE WIDTH [STEPS]\n");
        return 2;
    }
    int steps = argc == 6 ? atoi(argv[5]) : 0;
    char path[4096];
    sg_device *dev;
    sg_device_options opt = {.quiet = true};
    if (sg_device_create(&opt, &dev))
        die("device");
    sg_model_config cfg = sg_model_config_default();
    cfg.arch = strcmp(argv[2], "skipganomaly") == 0 ? SG_ARCH_SKIPGANOMALY : SG_ARCH_SKIPGANOMALY_PP;
    const char *drop = strstr(argv[2], "/drop-skips=");
    if (drop && sg_skips_parse(drop + strlen("/drop-skips="), &cfg.dropped_skips))
        die("drop-skips");
    cfg.upsample = strcmp(argv[3], "nearest") == 0 ? SG_UPSAMPLE_NEAREST : SG_UPSAMPLE_TRANSPOSED;
    cfg.width = strtof(argv[4], NULL);
    sg_model *m;
    if (sg_model_create(dev, &cfg, 1234, &m))
        die("model");

    /* a smooth input in [-1, 1] with structure at several scales */
    static float x[B * C * S * S], x_hat[B * C * S * S], heat[B * S * S], fx[B * 100], fxh[B * 100], score[B];
    for (int i = 0; i < B * C * S * S; i++) {
        int w = i % S, h = (i / S) % S, c = (i / (S * S)) % C, n = i / (C * S * S);
        x[i] = 0.8f * __builtin_sinf(0.3f * w + 0.2f * h * (c + 1) + n) * __builtin_cosf(0.1f * (w - h) + c);
    }

    sg_train_config tc = sg_train_config_default();
    tc.batch = B;
    sg_trainer *t;
    sg_train_losses l;
    if (steps > 0) {
        /* 50 times the spec's learning rate: 30 steps then reach outputs of order 1 (x_hat up to 0.3,
         * features up to 20, scores up to 5 at width 0.25; at the spec's rate eval x_hat stays near 1e-3) */
        sg_train_config warm = tc;
        warm.lr = 50 * tc.lr;
        if (sg_trainer_create(m, &warm, &t))
            die("trainer");
        for (int i = 0; i < steps; i++)
            if (sg_trainer_step(t, x, &l))
                die("training");
        /* running statistics of the final weights (the training's end does the same), so that eval
         * outputs are of the size of the training ones rather than damped by the initial statistics */
        if (sg_trainer_bn_stats_add(t, x) || sg_trainer_bn_stats_store(t))
            die("BN statistics");
        sg_trainer_destroy(t);
        /* reloaded without Adam's moments, and Adam's step count back at 0: the step below is a first
         * step from the trained weights, whose moments give the gradient */
        snprintf(path, sizeof path, "%s/trained.safetensors", argv[1]);
        if (sg_model_save_for_scoring(m, path))
            die("save trained");
        sg_model_destroy(m);
        if (sg_model_load(dev, path, &m))
            die("load trained");
        sg_model_training_state(m)->step = 0;
    }
    snprintf(path, sizeof path, "%s/init.safetensors", argv[1]);
    if (sg_model_save(m, path))
        die("save init");
    sg_scorer *sc;
    if (sg_scorer_create(m, B, &sc) || sg_scorer_run(sc, x, B, score, heat, x_hat) ||
        sg_scorer_features(sc, B, fx, fxh))
        die("score");
    sg_scorer_destroy(sc);

    if (sg_trainer_create(m, &tc, &t) || sg_trainer_step(t, x, &l))
        die("train step");
    sg_trainer_destroy(t);
    snprintf(path, sizeof path, "%s/step1.safetensors", argv[1]);
    if (sg_model_save(m, path))
        die("save step");

    float losses[7] = {l.g_total, l.g_adv, l.g_con, l.g_lat, l.d_total, l.d_real, l.d_fake};
    sg_st_tensor ts[] = {
        tensor("x", x, 4, B, C, S, S),          tensor("x_hat", x_hat, 4, B, C, S, S),
        tensor("f_x", fx, 4, B, 100, 1, 1),     tensor("f_x_hat", fxh, 4, B, 100, 1, 1),
        tensor("score", score, 1, B, 0, 0, 0),  tensor("heatmap", heat, 4, B, 1, S, S),
        tensor("losses", losses, 1, 7, 0, 0, 0),
    };
    snprintf(path, sizeof path, "%s/io.safetensors", argv[1]);
    if (sg_st_write(path, ts, sizeof ts / sizeof ts[0], NULL, NULL, 0))
        die("save io");
    sg_model_destroy(m);
    sg_device_destroy(dev);
    unsigned v = sg_validation_messages_in_process(); /* after the destroy: it reports objects left alive */
    if (v) {
        fprintf(stderr, "parity_dump: %u Vulkan validation messages\n", v);
        return 1;
    }
    return 0;
}
