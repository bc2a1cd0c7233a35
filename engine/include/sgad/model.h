/* Skip-GANomaly++ (and the Skip-GANomaly U-Net baseline) on the engine: the
 * networks, GAN training, anomaly scores and checkpoints of
 * ../shared/spec/skipganomaly-pp.md.
 *
 *   sg_model *m;  sg_model_create(dev, &config, seed, &m)   or  sg_model_load(dev, path, &m)
 *   sg_trainer *t; sg_trainer_create(m, &train, &t); sg_trainer_step(t, batch, &losses) ...
 *   sg_scorer *s;  sg_scorer_create(m, batch, &s);   sg_scorer_run(s, images, n, scores, heatmaps)
 *   sg_model_save(m, path)   (atomic)
 *
 * Images are planar CHW floats in [-1, 1] (x/127.5 - 1), C x S x S each. */
#ifndef SGAD_MODEL_H
#define SGAD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "frame_score.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sg_arch {
    SG_ARCH_SKIPGANOMALY_PP = 0, /* ResUNet++-style generator (the paper's model) */
    SG_ARCH_SKIPGANOMALY,        /* pix2pix U-Net generator (the Skip-GANomaly baseline) */
} sg_arch;

typedef enum sg_upsample {
    SG_UPSAMPLE_TRANSPOSED = 0, /* transposed conv 4x4 stride 2 (default) */
    SG_UPSAMPLE_NEAREST,        /* nearest x2, as the reference code */
} sg_upsample;

typedef struct sg_model_config {
    sg_arch arch;
    int channels;         /* 1 or 3 */
    int size;             /* S: power of two, 32..512 */
    float width;          /* width multiplier of the generator (widths 16..256 times it): a multiple of
                           * 1/16 from 0.25 to 16, so that every width is a whole number of channels */
    sg_upsample upsample; /* Skip-GANomaly++ only */
    /* Skip-GANomaly++ only: the encoder levels whose skip connection into the
     * decoder is left out (their gate and concatenated features are zeros), bit
     * k-1 for level k: c1 (S x S, into d3), c2 (S/2, into d2), c3 (S/4, into d1).
     * 0, every skip kept, is the spec. Without the full-resolution skips the
     * generator cannot copy what it is shown and must reconstruct it from
     * coarser features: what it has not learnt (a defect) stays out of the
     * reconstruction (docs/training.md, "Skips left out"). */
    unsigned dropped_skips;
} sg_model_config;

#define SG_SKIP_LEVELS 3
/* "1,2" and the like (levels 1..3, any order, no repeats), "" or "none" for
 * none, into a dropped_skips mask; NULL, or a sentence saying what is wrong. */
const char *sg_skips_parse(const char *text, unsigned *mask);
/* The mask as "1,2" ("none" for 0). */
void sg_skips_describe(unsigned mask, char *out, size_t size);

/* The defaults of the spec: Skip-GANomaly++, 3 channels, 32x32, width 1, transposed. */
sg_model_config sg_model_config_default(void);
/* NULL if valid, else a sentence saying what is wrong. */
const char *sg_model_config_check(const sg_model_config *c);
/* base channels times the width multiplier, for a valid configuration (base a multiple of 16) */
int sg_model_width_channels(const sg_model_config *c, int base);
const char *sg_arch_name(sg_arch a);
const char *sg_upsample_name(sg_upsample u);

typedef struct sg_calibration {
    bool valid;
    float threshold;   /* scores above it are anomalous */
    float quantile;    /* of the held-out normal scores, e.g. 0.995 */
    float normal_mean; /* of the held-out normal scores */
    float normal_std;
    uint32_t samples;  /* held-out images scored */
} sg_calibration;

typedef struct sg_training_state {
    uint64_t step;  /* optimiser steps taken (Adam's t) */
    uint32_t epoch; /* completed epochs */
    uint32_t epoch_step; /* steps done in the epoch under way (resuming skips them) */
    uint64_t seed;
    uint32_t d_reinits; /* discriminator re-initialisations */
    bool has_optimizer_state; /* Adam's moments are real: false after loading a file saved for scoring */
} sg_training_state;

