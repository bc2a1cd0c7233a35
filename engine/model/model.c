/* Model configuration, creation and accessors. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "model_internal.h"

sg_model_config sg_model_config_default(void)
{
    sg_model_config c = {SG_ARCH_SKIPGANOMALY_PP, 3, 32, 1, SG_UPSAMPLE_TRANSPOSED};
    return c;
}

sg_train_config sg_train_config_default(void)
{
    sg_train_config t = {64, 2e-4f, 0.5f, 0.999f, 1.0f, 50.0f, 1.0f, false};
    return t;
}

bool sg_train_config_adversarial(const sg_train_config *c)
{
    return c->w_adv != 0.0f || c->w_lat != 0.0f;
}

const char *sg_arch_name(sg_arch a)
{
    return a == SG_ARCH_SKIPGANOMALY ? "skipganomaly" : "skipganomaly++";
}

const char *sg_upsample_name(sg_upsample u)
{
    return u == SG_UPSAMPLE_NEAREST ? "nearest" : "transposed";
}

const char *sg_model_config_check(const sg_model_config *c)
{
    if (c->arch != SG_ARCH_SKIPGANOMALY_PP && c->arch != SG_ARCH_SKIPGANOMALY)
        return "unknown architecture (skipganomaly++ or skipganomaly)";
    if (c->channels != 1 && c->channels != 3)
        return "channels must be 1 (gray) or 3 (RGB)";
    if (c->size < 32 || c->size > 512 || (c->size & (c->size - 1)))
        return "input size must be a power of two from 32 to 512";
    if (!(c->width >= 0.25f && c->width <= 16.0f) || c->width * 16.0f != (float)(int)(c->width * 16.0f))
        return "width multiplier must be a multiple of 1/16 (0.0625) from 0.25 to 16";
    if (c->upsample != SG_UPSAMPLE_TRANSPOSED && c->upsample != SG_UPSAMPLE_NEAREST)
        return "upsample must be transposed or nearest";
    if (c->dropped_skips >> SG_SKIP_LEVELS)
        return "dropped skips must be among the levels 1, 2 and 3";
    if (c->dropped_skips && c->arch != SG_ARCH_SKIPGANOMALY_PP)
        return "leaving skips out is a Skip-GANomaly++ option";
    return NULL;
}

const char *sg_skips_parse(const char *text, unsigned *mask)
{
    if (!text)
        return "no skip levels given";
    unsigned m = 0;
    if (*text && strcmp(text, "none") != 0) {
        const char *p = text;
        for (;;) {
            if (*p < '1' || *p > '0' + SG_SKIP_LEVELS || (p[1] && p[1] != ','))
                return "skip levels are a comma-separated list of 1, 2 and 3 (or none)";
            unsigned bit = 1u << (*p - '1');
            if (m & bit)
                return "a skip level is listed twice";
            m |= bit;
            if (!p[1])
                break;
            p += 2;
        }
    }
    *mask = m;
    return NULL;
}

void sg_skips_describe(unsigned mask, char *out, size_t size)
{
    char text[2 * SG_SKIP_LEVELS] = "";
    for (int k = 0; k < SG_SKIP_LEVELS; k++)
        if (mask & (1u << k))
            sprintf(text + strlen(text), "%s%d", *text ? "," : "", k + 1);
    snprintf(out, size, "%s", mask ? text : "none");
}

float sg_model_score_lambda(const sg_model *m)
{
    return m->score_lambda;
}

sg_status sg_model_set_score_lambda(sg_model *m, float lambda)
{
    if (!(lambda >= 0.0f && lambda <= 1.0f))
        return sg_fail(SG_ERR_ARGUMENT, "the score weight lambda must be from 0 to 1 (got %g)", (double)lambda);
    if (lambda != m->score_lambda)
        m->calibration.valid = false;
    m->score_lambda = lambda;
    return SG_OK;
}

static sg_net_shape net_shape(const sg_model_config *c)
{
    return (sg_net_shape){.channels = c->channels, .size = c->size, .width = c->width,
                          .transposed = c->upsample == SG_UPSAMPLE_TRANSPOSED, .dropped_skips = c->dropped_skips};
}

int sg_model_width_channels(const sg_model_config *c, int base)
{
    sg_net_shape shape = net_shape(c);
    return sg_net_width(&shape, base);
}

sg_node *sg_model_generator_forward(const sg_model *m, sg_graph *g, sg_node *x)
{
    return m->pp ? sg_pp_generator_forward(m->pp, g, x) : sg_unet_generator_forward(m->unet, g, x);
}

/* The parameters alone (values, gradients, two Adam moments, BN statistics)
 * must fit the device's heap; say so before asking Vulkan for them, whose
 * "out of device memory" names neither the model nor the cause. */
