/* Train mode's data and run: a reservoir of preprocessed normal frames
 * (a uniform sample of at most `capacity` of however many frames the stream
 * has, so memory stays at capacity x C x S x S x 4 bytes) and the call into
 * sg_fit that turns it into a calibrated checkpoint. */
#ifndef SGAD_TRAINING_H
#define SGAD_TRAINING_H

#include <glib.h>
#include <sgad/fit.h>

typedef struct {
    gint channels, size;
    guint capacity;  /* most images kept */
    guint count;     /* images kept so far */
    guint64 seen;    /* images offered so far */
    gfloat *images;  /* count x C x S x S, grown as needed up to capacity */
    guint allocated; /* images the array has room for */
    GRand *rand;
} SgadReservoir;

void sgad_reservoir_init(SgadReservoir *r, guint capacity, gint channels, gint size, guint32 seed);
void sgad_reservoir_clear(SgadReservoir *r);
/* Offer one image (C x S x S): kept while there is room, afterwards it replaces
 * a random kept one with probability capacity/seen (Vitter's algorithm R).
 * FALSE only when host memory runs out. */
gboolean sgad_reservoir_add(SgadReservoir *r, const gfloat *image);
static inline gboolean sgad_reservoir_full(const SgadReservoir *r)
{
    return r->count >= r->capacity;
}

typedef struct {
    sg_model_config config;
    guint epochs, batch, save_interval;
    guint warmup_steps, eval_interval, patience;
    gfloat learning_rate;
    gboolean adversarial; /* FALSE: the reconstruction alone (w_adv = w_lat = 0) */
    gfloat score_lambda; /* stored in the checkpoint, calibrated with */
    sg_frame_score_config frame_score; /* the same */
    guint64 seed;
    const gchar *checkpoint;
} SgadTrainParams;

/* The whole epochs that about `steps` optimiser steps on `count` images take
 * (sg_fit's hold-out and batches; rounded up, at least 1). */
guint sgad_train_epochs_for_steps(guint count, guint batch, guint64 steps);

/* Create a fresh model on dev, fit it on the reservoir's images (sg_fit:
 * hold-out, calibration, atomic saves to params->checkpoint) and free it. */
sg_status sgad_train(sg_device *dev, const SgadReservoir *r, const SgadTrainParams *params, sg_fit_callback progress,
                     void *user, sg_fit_result *result);

#endif