typedef struct sg_model sg_model;

sg_status sg_model_create(sg_device *dev, const sg_model_config *config, uint64_t seed, sg_model **out);
/* Load a checkpoint (safetensors); every check of docs/checkpoint.md is made and
 * a bad file is refused with a message naming the file and the problem. */
sg_status sg_model_load(sg_device *dev, const char *path, sg_model **out);
/* Save atomically (temporary file, fsync, rename): an interrupted or failed save
 * leaves any previous file at `path` intact. */
sg_status sg_model_save(sg_model *m, const char *path);
/* The same without the optimiser state (Adam's moments): a third of the size, enough for scoring and
 * for shipping a model; training cannot resume from it. */
sg_status sg_model_save_for_scoring(sg_model *m, const char *path);
void sg_model_destroy(sg_model *m);

const sg_model_config *sg_model_get_config(const sg_model *m);
sg_device *sg_model_device(const sg_model *m);
sg_calibration *sg_model_calibration(sg_model *m);
sg_training_state *sg_model_training_state(sg_model *m);
/* Trainable parameter counts of the generator and the discriminator. */
size_t sg_model_generator_parameters(const sg_model *m);
size_t sg_model_discriminator_parameters(const sg_model *m);

/* ---- training ---------------------------------------------------------- */

typedef struct sg_train_config {
    int batch;                 /* 64 */
    float lr, beta1, beta2;    /* 2e-4, 0.5, 0.999 */
    float w_adv, w_con, w_lat; /* 1, 50, 1; with w_adv and w_lat both 0, D is left out of the step */
    bool detach_latent;        /* the ++ reference's choice: no latent gradient into G */
} sg_train_config;

sg_train_config sg_train_config_default(void);
/* Whether the discriminator is part of the step: false when w_adv and w_lat are both 0. */
bool sg_train_config_adversarial(const sg_train_config *c);

typedef struct sg_train_losses {
    float g_total, g_adv, g_con, g_lat; /* weighted total and the three unweighted terms */
    float d_total, d_real, d_fake;
    bool d_reinitialised; /* the discriminator loss fell below 1e-5 and D was re-drawn */
    float warmup;         /* the factor of w_adv and w_lat in force (in g_total and G's gradient): 1
                           * but during a warm-up (sg_trainer_set_warmup) */
    bool adversarial;     /* false: w_adv and w_lat are 0, the step trained G on the reconstruction
                           * alone and left D out (g_adv, g_lat and the D losses are 0, not measured) */
} sg_train_losses;

typedef struct sg_trainer sg_trainer;

/* Records the whole training step once (G forward, D on x and on G(x), losses,
 * backward, Adam on G, D's loss backward, Adam on D) for this batch size. */
sg_status sg_trainer_create(sg_model *m, const sg_train_config *config, sg_trainer **out);
void sg_trainer_destroy(sg_trainer *t);
/* One step on `batch` images (exactly config.batch of them). A NaN/Inf loss
 * returns SG_ERR_NUMERIC: the model's weights are then unusable; reload the last
 * checkpoint. */
sg_status sg_trainer_step(sg_trainer *t, const float *images, sg_train_losses *losses);
/* Scale the adversarial and latent terms of G's loss (w_adv and w_lat, in its
 * gradient and in g_total) by factor in [0, 1] from the next step on: 0 trains G
 * on the reconstruction term alone; 1 (the default) is the spec's step. D's own
 * step is not affected. */
sg_status sg_trainer_set_warmup(sg_trainer *t, float factor);
/* Re-estimating the BN running statistics for the current weights (what the
 * running averages of a long training on these images would converge to, with
 * no trace of earlier weights): add batches (exactly config.batch images each;
 * the step's forward with batch statistics, weights and Adam untouched), then
 * store their average. Between the first add and the store the model's running
 * statistics are not usable. */
sg_status sg_trainer_bn_stats_add(sg_trainer *t, const float *images);
sg_status sg_trainer_bn_stats_store(sg_trainer *t);

/* The reconstruction loss mean |G(x) - x| of held-out images, measured as the
 * training step measures its con term (G in training mode, batch statistics of
 * `batch` images; a last short batch is filled up from the first images but
 * only its own images count), leaving the model as it was. */
