/* Checkpoints: one safetensors file per model (docs/checkpoint.md).
 *
 * Tensors (all F32, PyTorch shapes):
 *   G.<name>                   generator parameters and BN running statistics
 *   D.<name>                   discriminator parameters and BN running statistics
 *   adam.G.exp_avg.<name>      Adam's first moment of each trainable parameter (and .exp_avg_sq)
 *   adam.D.exp_avg.<name>      ... for the sg_discriminator
 *   score.pixel_mean, score.pixel_std   [S, S] normal error statistics of a
 *                              standardised frame score (only with one)
 * where <name> is the PyTorch state_dict name of tests/reference/skipganomaly_pp.py.
 * __metadata__ (strings): format, architecture, input geometry and normalisation,
 * training state (step, epoch, seed, re-initialisations) and calibration. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/array.h"
#include "../core/error.h"
#include "model_internal.h"
#include "sgad/safetensors.h"

#define FORMAT_NAME "sgad-skipganomaly"
#define FORMAT_VERSION "1"
/* A model that leaves skips out is written as version 2, which a program that
 * predates the option refuses instead of loading it as the spec's generator
 * and scoring with the wrong network; this program reads both. */
#define FORMAT_VERSION_SKIPS "2"

enum { KIND_VALUE, KIND_ADAM_M, KIND_ADAM_V };

static const char *kind_prefix(int kind)
{
    return kind == KIND_VALUE ? "" : kind == KIND_ADAM_M ? "adam.%s.exp_avg." : "adam.%s.exp_avg_sq.";
}

static void tensor_name(char *buf, size_t n, const char *net, int kind, const char *param)
{
    if (kind == KIND_VALUE)
        snprintf(buf, n, "%s.%s", net, param);
    else {
        char prefix[64];
        snprintf(prefix, sizeof prefix, kind_prefix(kind), net);
        snprintf(buf, n, "%s%s", prefix, param);
    }
}

/* Host copies of a parameter set's device tensors (values, buffers, moments). */
typedef struct host_set {
    float *values, *buffers, *m, *v;
} host_set;

static void host_free(host_set *h)
{
    free(h->values);
    free(h->buffers);
    free(h->m);
    free(h->v);
}

static sg_status host_download(const sg_param_set *set, host_set *h)
{
    size_t nt = sg_tensor_count(set->values), nb = sg_tensor_count(set->buffers);
    h->values = malloc(nt * sizeof(float));
    h->m = malloc(nt * sizeof(float));
    h->v = malloc(nt * sizeof(float));
    h->buffers = malloc(nb * sizeof(float));
    if (!h->values || !h->m || !h->v || !h->buffers)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_status s;
    if ((s = sg_tensor_download(set->values, h->values)) || (s = sg_tensor_download(set->adam_m, h->m)) ||
        (s = sg_tensor_download(set->adam_v, h->v)) || (s = sg_tensor_download(set->buffers, h->buffers)))
        return s;
    return SG_OK;
}

typedef struct tensor_list {
    sg_st_tensor *items;
    size_t count, cap;
} tensor_list;

static sg_status add_tensor(tensor_list *l, const char *name, const sg_param *p, float *data)
{
    if (!sg_array_reserve((void **)&l->items, &l->cap, l->count, sizeof *l->items, 256))
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    sg_st_tensor *t = &l->items[l->count];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name)
        return sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    t->dtype = SG_ST_F32;
    t->ndim = p->ndim;
    for (int i = 0; i < p->ndim; i++)
        t->shape[i] = p->dims[i];
    t->nbytes = p->count * sizeof(float);
    t->data = data;
    l->count++;
    return SG_OK;
}

/* A weight or statistic that is NaN or infinite (a last update that diverged after the losses were
 * checked) would make a file that loading refuses: refuse to write it, so the previous file stays. */
