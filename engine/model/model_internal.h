/* The model object shared by model.c, trainer.c, scorer.c and checkpoint.c. */
#ifndef SGAD_MODEL_INTERNAL_H
#define SGAD_MODEL_INTERNAL_H

#include "networks.h"
#include "sgad/model.h"

struct sg_model {
    sg_device *dev;
    sg_model_config config;
    sg_param_set gen, disc; /* separate sets: separate Adam, D re-initialised alone */
    sg_pp_generator *pp;       /* one of pp / unet, by config.arch */
    sg_unet_generator *unet;
    sg_discriminator *disc_net;
    sg_calibration calibration;
    float score_lambda; /* weight of the pixel term in the score */
    sg_training_state state;
};

/* Record G(x) into a graph. */
sg_node *sg_model_generator_forward(const sg_model *m, sg_graph *g, sg_node *x);

/* Create the networks and allocate (not initialise) their parameters. */
sg_status sg_model_build(sg_device *dev, const sg_model_config *config, sg_model **out);

#endif
