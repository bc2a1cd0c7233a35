/* The training step of the spec, recorded once into one sequence and replayed:
 *   t += 1
 *   x_hat = G(x); p_real, f_real = D(x); p_fake, f_fake = D(x_hat)   (train mode)
 *   err_g = w_adv*BCE(p_fake,1) + w_con*L1(x_hat,x) + w_lat*MSE(f_fake,f_real)
 *   backward through D(x_hat) into x_hat (D's parameter gradients not
 *   computed), then through G; Adam on G
 *   (what reaches x_hat through D, the adversarial and latent terms' gradient,
 *   is scaled by the warm-up factor held in a tensor: 1, the spec's step, unless
 *   sg_trainer_set_warmup set another)
 *   err_d = BCE(p_real,1) + BCE(p_fake,0) from the same forward (x_hat a constant);
 *   backward through D only; Adam on D
 * This is tests/reference/skipganomaly_pp.py's train_step; the D re-initialisation
 * below 1e-5 happens on the host after the step.
 * With w_adv and w_lat both 0 nothing of D reaches G, so the step is G's
 * forward, the reconstruction loss, G's backward and Adam on G alone: D is
 * neither run nor trained (its weights, statistics and Adam state stay as they
 * are), and G's update is the one the full step makes with these weights.
 * The batch goes in and the losses come out as part of the step's run
 * (sg_seq_stage_in/out): one submission and one wait per step on any device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "model_internal.h"

enum { LOSS_ADV, LOSS_CON, LOSS_LAT, LOSS_D_REAL, LOSS_D_FAKE, LOSS_COUNT };

struct sg_trainer {
    sg_model *m;
    sg_train_config cfg;
    bool adversarial; /* D is part of the step (w_adv or w_lat not 0) */
    sg_seq *seq;
    sg_graph *gen, *d_real, *d_fake;
    sg_tensor *x, *step, *loss[LOSS_COUNT];
    float *x_in;                     /* the step's batch, staged in */
    const float *loss_out[LOSS_COUNT]; /* the step's losses, staged out (NULL: not measured) */
    sg_tensor *warmup; /* (batch, C, 1, 1), all the factor of w_adv and w_lat in force */
    float warmup_factor;
    /* the step's forward alone (BN statistics), recorded on first use, and the
     * host sums of the statistics it measured */
    sg_seq *stats_seq;
    sg_graph *stats_gen, *stats_real, *stats_fake;
    double *stats_sum;
    float *stats_buf;
    size_t stats_g, stats_d; /* floats in G's and D's buffers */
    uint32_t stats_batches;
};

/* The statistics pass and its sums; it is recorded again on the next use. */
static void stats_free(sg_trainer *t)
{
    sg_seq_destroy(t->stats_seq);
    sg_graph_destroy(t->stats_gen);
    sg_graph_destroy(t->stats_real);
    sg_graph_destroy(t->stats_fake);
    free(t->stats_sum);
    free(t->stats_buf);
    t->stats_seq = NULL;
    t->stats_gen = t->stats_real = t->stats_fake = NULL;
    t->stats_sum = NULL;
    t->stats_buf = NULL;
}

void sg_trainer_destroy(sg_trainer *t)
{
    if (!t)
        return;
    sg_seq_destroy(t->seq); /* waits for a run in flight */
    stats_free(t);
    sg_graph_destroy(t->gen);
    sg_graph_destroy(t->d_real);
    sg_graph_destroy(t->d_fake);
    sg_tensor_destroy(t->x);
    sg_tensor_destroy(t->step);
    sg_tensor_destroy(t->warmup);
    for (int i = 0; i < LOSS_COUNT; i++)
        sg_tensor_destroy(t->loss[i]);
    free(t);
}

/* The batch in, the losses the step measures out (all five, or the
 * reconstruction's alone without D), and the recording finished. */
static sg_status stage_and_finish(sg_trainer *t)
{
    sg_status s = sg_seq_stage_in(t->seq, t->x, &t->x_in);
    for (int i = 0; i < LOSS_COUNT && s == SG_OK; i++)
        if (t->adversarial || i == LOSS_CON)
            s = sg_seq_stage_out(t->seq, t->loss[i], 0, 1, &t->loss_out[i]);
    return s == SG_OK ? sg_seq_finish(t->seq) : s;
}