static sg_status check_finite(const char *path, const char *net, const sg_param_set *set, const host_set *h)
{
    for (size_t i = 0; i < set->count; i++) {
        const sg_param *p = set->items[i];
        const float *v = (p->trainable ? h->values : h->buffers) + p->offset;
        for (size_t k = 0; k < p->count; k++)
            if (!isfinite(v[k]))
                return sg_fail(SG_ERR_NUMERIC, "%s not written: %s.%s holds %s (training diverged); the file "
                               "already there, if any, is kept", path, net, p->name, isnan(v[k]) ? "NaN" : "infinity");
    }
    return SG_OK;
}

static sg_status add_set(tensor_list *l, const char *net, const sg_param_set *set, const host_set *h,
                         bool with_moments)
{
    char name[256];
    sg_status s = SG_OK;
    for (size_t i = 0; i < set->count && s == SG_OK; i++) {
        const sg_param *p = set->items[i];
        tensor_name(name, sizeof name, net, KIND_VALUE, p->name);
        s = add_tensor(l, name, p, (p->trainable ? h->values : h->buffers) + p->offset);
    }
    for (int kind = KIND_ADAM_M; kind <= KIND_ADAM_V && with_moments; kind++)
        for (size_t i = 0; i < set->count && s == SG_OK; i++) {
            const sg_param *p = set->items[i];
            if (!p->trainable)
                continue;
            tensor_name(name, sizeof name, net, kind, p->name);
            s = add_tensor(l, name, p, (kind == KIND_ADAM_M ? h->m : h->v) + p->offset);
        }
    return s;
}

/* The per-pixel statistics as two [S, S] tensors. */
static sg_status add_pixel_stats(tensor_list *l, sg_model *m)
{
    sg_param p = {.ndim = 2, .dims = {m->config.size, m->config.size},
                  .count = (size_t)m->config.size * m->config.size};
    sg_status s = add_tensor(l, "score.pixel_mean", &p, m->pixel_mean);
    return s == SG_OK ? add_tensor(l, "score.pixel_std", &p, m->pixel_std) : s;
}

#define META_MAX 32

typedef struct meta_list {
    const char *keys[META_MAX];
    char values[META_MAX][64];
    size_t count;
} meta_list;

static void meta_add(meta_list *m, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void meta_add(meta_list *m, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->values[m->count], sizeof m->values[0], fmt, ap);
    va_end(ap);
    m->keys[m->count++] = key;
}

