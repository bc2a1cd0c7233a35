/* Anomaly scores in eval mode (BN running statistics), spec "Anomaly score":
 *   s(x) = lambda * mean_{c,h,w} (x - x_hat)^2 + (1 - lambda) * mean_k (f(x) - f(x_hat))_k^2
 *   (lambda: the model's score weight, 0.9 by default)
 *   heat map: per pixel, mean over channels of (x - x_hat)^2.
 * The pixel term is the mean of the heat map unless the model's frame score is
 * another (sgad/frame_score.h): then it comes from the heat map on the host.
 * At lambda 1 (the model's when the scorer is made) the latent term weighs
 * nothing, so the scorer records G alone: no discriminator pass on x or on
 * x_hat (two thirds of a width-0.25 model's work). Such a scorer refuses to
 * run once the model's lambda is set below 1; make a new one.
 *
 * Folded (the default): batch norm with running statistics and the ReLU /
 * LeakyReLU after it are folded into the convolutions (sg_graph_conv_bn), and
 * the convolutions' weights are packed (and folded) by a second sequence,
 * `pack`, run only when the model's parameters changed since it last ran: the
 * generations of the tensors holding them (sg_tensor_generation) count every
 * upload and every submitted write, by a trainer, a checkpoint load or a
 * snapshot restore alike, so the packed copy is never stale.
 *
 * The images go in and the results come out as part of the run
 * (sg_seq_stage_in/out): one submission and one wait per batch on any device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/env.h"
#include "../core/error.h"
#include "model_internal.h"

struct sg_scorer {
    sg_model *m;
    int batch;
    bool fold; /* batch norm and activations folded into the convolutions */
    bool features; /* D is recorded: the latent term (lambda < 1 when made) */
    sg_seq *seq;
    sg_seq *pack; /* with fold: the weights packed and folded, run when they changed */
    const sg_tensor *params[4]; /* the tensors holding the model's parameters (NULL: none) */
    uint64_t packed_generation[4]; /* their generations when pack last ran */
    bool packed;
    sg_graph *gen, *d_real, *d_fake;
    sg_tensor *x, *rec, *lat, *heat;
    sg_node *x_hat, *f_real, *f_fake;
    float *x_in; /* the run's batch of images (zero-padded when fewer are given) */
    /* the run's results: the per-image pixel and latent terms, the heat maps,
     * the reconstructions, D's features of x and x_hat (lat and f_*: with D) */
    const float *rec_out, *lat_out, *heat_out, *x_hat_out, *f_real_out, *f_fake_out;
};

void sg_scorer_destroy(sg_scorer *s)
{
    if (!s)
        return;
    sg_seq_destroy(s->seq);
    sg_seq_destroy(s->pack);
    sg_graph_destroy(s->gen);
    sg_graph_destroy(s->d_real);
    sg_graph_destroy(s->d_fake);
    sg_tensor_destroy(s->x);
    sg_tensor_destroy(s->rec);
    sg_tensor_destroy(s->lat);
    sg_tensor_destroy(s->heat);
    free(s);
}

/* Record the scorer's graphs, each with its memory plan while recording
 * (plans: gen, d_real, d_fake; nn/plan.h), or none (plans NULL). */
static sg_status record(sg_scorer *sc, sg_plan *const plans[3])
{
    sg_model *m = sc->m;
    sg_status s;
    if ((s = sg_graph_create(m->dev, sc->seq, false, &sc->gen)) != SG_OK)
        return s;
    sg_graph_set_folding(sc->gen, sc->fold, sc->pack);
    sg_graph_set_plan(sc->gen, plans ? plans[0] : NULL);
    sc->x_hat = sg_model_generator_forward(m, sc->gen, sg_graph_input(sc->gen, sc->x, false));
    sg_graph_keep(sc->gen, sc->x_hat); /* read by D, the losses, downloaded */
    if ((s = sg_graph_status(sc->gen)) != SG_OK)
        return s;
    if (sc->features) {
        if ((s = sg_graph_create(m->dev, sc->seq, false, &sc->d_real)) ||
            (s = sg_graph_create(m->dev, sc->seq, false, &sc->d_fake)))
            return s;
        sg_graph_set_folding(sc->d_real, sc->fold, sc->pack);
        sg_graph_set_folding(sc->d_fake, sc->fold, sc->pack);
        sg_graph_set_plan(sc->d_real, plans ? plans[1] : NULL);
        sg_graph_set_plan(sc->d_fake, plans ? plans[2] : NULL);
        sg_discriminator_forward(m->disc_net, sc->d_real, sg_graph_input(sc->d_real, sc->x, false), &sc->f_real);
        sg_discriminator_forward(m->disc_net, sc->d_fake, sg_graph_input(sc->d_fake, sc->x_hat->value, false),
                                 &sc->f_fake);
        sg_graph_keep(sc->d_real, sc->f_real);
        sg_graph_keep(sc->d_fake, sc->f_fake);
        if ((s = sg_graph_status(sc->d_real)) || (s = sg_graph_status(sc->d_fake)))
            return s;
    }
    if ((s = sg_mse_per_sample(sc->seq, sc->x, sc->x_hat->value, sc->rec)) ||
        (sc->features && (s = sg_mse_per_sample(sc->seq, sc->f_real->value, sc->f_fake->value, sc->lat))) ||
        (s = sg_mse_per_pixel(sc->seq, sc->x, sc->x_hat->value, sc->heat)))
        return s;
    size_t B = (size_t)sc->batch, S = (size_t)m->config.size, image = (size_t)m->config.channels * S * S;
    if ((s = sg_seq_stage_in(sc->seq, sc->x, &sc->x_in)) ||
        (s = sg_seq_stage_out(sc->seq, sc->rec, 0, B, &sc->rec_out)) ||
        (s = sg_seq_stage_out(sc->seq, sc->heat, 0, B * S * S, &sc->heat_out)) ||
        (s = sg_seq_stage_out(sc->seq, sc->x_hat->value, 0, B * image, &sc->x_hat_out)))
        return s;
    if (sc->features && ((s = sg_seq_stage_out(sc->seq, sc->lat, 0, B, &sc->lat_out)) ||
                         (s = sg_seq_stage_out(sc->seq, sc->f_real->value, 0, B * SG_DISC_NZ, &sc->f_real_out)) ||
                         (s = sg_seq_stage_out(sc->seq, sc->f_fake->value, 0, B * SG_DISC_NZ, &sc->f_fake_out))))
        return s;
    return sc->pack && (s = sg_seq_finish(sc->pack)) != SG_OK ? s : sg_seq_finish(sc->seq);
}

