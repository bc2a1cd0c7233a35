/* The reconstruction loss of held-out images, mean |G(x) - x|, measured as the
 * training step measures its `con` term (G in training mode, normalising with
 * the batch's statistics), so that the training and held-out figures compare:
 * eval mode would use running averages that lag the weights early in a training.
 * The recorded pass saves G's running statistics first and puts them back after
 * (training mode updates them), so measuring leaves the model as it was. */
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
    float *staging, *out;
};

void sg_recon_eval_destroy(sg_recon_eval *e)
{
    if (!e)
        return;
    sg_seq_destroy(e->seq);
    sg_graph_destroy(e->gen);
    sg_tensor_destroy(e->x);
    sg_tensor_destroy(e->saved_stats);
    free(e->staging);
    free(e->out);
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
    size_t image = (size_t)c->channels * c->size * c->size;
    e->staging = malloc((size_t)batch * image * sizeof *e->staging);
    e->out = malloc((size_t)batch * image * sizeof *e->out);
    sg_status s = e->staging && e->out ? SG_OK : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == SG_OK)
        s = sg_tensor_create(m->dev, sg_shape4(batch, c->channels, c->size, c->size), &e->x);
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
            memcpy(e->staging + i * image, images + ((at + i) % count) * image, image * sizeof(float));
        sg_status s;
        if ((s = sg_tensor_upload(e->x, e->staging)) || (s = sg_seq_run(e->seq)) ||
            (s = sg_tensor_download(e->x_hat->value, e->out)))
            return s;
        for (size_t i = 0; i < own * image; i++)
            sum += fabs((double)e->out[i] - (double)e->staging[i]);
    }
    *loss = sum / ((double)count * (double)image);
    if (!isfinite(*loss))
        return sg_fail(SG_ERR_NUMERIC, "the held-out reconstruction loss is not finite");
    return SG_OK;
}
