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
    o.eval_interval = 10;
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

size_t sg_calibration_min_images(float quantile)
{
    if (!(quantile > 0 && quantile < 1))
        return 20;
    /* less 1e-4 of it: a quantile stored as a float (0.999 reads 0.99900001287, 1/(1-q) 1000.013)
     * still needs the round number */
    double need = ceil(1.0 / (1.0 - (double)quantile) * (1 - 1e-4));
    return need < 20 ? 20 : need > 1e9 ? (size_t)1e9 : (size_t)need;
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
    /* a score that is not a number would sort anywhere and make any threshold:
     * refused, the model's calibration left as it was */
    for (size_t i = 0; s == SG_OK && i < count; i++)
        if (!isfinite(scores[i]))
            s = sg_fail(SG_ERR_NUMERIC, "calibration: the score of normal image %zu of %zu is not a finite number "
                        "(%g); nothing calibrated", i, count, (double)scores[i]);
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

/* The held-out reconstruction loss measured during training, and the best
 * model an early stop goes back to. */
typedef struct heldout_watch {
    sg_recon_eval *eval; /* NULL: nothing measured */
    float *images;       /* up to HELDOUT_EVAL_IMAGES held-out images */
    size_t count;
    double last, best;   /* NaN until measured */
    uint64_t best_step;
    uint32_t since_best;
    sg_model_snapshot *best_model; /* with a patience */
} heldout_watch;

enum { HELDOUT_EVAL_IMAGES = 128 }; /* a mean over this many is steady; more would slow the training */

static sg_status heldout_watch_init(heldout_watch *w, sg_model *m, const sg_dataset *normal, const size_t *held_idx,
                                    size_t held, const sg_fit_options *o)
{
    memset(w, 0, sizeof *w);
    w->last = w->best = NAN;
    w->count = held < HELDOUT_EVAL_IMAGES ? held : HELDOUT_EVAL_IMAGES;
    if (o->patience > 0 && (o->eval_interval == 0 || w->count < 2))
        return sg_fail(SG_ERR_ARGUMENT, "early stopping (patience %u) needs the held-out reconstruction loss: "
                       "an evaluation interval above 0 and at least 2 held-out images (%zu held out)",
                       o->patience, held);
    if (o->eval_interval == 0 || w->count < 2)
        return SG_OK;
    size_t image = (size_t)normal->channels * normal->size * normal->size;
    w->images = malloc(w->count * image * sizeof(float));
    if (!w->images)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    gather(normal, held_idx, w->count, w->images);
    int batch = o->train.batch < (int)w->count ? o->train.batch : (int)w->count;
    return sg_recon_eval_create(m, batch, &w->eval);
}

static void heldout_watch_free(heldout_watch *w)
{
    sg_recon_eval_destroy(w->eval);
    sg_model_snapshot_destroy(w->best_model);
    free(w->images);
}

/* Measure after this step; a lower loss after the warm-up becomes the best
 * (and, with a patience, its model is kept). */
static sg_status heldout_watch_measure(heldout_watch *w, sg_model *m, const sg_fit_options *o, uint64_t step)
{
    sg_status s = sg_recon_eval_run(w->eval, w->images, w->count, &w->last);
    if (s != SG_OK || step <= o->warmup_steps)
        return s; /* the warm-up's models are not candidates: the adversary has not trained them */
    if (isnan(w->best) || w->last < w->best) {
        w->best = w->last;
        w->best_step = step;
        w->since_best = 0;
        if (o->patience > 0)
            s = sg_model_snapshot_take(m, &w->best_model);
    } else {
        w->since_best++;
    }
    return s;
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
    heldout_watch watch = {.last = NAN, .best = NAN};
    if (s == SG_OK)
        s = heldout_watch_init(&watch, m, normal, split + train_n, held, o);
    /* the model's step at the planned end: what the time left counts down to */
    uint64_t steps_planned = st->step;
    if (o->epochs > st->epoch)
        steps_planned += (uint64_t)(o->epochs - st->epoch) * steps_per_epoch - st->epoch_step;

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
            /* the warm-up's factor of the adversarial and latent weights for this step */
            float ramp = st->step < o->warmup_steps ? (float)((double)st->step / o->warmup_steps) : 1.0f;
            sg_train_losses losses;
            if ((s = sg_trainer_set_warmup(t, ramp)) == SG_OK)
                s = sg_trainer_step(t, buf, &losses);
            if (s != SG_OK)
                break; /* a NaN leaves the last saved checkpoint as it is */
            st->epoch_step = b + 1;
            r.steps_run++;
            r.last = losses;
            bool measure = watch.eval && (st->step % o->eval_interval == 0 || st->step == steps_planned);
            if (measure && (s = heldout_watch_measure(&watch, m, o, st->step)) != SG_OK)
                break;
            if (o->progress) {
                double now = sg_now(), dt = now - epoch_t0, run_dt = now - t0;
                sg_fit_progress p = {epoch, o->epochs, b + 1, steps_per_epoch, st->step, losses,
                                     dt > 0 ? (double)(b + 1 - first) * batch / dt : 0};
                p.steps = steps_planned;
                p.steps_per_second = run_dt > 0 ? (double)r.steps_run / run_dt : 0;
                p.seconds_left = p.steps_per_second > 0 ? (double)(steps_planned - st->step) / p.steps_per_second : 0;
                p.heldout_measured = measure;
                p.heldout_con = watch.last;
                p.best_heldout_con = watch.best;
                p.best_step = watch.best_step;
                p.evals_without_gain = watch.since_best;
                if (!o->progress(&p, o->user)) {
                    r.interrupted = true;
                    break;
                }
            }
            if (o->patience > 0 && watch.since_best >= o->patience) {
                r.stopped_early = true;
                break;
            }
        }
        if (s != SG_OK || r.interrupted || r.stopped_early)
            break;
        st->epoch = epoch + 1;
        st->epoch_step = 0;
        r.epochs_run++;
        bool last = st->epoch == o->epochs;
        if (!last && o->checkpoint && st->epoch % save_every == 0 && (s = sg_model_save(m, partial)) == SG_OK)
            r.partial_saved = true;
    }
    /* with a patience, the model kept is the best measured, never a worse one */
    if (s == SG_OK && !r.interrupted && watch.best_model && watch.best_step != st->step)
        s = sg_model_snapshot_restore(m, watch.best_model);
    r.heldout_con = watch.last;
    r.best_heldout_con = watch.best;
    r.best_step = watch.best_step;
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
    heldout_watch_free(&watch);
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