static sg_status record(sg_trainer *t)
{
    sg_model *m = t->m;
    sg_device *dev = m->dev;
    const sg_train_config *c = &t->cfg;
    sg_seq *seq = t->seq;
    sg_status s;
    sg_adam adam = {c->lr, c->beta1, c->beta2, 1e-8f};

    if ((s = sg_step_increment(seq, t->step)) != SG_OK)
        return s;
    /* forward; D's parts (here and below) only when D is part of the step */
    if ((s = sg_graph_create(dev, seq, true, &t->gen)) != SG_OK)
        return s;
    sg_node *x_hat = sg_model_generator_forward(m, t->gen, sg_graph_input(t->gen, t->x, false));
    if ((s = sg_graph_status(t->gen)) != SG_OK)
        return s;
    sg_node *p_real = NULL, *p_fake = NULL, *f_real = NULL, *f_fake = NULL, *fake_in = NULL;
    if (t->adversarial) {
        if ((s = sg_graph_create(dev, seq, true, &t->d_real)) || (s = sg_graph_create(dev, seq, true, &t->d_fake)))
            return s;
        p_real = sg_discriminator_forward(m->disc_net, t->d_real, sg_graph_input(t->d_real, t->x, false), &f_real);
        fake_in = sg_graph_input(t->d_fake, x_hat->value, true);
        p_fake = sg_discriminator_forward(m->disc_net, t->d_fake, fake_in, &f_fake);
        if ((s = sg_graph_status(t->d_real)) || (s = sg_graph_status(t->d_fake)))
            return s;
    }

    /* generator step */
    /* D's parameter gradients are not computed here: the generator's loss
     * does not train D (only the nodes' gradients flow back into x_hat) */
    if ((s = sg_fill(seq, m->gen.grads, 0.0f)) || (s = sg_graph_zero_grads(t->gen, seq)))
        return s;
    if (t->adversarial &&
        ((s = sg_graph_zero_grads(t->d_fake, seq)) ||
         (s = sg_bce_loss(seq, p_fake->value, 1.0f, c->w_adv, t->loss[LOSS_ADV], p_fake->grad))))
        return s;
    if ((s = sg_l1_loss(seq, x_hat->value, t->x, c->w_con, t->loss[LOSS_CON], x_hat->grad)) != SG_OK)
        return s;
    if (t->adversarial &&
        ((s = sg_mse_loss(seq, f_fake->value, f_real->value, c->w_lat, t->loss[LOSS_LAT],
                          c->detach_latent ? NULL : f_fake->grad, NULL)) ||
         (s = sg_graph_backward_inputs(t->d_fake, seq)) ||
         /* x_hat->grad += warm-up factor * fake_in->grad (exactly the spec's sum at 1) */
         (s = sg_mul_backward(seq, x_hat->value, t->warmup, fake_in->grad, x_hat->grad, NULL))))
        return s;
    if ((s = sg_graph_backward(t->gen, seq)) ||
        (s = sg_adam_update(seq, &adam, m->gen.values, m->gen.grads, m->gen.adam_m, m->gen.adam_v, t->step)))
        return s;
    if (!t->adversarial)
        return stage_and_finish(t);

    /* discriminator step */
    if ((s = sg_fill(seq, m->disc.grads, 0.0f)) || (s = sg_graph_zero_grads(t->d_real, seq)) ||
        (s = sg_graph_zero_grads(t->d_fake, seq)) ||
        (s = sg_bce_loss(seq, p_real->value, 1.0f, 1.0f, t->loss[LOSS_D_REAL], p_real->grad)) ||
        (s = sg_bce_loss(seq, p_fake->value, 0.0f, 1.0f, t->loss[LOSS_D_FAKE], p_fake->grad)) ||
        (s = sg_graph_backward(t->d_real, seq)) || (s = sg_graph_backward(t->d_fake, seq)) ||
        (s = sg_adam_update(seq, &adam, m->disc.values, m->disc.grads, m->disc.adam_m, m->disc.adam_v, t->step)))
        return s;
    return stage_and_finish(t);
}

