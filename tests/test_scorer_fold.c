/* The scorer folds eval-mode batch norm and the ReLU / LeakyReLU after it into
 * the convolutions (sg_graph_conv_bn, sg_conv2d_forward_fused). Here its scores,
 * heat maps, reconstructions and D features are compared with those of the
 * unfolded graph (every op alone, as training graphs record them) on several
 * images, at batch 1 and 3, for both upsampling modes and the U-Net generator
 * at width 0.25 and for the default width-1 model; and after the model's
 * weights and statistics change under a live scorer (a training step, a
 * snapshot restored), the folded scorer follows them. Each scorer's graphs
 * hold their nodes in one arena planned by the nodes' lives (nn/plan.h); the
 * same scorers with a tensor per node give the same bits.
 *
 * The models' running statistics are re-estimated from images first
 * (sg_trainer_bn_stats_*), so the folding has real work: freshly initialised
 * models have mean 0 and variance 1 everywhere.
 *
 * Bound: folding changes only float32 rounding (sum(w*s*x) instead of
 * s*sum(w*x), the bias folded in before the sum ends); over ~40 layers with
 * per-channel scales up to ~100 (small running variances) that stays far
 * below 1e-3 relative. Scores and maps: |folded - unfolded| <= 1e-5 + 1e-3 *
 * |unfolded|. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/model/model_internal.h"
#include "harness.h"

#define S 32
#define PLANE (S * S)
#define IMAGE (3 * PLANE)
#define IMAGES 5
#define TRAIN_BATCH 4

static const double ATOL = 1e-5, RTOL = 1e-3;

/* images with structure: a disc on a noisy field, per image a different place */
static float *images(size_t n, uint64_t seed)
{
    return t_disc_images(n, S, 0.3f, seed);
}

typedef struct scored {
    float scores[IMAGES], heat[IMAGES * PLANE], rec[IMAGES * IMAGE], f_x[IMAGES * SG_DISC_NZ],
        f_x_hat[IMAGES * SG_DISC_NZ];
} scored;

/* IMAGES images through a scorer of `batch`, in batches (the last one short) */
static void score_all(sg_scorer *sc, int batch, const float *x, scored *out)
{
    for (int at = 0; at < IMAGES; at += batch) {
        int n = IMAGES - at < batch ? IMAGES - at : batch;
        t_ok(sg_scorer_run(sc, x + (size_t)at * IMAGE, n, out->scores + at, out->heat + (size_t)at * PLANE,
                           out->rec + (size_t)at * IMAGE),
             "sg_scorer_run");
        t_ok(sg_scorer_features(sc, n, out->f_x + (size_t)at * SG_DISC_NZ, out->f_x_hat + (size_t)at * SG_DISC_NZ),
             "sg_scorer_features");
    }
}

static void score_with_plan(sg_model *m, int batch, bool fold, bool plan, const float *x, scored *out)
{
    sg_scorer *sc;
    t_ok(sg_scorer_create_with(m, batch, fold, plan, &sc), "sg_scorer_create_with");
    score_all(sc, batch, x, out);
    sg_scorer_destroy(sc);
}

static void score_with(sg_model *m, int batch, bool fold, const float *x, scored *out)
{
    score_with_plan(m, batch, fold, true, x, out);
}

/* The memory plan moves tensors, not sums: the same kernels in the same
 * order give the same bits, whether or not nodes share memory. */
static void same_bits(const char *what, const scored *planned, const scored *unplanned)
{
    t_check(memcmp(planned, unplanned, sizeof *planned) == 0,
            "%s: scores, heat maps, reconstructions and D features the same bits with and without the memory plan",
            what);
}

static void compare(const char *what, const scored *got, const scored *want)
{
    char name[256];
    snprintf(name, sizeof name, "%s: scores", what);
    t_close(name, got->scores, want->scores, IMAGES, ATOL, RTOL);
    snprintf(name, sizeof name, "%s: heat maps", what);
    t_close(name, got->heat, want->heat, IMAGES * PLANE, ATOL, RTOL);
    snprintf(name, sizeof name, "%s: reconstructions", what);
    t_close(name, got->rec, want->rec, IMAGES * IMAGE, ATOL, RTOL);
    snprintf(name, sizeof name, "%s: D features of x", what);
    t_close(name, got->f_x, want->f_x, IMAGES * SG_DISC_NZ, ATOL, RTOL);
    snprintf(name, sizeof name, "%s: D features of G(x)", what);
    t_close(name, got->f_x_hat, want->f_x_hat, IMAGES * SG_DISC_NZ, ATOL, RTOL);
}