/* Run the packing sequence if any parameter tensor was written since it last ran. */
static sg_status refresh_packed(sg_scorer *sc)
{
    if (!sc->pack)
        return SG_OK;
    uint64_t now[4] = {0};
    bool same = sc->packed;
    for (int i = 0; i < 4; i++) {
        now[i] = sc->params[i] ? sg_tensor_generation(sc->params[i]) : 0;
        same = same && now[i] == sc->packed_generation[i];
    }
    if (same)
        return SG_OK;
    sg_status s = sg_seq_run(sc->pack);
    if (s != SG_OK)
        return s;
    memcpy(sc->packed_generation, now, sizeof now);
    sc->packed = true;
    return SG_OK;
}

sg_status sg_scorer_create(sg_model *m, int batch, sg_scorer **out)
{
    /* SGAD_NO_FOLD=1: the unfused graph, to measure what folding gains;
     * SGAD_NO_PLAN=1: a tensor per node, to measure what the plan saves */
    return sg_scorer_create_with(m, batch, !sg_env_flag("SGAD_NO_FOLD"), !sg_env_flag("SGAD_NO_PLAN"), out);
}

sg_status sg_scorer_create_folding(sg_model *m, int batch, bool fold, sg_scorer **out)
{
    return sg_scorer_create_with(m, batch, fold, true, out);
}

static sg_status scorer_make(sg_model *m, int batch, bool fold, sg_plan *const plans[3], sg_scorer **out);

/* With plan: recorded once to learn each node's life, then again with each
 * graph's nodes in one arena (nn/plan.h). */
sg_status sg_scorer_create_with(sg_model *m, int batch, bool fold, bool plan, sg_scorer **out)
{
    if (!plan)
        return scorer_make(m, batch, fold, NULL, out);
    sg_plan *plans[3] = {NULL, NULL, NULL};
    sg_scorer *learning = NULL;
    sg_status s = SG_OK;
    for (int i = 0; i < 3 && s == SG_OK; i++)
        s = sg_plan_create(&plans[i]);
    if (s == SG_OK)
        s = scorer_make(m, batch, fold, plans, &learning);
    for (int i = 0; i < 3 && s == SG_OK; i++)
        s = sg_plan_finish(plans[i]);
    sg_scorer_destroy(learning); /* before the second recording, so the first one's memory is free */
    if (s == SG_OK)
        s = scorer_make(m, batch, fold, plans, out);
    for (int i = 0; i < 3; i++)
        sg_plan_destroy(plans[i]);
    return s;
}