sg_status sg_trainer_create(sg_model *m, const sg_train_config *config, sg_trainer **out)
{
    sg_train_config def = sg_train_config_default();
    const sg_train_config *c = config ? config : &def;
    if (c->batch < 2)
        return sg_fail(SG_ERR_ARGUMENT, "training needs a batch of at least 2 images (batch statistics), got %d",
                       c->batch);
    if (!(c->lr > 0) || !(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return sg_fail(SG_ERR_ARGUMENT, "learning rate must be > 0 and betas in [0, 1)");
    sg_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    t->m = m;
    t->cfg = *c;
    t->adversarial = sg_train_config_adversarial(c);
    const sg_model_config *mc = &m->config;
    sg_status s = sg_tensor_create(m->dev, sg_shape4(c->batch, mc->channels, mc->size, mc->size), &t->x);
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4(1, 1, 1, 1), &t->step);
    for (int i = 0; i < LOSS_COUNT && s == SG_OK; i++)
        s = sg_tensor_create(m->dev, sg_shape4(1, 1, 1, 1), &t->loss[i]);
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4(c->batch, mc->channels, 1, 1), &t->warmup);
    float step = (float)m->state.step;
    if (s == SG_OK)
        s = sg_tensor_upload(t->step, &step);
    t->warmup_factor = NAN; /* uploaded below */
    if (s == SG_OK)
        s = sg_trainer_set_warmup(t, 1.0f);
    if (s == SG_OK)
        s = sg_seq_create(m->dev, &t->seq);
    if (s == SG_OK)
        s = record(t);
    if (s != SG_OK) {
        sg_trainer_destroy(t);
        return sg_fail_prefix(s, "recording the training step");
    }
    *out = t;
    return SG_OK;
}

sg_status sg_trainer_set_warmup(sg_trainer *t, float factor)
{
    if (!(factor >= 0 && factor <= 1))
        return sg_fail(SG_ERR_ARGUMENT, "the warm-up factor must be in [0, 1], got %g", factor);
    if (factor == t->warmup_factor)
        return SG_OK;
    size_t n = sg_tensor_count(t->warmup);
    float *v = malloc(n * sizeof *v);
    if (!v)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    for (size_t i = 0; i < n; i++)
        v[i] = factor;
    sg_status s = sg_tensor_upload(t->warmup, v);
    free(v);
    if (s == SG_OK)
        t->warmup_factor = factor;
    return s;
}

sg_status sg_trainer_step(sg_trainer *t, const float *images, sg_train_losses *out)
{
    sg_model *m = t->m;
    memcpy(t->x_in, images, sg_tensor_count(t->x) * sizeof(float));
    sg_status s = sg_seq_run(t->seq);
    if (s != SG_OK)
        return s;
    float v[LOSS_COUNT] = {0};
    for (int i = 0; i < LOSS_COUNT; i++)
        if (t->loss_out[i])
            v[i] = *t->loss_out[i];
    m->state.step++;
    m->state.has_optimizer_state = true;
    sg_train_losses l = {0};
    const sg_train_config *c = &t->cfg;
    l.g_adv = v[LOSS_ADV];
    l.g_con = v[LOSS_CON];
    l.g_lat = v[LOSS_LAT];
    l.warmup = t->warmup_factor;
    l.adversarial = t->adversarial;
    l.g_total = t->warmup_factor * (c->w_adv * l.g_adv + c->w_lat * l.g_lat) + c->w_con * l.g_con;
    l.d_real = v[LOSS_D_REAL];
    l.d_fake = v[LOSS_D_FAKE];
    l.d_total = l.d_real + l.d_fake;
    if (out)
        *out = l;
    for (int i = 0; i < LOSS_COUNT; i++)
        if (!isfinite(v[i]))
            return sg_fail(SG_ERR_NUMERIC,
                           "training diverged at step %llu: a loss is not finite (G adv %g, con %g, lat %g; "
                           "D real %g, fake %g); lower the learning rate or restart from the last checkpoint",
                           (unsigned long long)m->state.step, l.g_adv, l.g_con, l.g_lat, l.d_real, l.d_fake);
    if (t->adversarial && l.d_total < 1e-5f) {
        /* the reference re-draws D's weights and keeps its running stats and Adam state */
        s = sg_params_initialize_trainable(&m->disc, m->state.seed + m->state.step);
        m->state.d_reinits++;
        if (out)
            out->d_reinitialised = true;
    }
    return s;
}

