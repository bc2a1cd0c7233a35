/* Reservoir sampling of training frames and the sg_fit run. */
#include "training.h"

#include <string.h>

void sgad_reservoir_init(SgadReservoir *r, guint capacity, gint channels, gint size, guint32 seed)
{
    memset(r, 0, sizeof *r);
    r->capacity = capacity;
    r->channels = channels;
    r->size = size;
    r->rand = g_rand_new_with_seed(seed);
}

void sgad_reservoir_clear(SgadReservoir *r)
{
    g_free(r->images);
    if (r->rand)
        g_rand_free(r->rand);
    memset(r, 0, sizeof *r);
}

gboolean sgad_reservoir_add(SgadReservoir *r, const gfloat *image)
{
    const gsize floats = (gsize)r->channels * r->size * r->size;
    guint slot;
    if (r->count < r->capacity) {
        if (r->count == r->allocated) {
            /* grow geometrically, never past the capacity: short streams stay small */
            guint want = MIN(MAX(r->allocated * 2, 16u), r->capacity);
            gfloat *grown = g_try_realloc_n(r->images, (gsize)want * floats, sizeof(gfloat));
            if (!grown)
                return FALSE;
            r->images = grown;
            r->allocated = want;
        }
        slot = r->count++;
    } else {
        /* keep the new image with probability capacity / (seen + 1) */
        guint64 j = (guint64)(g_rand_double(r->rand) * (gdouble)(r->seen + 1));
        if (j >= r->capacity) {
            r->seen++;
            return TRUE;
        }
        slot = (guint)j;
    }
    memcpy(r->images + (gsize)slot * floats, image, floats * sizeof(gfloat));
    r->seen++;
    return TRUE;
}

guint sgad_train_epochs_for_steps(guint count, guint batch, guint64 steps)
{
    sg_fit_options o = sg_fit_options_default();
    o.train.batch = (int)batch;
    uint32_t per_epoch = sg_fit_steps_per_epoch(count, &o);
    if (per_epoch == 0)
        return 1;
    guint64 epochs = (steps + per_epoch - 1) / per_epoch;
    return (guint)CLAMP(epochs, 1, 1000000);
}

sg_status sgad_train(sg_device *dev, const SgadReservoir *r, const SgadTrainParams *params, sg_fit_callback progress,
                     void *user, sg_fit_result *result)
{
    sg_model *m = NULL;
    sg_status s = sg_model_create(dev, &params->config, params->seed, &m);
    if (s == SG_OK)
        s = sg_model_set_score_lambda(m, params->score_lambda);
    if (s == SG_OK)
        s = sg_model_set_frame_score(m, &params->frame_score);
    if (s != SG_OK) {
        sg_model_destroy(m);
        return s;
    }
    /* the dataset borrows the reservoir's pixels; every frame is "normal" (label 0) */
    sg_dataset data = {.channels = r->channels, .size = r->size, .count = r->count, .pixels = r->images,
                       .labels = g_new0(int32_t, MAX(r->count, 1u)), .num_classes = 1};
    sg_fit_options o = sg_fit_options_default();
    o.epochs = params->epochs;
    o.train.batch = (int)params->batch;
    o.train.lr = params->learning_rate;
    if (!params->adversarial)
        o.train.w_adv = o.train.w_lat = 0;
    o.checkpoint = params->checkpoint;
    o.save_interval = params->save_interval;
    o.warmup_steps = params->warmup_steps;
    o.eval_interval = params->eval_interval;
    o.patience = params->patience;
    o.progress = progress;
    o.user = user;
    memset(result, 0, sizeof *result);
    s = sg_fit(m, &data, &o, result);
    g_free(data.labels);
    sg_model_destroy(m);
    return s;
}
