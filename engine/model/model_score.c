/* The model's frame score setting and its per-pixel statistics (sgad/model.h,
 * sgad/frame_score.h); the scorer applies them to its heat maps. */
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "model_internal.h"
#include "sgad/fit.h"

const sg_frame_score_config *sg_model_frame_score(const sg_model *m)
{
    return &m->frame_score;
}

static void clear_stats(sg_model *m)
{
    free(m->pixel_mean);
    free(m->pixel_std);
    m->pixel_mean = m->pixel_std = NULL;
}

sg_status sg_model_set_frame_score(sg_model *m, const sg_frame_score_config *c)
{
    const char *bad = sg_frame_score_config_check(c);
    if (bad)
        return sg_fail(SG_ERR_ARGUMENT, "%s", bad);
    if (memcmp(c, &m->frame_score, sizeof *c) != 0) {
        m->frame_score = *c;
        clear_stats(m);
        m->calibration.valid = false;
    }
    return SG_OK;
}

bool sg_model_has_pixel_stats(const sg_model *m)
{
    return !m->frame_score.standardise || (m->pixel_mean && m->pixel_std);
}

sg_status sg_model_fit_pixel_stats(sg_model *m, const float *images, size_t count)
{
    if (count < 2)
        return sg_fail(SG_ERR_ARGUMENT, "per-pixel statistics need at least 2 normal images, got %zu", count);
    size_t plane = (size_t)m->config.size * m->config.size;
    float *heat = malloc(count * plane * sizeof *heat), *scores = malloc(count * sizeof *scores);
    float *mean = malloc(plane * sizeof *mean), *std = malloc(plane * sizeof *std);
    sg_status s = heat && scores && mean && std ? SG_OK : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    /* the raw maps: score with the unstandardised setting meanwhile */
    bool standardise = m->frame_score.standardise;
    m->frame_score.standardise = false;
    if (s == SG_OK)
        s = sg_score_images(m, images, count, 64, scores, heat, NULL);
    m->frame_score.standardise = standardise;
    if (s == SG_OK)
        s = sg_pixel_stats_fit(heat, count, m->config.size, m->frame_score.smooth, mean, std);
    if (s == SG_OK) {
        clear_stats(m);
        m->pixel_mean = mean, m->pixel_std = std;
        mean = std = NULL;
        m->calibration.valid = false;
    }
    free(heat), free(scores), free(mean), free(std);
    return s;
}

sg_status sg_model_pixel_terms(const sg_model *m, const float *heat, int count, float *out)
{
    if (!sg_model_has_pixel_stats(m))
        return sg_fail(SG_ERR_ARGUMENT, "the model's frame score standardises each pixel, but it has no per-pixel "
                       "statistics (calibrate it: sg_model_fit_pixel_stats)");
    int S = m->config.size;
    float *work = malloc((size_t)S * S * sizeof *work);
    if (!work)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; i < count; i++)
        out[i] = sg_frame_score(&m->frame_score, heat + (size_t)i * S * S, S, m->pixel_mean, m->pixel_std, work);
    free(work);
    return SG_OK;
}
