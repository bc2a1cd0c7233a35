/* The model layer: parameter counts against the spec, checkpoints (round trip,
 * every refusal), the training loop (resume equals an uninterrupted run, a NaN
 * stops training and leaves the last checkpoint), the BN statistics of the
 * final weights, calibration. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sgad/fit.h"
#include "sgad/model.h"
#include "sgad/safetensors.h"

static char dir[256];

/* a path in this test's folder */
static const char *path_in(const char *name) { return t_path_in(dir, name); }

static void test_counts(void)
{
    /* spec: G 4.06 M (nearest) / 5.44 M (transposed), D 1.07 M at S=32, C=3 */
    struct {
        sg_upsample up;
        size_t g;
    } cases[] = {{SG_UPSAMPLE_NEAREST, 4063027}, {SG_UPSAMPLE_TRANSPOSED, 5439731}};
    for (int i = 0; i < 2; i++) {
        sg_model_config c = sg_model_config_default();
        c.upsample = cases[i].up;
        sg_model *m;
        t_ok(sg_model_create(t_dev, &c, 1, &m), "model");
        t_check(sg_model_generator_parameters(m) == cases[i].g && sg_model_discriminator_parameters(m) == 1069700,
                "%s: G %zu parameters, D %zu (reference: %zu and 1069700)", sg_upsample_name(c.upsample),
                sg_model_generator_parameters(m), sg_model_discriminator_parameters(m), cases[i].g);
        sg_model_destroy(m);
    }
    sg_model_config bad = sg_model_config_default();
    bad.size = 48;
    sg_model *m = NULL;
    t_check(sg_model_create(t_dev, &bad, 1, &m) == SG_ERR_ARGUMENT && !m, "size 48 refused: %s", sg_error_message());
}

/* A small normal dataset: smooth blobs at random places. */
static void make_images(sg_dataset *d, size_t n, int channels, uint64_t seed)
{
    t_ok(sg_dataset_init(d, channels, 32), "dataset");
    float *img = t_alloc((size_t)channels * 32 * 32);
    float r[3];
    for (size_t k = 0; k < n; k++) {
        t_random(r, 3, 0, 1, seed * 1000 + k);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++) {
                    float dx = x - 8 - 16 * r[0], dy = y - 8 - 16 * r[1];
                    img[(c * 32 + y) * 32 + x] = -0.8f + 1.4f * expf(-(dx * dx + dy * dy) / (20 + 20 * r[2]));
                }
        t_ok(sg_dataset_append(d, img, 0), "append");
    }
    free(img);
}

static void scores_of(sg_model *m, const sg_dataset *d, float *out)
{
    t_ok(sg_score_images(m, d->pixels, d->count, 8, out, NULL, NULL), "score");
}

