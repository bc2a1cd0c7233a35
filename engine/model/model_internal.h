/* The model object shared by model.c, trainer.c, scorer.c and checkpoint.c. */
#ifndef SGAD_MODEL_INTERNAL_H
#define SGAD_MODEL_INTERNAL_H

#include "networks.h"
#include "sgad/frame_score.h"
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
    sg_frame_score_config frame_score; /* how the error map becomes the pixel term (zeroed: the spec's mean) */
    float *pixel_mean, *pixel_std;     /* S x S normal statistics of a standardised frame score, or NULL */
    sg_training_state state;
};

/* The pixel term of `count` images from their heat maps (S x S each), by the
 * model's frame score; SG_ERR_ARGUMENT when it standardises without statistics. */
sg_status sg_model_pixel_terms(const sg_model *m, const float *heat, int count, float *out);

/* sg_scorer_create with batch norm and the activations after it folded into
 * the convolutions (fold, the default) or recorded op by op as in training
 * graphs (the reference the folded scorer is tested against). */
sg_status sg_scorer_create_folding(sg_model *m, int batch, bool fold, sg_scorer **out);
/* ... and with plan, each graph's nodes in one arena planned by their lives
 * (nn/plan.h: the default), else a tensor per node (what the plan is tested
 * against; also SGAD_NO_PLAN=1). */
sg_status sg_scorer_create_with(sg_model *m, int batch, bool fold, bool plan, sg_scorer **out);

/* Record G(x) into a graph. */
sg_node *sg_model_generator_forward(const sg_model *m, sg_graph *g, sg_node *x);

/* Create the networks and allocate (not initialise) their parameters. */
sg_status sg_model_build(sg_device *dev, const sg_model_config *config, sg_model **out);

#endif