typedef struct sg_recon_eval sg_recon_eval;
sg_status sg_recon_eval_create(sg_model *m, int batch, sg_recon_eval **out);
sg_status sg_recon_eval_run(sg_recon_eval *e, const float *images, size_t count, double *loss);
void sg_recon_eval_destroy(sg_recon_eval *e);

/* A host copy of the weights, BN statistics, Adam's moments and training state
 * (early stopping keeps the best model with it). take reuses *snap when set.
 * Restore only after the last step of a trainer: its own step count does not
 * follow. */
typedef struct sg_model_snapshot sg_model_snapshot;
sg_status sg_model_snapshot_take(sg_model *m, sg_model_snapshot **snap);
sg_status sg_model_snapshot_restore(sg_model *m, const sg_model_snapshot *snap);
void sg_model_snapshot_destroy(sg_model_snapshot *snap);

/* ---- scoring ----------------------------------------------------------- */

typedef struct sg_scorer sg_scorer;

#define SG_SCORE_LAMBDA 0.9f

/* The score's weight of the pixel term, lambda (the spec's 0.9 unless set), saved in the checkpoint
 * with the threshold it was calibrated with. At 0.9 the discriminator-feature term can outweigh the
 * pixel term by orders of magnitude (docs/training.md); 1 scores the reconstruction alone. */
float sg_model_score_lambda(const sg_model *m);
/* lambda in [0, 1]; a calibration made with another lambda no longer applies and is cleared. */
sg_status sg_model_set_score_lambda(sg_model *m, float lambda);
/* How the per-pixel error map becomes the score's pixel term (sgad/frame_score.h): the spec's mean
 * unless set; saved in the checkpoint. Setting another clears the calibration and the per-pixel
 * statistics (a standardised score needs sg_model_fit_pixel_stats before it can score). */
const sg_frame_score_config *sg_model_frame_score(const sg_model *m);
sg_status sg_model_set_frame_score(sg_model *m, const sg_frame_score_config *c);
/* Per-pixel statistics of the error maps of `count` (>= 2) normal images, for a standardised frame
 * score; take them from other images than the calibration's. Clears the calibration. A map value
 * that is not a finite number refuses it (SG_ERR_NUMERIC), the model unchanged. */
sg_status sg_model_fit_pixel_stats(sg_model *m, const float *images, size_t count);
/* Whether the model can score: false for a standardised frame score without statistics. */
bool sg_model_has_pixel_stats(const sg_model *m);
/* Eval mode (BN running statistics), up to `batch` images per run. Made while
 * the model's lambda is 1, the scorer runs G alone (the latent term weighs
 * nothing) and refuses to run (SG_ERR_STATE) once the lambda is set below 1. */
sg_status sg_scorer_create(sg_model *m, int batch, sg_scorer **out);
void sg_scorer_destroy(sg_scorer *s);
/* scores[count]; heatmaps (count*S*S, per-pixel mean over channels of
 * (x - x_hat)^2) and reconstructions (count*C*S*S) may be NULL. */
sg_status sg_scorer_run(sg_scorer *s, const float *images, int count, float *scores, float *heatmaps,
                        float *reconstructions);

/* A score that is not a finite number (NaN or infinite: weights that are finite
 * but so large that the arithmetic overflows) never reads as normal: callers
 * treat it as anomalous and say the score is invalid. sg_scorer_probe scores
 * one probe image (a full-scale checkerboard) and fails with SG_ERR_NUMERIC when its score is not
 * finite; loaders run it so that such a model is refused before it scores.
 * sg_model_probe does the same with a scorer of its own. */
sg_status sg_scorer_probe(sg_scorer *s);
sg_status sg_model_probe(sg_model *m);

/* The discriminator features f(x) and f(x_hat) of the last run's first `count`
 * images (count * 100 floats each): the latent part of the score. SG_ERR_STATE
 * from a scorer made at lambda 1. */
sg_status sg_scorer_features(sg_scorer *s, int count, float *f_x, float *f_x_hat);

#ifdef __cplusplus
}
#endif
#endif