static void test_checkpoint_roundtrip(const sg_dataset *d)
{
    sg_model_config c = sg_model_config_default();
    c.upsample = SG_UPSAMPLE_NEAREST;
    sg_model *m, *back;
    t_ok(sg_model_create(t_dev, &c, 5, &m), "model");
    sg_calibration *cal = sg_model_calibration(m);
    *cal = (sg_calibration){true, 0.125f, 0.995f, 0.1f, 0.01f, 7};
    sg_model_training_state(m)->step = 42;
    t_ok(sg_model_save(m, path_in("a.safetensors")), "save");
    t_ok(sg_model_load(t_dev, path_in("a.safetensors"), &back), "load");
    float s1[16], s2[16]; /* one score per image of d (10) */
    scores_of(m, d, s1);
    scores_of(back, d, s2);
    t_check(memcmp(s1, s2, d->count * sizeof *s1) == 0, "loaded model scores identically");
    const sg_calibration *cb = sg_model_calibration(back);
    t_check(cb->valid && cb->threshold == 0.125f && cb->samples == 7 && sg_model_training_state(back)->step == 42,
            "calibration and training state survive the round trip");
    t_check(sg_model_training_state(back)->has_optimizer_state, "a training checkpoint carries Adam's moments");
    sg_model_destroy(back);

    /* saved for scoring: no moments, same scores, and saving it again does not invent moments */
    t_ok(sg_model_save_for_scoring(m, path_in("scoring.safetensors")), "save for scoring");
    t_ok(sg_model_load(t_dev, path_in("scoring.safetensors"), &back), "load the scoring copy");
    scores_of(back, d, s2);
    t_check(memcmp(s1, s2, d->count * sizeof *s1) == 0 && !sg_model_training_state(back)->has_optimizer_state,
            "the scoring copy scores identically and says it has no optimiser state");
    t_ok(sg_model_save(back, path_in("scoring2.safetensors")), "save the scoring copy again");
    sg_st_file a, b;
    t_ok(sg_st_read(path_in("scoring.safetensors"), &a), "read");
    t_ok(sg_st_read(path_in("scoring2.safetensors"), &b), "read");
    size_t moments = 0;
    for (size_t i = 0; i < b.count; i++)
        moments += strncmp(b.tensors[i].name, "adam.", 5) == 0;
    t_check(a.count == b.count && moments == 0, "no moments written for a model that has none (%zu tensors, %zu)",
            a.count, b.count);
    sg_st_free(&a);
    sg_st_free(&b);
    sg_model_destroy(back);

    /* lambda, the score's weight: linear in it, kept by the checkpoint, a calibration made with another cleared */
    float s_rec[16], s_lat[16];
    t_check(sg_model_score_lambda(m) == SG_SCORE_LAMBDA, "the spec's lambda by default");
    t_ok(sg_model_set_score_lambda(m, 1.0f), "lambda 1");
    t_check(!sg_model_calibration(m)->valid, "a calibration made with another lambda is cleared");
    scores_of(m, d, s_rec);
    t_ok(sg_model_set_score_lambda(m, 0.0f), "lambda 0");
    scores_of(m, d, s_lat);
    float worst = 0;
    for (size_t i = 0; i < d->count; i++)
        worst = fmaxf(worst, fabsf(s1[i] - (0.9f * s_rec[i] + 0.1f * s_lat[i])) / fabsf(s1[i]));
    t_check(worst < 1e-5f, "score(0.9) = 0.9 score(1) + 0.1 score(0) (relative error %g)", (double)worst);
    t_ok(sg_model_set_score_lambda(m, 1.0f), "lambda 1");
    t_ok(sg_model_save(m, path_in("lambda.safetensors")), "save with lambda 1");
    t_ok(sg_model_load(t_dev, path_in("lambda.safetensors"), &back), "load");
    t_check(sg_model_score_lambda(back) == 1.0f, "lambda survives the round trip");
    scores_of(back, d, s2);
    t_check(memcmp(s_rec, s2, d->count * sizeof *s2) == 0, "and the loaded model scores with it");
    sg_model_destroy(back);
    t_check(sg_model_set_score_lambda(m, 1.5f) == SG_ERR_ARGUMENT, "lambda 1.5 refused: %s", sg_error_message());
    t_ok(sg_model_set_score_lambda(m, SG_SCORE_LAMBDA), "lambda back to 0.9");

    /* a fractional width multiplier: whole channel counts, the squeeze kept at one unit below 8 channels */
    sg_model_config small = c;
    small.width = 0.25f;
    sg_model *w = NULL;
    t_ok(sg_model_create(t_dev, &small, 5, &w), "width 0.25");
    t_check(sg_model_generator_parameters(w) == 256199, "width 0.25 (nearest): %zu generator parameters (PyTorch "
            "reference: 256199)", sg_model_generator_parameters(w));
    t_ok(sg_model_save(w, path_in("w.safetensors")), "save width 0.25");
    sg_model_destroy(w);
    t_ok(sg_model_load(t_dev, path_in("w.safetensors"), &w), "load width 0.25");
    t_check(sg_model_get_config(w)->width == 0.25f, "width 0.25 survives the round trip");
    sg_model_destroy(w);
    small.width = 0.3f;
    w = NULL;
    t_check(sg_model_create(t_dev, &small, 5, &w) == SG_ERR_ARGUMENT && !w, "width 0.3 refused: %s",
            sg_error_message());

    /* refusals: each names the file and the problem */
    sg_model *none = NULL;
    t_check(sg_model_load(t_dev, path_in("missing.safetensors"), &none) == SG_ERR_IO &&
                strstr(sg_error_message(), "missing.safetensors"),
            "missing file refused: %s", sg_error_message());
    FILE *f = fopen(path_in("a.safetensors"), "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *bytes = malloc((size_t)size);
    t_check(fread(bytes, 1, (size_t)size, f) == (size_t)size, "read checkpoint bytes");
    fclose(f);
    f = fopen(path_in("truncated.safetensors"), "wb");
    fwrite(bytes, 1, (size_t)size / 2, f);
    fclose(f);
    t_check(sg_model_load(t_dev, path_in("truncated.safetensors"), &none) == SG_ERR_FORMAT,
            "truncated file refused: %s", sg_error_message());
    free(bytes);

    /* a NaN weight, a wrong shape, a wrong configuration: rewrite the file's tensors */
    sg_st_file st;
    t_ok(sg_st_read(path_in("a.safetensors"), &st), "read");
    const char *keys[64], *vals[64];
    for (size_t i = 0; i < st.meta_count; i++) {
        keys[i] = st.meta_keys[i];
        vals[i] = st.meta_values[i];
    }
    sg_st_tensor *t0 = &st.tensors[0];
    float saved = ((float *)t0->data)[0];
    ((float *)t0->data)[0] = NAN;
    t_ok(sg_st_write(path_in("nan.safetensors"), st.tensors, st.count, keys, vals, st.meta_count), "write nan");
    t_check(sg_model_load(t_dev, path_in("nan.safetensors"), &none) == SG_ERR_NUMERIC &&
                strstr(sg_error_message(), t0->name),
            "NaN weight refused: %s", sg_error_message());
    ((float *)t0->data)[0] = saved;
    for (size_t i = 0; i < st.meta_count; i++)
        if (!strcmp(keys[i], "upsample"))
            vals[i] = "transposed";
    t_ok(sg_st_write(path_in("cfg.safetensors"), st.tensors, st.count, keys, vals, st.meta_count), "write cfg");
    t_check(sg_model_load(t_dev, path_in("cfg.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "missing"),
            "weights of another configuration refused: %s", sg_error_message());
    for (size_t i = 0; i < st.meta_count; i++)
        if (!strcmp(keys[i], "upsample"))
            vals[i] = "nearest";
    int64_t d0 = t0->shape[0];
    t0->shape[0] = 1;
    t0->nbytes /= (size_t)d0;
    t_ok(sg_st_write(path_in("shape.safetensors"), st.tensors, st.count, keys, vals, st.meta_count), "write shape");
    t_check(sg_model_load(t_dev, path_in("shape.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "shape"),
            "a tensor of the wrong shape refused: %s", sg_error_message());
    t0->shape[0] = d0;
    t0->nbytes *= (size_t)d0;
    /* a tensor the configuration does not explain is refused by name; BN's
     * num_batches_tracked (as a PyTorch export has it) is accepted */
    sg_st_tensor *more = malloc((st.count + 1) * sizeof *more);
    memcpy(more, st.tensors, st.count * sizeof *more);
    float one = 1;
    more[st.count] = (sg_st_tensor){.name = "G.extra.weight", .dtype = SG_ST_F32, .ndim = 1, .shape = {1},
                                    .nbytes = sizeof one, .data = &one};
    t_ok(sg_st_write(path_in("extra.safetensors"), more, st.count + 1, keys, vals, st.meta_count), "write extra");
    t_check(sg_model_load(t_dev, path_in("extra.safetensors"), &none) == SG_ERR_FORMAT &&
                strstr(sg_error_message(), "G.extra.weight"),
            "an unexpected tensor refused: %s", sg_error_message());
    int64_t batches = 3;
    more[st.count] = (sg_st_tensor){.name = "G.c1.bn1.num_batches_tracked", .dtype = SG_ST_I64, .ndim = 0,
                                    .nbytes = sizeof batches, .data = &batches};
    t_ok(sg_st_write(path_in("nbt.safetensors"), more, st.count + 1, keys, vals, st.meta_count), "write nbt");
    sg_model *nbt = NULL;
    t_check(sg_model_load(t_dev, path_in("nbt.safetensors"), &nbt) == SG_OK, "num_batches_tracked accepted: %s",
            sg_error_message());
    sg_model_destroy(nbt);
    free(more);
    t_ok(sg_st_write(path_in("nometa.safetensors"), st.tensors, st.count, NULL, NULL, 0), "write nometa");
    t_check(sg_model_load(t_dev, path_in("nometa.safetensors"), &none) == SG_ERR_FORMAT,
            "a file without our metadata refused: %s", sg_error_message());
    sg_st_free(&st);
    t_check(none == NULL, "no model returned on failure");
    sg_model_destroy(m);
}

/* A model whose weights diverged is not saved over a good checkpoint. */
static void test_no_save_after_divergence(const sg_dataset *d)
{
    sg_model_config c = sg_model_config_default();
    c.upsample = SG_UPSAMPLE_NEAREST;
    c.width = 0.25f;
    sg_model *m;
    t_ok(sg_model_create(t_dev, &c, 3, &m), "model");
    t_ok(sg_model_save(m, path_in("good.safetensors")), "a good checkpoint");
    sg_train_config tc = sg_train_config_default();
    tc.batch = 4;
    tc.lr = 1e6f; /* diverges within a few steps */
    sg_trainer *t;
    t_ok(sg_trainer_create(m, &tc, &t), "trainer");
    sg_train_losses l;
    sg_status s = SG_OK;
    for (int i = 0; i < 30 && s == SG_OK; i++)
        s = sg_trainer_step(t, d->pixels, &l);
    t_check(s == SG_ERR_NUMERIC, "learning rate 1e6: a NaN or infinite loss is reported (%s)", sg_error_message());
    struct stat before, after;
    stat(path_in("good.safetensors"), &before);
    s = sg_model_save(m, path_in("good.safetensors"));
    t_check(s == SG_ERR_NUMERIC && strstr(sg_error_message(), "not written"), "the diverged weights are not saved: %s",
            sg_error_message());
    stat(path_in("good.safetensors"), &after);
    sg_model *back = NULL;
    t_check(after.st_mtime == before.st_mtime && after.st_size == before.st_size &&
                sg_model_load(t_dev, path_in("good.safetensors"), &back) == SG_OK,
            "the good checkpoint is untouched and loads");
    sg_model_destroy(back);
    sg_trainer_destroy(t);
    sg_model_destroy(m);
}

static bool count_steps(const sg_fit_progress *p, void *user)
{
    (void)p;
    return --*(int *)user > 0; /* stop when the budget is spent */
}

static void test_fit_resume(const sg_dataset *d)
{
    sg_model_config c = sg_model_config_default();
    c.upsample = SG_UPSAMPLE_NEAREST;
    sg_fit_options o = sg_fit_options_default();
    o.epochs = 2;
    o.train.batch = 4;
    o.holdout = 0.2f; /* 10 images: 2 held out, 2 steps per epoch */
    o.bn_batches = 2; /* part of the run to compare, kept short */

    /* uninterrupted: 2 epochs */
    sg_model *a;
    sg_fit_result ra;
    t_ok(sg_model_create(t_dev, &c, 9, &a), "model a");
    o.checkpoint = path_in("a_full.safetensors");
    t_ok(sg_fit(a, d, &o, &ra), "fit a");
    t_check(ra.epochs_run == 2 && ra.steps_run == 4 && !ra.interrupted, "2 epochs of 2 steps");
    t_check(sg_model_calibration(a)->valid && sg_model_calibration(a)->samples == 2,
            "calibrated on the 2 held-out images (threshold %g)", sg_model_calibration(a)->threshold);

    /* interrupted after 3 steps (mid-epoch), saved, reloaded, resumed */
    sg_model *b, *b2;
    sg_fit_result rb;
    t_ok(sg_model_create(t_dev, &c, 9, &b), "model b");
    int budget = 3;
    o.checkpoint = path_in("b.safetensors");
    o.progress = count_steps;
    o.user = &budget;
    t_ok(sg_fit(b, d, &o, &rb), "fit b");
    t_check(rb.interrupted && rb.steps_run == 3, "interrupted after 3 steps (%llu)", (unsigned long long)rb.steps_run);
    sg_model_destroy(b);
    /* an unfinished training is saved beside the checkpoint path, never over it */
    char partial[4096];
    t_ok(sg_fit_partial_path(path_in("b.safetensors"), partial, sizeof partial), "partial path");
    t_check(rb.partial_saved && access(path_in("b.safetensors"), F_OK) != 0,
            "the interrupted state went to %s, not to the checkpoint path", partial);
    t_ok(sg_model_load(t_dev, partial, &b2), "reload b");
    t_check(sg_model_training_state(b2)->epoch == 1 && sg_model_training_state(b2)->epoch_step == 1,
            "the checkpoint knows where it stopped (epoch 1, step 1)");
    o.progress = NULL;
    t_ok(sg_fit(b2, d, &o, &rb), "resume b");
    t_check(rb.steps_run == 1, "resumption ran the one missing step (%llu)", (unsigned long long)rb.steps_run);
    t_check(access(path_in("b.safetensors"), F_OK) == 0 && access(partial, F_OK) != 0,
            "the finished training wrote the checkpoint path and removed the partial state");
    float sa[10], sb[10];
    scores_of(a, d, sa);
    scores_of(b2, d, sb);
    t_check(memcmp(sa, sb, sizeof sa) == 0 &&
                sg_model_calibration(a)->threshold == sg_model_calibration(b2)->threshold,
            "resumed run equals the uninterrupted one (score %g vs %g)", sa[0], sb[0]);
    sg_model_destroy(b2);

    /* a NaN in the data diverges: error, and the last checkpoint stays as it was */
    FILE *f = fopen(path_in("a_full.safetensors"), "rb");
    fseek(f, 0, SEEK_END);
    long before = ftell(f);
    fclose(f);
    sg_dataset bad = *d;
    bad.pixels = malloc(d->count * 3 * 32 * 32 * sizeof(float));
    memcpy(bad.pixels, d->pixels, d->count * 3 * 32 * 32 * sizeof(float));
    for (size_t i = 0; i < d->count * 3 * 32 * 32; i += 97)
        bad.pixels[i] = NAN;
    o.epochs = 3;
    o.checkpoint = path_in("a_full.safetensors");
    sg_status s = sg_fit(a, &bad, &o, &ra);
    t_check(s == SG_ERR_NUMERIC, "a NaN loss stops training: %s", sg_error_message());
    sg_model *again;
    t_ok(sg_model_load(t_dev, path_in("a_full.safetensors"), &again), "the last checkpoint still loads");
    t_check(sg_model_training_state(again)->epoch == 2, "and is the one of epoch 2 (%ld bytes)", before);
    sg_model_destroy(again);
    free(bad.pixels);
    sg_model_destroy(a);
}

/* How far the scores of d move (largest relative change) when the BN running
 * statistics are measured afresh on d's first images with m's current weights:
 * ~0 when they already are those of these weights. */
static double stats_drift(sg_model *m, const sg_dataset *d, const sg_train_config *train)
{
    float before[10], after[10];
    scores_of(m, d, before);
    sg_trainer *t;
    t_ok(sg_trainer_create(m, train, &t), "trainer");
    t_ok(sg_trainer_bn_stats_add(t, d->pixels), "statistics of a batch");
    t_ok(sg_trainer_bn_stats_store(t), "store the statistics");
    t_check(sg_trainer_bn_stats_store(t) == SG_ERR_ARGUMENT, "a store without a batch is refused: %s",
            sg_error_message());
    sg_trainer_destroy(t);
    scores_of(m, d, after);
    double drift = 0;
    for (size_t i = 0; i < d->count; i++)
        drift = fmax(drift, fabs(after[i] - before[i]) / fabs(before[i]));
    return drift;
}

/* The running statistics of a short training keep 0.9^steps of their initial
 * 0 and 1 and average the last ~10 steps of moving weights; sg_fit measures
 * them afresh for the final weights. The images are all the same (a still
 * scene), so every batch has the same statistics: measuring again must change
 * nothing. bn_batches 0 (the running averages kept) shows how far off they are. */
static void test_fit_bn_statistics(const sg_dataset *d)
{
    sg_dataset still = *d;
    size_t image = (size_t)3 * 32 * 32;
    still.pixels = t_alloc(d->count * image);
    for (size_t i = 0; i < d->count; i++)
        memcpy(still.pixels + i * image, d->pixels, image * sizeof(float));
    sg_model_config c = sg_model_config_default();
    c.upsample = SG_UPSAMPLE_NEAREST;
    c.width = 0.25f; /* quick: the statistics' bookkeeping is the same at every width */
    sg_fit_options o = sg_fit_options_default();
    o.epochs = 2;
    o.train.batch = 4;
    o.train.lr = 2e-3f;
    o.holdout = 0.2f;
    double drift[2];
    for (int fresh = 0; fresh < 2; fresh++) {
        o.bn_batches = fresh ? sg_fit_options_default().bn_batches : 0;
        sg_model *m;
        t_ok(sg_model_create(t_dev, &c, 3, &m), "model");
        t_ok(sg_fit(m, &still, &o, NULL), "fit");
        drift[fresh] = stats_drift(m, &still, &o.train);
        sg_model_destroy(m);
    }
    t_check(drift[0] > 0.05, "the running averages are not the final weights' statistics (scores move by %.3g)",
            drift[0]);
    t_check(drift[1] < 1e-3, "sg_fit stores the final weights' statistics (scores move by %.3g)", drift[1]);
    free(still.pixels);
}

/* The training step on a device whose tensors the host cannot see (a discrete
 * GPU's staged path): one submission and one wait per step, and the same
 * losses and trained model as on the mapped device, bit for bit. */
static void test_staged_trainer(void)
{
    enum { B = 4, STEPS = 3 };
    sg_device_options opt = {.staged = true, .quiet = true};
    sg_device *staged = NULL;
    t_ok(sg_device_create(&opt, &staged), "device with staged transfers");
    sg_device *devs[2] = {t_dev, staged};
    sg_model_config c = sg_model_config_default();
    c.width = 0.25f;
    sg_train_config tc = sg_train_config_default();
    tc.batch = B;
    sg_train_losses l[2][STEPS];
    double held_out[2];
    bool one_submit = true, held_out_submits = true;
    for (int d = 0; d < 2; d++) {
        sg_model *m;
        sg_trainer *t;
        t_ok(sg_model_create(devs[d], &c, 9, &m), "sg_model_create");
        t_ok(sg_trainer_create(m, &tc, &t), "sg_trainer_create");
        for (int k = 0; k < STEPS; k++) {
            float *x = t_disc_images(B, 32, 0.1f, 50 + (uint64_t)k);
            uint64_t before = sg_device_submit_count(devs[d]);
            t_ok(sg_trainer_step(t, x, &l[d][k]), "step");
            one_submit = one_submit && sg_device_submit_count(devs[d]) == before + 1;
            free(x);
        }
        sg_trainer_destroy(t);
        /* the held-out loss of 6 images in batches of 4: two runs */
        sg_recon_eval *e;
        float *x = t_disc_images(6, 32, 0.1f, 60);
        t_ok(sg_recon_eval_create(m, B, &e), "sg_recon_eval_create");
        uint64_t before = sg_device_submit_count(devs[d]);
        t_ok(sg_recon_eval_run(e, x, 6, &held_out[d]), "held-out loss");
        held_out_submits = held_out_submits && sg_device_submit_count(devs[d]) == before + 2;
        sg_recon_eval_destroy(e);
        free(x);
        t_ok(sg_model_save(m, path_in(d ? "staged.safetensors" : "mapped.safetensors")), "save");
        sg_model_destroy(m);
    }
    t_check(one_submit, "a training step is one submission, mapped or staged");
    t_check(held_out_submits && held_out[0] == held_out[1] && held_out[0] > 0,
            "the held-out loss: one submission a batch, the same on both (%g, %g)", held_out[0], held_out[1]);
    bool same_losses = true;
    for (int k = 0; k < STEPS; k++)
        same_losses = same_losses && l[0][k].g_total == l[1][k].g_total && l[0][k].g_con == l[1][k].g_con &&
                      l[0][k].d_total == l[1][k].d_total && l[0][k].g_lat == l[1][k].g_lat;
    FILE *f0 = fopen(path_in("mapped.safetensors"), "rb"), *f1 = fopen(path_in("staged.safetensors"), "rb");
    bool same_file = f0 && f1;
    for (int a = 0, b = 0; same_file && a != EOF;) {
        a = fgetc(f0);
        b = fgetc(f1);
        same_file = a == b;
    }
    if (f0)
        fclose(f0);
    if (f1)
        fclose(f1);
    t_check(same_losses && same_file, "staged: the same losses (G %g) and checkpoint bit for bit after %d steps",
            (double)l[1][STEPS - 1].g_total, STEPS);
    t_check(sg_device_validation_messages(staged) == 0 && sg_device_bytes_in_use(staged) == 0,
            "the staged device: no validation message, every tensor freed");
    sg_device_destroy(staged);
}

int main(void)
{
    t_begin("model");
    char *tmp = t_tmpdir("sgad-test-model");
    snprintf(dir, sizeof dir, "%s", tmp);
    free(tmp);
    sg_dataset d;
    make_images(&d, 10, 3, 1);
    test_counts();
    test_staged_trainer();
    test_checkpoint_roundtrip(&d);
    test_fit_resume(&d);
    test_no_save_after_divergence(&d);
    test_fit_bn_statistics(&d);
    sg_dataset_free(&d);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return t_end();
}
