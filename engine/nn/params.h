/* A network's parameters, llm.c style: every trainable value of a network lives
 * in one tensor (and its gradient, Adam's two moments in three more of the same
 * size), each named weight being a view into it; BN running statistics live in a
 * second tensor of buffers. One fill zeroes all gradients, one Adam dispatch
 * updates all parameters, and a checkpoint is a walk over the names.
 *
 * Use: declare every parameter while building the network (names are the
 * PyTorch state_dict names of tests/reference/), then sg_params_allocate(), then
 * sg_params_initialize() or load a checkpoint. Internal to the model layer. */
#ifndef SGAD_MODEL_PARAMS_H
#define SGAD_MODEL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgad/tensor.h"

typedef enum sg_init_rule {
    SG_INIT_WEIGHT,    /* N(0, 0.02): conv, transposed conv, linear weights */
    SG_INIT_BN_WEIGHT, /* N(1, 0.02) */
    SG_INIT_ZERO,      /* biases, BN bias, running mean */
    SG_INIT_ONE,       /* running variance */
} sg_init_rule;

typedef struct sg_param {
    char name[128];
    int ndim;          /* PyTorch shape (0..4 dims) */
    int64_t dims[4];
    sg_shape shape;    /* the engine's 4-D view of it */
    size_t offset;     /* elements into the set's values (or buffers) tensor */
    size_t count;
    bool trainable;    /* false: a BN running statistic */
    sg_init_rule init;
    sg_tensor *value;  /* view, valid after sg_params_allocate */
    sg_tensor *grad;   /* view into grads; NULL for buffers */
} sg_param;

typedef struct sg_param_set {
    sg_device *dev;
    sg_param **items;
    size_t count, cap;
    size_t trainable_count, buffer_count; /* elements, padded to 4 per parameter */
    sg_tensor *values, *grads, *adam_m, *adam_v, *buffers;
    bool allocated;
} sg_param_set;

void sg_params_init(sg_param_set *set, sg_device *dev);
void sg_params_free(sg_param_set *set);

/* Declare a parameter with its PyTorch shape; returns NULL (and sets the error)
 * on a duplicate name or after allocation. */
sg_param *sg_params_declare(sg_param_set *set, const char *name, int ndim, const int64_t *dims,
                            bool trainable, sg_init_rule init);
sg_status sg_params_allocate(sg_param_set *set);
/* Draw every parameter from its rule with a generator seeded by (seed, name):
 * the same seed gives the same values on every device. */
sg_status sg_params_initialize(sg_param_set *set, uint64_t seed);
/* Only the trainable parameters (discriminator re-initialisation); buffers kept. */
sg_status sg_params_initialize_trainable(sg_param_set *set, uint64_t seed);

sg_param *sg_params_find(const sg_param_set *set, const char *name);
/* Number of trainable scalars (what papers call the parameter count). */
size_t sg_params_trainable_scalars(const sg_param_set *set);

#endif
