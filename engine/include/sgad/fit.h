/* Training a model on an in-memory set of normal images, the way both the
 * command-line `train` and the GStreamer element's train mode do it:
 *
 * - a seeded split holds out `holdout` of the images (default 10%) for calibration;
 * - every epoch visits the rest in a seeded order (seed, epoch), in batches of
 *   train.batch (the last incomplete batch is dropped);
 * - after every `save_interval` epochs the state is saved atomically beside the
 *   checkpoint, to CHECKPOINT.partial (sg_fit_partial_path); the checkpoint path
 *   itself is written only at the end of a finished training (calibrated when
 *   images were held out), so an interrupted or failed training never replaces
 *   the model that was there; a NaN/Inf loss stops with SG_ERR_NUMERIC and saves
 *   nothing, so the last good .partial stays;
 * - at the end, the BN running statistics are measured afresh for the final
 *   weights on bn_batches training batches (forward only);
 * - then the held-out images are scored and the calibration (threshold at
 *   `quantile`, normal score mean and std) is stored in the model;
 * - resuming a loaded checkpoint continues from its step, skipping the batches of
 *   the current epoch already done: the result equals an uninterrupted run on the
 *   same device;
 * - a warm-up (warmup_steps) ramps the adversarial and latent weights from 0 to
 *   their values over its first optimiser steps (counted from the model's step
 *   0, so a resumed run ramps as the uninterrupted one), training G on the
 *   reconstruction first;
 * - every eval_interval steps (and after the last) the reconstruction loss of
 *   up to 128 held-out images is measured (sg_recon_eval) and shown in the
 *   progress; with a patience, training stops once that many evaluations after
 *   the warm-up brought no lower loss, and the model of the best evaluation
 *   (weights, statistics, Adam's state, step) is the one calibrated and saved;
 * - the progress callback sees every step and may return false to stop early
 *   (SIGINT): the state is then saved to the .partial file and sg_fit returns
 *   SG_OK with result.interrupted and result.partial_saved set; a finished
 *   training removes the .partial file. */
#ifndef SGAD_FIT_H
#define SGAD_FIT_H

#include "dataset.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sg_fit_progress {
    uint32_t epoch, epochs;           /* epoch being run (0-based) of epochs */
    uint32_t step_in_epoch, steps_per_epoch;
    uint64_t step;                    /* total optimiser steps */
    sg_train_losses losses;           /* of this step */
    double images_per_second;         /* over this epoch so far */
    uint64_t steps;                   /* the model's step at the planned end (an early stop comes sooner) */
    double steps_per_second;          /* over this run so far, held-out measurements included */
    double seconds_left;              /* to the planned end at that speed (0 until measured) */
    bool heldout_measured;            /* heldout_con was measured after this step */
    double heldout_con;               /* the latest held-out reconstruction loss; NaN before the first */
    double best_heldout_con;          /* the lowest after the warm-up (NaN if none yet), at best_step */
    uint64_t best_step;
    uint32_t evals_without_gain;      /* measurements since the best (early stop at the patience) */
} sg_fit_progress;

typedef bool (*sg_fit_callback)(const sg_fit_progress *p, void *user);

/* Augmentation of training batches that keeps normal images normal; all off
 * by default (the spec trains on the images as they are). */
typedef struct sg_augment {
    int shift;        /* content moved by up to this many pixels each way, borders repeated */
    bool hflip, vflip; /* mirror half of the images (only where the scene allows it) */
    float brightness; /* intensity gain drawn from [1 - b, 1 + b], clipped to the range */
} sg_augment;

/* NULL if valid, else a sentence saying what is wrong. */
const char *sg_augment_check(const sg_augment *a);
bool sg_augment_enabled(const sg_augment *a);
/* Augment `count` images (C x S x S each, in [-1, 1]) in place; the choices
 * for image i depend on (seed, step, i) only. */
void sg_augment_images(const sg_augment *a, float *images, size_t count, int channels, int size, uint64_t seed,
                       uint64_t step);

typedef struct sg_fit_options {
    uint32_t epochs;        /* total epochs (a resumed model runs epochs - its epoch) */
    sg_train_config train;
    float holdout;          /* fraction held out for calibration, default 0.1 */
    float quantile;         /* threshold quantile of held-out scores, default 0.995 */
    const char *checkpoint; /* path, or NULL not to save */
    uint32_t save_interval; /* epochs between saves, default 1 */
    uint32_t bn_batches;    /* training batches (at most an epoch's) that measure the final BN
                             * statistics, default 30; 0 keeps the running averages */
    sg_fit_callback progress;
    void *user;
    sg_augment augment;     /* of the training batches (never the held-out images); off by default */
    uint32_t warmup_steps;  /* adversarial and latent weights ramped from 0 over these steps; 0 (the
                             * spec's default): none */
    uint32_t eval_interval; /* steps between held-out reconstruction losses, default 10; 0: none */
    uint32_t patience;      /* stop after this many held-out measurements without a lower loss and
                             * keep the best model; 0 (default): train every epoch, keep the last */
} sg_fit_options;

sg_fit_options sg_fit_options_default(void);

/* Optimiser steps in one epoch over `count` images with these options (the
 * hold-out split and the batch size as sg_fit makes them); 0 if they do not
 * fill one batch. */
uint32_t sg_fit_steps_per_epoch(size_t count, const sg_fit_options *options);

typedef struct sg_fit_result {
    bool interrupted;
    bool partial_saved; /* CHECKPOINT.partial holds the last state saved (not the finished model) */
    uint32_t epochs_run;
    uint64_t steps_run;
    double seconds;
    sg_train_losses last;
    bool stopped_early;      /* the patience ran out */
    double heldout_con;      /* the last held-out reconstruction loss measured (NaN if none) */
    double best_heldout_con; /* the best after the warm-up (NaN if none) and its step; with a patience */
    uint64_t best_step;      /* the model returned is that one's */
} sg_fit_result;

/* Train `m` on `normal` (all images are treated as normal). */
sg_status sg_fit(sg_model *m, const sg_dataset *normal, const sg_fit_options *options, sg_fit_result *result);

/* CHECKPOINT.partial, where sg_fit keeps unfinished states; SG_ERR_ARGUMENT when it does not fit. */
sg_status sg_fit_partial_path(const char *checkpoint, char *buf, size_t size);

/* Score `count` images in batches and store the calibration at `quantile`. A score that is not a
 * finite number refuses it (SG_ERR_NUMERIC) and leaves the model's calibration as it was. */
sg_status sg_calibrate(sg_model *m, const float *images, size_t count, float quantile);

/* The fewest normal images a threshold at `quantile` should be taken from: 1/(1-quantile), one
 * expected above it (200 at 0.995), and never fewer than 20. Fewer make a threshold that is about
 * their largest score. */
size_t sg_calibration_min_images(float quantile);
/* Per-pixel statistics (sg_model_fit_pixel_stats) from fewer normal images than this are mostly
 * noise: a standard deviation from n samples is off by about 1/sqrt(2n), 12% at 32. */
#define SG_PIXEL_STATS_MIN_IMAGES 32

/* Score many images in batches of up to `batch` (scores[count]; heatmaps and
 * reconstructions optional as in sg_scorer_run). */
sg_status sg_score_images(sg_model *m, const float *images, size_t count, int batch, float *scores,
                          float *heatmaps, float *reconstructions);

#ifdef __cplusplus
}
#endif
#endif
