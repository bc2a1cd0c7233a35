/* The training loop shared by the command line and the GStreamer element
 * (see sgad/fit.h): seeded hold-out split, seeded epoch order, checkpoints,
 * resumption mid-epoch, calibration on the held-out images. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "../core/error.h"
#include "sgad/fit.h"
#include "sgad/util.h"

sg_fit_options sg_fit_options_default(void)
{
    sg_fit_options o = {0};
    o.epochs = 15;
    o.train = sg_train_config_default();
    o.holdout = 0.1f;
    o.quantile = 0.995f;
    o.save_interval = 1;
    o.bn_batches = 30;
    return o;
}

/* Fisher-Yates with a generator seeded by `seed`: the same order on every run. */
static void shuffle(size_t *idx, size_t n, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(sg_splitmix64_next(&st) % i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

sg_status sg_score_images(sg_model *m, const float *images, size_t count, int batch, float *scores, float *heatmaps,
                          float *reconstructions)
{
    if (count == 0)
        return SG_OK;
    if (batch < 1)
        batch = 1;
    if ((size_t)batch > count)
        batch = (int)count;
    const sg_model_config *c = sg_model_get_config(m);
    size_t image = (size_t)c->channels * c->size * c->size, plane = (size_t)c->size * c->size;
    sg_scorer *sc = NULL;
    sg_status s = sg_scorer_create(m, batch, &sc);
    for (size_t at = 0; s == SG_OK && at < count; at += (size_t)batch) {
        int n = (int)(count - at < (size_t)batch ? count - at : (size_t)batch);
        s = sg_scorer_run(sc, images + at * image, n, scores + at, heatmaps ? heatmaps + at * plane : NULL,
                          reconstructions ? reconstructions + at * image : NULL);
    }
    sg_scorer_destroy(sc);
    return s;
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

sg_status sg_calibrate(sg_model *m, const float *images, size_t count, float quantile)
{
    if (count == 0)
        return sg_fail(SG_ERR_ARGUMENT, "calibration needs at least one held-out normal image");
    if (!(quantile > 0 && quantile <= 1))
        return sg_fail(SG_ERR_ARGUMENT, "calibration quantile must be in (0, 1], got %g", quantile);
    float *scores = malloc(count * sizeof *scores);
    if (!scores)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_status s = sg_score_images(m, images, count, 64, scores, NULL, NULL);
    if (s == SG_OK) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < count; i++)
            sum += scores[i];
        double mean = sum / count;
        for (size_t i = 0; i < count; i++)
            sq += (scores[i] - mean) * (scores[i] - mean);
        qsort(scores, count, sizeof *scores, compare_float);
        /* linear interpolation between order statistics (numpy's default) */
        double pos = quantile * (double)(count - 1);
        size_t lo = (size_t)floor(pos), hi = lo + 1 < count ? lo + 1 : lo;
        double q = scores[lo] + (pos - (double)lo) * (scores[hi] - scores[lo]);
        sg_calibration *cal = sg_model_calibration(m);
        cal->valid = true;
        cal->threshold = (float)q;
        cal->quantile = quantile;
        cal->normal_mean = (float)mean;
        cal->normal_std = (float)sqrt(count > 1 ? sq / (double)(count - 1) : 0.0);
        cal->samples = (uint32_t)count;
    }
    free(scores);
    return s;
}

/* Copy the images idx[0..n) into a contiguous batch. */
static void gather(const sg_dataset *d, const size_t *idx, size_t n, float *out)
{
    size_t image = (size_t)d->channels * d->size * d->size;
    for (size_t i = 0; i < n; i++)
        memcpy(out + i * image, d->pixels + idx[i] * image, image * sizeof(float));
}

uint32_t sg_fit_steps_per_epoch(size_t count, const sg_fit_options *o)
{
    size_t held = (size_t)floor(o->holdout * (double)count);
    if (o->holdout > 0 && held == 0 && count > 1)
        held = 1;
    size_t batch = o->train.batch > 0 ? (size_t)o->train.batch : 0;
    return batch && count > held ? (uint32_t)((count - held) / batch) : 0;
}

/* A standardised frame score takes its per-pixel statistics from up to 256
 * training images (never the held-out ones its threshold comes from). */
static sg_status fit_score_statistics(sg_model *m, const sg_dataset *normal, const size_t *train, size_t train_n)
{
    if (!sg_model_frame_score(m)->standardise)
        return SG_OK;
    size_t image = (size_t)normal->channels * normal->size * normal->size, n = train_n < 256 ? train_n : 256;
    float *buf = malloc(n * image * sizeof *buf);
    if (!buf)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    for (size_t i = 0; i < n; i++) /* spread over the training images */
        memcpy(buf + i * image, normal->pixels + train[i * train_n / n] * image, image * sizeof(float));
    sg_status s = sg_model_fit_pixel_stats(m, buf, n);
    free(buf);
    return s;
}

/* The training batch augmented as the options ask, seeded by the run's seed and step. */
static void augment_batch(const sg_fit_options *o, const sg_model_config *c, float *buf, size_t batch,
                          const sg_training_state *st)
{
    if (sg_augment_enabled(&o->augment))
        sg_augment_images(&o->augment, buf, batch, c->channels, c->size, st->seed, st->step);
}

sg_status sg_fit(sg_model *m, const sg_dataset *normal, const sg_fit_options *options, sg_fit_result *result)
{
    sg_fit_options def = sg_fit_options_default();
    const sg_fit_options *o = options ? options : &def;
    const sg_model_config *c = sg_model_get_config(m);
    sg_fit_result r = {0};
    if (normal->channels != c->channels || normal->size != c->size)
        return sg_fail(SG_ERR_SHAPE, "training images are %dx%dx%d but the model takes %dx%dx%d", normal->channels,
                       normal->size, normal->size, c->channels, c->size, c->size);
    const char *bad_augment = sg_augment_check(&o->augment);
    if (bad_augment)
        return sg_fail(SG_ERR_ARGUMENT, "%s", bad_augment);
    if (!(o->holdout >= 0 && o->holdout < 1))
        return sg_fail(SG_ERR_ARGUMENT, "hold-out fraction must be in [0, 1), got %g", o->holdout);
    size_t n = normal->count, held = (size_t)floor(o->holdout * (double)n);
    if (o->holdout > 0 && held == 0 && n > 1)
        held = 1;
    size_t train_n = n - held, batch = (size_t)o->train.batch;
    uint32_t steps_per_epoch = batch ? (uint32_t)(train_n / batch) : 0;
    if (steps_per_epoch == 0)
        return sg_fail(SG_ERR_ARGUMENT, "%zu training images (after holding out %zu) do not fill one batch of %zu",
                       train_n, held, batch);
    sg_training_state *st = sg_model_training_state(m);
    if (st->epoch_step >= steps_per_epoch)
        return sg_fail(SG_ERR_ARGUMENT, "the checkpoint stopped at step %u of an epoch, but an epoch now has %u steps "
                       "(resume with the same data and batch size)", st->epoch_step, steps_per_epoch);

    size_t image = (size_t)c->channels * c->size * c->size;
    size_t *split = malloc(n * sizeof *split), *order = malloc(train_n * sizeof *order);
    float *buf = malloc((held > batch ? held : batch) * image * sizeof(float));
    sg_trainer *t = NULL;
    sg_status s = split && order && buf ? SG_OK : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == SG_OK)
        s = sg_trainer_create(m, &o->train, &t);
    /* the split depends on the seed only, so a resumed run holds out the same images */
    for (size_t i = 0; split && i < n; i++)
        split[i] = i;
    if (s == SG_OK)
        shuffle(split, n, st->seed ^ 0x5eed5011177ull);

    /* intermediate and interrupted states go beside the target: only a finished
     * training replaces what the checkpoint path held (a usable model, maybe) */
    char partial[4096] = "";
    if (o->checkpoint && sg_fit_partial_path(o->checkpoint, partial, sizeof partial) != SG_OK)
        s = sg_fail(SG_ERR_ARGUMENT, "checkpoint path too long: %s", o->checkpoint);
    double t0 = sg_now();
    uint32_t save_every = o->save_interval ? o->save_interval : 1;
    for (uint32_t epoch = st->epoch; s == SG_OK && epoch < o->epochs && !r.interrupted; epoch++) {
        memcpy(order, split, train_n * sizeof *order);
        shuffle(order, train_n, st->seed * 1000003ull + epoch);
        double epoch_t0 = sg_now();
        uint32_t first = st->epoch_step;
        for (uint32_t b = first; s == SG_OK && b < steps_per_epoch; b++) {
            gather(normal, order + (size_t)b * batch, batch, buf);
            augment_batch(o, c, buf, batch, st);
            sg_train_losses losses;
            s = sg_trainer_step(t, buf, &losses);
            if (s != SG_OK)
                break; /* a NaN leaves the last saved checkpoint as it is */
            st->epoch_step = b + 1;
            r.steps_run++;
            r.last = losses;
            if (o->progress) {
                double dt = sg_now() - epoch_t0;
                sg_fit_progress p = {epoch, o->epochs, b + 1, steps_per_epoch, st->step, losses,
                                     dt > 0 ? (double)(b + 1 - first) * batch / dt : 0};
                if (!o->progress(&p, o->user)) {
                    r.interrupted = true;
                    break;
                }
            }
        }
        if (s != SG_OK || r.interrupted)
            break;
        st->epoch = epoch + 1;
        st->epoch_step = 0;
        r.epochs_run++;
        bool last = st->epoch == o->epochs;
        if (!last && o->checkpoint && st->epoch % save_every == 0 && (s = sg_model_save(m, partial)) == SG_OK)
            r.partial_saved = true;
    }
    /* The BN running statistics average the last ~10 steps (momentum 0.1) of
     * weights that moved, and keep 0.9^steps of their initial 0 and 1, which
     * outweighs the tiny variances of layers fed by weights ~N(0, 0.02) for
     * ~100 steps: eval mode would score with other networks' statistics.
     * Measure them afresh for the final weights. */
    uint32_t bn_batches = o->bn_batches < steps_per_epoch ? o->bn_batches : steps_per_epoch;
    for (uint32_t b = 0; s == SG_OK && !r.interrupted && b < bn_batches; b++) {
        gather(normal, split + (size_t)b * batch, batch, buf);
        s = sg_trainer_bn_stats_add(t, buf);
    }
    if (s == SG_OK && !r.interrupted && bn_batches > 0)
        s = sg_trainer_bn_stats_store(t);
    if (s == SG_OK && !r.interrupted)
        s = fit_score_statistics(m, normal, split, train_n);
    if (s == SG_OK && !r.interrupted && held > 0) {
        gather(normal, split + train_n, held, buf);
        s = sg_calibrate(m, buf, held, o->quantile);
    }
    if (s == SG_OK && o->checkpoint && r.interrupted) {
        if ((s = sg_model_save(m, partial)) == SG_OK)
            r.partial_saved = true;
    } else if (s == SG_OK && o->checkpoint) {
        s = sg_model_save(m, o->checkpoint); /* atomic: a temporary file renamed over the target */
        if (s == SG_OK) {
            unlink(partial); /* the finished model supersedes it */
            r.partial_saved = false;
        }
    }
    r.seconds = sg_now() - t0;
    sg_trainer_destroy(t);
    free(split);
    free(order);
    free(buf);
    if (result)
        *result = r;
    return s;
}

sg_status sg_fit_partial_path(const char *checkpoint, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s.partial", checkpoint);
    return n < 0 || (size_t)n >= size ? SG_ERR_ARGUMENT : SG_OK;
}