/* A scorer whose graphs take the plans while recording (NULL: none). */
static sg_status scorer_make(sg_model *m, int batch, bool fold, sg_plan *const plans[3], sg_scorer **out)
{
    if (batch < 1)
        return sg_fail(SG_ERR_ARGUMENT, "scoring batch must be at least 1, got %d", batch);
    sg_scorer *sc = calloc(1, sizeof *sc);
    if (!sc)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sc->m = m;
    sc->batch = batch;
    sc->fold = fold;
    sc->features = m->score_lambda < 1.0f;
    int C = m->config.channels, S = m->config.size;
    sg_status s = sg_tensor_create(m->dev, sg_shape4(batch, C, S, S), &sc->x);
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4(batch, 1, 1, 1), &sc->rec);
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4(batch, 1, 1, 1), &sc->lat);
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4(batch, 1, S, S), &sc->heat);
    if (s == SG_OK)
        s = sg_seq_create(m->dev, &sc->seq);
    if (s == SG_OK && fold)
        s = sg_seq_create(m->dev, &sc->pack);
    const sg_tensor *params[4] = {m->gen.values, m->gen.buffers, m->disc.values, m->disc.buffers};
    memcpy(sc->params, params, sizeof params);
    if (s == SG_OK)
        s = record(sc, plans);
    /* the plans are the caller's: the graphs are done with them */
    sg_graph *graphs[3] = {sc->gen, sc->d_real, sc->d_fake};
    for (int i = 0; plans && i < 3; i++)
        if (graphs[i])
            sg_graph_set_plan(graphs[i], NULL);
    if (s != SG_OK) {
        sg_scorer_destroy(sc);
        return sg_fail_prefix(s, "recording the scorer");
    }
    *out = sc;
    return SG_OK;
}

sg_status sg_scorer_run(sg_scorer *sc, const float *images, int count, float *scores, float *heatmaps,
                        float *reconstructions)
{
    if (count < 1 || count > sc->batch)
        return sg_fail(SG_ERR_ARGUMENT, "scoring %d images with a scorer made for at most %d", count, sc->batch);
    if (!sc->features && sc->m->score_lambda < 1.0f)
        return sg_fail(SG_ERR_STATE, "the model's lambda is now %g: this scorer was made at lambda 1, without the "
                       "discriminator the latent term needs; make a new scorer", (double)sc->m->score_lambda);
    size_t C = (size_t)sc->m->config.channels, S = (size_t)sc->m->config.size, image = C * S * S;
    sg_status s = refresh_packed(sc);
    if (s != SG_OK)
        return s;
    /* eval mode treats images independently: pad a short batch with zeros */
    memcpy(sc->x_in, images, (size_t)count * image * sizeof(float));
    memset(sc->x_in + (size_t)count * image, 0, (size_t)(sc->batch - count) * image * sizeof(float));
    if ((s = sg_seq_run(sc->seq)) != SG_OK)
        return s;
    float rec[sc->batch], lat[sc->batch];
    memcpy(rec, sc->rec_out, (size_t)count * sizeof *rec);
    memset(lat, 0, sizeof lat);
    if (sc->features)
        memcpy(lat, sc->lat_out, (size_t)count * sizeof *lat);
    /* another frame score than the mean pools the heat maps on the host */
    if (!sg_frame_score_config_is_spec(&sc->m->frame_score) &&
        (s = sg_model_pixel_terms(sc->m, sc->heat_out, count, rec)) != SG_OK)
        return s;
    if (heatmaps)
        memcpy(heatmaps, sc->heat_out, (size_t)count * S * S * sizeof *heatmaps);
    if (reconstructions)
        memcpy(reconstructions, sc->x_hat_out, (size_t)count * image * sizeof *reconstructions);
    for (int i = 0; i < count; i++)
        scores[i] = sc->m->score_lambda * rec[i] + (1.0f - sc->m->score_lambda) * lat[i];
    return SG_OK;
}

sg_status sg_scorer_features(sg_scorer *sc, int count, float *f_x, float *f_x_hat)
{
    if (count < 1 || count > sc->batch)
        return sg_fail(SG_ERR_ARGUMENT, "features of %d images from a scorer of batch %d", count, sc->batch);
    if (!sc->features)
        return sg_fail(SG_ERR_STATE, "this scorer was made at lambda 1 and has no discriminator features");
    size_t n = (size_t)count * SG_DISC_NZ;
    memcpy(f_x, sc->f_real_out, n * sizeof *f_x);
    memcpy(f_x_hat, sc->f_fake_out, n * sizeof *f_x_hat);
    return SG_OK;
}

sg_status sg_scorer_probe(sg_scorer *sc)
{
    int C = sc->m->config.channels, S = sc->m->config.size;
    float *probe = malloc((size_t)C * S * S * sizeof(float));
    if (!probe)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    /* a black-and-white checkerboard, alternating between channels: every
     * input value at full scale, so a huge weight anywhere shows */
    for (int c = 0; c < C; c++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                probe[((size_t)c * S + y) * S + x] = (x + y + c) % 2 ? 1.0f : -1.0f;
    float score = 0;
    sg_status s = sg_scorer_run(sc, probe, 1, &score, NULL, NULL);
    free(probe);
    if (s == SG_OK && !isfinite(score))
        s = sg_fail(SG_ERR_NUMERIC, "the model scores a probe image as %g, not a finite number: its weights "
                    "overflow the arithmetic, so no score it gives could be trusted", (double)score);
    return s;
}

sg_status sg_model_probe(sg_model *m)
{
    sg_scorer *sc;
    sg_status s = sg_scorer_create(m, 1, &sc);
    if (s != SG_OK)
        return s;
    s = sg_scorer_probe(sc);
    sg_scorer_destroy(sc);
    return s;
}