/* running statistics re-estimated from two batches of images */
static void estimate_bn_stats(sg_model *m, sg_trainer *t, uint64_t seed)
{
    (void)m;
    float *x = images(2 * TRAIN_BATCH, seed);
    t_ok(sg_trainer_bn_stats_add(t, x), "bn stats add");
    t_ok(sg_trainer_bn_stats_add(t, x + (size_t)TRAIN_BATCH * IMAGE), "bn stats add");
    t_ok(sg_trainer_bn_stats_store(t), "bn stats store");
    free(x);
}

static sg_trainer *trainer_for(sg_model *m)
{
    sg_train_config tc = sg_train_config_default();
    tc.batch = TRAIN_BATCH;
    sg_trainer *t;
    t_ok(sg_trainer_create(m, &tc, &t), "sg_trainer_create");
    return t;
}

static void test_model(const char *name, sg_model_config c, const int *batches, int nbatches)
{
    sg_model *m;
    t_ok(sg_model_create(t_dev, &c, 7, &m), "sg_model_create");
    sg_trainer *t = trainer_for(m);
    estimate_bn_stats(m, t, 100);
    sg_trainer_destroy(t);
    float *x = images(IMAGES, 200);
    scored *folded = malloc(sizeof *folded), *unfolded = malloc(sizeof *unfolded), *unplanned = malloc(sizeof *unplanned);
    for (int i = 0; i < nbatches; i++) {
        score_with(m, batches[i], false, x, unfolded);
        score_with(m, batches[i], true, x, folded);
        char what[160];
        snprintf(what, sizeof what, "%s, batch %d: folded vs unfolded", name, batches[i]);
        compare(what, folded, unfolded);
        score_with_plan(m, batches[i], true, false, x, unplanned);
        snprintf(what, sizeof what, "%s, batch %d, folded", name, batches[i]);
        same_bits(what, folded, unplanned);
        score_with_plan(m, batches[i], false, false, x, unplanned);
        snprintf(what, sizeof what, "%s, batch %d, unfolded", name, batches[i]);
        same_bits(what, unfolded, unplanned);
    }
    free(folded), free(unfolded), free(unplanned), free(x);
    sg_model_destroy(m);
}

/* A live folded scorer after the model's weights and statistics changed under it. */
static void test_follows_changes(void)
{
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    sg_model *m;
    t_ok(sg_model_create(t_dev, &c, 8, &m), "sg_model_create");
    sg_trainer *t = trainer_for(m);
    estimate_bn_stats(m, t, 300);
    float *x = images(IMAGES, 400);
    scored *before = malloc(sizeof *before), *after = malloc(sizeof *after), *want = malloc(sizeof *want);
    sg_scorer *sc;
    t_ok(sg_scorer_create_folding(m, 2, true, &sc), "folded scorer");
    score_all(sc, 2, x, before);
    sg_model_snapshot *snap;
    t_ok(sg_model_snapshot_take(m, &snap), "snapshot");

    /* a training step: new weights; new statistics from other images */
    float *batch = images(TRAIN_BATCH, 500);
    sg_train_losses losses;
    t_ok(sg_trainer_step(t, batch, &losses), "training step");
    estimate_bn_stats(m, t, 600);
    score_all(sc, 2, x, after);
    score_with(m, 2, false, x, want);
    compare("the live folded scorer after a training step vs a new unfolded scorer", after, want);
    double moved = 0;
    for (int i = 0; i < IMAGES; i++)
        moved = fmax(moved, fabs(after->scores[i] - before->scores[i]) / fabs(before->scores[i]));
    t_check(moved > 1e-2, "the training step moved the scores (largest relative change %.3g; the comparison "
            "above would not notice a stale scorer otherwise)", moved);

    /* and back: the snapshot restored */
    t_ok(sg_model_snapshot_restore(m, snap), "snapshot restore");
    score_all(sc, 2, x, after);
    compare("the live folded scorer after a snapshot restore vs its first scores", after, before);

    sg_model_snapshot_destroy(snap);
    sg_scorer_destroy(sc);
    sg_trainer_destroy(t);
    free(before), free(after), free(want), free(x), free(batch);
    sg_model_destroy(m);
}

int main(void)
{
    t_begin("scorer_fold");
    const int small[] = {1, 3};
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    test_model("skipganomaly++ width 0.25 transposed", c, small, 2);
    c.upsample = SG_UPSAMPLE_NEAREST;
    test_model("skipganomaly++ width 0.25 nearest", c, small, 2);
    c = sg_model_config_default();
    c.width = 0.25f;
    c.dropped_skips = 3; /* the skips left out are zeros nodes (sg_graph_zeros) */
    test_model("skipganomaly++ width 0.25, skips 1 and 2 dropped", c, small, 2);
    c = sg_model_config_default();
    c.arch = SG_ARCH_SKIPGANOMALY;
    test_model("skipganomaly (U-Net) width 1", c, small, 2);
    const int one[] = {1};
    test_model("skipganomaly++ width 1 transposed", sg_model_config_default(), one, 1);
    test_follows_changes();
    return t_end();
}