static sg_status check_fits(sg_device *dev, const sg_model_config *c, const sg_model *m)
{
    uint64_t floats = 4 * (uint64_t)(m->gen.trainable_count + m->disc.trainable_count) +
                      m->gen.buffer_count + m->disc.buffer_count;
    uint64_t need = floats * sizeof(float), heap = sg_device_get_info(dev)->device_memory;
    if (heap == 0 || need <= heap)
        return SG_OK;
    return sg_fail(SG_ERR_OUT_OF_MEMORY, "the model (%s, %d channels, %dx%d, width %g) needs %" PRIu64 " MiB of "
                   "device memory for its parameters alone, and the device's heap has %" PRIu64 " MiB",
                   sg_arch_name(c->arch), c->channels, c->size, c->size, (double)c->width, (need + (1 << 20) - 1) >> 20,
                   heap >> 20);
}

sg_status sg_model_build(sg_device *dev, const sg_model_config *config, sg_model **out)
{
    const char *bad = config ? sg_model_config_check(config) : "no configuration";
    if (bad)
        return sg_fail(SG_ERR_ARGUMENT, "model configuration: %s", bad);
    sg_model *m = calloc(1, sizeof *m);
    if (!m)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    m->dev = dev;
    m->config = *config;
    m->score_lambda = SG_SCORE_LAMBDA;
    sg_params_init(&m->gen, dev);
    sg_params_init(&m->disc, dev);
    sg_net_shape shape = net_shape(config);
    if (config->arch == SG_ARCH_SKIPGANOMALY_PP)
        m->pp = sg_pp_generator_create(&m->gen, &shape);
    else
        m->unet = sg_unet_generator_create(&m->gen, &shape);
    m->disc_net = sg_discriminator_create(&m->disc, config->channels, config->size);
    sg_status s = (m->pp || m->unet) && m->disc_net ? SG_OK : SG_ERR_OUT_OF_MEMORY;
    if (s != SG_OK)
        s = sg_fail(s, "building the networks: out of host memory");
    if (s == SG_OK)
        s = check_fits(dev, config, m);
    if (s == SG_OK)
        s = sg_params_allocate(&m->gen);
    if (s == SG_OK)
        s = sg_params_allocate(&m->disc);
    if (s != SG_OK) {
        sg_model_destroy(m);
        return s;
    }
    *out = m;
    return SG_OK;
}

sg_status sg_model_create(sg_device *dev, const sg_model_config *config, uint64_t seed, sg_model **out)
{
    sg_model *m;
    sg_status s = sg_model_build(dev, config, &m);
    if (s != SG_OK)
        return s;
    /* G and D draw from different streams of the same seed */
    if ((s = sg_params_initialize(&m->gen, seed)) != SG_OK ||
        (s = sg_params_initialize(&m->disc, seed ^ 0xd15c0ull)) != SG_OK) {
        sg_model_destroy(m);
        return s;
    }
    m->state.seed = seed;
    m->state.has_optimizer_state = true; /* zero moments are the true state before the first step */
    *out = m;
    return SG_OK;
}

void sg_model_destroy(sg_model *m)
{
    if (!m)
        return;
    sg_params_free(&m->gen);
    sg_params_free(&m->disc);
    sg_pp_generator_destroy(m->pp);
    sg_unet_generator_destroy(m->unet);
    sg_discriminator_destroy(m->disc_net);
    free(m->pixel_mean);
    free(m->pixel_std);
    free(m);
}

const sg_model_config *sg_model_get_config(const sg_model *m)
{
    return &m->config;
}

sg_device *sg_model_device(const sg_model *m)
{
    return m->dev;
}

sg_calibration *sg_model_calibration(sg_model *m)
{
    return &m->calibration;
}

sg_training_state *sg_model_training_state(sg_model *m)
{
    return &m->state;
}

size_t sg_model_generator_parameters(const sg_model *m)
{
    return sg_params_trainable_scalars(&m->gen);
}

size_t sg_model_discriminator_parameters(const sg_model *m)
{
    return sg_params_trainable_scalars(&m->disc);
}
