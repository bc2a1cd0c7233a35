/* The three networks of the spec, each declared into a parameter set (names as
 * tests/reference/skipganomaly_pp.py and docs/checkpoint.md) and recorded into a
 * graph by its forward. Internal to the model layer. */
#ifndef SGAD_MODEL_NETWORKS_H
#define SGAD_MODEL_NETWORKS_H

#include <math.h>
#include <stdbool.h>

#include "../nn/graph.h"

/* What the generators need of a model's configuration (model.c fills it in):
 * the networks know nothing of the model built from them. */
typedef struct sg_net_shape {
    int channels, size; /* of the input images */
    float width;        /* width multiplier: widths are base * width channels */
    bool transposed;    /* Skip-GANomaly++ upsampling: transposed convolutions (else nearest + conv) */
    unsigned dropped_skips; /* Skip-GANomaly++: levels whose skip is zeros (sg_model_config) */
} sg_net_shape;

/* base channels times the width multiplier */
static inline int sg_net_width(const sg_net_shape *shape, int base)
{
    return (int)lroundf((float)base * shape->width);
}

/* Skip-GANomaly++ generator (generator_pp.c). */
typedef struct sg_pp_generator sg_pp_generator;
sg_pp_generator *sg_pp_generator_create(sg_param_set *set, const sg_net_shape *c);
sg_node *sg_pp_generator_forward(const sg_pp_generator *G, sg_graph *g, sg_node *x);
void sg_pp_generator_destroy(sg_pp_generator *G);

/* pix2pix U-Net generator of Skip-GANomaly (generator_unet.c). */
typedef struct sg_unet_generator sg_unet_generator;
sg_unet_generator *sg_unet_generator_create(sg_param_set *set, const sg_net_shape *c);
sg_node *sg_unet_generator_forward(const sg_unet_generator *G, sg_graph *g, sg_node *x);
void sg_unet_generator_destroy(sg_unet_generator *G);

/* DCGAN discriminator (discriminator.c): returns p (N,1,1,1) after the sigmoid
 * and the features f(x) (N,100,1,1) in *features. */
typedef struct sg_discriminator sg_discriminator;
#define SG_DISC_NDF 64
#define SG_DISC_NZ 100
sg_discriminator *sg_discriminator_create(sg_param_set *set, int channels, int size);
sg_node *sg_discriminator_forward(const sg_discriminator *D, sg_graph *g, sg_node *x, sg_node **features);
void sg_discriminator_destroy(sg_discriminator *D);

#endif