static sg_status save(sg_model *m, const char *path, bool with_moments)
{
    host_set hg = {0}, hd = {0};
    tensor_list l = {0};
    sg_status s = host_download(&m->gen, &hg);
    if (s == SG_OK)
        s = host_download(&m->disc, &hd);
    if (s == SG_OK)
        s = check_finite(path, "G", &m->gen, &hg);
    if (s == SG_OK)
        s = check_finite(path, "D", &m->disc, &hd);
    if (s == SG_OK)
        s = add_set(&l, "G", &m->gen, &hg, with_moments);
    if (s == SG_OK)
        s = add_set(&l, "D", &m->disc, &hd, with_moments);
    if (s == SG_OK && m->pixel_mean && m->pixel_std)
        s = add_pixel_stats(&l, m);
    if (s == SG_OK) {
        meta_list meta = {0};
        char frame_score[64];
        sg_frame_score_config_describe(&m->frame_score, frame_score, sizeof frame_score);
        const sg_model_config *c = &m->config;
        const sg_calibration *cal = &m->calibration;
        meta_add(&meta, "format", "%s", FORMAT_NAME);
        meta_add(&meta, "format_version", "%s", c->dropped_skips ? FORMAT_VERSION_SKIPS : FORMAT_VERSION);
        meta_add(&meta, "arch", "%s", sg_arch_name(c->arch));
        meta_add(&meta, "channels", "%d", c->channels);
        meta_add(&meta, "size", "%d", c->size);
        meta_add(&meta, "width", "%g", (double)c->width);
        meta_add(&meta, "upsample", "%s", sg_upsample_name(c->upsample));
        if (c->dropped_skips) {
            char skips[16];
            sg_skips_describe(c->dropped_skips, skips, sizeof skips);
            meta_add(&meta, "dropped_skips", "%s", skips);
        }
        meta_add(&meta, "normalization", "%s", "x/127.5-1");
        meta_add(&meta, "step", "%" PRIu64, m->state.step);
        meta_add(&meta, "epoch", "%u", m->state.epoch);
        meta_add(&meta, "epoch_step", "%u", m->state.epoch_step);
        meta_add(&meta, "seed", "%" PRIu64, m->state.seed);
        meta_add(&meta, "d_reinits", "%u", m->state.d_reinits);
        meta_add(&meta, "score_lambda", "%.9g", m->score_lambda);
        meta_add(&meta, "frame_score", "%s", frame_score);
        meta_add(&meta, "calibrated", "%s", cal->valid ? "true" : "false");
        if (cal->valid) {
            meta_add(&meta, "threshold", "%.9g", cal->threshold);
            meta_add(&meta, "threshold_quantile", "%.9g", cal->quantile);
            meta_add(&meta, "normal_score_mean", "%.9g", cal->normal_mean);
            meta_add(&meta, "normal_score_std", "%.9g", cal->normal_std);
            meta_add(&meta, "calibration_samples", "%u", cal->samples);
        }
        const char *values[META_MAX];
        for (size_t i = 0; i < meta.count; i++)
            values[i] = meta.values[i];
        s = sg_st_write(path, l.items, l.count, meta.keys, values, meta.count);
    }
    for (size_t i = 0; i < l.count; i++)
        free(l.items[i].name);
    free(l.items);
    host_free(&hg);
    host_free(&hd);
    return s;
}

/* A model loaded from a file without moments has none to write: saving zeros would pass for a resumable state. */
sg_status sg_model_save(sg_model *m, const char *path)
{
    return save(m, path, m->state.has_optimizer_state);
}

sg_status sg_model_save_for_scoring(sg_model *m, const char *path)
{
    return save(m, path, false);
}

/* ---- loading ------------------------------------------------------------ */

