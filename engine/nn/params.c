#include "params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "sgad/ops.h"
#include "sgad/util.h"

void sg_params_init(sg_param_set *set, sg_device *dev)
{
    memset(set, 0, sizeof *set);
    set->dev = dev;
}

void sg_params_free(sg_param_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        sg_tensor_destroy(set->items[i]->value);
        sg_tensor_destroy(set->items[i]->grad);
        free(set->items[i]);
    }
    free(set->items);
    sg_tensor *all[] = {set->values, set->grads, set->adam_m, set->adam_v, set->buffers};
    for (int i = 0; i < 5; i++)
        sg_tensor_destroy(all[i]);
    memset(set, 0, sizeof *set);
}

sg_param *sg_params_find(const sg_param_set *set, const char *name)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i]->name, name) == 0)
            return set->items[i];
    return NULL;
}

/* PyTorch shapes become NCHW: (O,I,kh,kw) as is, (O,I) -> (O,I,1,1), (C) -> (1,C,1,1). */
static sg_shape engine_shape(int ndim, const int64_t *d)
{
    switch (ndim) {
    case 4: return sg_shape4((int)d[0], (int)d[1], (int)d[2], (int)d[3]);
    case 3: return sg_shape4(1, (int)d[0], (int)d[1], (int)d[2]);
    case 2: return sg_shape4((int)d[0], (int)d[1], 1, 1);
    case 1: return sg_shape4(1, (int)d[0], 1, 1);
    default: return sg_shape4(1, 1, 1, 1);
    }
}

sg_param *sg_params_declare(sg_param_set *set, const char *name, int ndim, const int64_t *dims,
                            bool trainable, sg_init_rule init)
{
    if (set->allocated) {
        sg_fail(SG_ERR_STATE, "parameter '%s' declared after allocation", name);
        return NULL;
    }
    if (sg_params_find(set, name)) {
        sg_fail(SG_ERR_ARGUMENT, "parameter '%s' declared twice", name);
        return NULL;
    }
    if (ndim < 0 || ndim > 4 || strlen(name) >= sizeof ((sg_param *)0)->name) {
        sg_fail(SG_ERR_ARGUMENT, "parameter '%s': bad rank or name too long", name);
        return NULL;
    }
    if (!sg_array_reserve((void **)&set->items, &set->cap, set->count, sizeof *set->items, 64)) {
        sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    sg_param *p = calloc(1, sizeof *p);
    if (!p) {
        sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->count = 1;
    for (int i = 0; i < ndim; i++) {
        p->dims[i] = dims[i];
        p->count *= (size_t)dims[i];
    }
    p->shape = engine_shape(ndim, dims);
    p->trainable = trainable;
    p->init = init;
    /* views must start on 16 bytes: pad every parameter to 4 floats */
    size_t *total = trainable ? &set->trainable_count : &set->buffer_count;
    p->offset = *total;
    *total += (p->count + 3) / 4 * 4;
    set->items[set->count++] = p;
    return p;
}

sg_status sg_params_allocate(sg_param_set *set)
{
    sg_status s = SG_OK;
    sg_shape ts = sg_shape4(1, 1, 1, (int)(set->trainable_count ? set->trainable_count : 4));
    sg_shape bs = sg_shape4(1, 1, 1, (int)(set->buffer_count ? set->buffer_count : 4));
    if ((s = sg_tensor_create(set->dev, ts, &set->values)) || (s = sg_tensor_create(set->dev, ts, &set->grads)) ||
        (s = sg_tensor_create(set->dev, ts, &set->adam_m)) || (s = sg_tensor_create(set->dev, ts, &set->adam_v)) ||
        (s = sg_tensor_create(set->dev, bs, &set->buffers)))
        return s;
    for (size_t i = 0; i < set->count && s == SG_OK; i++) {
        sg_param *p = set->items[i];
        s = sg_tensor_view(p->trainable ? set->values : set->buffers, p->offset, p->shape, &p->value);
        if (s == SG_OK && p->trainable)
            s = sg_tensor_view(set->grads, p->offset, p->shape, &p->grad);
    }
    set->allocated = s == SG_OK;
    return s;
}

/* FNV-1a of the name: each parameter draws from its own stream, so adding a
 * parameter elsewhere does not change the others' values. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static sg_status initialize(sg_param_set *set, uint64_t seed, bool trainable_only)
{
    if (!set->allocated)
        return sg_fail(SG_ERR_STATE, "parameters initialised before allocation");
    sg_status s = SG_OK;
    for (size_t i = 0; i < set->count && s == SG_OK; i++) {
        sg_param *p = set->items[i];
        if (trainable_only && !p->trainable)
            continue;
        uint64_t stream = seed * SG_SPLITMIX64_GAMMA ^ name_hash(p->name);
        switch (p->init) {
        case SG_INIT_WEIGHT: s = sg_init_normal(p->value, 0.0f, 0.02f, stream); break;
        case SG_INIT_BN_WEIGHT: s = sg_init_normal(p->value, 1.0f, 0.02f, stream); break;
        case SG_INIT_ZERO: s = sg_init_constant(p->value, 0.0f); break;
        case SG_INIT_ONE: s = sg_init_constant(p->value, 1.0f); break;
        }
    }
    /* a fresh network starts with fresh optimiser state; a re-initialised
     * discriminator keeps its Adam moments, as the reference code does */
    if (s == SG_OK && !trainable_only) {
        sg_seq *seq;
        if ((s = sg_seq_create(set->dev, &seq)) != SG_OK)
            return s;
        if ((s = sg_fill(seq, set->adam_m, 0.0f)) == SG_OK && (s = sg_fill(seq, set->adam_v, 0.0f)) == SG_OK &&
            (s = sg_fill(seq, set->grads, 0.0f)) == SG_OK)
            s = sg_seq_run(seq);
        sg_seq_destroy(seq);
    }
    return s;
}

sg_status sg_params_initialize(sg_param_set *set, uint64_t seed)
{
    return initialize(set, seed, false);
}

sg_status sg_params_initialize_trainable(sg_param_set *set, uint64_t seed)
{
    return initialize(set, seed, true);
}

size_t sg_params_trainable_scalars(const sg_param_set *set)
{
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i]->trainable)
            n += set->items[i]->count;
    return n;
}
