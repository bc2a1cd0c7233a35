/* The reconstruction loss of held-out images, mean |G(x) - x|, measured as the
 * training step measures its `con` term (G in training mode, normalising with
 * the batch's statistics), so that the training and held-out figures compare:
 * eval mode would use running averages that lag the weights early in a training.
 * The recorded pass saves G's running statistics first and puts them back after
 * (training mode updates them), so measuring leaves the model as it was.
 * A batch goes in and its reconstructions come out as part of the run
 * (sg_seq_stage_in/out): one submission per batch on any device. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "model_internal.h"

struct sg_recon_eval {
    sg_model *m;
    int batch;
    sg_seq *seq;
    sg_graph *gen;
    sg_tensor *x, *saved_stats;
    sg_node *x_hat;
    float *x_in;           /* the run's batch, staged in */
    const float *x_hat_out; /* its reconstructions, staged out */
};

void sg_recon_eval_destroy(sg_recon_eval *e)
{
    if (!e)
        return;
    sg_seq_destroy(e->seq);
    sg_graph_destroy(e->gen);
    sg_tensor_destroy(e->x);
    sg_tensor_destroy(e->saved_stats);
    free(e);
}

sg_status sg_recon_eval_create(sg_model *m, int batch, sg_recon_eval **out)
{
    if (batch < 2)
        return sg_fail(SG_ERR_ARGUMENT, "the held-out reconstruction loss needs batches of at least 2 images "
                       "(batch statistics), got %d", batch);
    sg_recon_eval *e = calloc(1, sizeof *e);
    if (!e)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    e->m = m;
    e->batch = batch;
    const sg_model_config *c = &m->config;
    sg_status s = sg_tensor_create(m->dev, sg_shape4(batch, c->channels, c->size, c->size), &e->x);
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4((int)sg_tensor_count(m->gen.buffers), 1, 1, 1), &e->saved_stats);
    if (s == SG_OK)
        s = sg_seq_create(m->dev, &e->seq);
    if (s == SG_OK)
        s = sg_copy(e->seq, m->gen.buffers, e->saved_stats);
    if (s == SG_OK)
        s = sg_graph_create(m->dev, e->seq, true, &e->gen);
    if (s == SG_OK) {
        e->x_hat = sg_model_generator_forward(m, e->gen, sg_graph_input(e->gen, e->x, false));
        s = sg_graph_status(e->gen);
    }
    if (s == SG_OK)
        s = sg_copy(e->seq, e->saved_stats, m->gen.buffers);
    if (s == SG_OK)
        s = sg_seq_stage_in(e->seq, e->x, &e->x_in);
    if (s == SG_OK)
        s = sg_seq_stage_out(e->seq, e->x_hat->value, 0, sg_tensor_count(e->x), &e->x_hat_out);
    if (s == SG_OK)
        s = sg_seq_finish(e->seq);
    if (s != SG_OK) {
        sg_recon_eval_destroy(e);
        return sg_fail_prefix(s, "recording the held-out reconstruction loss");
    }
    *out = e;
    return SG_OK;
}

sg_status sg_recon_eval_run(sg_recon_eval *e, const float *images, size_t count, double *loss)
{
    if (count < 2)
        return sg_fail(SG_ERR_ARGUMENT, "the held-out reconstruction loss needs at least 2 images, got %zu", count);
    const sg_model_config *c = &e->m->config;
    size_t image = (size_t)c->channels * c->size * c->size, batch = (size_t)e->batch;
    double sum = 0;
    for (size_t at = 0; at < count; at += batch) {
        /* a last, short batch is filled up from the first images; only its own count */
        size_t own = count - at < batch ? count - at : batch;
        for (size_t i = 0; i < batch; i++)
            memcpy(e->x_in + i * image, images + ((at + i) % count) * image, image * sizeof(float));
        sg_status s = sg_seq_run(e->seq);
        if (s != SG_OK)
            return s;
        const float *x = images + at * image;
        for (size_t i = 0; i < own * image; i++)
            sum += fabs((double)e->x_hat_out[i] - (double)x[i]);
    }
    *loss = sum / ((double)count * (double)image);
    if (!isfinite(*loss))
        return sg_fail(SG_ERR_NUMERIC, "the held-out reconstruction loss is not finite");
    return SG_OK;
}