static sg_status meta_int(const sg_st_file *f, const char *path, const char *key, bool required, long long lo,
                          long long hi, long long *out)
{
    const char *v = sg_st_meta(f, key);
    if (!v) {
        if (required)
            return sg_fail(SG_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
        return SG_OK;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi)
        return sg_fail(SG_ERR_FORMAT, "%s: metadata '%s' = '%s' is not an integer in [%lld, %lld]", path, key, v,
                       lo, hi);
    *out = x;
    return SG_OK;
}

static sg_status meta_float(const sg_st_file *f, const char *path, const char *key, float *out)
{
    const char *v = sg_st_meta(f, key);
    if (!v)
        return sg_fail(SG_ERR_FORMAT, "%s: metadata '%s' is missing", path, key);
    char *end;
    float x = strtof(v, &end);
    if (*end || end == v || !isfinite(x))
        return sg_fail(SG_ERR_FORMAT, "%s: metadata '%s' = '%s' is not a finite number", path, key, v);
    *out = x;
    return SG_OK;
}

static sg_status parse_config(const sg_st_file *f, const char *path, sg_model_config *c)
{
    const char *format = sg_st_meta(f, "format"), *version = sg_st_meta(f, "format_version");
    if (!format || strcmp(format, FORMAT_NAME) != 0)
        return sg_fail(SG_ERR_FORMAT, "%s: not a Skip-GANomaly checkpoint of this program (metadata format is %s%s%s)",
                       path, format ? "'" : "", format ? format : "missing", format ? "'" : "");
    bool v2 = version && strcmp(version, FORMAT_VERSION_SKIPS) == 0;
    if (!version || (strcmp(version, FORMAT_VERSION) != 0 && !v2))
        return sg_fail(SG_ERR_FORMAT, "%s: checkpoint format version %s is not supported (this program reads %s and %s)",
                       path, version ? version : "(missing)", FORMAT_VERSION, FORMAT_VERSION_SKIPS);
    const char *arch = sg_st_meta(f, "arch"), *up = sg_st_meta(f, "upsample");
    *c = sg_model_config_default();
    if (!arch || (strcmp(arch, "skipganomaly++") && strcmp(arch, "skipganomaly")))
        return sg_fail(SG_ERR_FORMAT, "%s: metadata 'arch' must be skipganomaly++ or skipganomaly", path);
    c->arch = strcmp(arch, "skipganomaly") == 0 ? SG_ARCH_SKIPGANOMALY : SG_ARCH_SKIPGANOMALY_PP;
    if (!up || (strcmp(up, "transposed") && strcmp(up, "nearest")))
        return sg_fail(SG_ERR_FORMAT, "%s: metadata 'upsample' must be transposed or nearest", path);
    c->upsample = strcmp(up, "nearest") == 0 ? SG_UPSAMPLE_NEAREST : SG_UPSAMPLE_TRANSPOSED;
    const char *skips = sg_st_meta(f, "dropped_skips");
    if (skips && !v2)
        return sg_fail(SG_ERR_FORMAT, "%s: metadata 'dropped_skips' in a format version %s file (it needs %s)", path,
                       version, FORMAT_VERSION_SKIPS);
    if (v2) {
        const char *bad = skips ? sg_skips_parse(skips, &c->dropped_skips) : "it is missing";
        if (!bad && c->dropped_skips == 0)
            bad = "a version 2 file leaves at least one skip out";
        if (bad)
            return sg_fail(SG_ERR_FORMAT, "%s: metadata 'dropped_skips' = '%s': %s", path, skips ? skips : "", bad);
    }
    const char *norm = sg_st_meta(f, "normalization");
    if (!norm || strcmp(norm, "x/127.5-1") != 0)
        return sg_fail(SG_ERR_FORMAT, "%s: unsupported input normalization '%s' (expected x/127.5-1)", path,
                       norm ? norm : "(missing)");
    long long ch = 0, size = 0;
    float width = 0;
    sg_status s;
    if ((s = meta_int(f, path, "channels", true, 1, 3, &ch)) || (s = meta_int(f, path, "size", true, 1, 4096, &size)) ||
        (s = meta_float(f, path, "width", &width)))
        return s;
    c->channels = (int)ch;
    c->size = (int)size;
    c->width = width;
    const char *bad = sg_model_config_check(c);
    return bad ? sg_fail(SG_ERR_FORMAT, "%s: %s", path, bad) : SG_OK;
}

static sg_status parse_state(const sg_st_file *f, const char *path, sg_model *m)
{
    long long step = 0, epoch = 0, epoch_step = 0, seed = 0, reinits = 0;
    sg_status s;
    if ((s = meta_int(f, path, "step", false, 0, INT64_MAX, &step)) ||
        (s = meta_int(f, path, "epoch", false, 0, INT32_MAX, &epoch)) ||
        (s = meta_int(f, path, "epoch_step", false, 0, INT32_MAX, &epoch_step)) ||
        (s = meta_int(f, path, "seed", false, 0, INT64_MAX, &seed)) ||
        (s = meta_int(f, path, "d_reinits", false, 0, INT32_MAX, &reinits)))
        return s;
    m->state.step = (uint64_t)step;
    m->state.epoch = (uint32_t)epoch;
    m->state.epoch_step = (uint32_t)epoch_step;
    m->state.seed = (uint64_t)seed;
    m->state.d_reinits = (uint32_t)reinits;
    /* files from before lambda was a setting scored with the spec's 0.9 */
    if (sg_st_meta(f, "score_lambda")) {
        float lambda;
        if ((s = meta_float(f, path, "score_lambda", &lambda)))
            return s;
        if (!(lambda >= 0.0f && lambda <= 1.0f))
            return sg_fail(SG_ERR_FORMAT, "%s: metadata 'score_lambda' = %g is not in [0, 1]", path, (double)lambda);
        m->score_lambda = lambda;
    }
    /* files from before the frame score was a setting scored with the spec's mean */
    const char *fs = sg_st_meta(f, "frame_score");
    if (fs) {
        const char *bad = sg_frame_score_config_parse(fs, &m->frame_score);
        if (bad)
            return sg_fail(SG_ERR_FORMAT, "%s: metadata 'frame_score' = '%s': %s", path, fs, bad);
    }
    const char *cal = sg_st_meta(f, "calibrated");
    if (cal && strcmp(cal, "true") == 0) {
        sg_calibration *c = &m->calibration;
        long long n = 0;
        if ((s = meta_float(f, path, "threshold", &c->threshold)) ||
            (s = meta_float(f, path, "threshold_quantile", &c->quantile)) ||
            (s = meta_float(f, path, "normal_score_mean", &c->normal_mean)) ||
            (s = meta_float(f, path, "normal_score_std", &c->normal_std)) ||
            (s = meta_int(f, path, "calibration_samples", true, 0, INT32_MAX, &n)))
            return s;
        /* scores are sums of mean squares, never negative (unless standardised
         * per pixel): a negative threshold would flag every frame, a quantile
         * outside (0, 1] or a negative spread is not a calibration this
         * program writes */
        bool signed_scores = m->frame_score.standardise;
        if (c->threshold < 0 && !signed_scores)
            return sg_fail(SG_ERR_FORMAT, "%s: metadata 'threshold' = %g is negative (scores are >= 0, so every "
                           "image would be flagged)", path, (double)c->threshold);
        if (!(c->quantile > 0 && c->quantile <= 1))
            return sg_fail(SG_ERR_FORMAT, "%s: metadata 'threshold_quantile' = %g is not in (0, 1]", path,
                           (double)c->quantile);
        if ((c->normal_mean < 0 && !signed_scores) || c->normal_std < 0)
            return sg_fail(SG_ERR_FORMAT, "%s: metadata 'normal_score_mean' = %g and 'normal_score_std' = %g "
                           "must not be negative", path, (double)c->normal_mean, (double)c->normal_std);
        c->samples = (uint32_t)n;
        c->valid = true;
    }
    return SG_OK;
}

/* Check one tensor against the parameter it should hold, copy it to host and
 * mark it taken (taken[i] for the file's tensor i). */
static sg_status take_tensor(const sg_st_file *f, const char *path, const char *name, const sg_param *p, float *dst,
                             bool *taken, bool *found)
{
    const sg_st_tensor *t = sg_st_find(f, name);
    *found = t != NULL;
    if (!t)
        return SG_OK;
    taken[t - f->tensors] = true;
    if (t->dtype != SG_ST_F32)
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s' is not F32", path, name);
    bool same = t->ndim == p->ndim;
    for (int i = 0; same && i < p->ndim; i++)
        same = t->shape[i] == p->dims[i];
    if (!same) {
        char want[96] = "", got[96] = "";
        for (int i = 0; i < p->ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%" PRId64, i ? "," : "", p->dims[i]);
        for (int i = 0; i < t->ndim && i < 8; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRId64, i ? "," : "", t->shape[i]);
        return sg_fail(SG_ERR_FORMAT, "%s: tensor '%s' has shape [%s], the model's configuration needs [%s]", path,
                       name, got, want);
    }
    const float *src = t->data;
    for (size_t i = 0; i < p->count; i++)
        if (!isfinite(src[i]))
            return sg_fail(SG_ERR_NUMERIC, "%s: tensor '%s' holds a NaN or infinite value at element %zu", path, name, i);
    memcpy(dst, src, p->count * sizeof(float));
    return SG_OK;
}

static sg_status load_set(const sg_st_file *f, const char *path, const char *net, sg_param_set *set,
                          bool *taken, bool *has_moments)
{
    host_set h = {0};
    size_t nt = sg_tensor_count(set->values), nb = sg_tensor_count(set->buffers);
    h.values = calloc(nt, sizeof(float));
    h.m = calloc(nt, sizeof(float));
    h.v = calloc(nt, sizeof(float));
    h.buffers = calloc(nb, sizeof(float));
    sg_status s = h.values && h.m && h.v && h.buffers ? SG_OK : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    char name[256];
    size_t moments = 0, trainable = 0;
    for (size_t i = 0; i < set->count && s == SG_OK; i++) {
        const sg_param *p = set->items[i];
        bool found;
        tensor_name(name, sizeof name, net, KIND_VALUE, p->name);
        s = take_tensor(f, path, name, p, (p->trainable ? h.values : h.buffers) + p->offset, taken, &found);
        if (s == SG_OK && !found)
            s = sg_fail(SG_ERR_FORMAT, "%s: tensor '%s' is missing (is the file for another architecture or size?)",
                        path, name);
        if (!p->trainable)
            continue;
        trainable++;
        for (int kind = KIND_ADAM_M; kind <= KIND_ADAM_V && s == SG_OK; kind++) {
            tensor_name(name, sizeof name, net, kind, p->name);
            s = take_tensor(f, path, name, p, (kind == KIND_ADAM_M ? h.m : h.v) + p->offset, taken, &found);
            moments += found;
        }
    }
    /* optimiser state is all or nothing (a model exported for scoring has none) */
    if (s == SG_OK && moments != 0 && moments != 2 * trainable)
        s = sg_fail(SG_ERR_FORMAT, "%s: Adam moments are present for some %s parameters but not all", path, net);
    *has_moments = moments != 0;
    if (s == SG_OK)
        for (size_t i = 0; i < nt && s == SG_OK; i++)
            if (h.v[i] < 0)
                s = sg_fail(SG_ERR_FORMAT, "%s: a second Adam moment of %s is negative", path, net);
    /* a variance below zero makes batch norm take the root of a negative number */
    for (size_t i = 0; i < set->count && s == SG_OK; i++) {
        const sg_param *p = set->items[i];
        const char *tail = "running_var";
        size_t len = strlen(p->name);
        if (p->trainable || len < strlen(tail) || strcmp(p->name + len - strlen(tail), tail) != 0)
            continue;
        for (size_t k = 0; k < p->count && s == SG_OK; k++)
            if (h.buffers[p->offset + k] < 0) {
                tensor_name(name, sizeof name, net, KIND_VALUE, p->name);
                s = sg_fail(SG_ERR_FORMAT, "%s: tensor '%s' holds a negative variance (%g at element %zu)", path,
                            name, (double)h.buffers[p->offset + k], k);
            }
    }
    if (s == SG_OK && ((s = sg_tensor_upload(set->values, h.values)) || (s = sg_tensor_upload(set->adam_m, h.m)) ||
                       (s = sg_tensor_upload(set->adam_v, h.v)) || (s = sg_tensor_upload(set->buffers, h.buffers))))
        s = sg_fail_prefix(s, "%s: uploading the weights", path);
    host_free(&h);
    return s;
}

/* score.pixel_mean and score.pixel_std: needed by a calibrated standardised
 * frame score, refused without one (a file this program does not write). */
static sg_status load_pixel_stats(const sg_st_file *f, const char *path, sg_model *m, bool *taken)
{
    int S = m->config.size;
    sg_param p = {.ndim = 2, .dims = {S, S}, .count = (size_t)S * S};
    float *mean = malloc(p.count * sizeof *mean), *std = malloc(p.count * sizeof *std);
    bool found_mean = false, found_std = false;
    sg_status s = mean && std ? SG_OK : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == SG_OK)
        s = take_tensor(f, path, "score.pixel_mean", &p, mean, taken, &found_mean);
    if (s == SG_OK)
        s = take_tensor(f, path, "score.pixel_std", &p, std, taken, &found_std);
    if (s == SG_OK && found_mean != found_std)
        s = sg_fail(SG_ERR_FORMAT, "%s: tensor 'score.pixel_%s' is missing (the per-pixel statistics come as a pair)",
                    path, found_mean ? "std" : "mean");
    if (s == SG_OK && found_mean && !m->frame_score.standardise)
        s = sg_fail(SG_ERR_FORMAT, "%s: per-pixel statistics are present but metadata 'frame_score' does not "
                    "standardise", path);
    /* a training state (MODEL.partial, an interrupted run) has no statistics
     * yet: training measures them at its end, with the threshold; such a model
     * loads, resumes, and refuses to score until calibrated. A calibrated one
     * without them is a file this program does not write. */
    if (s == SG_OK && !found_mean && m->frame_score.standardise && m->calibration.valid)
        s = sg_fail(SG_ERR_FORMAT, "%s: metadata 'frame_score' standardises each pixel and the model is "
                    "calibrated, but the tensors 'score.pixel_mean' and 'score.pixel_std' are missing", path);
    for (size_t i = 0; s == SG_OK && found_std && i < p.count; i++)
        if (!(std[i] > 0))
            s = sg_fail(SG_ERR_FORMAT, "%s: tensor 'score.pixel_std' holds %g at element %zu (must be > 0)", path,
                        (double)std[i], i);
    if (s == SG_OK && found_mean) {
        m->pixel_mean = mean, m->pixel_std = std;
        mean = std = NULL;
    }
    free(mean), free(std);
    return s;
}

sg_status sg_model_load(sg_device *dev, const char *path, sg_model **out)
{
    sg_st_file f;
    sg_status s = sg_st_read(path, &f);
    if (s != SG_OK)
        return s;
    sg_model_config c;
    sg_model *m = NULL;
    bool g_moments = false, d_moments = false;
    bool *taken = calloc(f.count ? f.count : 1, sizeof *taken);
    s = taken ? parse_config(&f, path, &c) : sg_fail(SG_ERR_OUT_OF_MEMORY, "out of host memory");
    if (s == SG_OK && (s = sg_model_build(dev, &c, &m)) != SG_OK) {
        char why[768]; /* a copy: the message is formatted into the buffer it came from */
        snprintf(why, sizeof why, "%s", sg_error_message());
        s = sg_fail(s, "%s: %s", path, why);
    }
    if (s == SG_OK)
        s = parse_state(&f, path, m);
    if (s == SG_OK)
        s = load_set(&f, path, "G", &m->gen, taken, &g_moments);
    if (s == SG_OK)
        s = load_set(&f, path, "D", &m->disc, taken, &d_moments);
    if (s == SG_OK && g_moments != d_moments)
        s = sg_fail(SG_ERR_FORMAT, "%s: Adam moments are present for one network but not the other", path);
    if (s == SG_OK)
        m->state.has_optimizer_state = g_moments;
    if (s == SG_OK)
        s = load_pixel_stats(&f, path, m, taken);
    /* anything else is a sign of a different model: refuse rather than ignore
     * (BN's num_batches_tracked from a PyTorch export is the one exception) */
    const char *tail = "num_batches_tracked";
    for (size_t i = 0; s == SG_OK && i < f.count; i++) {
        const char *n = f.tensors[i].name;
        size_t len = strlen(n);
        if (!taken[i] && !(len >= strlen(tail) && strcmp(n + len - strlen(tail), tail) == 0))
            s = sg_fail(SG_ERR_FORMAT, "%s: unexpected tensor '%s' for a %s model of size %d (wrong configuration?)",
                        path, n, sg_arch_name(c.arch), c.size);
    }
    free(taken);
    sg_st_free(&f);
    if (s != SG_OK) {
        sg_model_destroy(m);
        return s;
    }
    *out = m;
    return SG_OK;
}