/* The forward of the training step alone, G(x), D(x), D(G(x)) in train mode,
 * after zeroing the running statistics: with momentum 0.1 every G layer then
 * holds 0.1 x its batch statistics and every D layer 0.09 x those on x plus 0.1 x
 * those on G(x) (two updates), and nothing else changes. */
static sg_status record_stats(sg_trainer *t)
{
    sg_model *m = t->m;
    sg_status s;
    if ((s = sg_seq_create(m->dev, &t->stats_seq)) || (s = sg_fill(t->stats_seq, m->gen.buffers, 0.0f)) ||
        (s = sg_fill(t->stats_seq, m->disc.buffers, 0.0f)) ||
        (s = sg_graph_create(m->dev, t->stats_seq, true, &t->stats_gen)) ||
        (s = sg_graph_create(m->dev, t->stats_seq, true, &t->stats_real)) ||
        (s = sg_graph_create(m->dev, t->stats_seq, true, &t->stats_fake)))
        return s;
    sg_node *x_hat = sg_model_generator_forward(m, t->stats_gen, sg_graph_input(t->stats_gen, t->x, false));
    if ((s = sg_graph_status(t->stats_gen)) != SG_OK)
        return s;
    sg_node *f;
    sg_discriminator_forward(m->disc_net, t->stats_real, sg_graph_input(t->stats_real, t->x, false), &f);
    sg_discriminator_forward(m->disc_net, t->stats_fake, sg_graph_input(t->stats_fake, x_hat->value, false), &f);
    if ((s = sg_graph_status(t->stats_real)) || (s = sg_graph_status(t->stats_fake)))
        return s;
    t->stats_g = sg_tensor_count(m->gen.buffers);
    t->stats_d = sg_tensor_count(m->disc.buffers);
    t->stats_sum = calloc(t->stats_g + t->stats_d, sizeof *t->stats_sum);
    t->stats_buf = malloc((t->stats_g + t->stats_d) * sizeof *t->stats_buf);
    if (!t->stats_sum || !t->stats_buf)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    return sg_seq_finish(t->stats_seq);
}

sg_status sg_trainer_bn_stats_add(sg_trainer *t, const float *images)
{
    sg_model *m = t->m;
    sg_status s = SG_OK;
    if (!t->stats_seq && (s = record_stats(t)) != SG_OK) {
        stats_free(t);
        return sg_fail_prefix(s, "recording the statistics pass");
    }
    if ((s = sg_tensor_upload(t->x, images)) || (s = sg_seq_run(t->stats_seq)) ||
        (s = sg_tensor_download(m->gen.buffers, t->stats_buf)) ||
        (s = sg_tensor_download(m->disc.buffers, t->stats_buf + t->stats_g)))
        return s;
    for (size_t i = 0; i < t->stats_g + t->stats_d; i++)
        t->stats_sum[i] += t->stats_buf[i];
    t->stats_batches++;
    return SG_OK;
}

sg_status sg_trainer_bn_stats_store(sg_trainer *t)
{
    if (t->stats_batches == 0)
        return sg_fail(SG_ERR_ARGUMENT, "no batch was measured for the BN statistics");
    /* undo the factors of record_stats: the mean batch statistics for G, and for
     * D the mix of x and G(x) that its two updates per step converge to */
    const double g = 0.1 * t->stats_batches, d = 0.19 * t->stats_batches;
    for (size_t i = 0; i < t->stats_g + t->stats_d; i++)
        t->stats_buf[i] = (float)(t->stats_sum[i] / (i < t->stats_g ? g : d));
    memset(t->stats_sum, 0, (t->stats_g + t->stats_d) * sizeof *t->stats_sum);
    t->stats_batches = 0;
    sg_status s = sg_tensor_upload(t->m->gen.buffers, t->stats_buf);
    return s == SG_OK ? sg_tensor_upload(t->m->disc.buffers, t->stats_buf + t->stats_g) : s;
}
