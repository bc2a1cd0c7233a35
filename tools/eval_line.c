/* sgad eval --line: the generated inspection line as an evaluation suite.
 *
 * Unseen frames of the line (from --first-frame, 1800: the bundled model
 * trained on 0..1799) get anomalyinject's defects, each kind alone and all
 * together, with several injection seeds. The model (when given) and three
 * training-free baselines score the same frames; every method's threshold is
 * the 0.995 quantile of its own scores on clean frames from a separate unseen
 * range of the line (--calib-first), so nothing is chosen on the test frames.
 * The heat-map frame scores (sgad/frame_score.h) standardise with per-pixel
 * statistics from the first half of that clean range and take their threshold
 * from the second half. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "line_frames.h"
#include "sgad/baselines.h"
#include "sgad/frame_score.h"
#include "sgad/pixel_metrics.h"

#define CALIB_STRIDE 7 /* line frames between two clean calibration frames */

static const char USAGE[] =
    "usage: sgad eval --line [--model PATH] [options]\n"
    "Score unseen frames of the generated line (inspectionsrc) with anomalyinject's defects, each kind\n"
    "alone and all together, over several seeds; print frame ROC AUC, AUPRC and, at each method's\n"
    "threshold (0.995 quantile of its scores on clean unseen frames), the defects flagged and the good\n"
    "frames stopped, for the model's frame scores and the baselines (mean frame, the same standardised\n"
    "per pixel by clean frames and max-pooled as max,std pools the model's map, nearest normal frame,\n"
    "frame difference) on the same frames; and the checkpoint's score at its own threshold too, with the\n"
    "share of the clean frames that threshold stops (its false alarms).\n"
    "\n"
    "  --model PATH         checkpoint (without: the baselines alone, at 3x32x32)\n"
    "  --line-seed N        inspectionsrc seed (default 11, the bundled model's line)\n"
    "  --object O           inspectionsrc's object: cap (default) or tablet\n"
    "  --first-frame N      first test frame of the line (default 1800)\n"
    "  --frames N           test frames per run (default 300)\n"
    "  --seeds LIST         anomalyinject seeds, comma-separated (default 1,2,3); the run with the i-th\n"
    "                       seed scores the i-th stretch of N frames from --first-frame\n"
    "  --kinds LIST         defect kinds per run, comma-separated; a run may join kinds with '+'\n"
    "                       (default scratch,spot,missing,color-shift,all)\n"
    "  --fraction P         share of frames with a defect (default 0.2)\n"
    "  --size Z             defect size relative to the frame's smaller side (default 0.25)\n"
    "  --frame-size WxH     size of the line's frames (default 320x240)\n"
    "  --normal-frames N    the baselines' normal frames, spread over frames 0..first-frame-1 (default 300)\n"
    "  --calib-first N      first of the clean unseen frames for thresholds and statistics (default 100000)\n"
    "  --calib-frames N     how many, every 7th frame (default 600: half statistics, half thresholds)\n"
    "  --quantile Q         threshold quantile (default 0.995)\n"
    "  --pixel-stats FROM   per-pixel statistics of the standardised scores from 'unseen' clean frames\n"
    "                       (default) or the 'training' range (the baselines' normal frames), as sg_fit does\n"
    "  --csv PATH           write every run's figures (method, kinds, seed, auc, auprc, flagged, stopped)\n"
    "  --device D           Vulkan device index or name\n";

typedef struct line_args {
    const char *model, *csv, *device;
    line_source src;
    long first, frames, normals, calib_first, calib_frames;
    double fraction, size, quantile;
    bool stats_from_training;
    int seeds[16], nseeds;
    char *kind_names[8];
    unsigned kinds[8];
    int nkinds;
} line_args;

static char kinds_buf[256];

static int parse(int argc, char **argv, line_args *a)
{
    enum { O_LINE = 256, O_MODEL, O_LSEED, O_FIRST, O_FRAMES, O_SEEDS, O_KINDS, O_FRACTION, O_SIZE, O_FSIZE,
           O_NORMALS, O_CFIRST, O_CFRAMES, O_QUANTILE, O_STATS, O_CSV, O_DEVICE, O_OBJECT, O_HELP };
    static const struct option options[] = {
        {"line", no_argument, 0, O_LINE}, {"model", required_argument, 0, O_MODEL},
        {"line-seed", required_argument, 0, O_LSEED}, {"object", required_argument, 0, O_OBJECT},
        {"first-frame", required_argument, 0, O_FIRST},
        {"frames", required_argument, 0, O_FRAMES}, {"seeds", required_argument, 0, O_SEEDS},
        {"kinds", required_argument, 0, O_KINDS}, {"fraction", required_argument, 0, O_FRACTION},
        {"size", required_argument, 0, O_SIZE}, {"frame-size", required_argument, 0, O_FSIZE},
        {"normal-frames", required_argument, 0, O_NORMALS}, {"calib-first", required_argument, 0, O_CFIRST},
        {"calib-frames", required_argument, 0, O_CFRAMES}, {"quantile", required_argument, 0, O_QUANTILE},
        {"pixel-stats", required_argument, 0, O_STATS}, {"csv", required_argument, 0, O_CSV}, {"device", required_argument, 0, O_DEVICE},
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->src = line_source_default();
    a->first = 1800, a->frames = 300, a->normals = 300, a->calib_first = 100000, a->calib_frames = 600;
    a->fraction = 0.2, a->size = 0.25, a->quantile = 0.995;
    a->seeds[0] = 1, a->seeds[1] = 2, a->seeds[2] = 3, a->nseeds = 3;
    const char *kinds = "scratch,spot,missing,color-shift,all";
    long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_LINE: break;
        case O_MODEL: a->model = optarg; break;
        case O_LSEED:
            if (!cli_parse_int(optarg, 0, 0xffffffffL, &v))
                return cli_usage_error("eval", "--line-seed needs an integer 0..4294967295");
            a->src.line_seed = (unsigned)v;
            break;
        case O_OBJECT:
            if (!line_source_parse_object(optarg, &a->src))
                return cli_usage_error("eval", "--object must be cap or tablet, not '%s'", optarg);
            break;
        case O_FIRST:
            if (!cli_parse_int(optarg, 1, 1L << 40, &a->first))
                return cli_usage_error("eval", "--first-frame needs a frame number of at least 1");
            break;
        case O_FRAMES:
            if (!cli_parse_int(optarg, 10, 1000000, &a->frames))
                return cli_usage_error("eval", "--frames must be 10..1000000");
            break;
        case O_SEEDS:
            if (!cli_parse_int_list(optarg, 0, 0x7fffffffL, a->seeds, 16, &a->nseeds) || a->nseeds == 0)
                return cli_usage_error("eval", "--seeds needs 1 to 16 comma-separated seeds");
            break;
        case O_KINDS: kinds = optarg; break;
        case O_FRACTION:
            if (!cli_parse_float(optarg, 0.01, 0.99, &a->fraction))
                return cli_usage_error("eval", "--fraction must be 0.01..0.99");
            break;
        case O_SIZE:
            if (!cli_parse_float(optarg, 0.01, 1, &a->size))
                return cli_usage_error("eval", "--size must be 0.01..1");
            break;
        case O_FSIZE:
            if (!line_source_parse_size(optarg, &a->src))
                return cli_usage_error("eval", "--frame-size must be WxH, 32..4096 each, not '%s'", optarg);
            break;
        case O_NORMALS:
            if (!cli_parse_int(optarg, 2, 100000, &a->normals))
                return cli_usage_error("eval", "--normal-frames must be 2..100000");
            break;
        case O_CFIRST:
            if (!cli_parse_int(optarg, 0, 1L << 40, &a->calib_first))
                return cli_usage_error("eval", "--calib-first needs a frame number");
            break;
        case O_CFRAMES:
            if (!cli_parse_int(optarg, 20, 1000000, &a->calib_frames))
                return cli_usage_error("eval", "--calib-frames must be 20..1000000");
            break;
        case O_QUANTILE:
            if (!cli_parse_float(optarg, 0.5, 1, &a->quantile))
                return cli_usage_error("eval", "--quantile must be 0.5..1");
            break;
        case O_STATS:
            if (strcmp(optarg, "unseen") && strcmp(optarg, "training"))
                return cli_usage_error("eval", "--pixel-stats must be unseen or training, not '%s'", optarg);
            a->stats_from_training = !strcmp(optarg, "training");
            break;
        case O_CSV: a->csv = optarg; break;
        case O_DEVICE: a->device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return -1;
        default: return cli_usage_hint("eval");
        }
    }
    if (optind < argc)
        return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (strlen(kinds) >= sizeof kinds_buf)
        return cli_usage_error("eval", "--kinds is too long");
    strcpy(kinds_buf, kinds);
    for (char *save = NULL, *tok = strtok_r(kinds_buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (a->nkinds == 8)
            return cli_usage_error("eval", "--kinds takes at most 8 runs");
        if (!line_parse_kinds(tok, &a->kinds[a->nkinds]))
            return cli_usage_error("eval", "--kinds: '%s' is not scratch, spot, missing, color-shift or all "
                                           "(joined with '+')", tok);
        a->kind_names[a->nkinds++] = tok;
    }
    if (a->nkinds == 0)
        return cli_usage_error("eval", "--kinds names no kind");
    long test_end = a->first + a->frames * a->nseeds, calib_end = a->calib_first + a->calib_frames * CALIB_STRIDE;
    if (a->calib_first < test_end && calib_end > a->first - 1)
        return cli_usage_error("eval", "--calib-first: the clean frames overlap the test frames");
    return 0;
}

/* ---- methods ------------------------------------------------------------ */

/* The heat-map frame scores tried: pooling x smoothing x standardisation. */
static const sg_frame_score_config VARIANTS[] = {
    {SG_POOL_MEAN, 0, 0, false},     {SG_POOL_MEAN, 0, 0, true},      {SG_POOL_MAX, 0, 0, false},
    {SG_POOL_MAX, 0, 0, true},       {SG_POOL_MAX, 1, 0, false},      {SG_POOL_MAX, 1, 0, true},
    {SG_POOL_MAX, 2, 0, true},       {SG_POOL_TOPK, 0, 0.01f, false}, {SG_POOL_TOPK, 0, 0.01f, true},
    {SG_POOL_TOPK, 1, 0.01f, false}, {SG_POOL_TOPK, 1, 0.01f, true},  {SG_POOL_TOPK, 1, 0.05f, true},
    {SG_POOL_TOPK, 1, 0.10f, true},  {SG_POOL_TOPK, 2, 0.02f, true},
};
#define NVARIANTS (sizeof VARIANTS / sizeof VARIANTS[0])
#define MAX_METHODS (NVARIANTS + 6)

/* Pixel level: the maps the model's frame scores pool (each smoothing with and
 * without standardisation), and the baselines' per-pixel differences. */
static const sg_frame_score_config PIXEL_MAPS[] = {
    {SG_POOL_MEAN, 0, 0, false}, {SG_POOL_MEAN, 0, 0, true}, {SG_POOL_MEAN, 1, 0, false},
    {SG_POOL_MEAN, 1, 0, true},  {SG_POOL_MEAN, 2, 0, true},
};
#define NPIXEL_MAPS (sizeof PIXEL_MAPS / sizeof PIXEL_MAPS[0])
#define MAX_PIXEL_METHODS (NPIXEL_MAPS + 4)
/* The standardised mean frame: each pixel's squared distance to the mean frame in
 * units of its spread over clean frames, max-pooled, as the model's max,std pools
 * its error map: what standardisation alone gives, with no training. */
static const sg_frame_score_config MEAN_FRAME_STD = {SG_POOL_MAX, 0, 0, true};
#define PRO_FPR_LIMIT 0.3 /* anomalib's */

typedef struct pixel_method {
    char name[64];
    int stats;     /* model maps: the VARIANTS entry whose per-pixel statistics they use */
    double auc[8], aupro[8];
    int runs[8];   /* runs with a defect pixel to rank */
} pixel_method;

typedef struct method {
    char name[64];
    float threshold;
    /* figures summed over seeds, per kind run */
    double auc[8], auprc[8], flagged[8], stopped[8], auc_min[8], auc_max[8];
} method;

typedef struct suite {
    const line_args *a;
    int C, S;
    size_t dim, plane;
    sg_model *m;
    float *normals;     /* a->normals frames of the training range */
    float *calib;       /* clean unseen frames: [0, half) statistics, [half, n) thresholds */
    float *calib_heat;  /* their heat maps (model only) */
    float *calib_prev;  /* the line's frame before each of them (frame difference) */
    float *pix_mean[NVARIANTS], *pix_std[NVARIANTS];
    size_t half;
    method methods[MAX_METHODS];
    int nmethods;
    pixel_method pixel[MAX_PIXEL_METHODS];
    int npixel;
    float *mean_frame; /* of the normals */
    float *mf_mean, *mf_std; /* per-pixel statistics of the clean frames' distances to it */
    size_t own_alarms;  /* clean frames above the checkpoint's own threshold */
    int own_threshold;  /* the method row judged at the checkpoint's threshold, or -1 */
    FILE *csv;
} suite;

/* out[p]: the squared difference of a and b at pixel p, averaged over channels. */
static void sqdiff_map(const float *a, const float *b, int channels, size_t plane, float *out)
{
    for (size_t p = 0; p < plane; p++) {
        double d2 = 0;
        for (int c = 0; c < channels; c++) {
            double d = (double)a[c * plane + p] - b[c * plane + p];
            d2 += d * d;
        }
        out[p] = (float)(d2 / channels);
    }
}

/* Scores of every method for `count` frames (heat: their maps, model only):
 * out[method * count + i]. The frame difference compares frame i with
 * prev[i] when prev is given (frames spread apart, each with the line's frame
 * before it), else with the frame before it in `frames` (a stream, `before`
 * preceding the first). */
static bool score_methods(suite *s, const float *frames, const float *model_scores, const float *heat,
                          const float *before, const float *prev, size_t count, float *out)
{
    int k = 0;
    sg_status st = SG_OK;
    float *work = malloc(s->plane * sizeof *work);
    if (!work)
        return cli_false(SG_OK, "out of memory");
    if (s->m) {
        memcpy(out, model_scores, count * sizeof *out); /* the checkpoint's own score */
        k++;
        if (sg_model_calibration(s->m)->valid) /* again, at the checkpoint's own threshold */
            memcpy(out + (size_t)k++ * count, model_scores, count * sizeof *out);
        for (size_t v = 0; st == SG_OK && v < NVARIANTS; v++, k++)
            for (size_t i = 0; i < count; i++)
                out[(size_t)k * count + i] = sg_frame_score(&VARIANTS[v], heat + i * s->plane, s->S, s->pix_mean[v],
                                                            s->pix_std[v], work);
    }
    if (st == SG_OK)
        st = sg_baseline_mean_frame(s->normals, (size_t)s->a->normals, frames, count, s->dim,
                                    out + (size_t)k++ * count);
    float *map = st == SG_OK ? malloc(s->plane * sizeof *map) : NULL;
    if (st == SG_OK && !map)
        st = SG_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; st == SG_OK && i < count; i++) {
        sqdiff_map(frames + i * s->dim, s->mean_frame, s->C, s->plane, map);
        out[(size_t)k * count + i] = sg_frame_score(&MEAN_FRAME_STD, map, s->S, s->mf_mean, s->mf_std, work);
    }
    k++;
    free(map);
    if (st == SG_OK)
        st = sg_baseline_nearest(s->normals, (size_t)s->a->normals, frames, count, s->dim, out + (size_t)k++ * count);
    if (st == SG_OK && prev)
        for (size_t i = 0; i < count; i++)
            out[(size_t)k * count + i] = sg_image_msd(frames + i * s->dim, prev + i * s->dim, s->dim);
    else if (st == SG_OK)
        st = sg_baseline_frame_difference(before, frames, count, s->dim, out + (size_t)k * count);
    k++;
    free(work);
    return st == SG_OK || cli_false(st, "scoring failed");
}

static void name_methods(suite *s)
{
    int k = 0;
    s->own_threshold = -1;
    if (s->m) {
        snprintf(s->methods[k++].name, sizeof s->methods[0].name, "model: checkpoint score (lambda %.2g)",
                 (double)sg_model_score_lambda(s->m));
        if (sg_model_calibration(s->m)->valid) {
            s->own_threshold = k;
            snprintf(s->methods[k++].name, sizeof s->methods[0].name, "model: the same at the checkpoint's threshold");
        }
        for (size_t v = 0; v < NVARIANTS; v++) {
            char d[48];
            sg_frame_score_config_describe(&VARIANTS[v], d, sizeof d);
            snprintf(s->methods[k++].name, sizeof s->methods[0].name, "model: heat %s", d);
        }
    }
    snprintf(s->methods[k++].name, sizeof s->methods[0].name, "baseline: mean frame");
    snprintf(s->methods[k++].name, sizeof s->methods[0].name, "baseline: standardised mean frame (max)");
    snprintf(s->methods[k++].name, sizeof s->methods[0].name, "baseline: nearest normal frame");
    snprintf(s->methods[k++].name, sizeof s->methods[0].name, "baseline: frame difference");
    s->nmethods = k;
    for (int i = 0; i < k; i++)
        for (int r = 0; r < 8; r++)
            s->methods[i].auc_min[r] = INFINITY, s->methods[i].auc_max[r] = -INFINITY;
    k = 0;
    if (s->m)
        for (size_t v = 0; v < NPIXEL_MAPS; v++) {
            const sg_frame_score_config *c = &PIXEL_MAPS[v];
            snprintf(s->pixel[k].name, sizeof s->pixel[0].name, "model: error map%s%.0d%s",
                     c->smooth ? ", smooth=" : "", c->smooth, c->standardise ? ", std" : "");
            for (size_t u = 0; u < NVARIANTS; u++)
                if (VARIANTS[u].smooth == c->smooth && VARIANTS[u].standardise == c->standardise)
                    s->pixel[k].stats = (int)u;
            k++;
        }
    snprintf(s->pixel[k++].name, sizeof s->pixel[0].name, "baseline: mean frame");
    snprintf(s->pixel[k++].name, sizeof s->pixel[0].name, "baseline: standardised mean frame");
    snprintf(s->pixel[k++].name, sizeof s->pixel[0].name, "baseline: nearest normal frame");
    snprintf(s->pixel[k++].name, sizeof s->pixel[0].name, "baseline: frame difference");
    s->npixel = k;
}

/* Every pixel method's maps of the run's n frames, ranked against the painted
 * masks (a run whose defects cover no model pixel enough is left out). */
static bool score_pixels(suite *s, int r, const float *frames, const float *heat, const float *before,
                         const uint8_t *masks, size_t n)
{
    float *maps = malloc(n * s->plane * sizeof *maps), *work = malloc(s->plane * sizeof *work);
    float *dist = malloc(s->plane * sizeof *dist);
    bool ok = maps && work && dist;
    if (!ok)
        cli_fail(SG_OK, "out of memory for %zu maps", n);
    size_t defect_pixels = 0;
    for (size_t i = 0; ok && i < n * s->plane; i++)
        defect_pixels += masks[i] != 0;
    for (int k = 0; ok && defect_pixels > 0 && k < s->npixel; k++) {
        int model_maps = s->m ? (int)NPIXEL_MAPS : 0;
        for (size_t i = 0; i < n; i++) {
            const float *f = frames + i * s->dim;
            float *out = maps + i * s->plane;
            if (k < model_maps) {
                int v = s->pixel[k].stats;
                sg_frame_score_map(&PIXEL_MAPS[k], heat + i * s->plane, s->S, s->pix_mean[v], s->pix_std[v], work,
                                   out);
            } else if (k == model_maps) {
                sqdiff_map(f, s->mean_frame, s->C, s->plane, out);
            } else if (k == model_maps + 1) {
                sqdiff_map(f, s->mean_frame, s->C, s->plane, dist);
                sg_frame_score_map(&MEAN_FRAME_STD, dist, s->S, s->mf_mean, s->mf_std, work, out);
            } else if (k == model_maps + 2) {
                size_t best = 0;
                float best_d = INFINITY;
                for (size_t j = 0; j < (size_t)s->a->normals; j++) {
                    float d = sg_image_msd(f, s->normals + j * s->dim, s->dim);
                    if (d < best_d)
                        best_d = d, best = j;
                }
                sqdiff_map(f, s->normals + best * s->dim, s->C, s->plane, out);
            } else {
                sqdiff_map(f, i ? f - s->dim : before, s->C, s->plane, out);
            }
        }
        sg_pixel_metrics pm;
        sg_status st = sg_pixel_metrics_compute(maps, masks, n, s->S, s->S, PRO_FPR_LIMIT, &pm);
        if (st != SG_OK) {
            ok = cli_false(st, "%s: no pixel metrics", s->pixel[k].name);
            break;
        }
        s->pixel[k].auc[r] += pm.auc, s->pixel[k].aupro[r] += pm.aupro, s->pixel[k].runs[r]++;
    }
    free(maps), free(work), free(dist);
    return ok;
}

/* Frames, heat maps, statistics and thresholds from clean frames. */
static bool prepare(suite *s)
{
    const line_args *a = s->a;
    size_t nc = (size_t)a->calib_frames;
    s->half = nc / 2;
    s->normals = malloc((size_t)a->normals * s->dim * sizeof(float));
    s->calib = malloc(nc * s->dim * sizeof(float));
    s->calib_prev = malloc(nc * s->dim * sizeof(float));
    s->calib_heat = s->m ? malloc(nc * s->plane * sizeof(float)) : NULL;
    if (!s->normals || !s->calib || !s->calib_prev || (s->m && !s->calib_heat))
        return cli_false(SG_OK, "out of memory for the clean frames");
    /* the baselines' normals: evenly over the training range 0..first-1 */
    for (long i = 0; i < a->normals; i++) {
        uint64_t n = (uint64_t)((double)i * (double)a->first / (double)a->normals);
        if (!line_frames(&a->src, n, 1, NULL, s->C, s->S, s->normals + (size_t)i * s->dim, NULL, NULL))
            return false;
    }
    s->mean_frame = calloc(s->dim, sizeof(float));
    if (!s->mean_frame)
        return cli_false(SG_OK, "out of memory");
    for (long i = 0; i < a->normals; i++)
        for (size_t d = 0; d < s->dim; d++)
            s->mean_frame[d] += s->normals[(size_t)i * s->dim + d] / (float)a->normals;
    /* spread out: consecutive frames show the same objects, and a quantile of
     * them says little about the next minute of the line */
    for (size_t i = 0; i < nc; i++) {
        uint64_t n = (uint64_t)a->calib_first + i * CALIB_STRIDE;
        if (!line_frames(&a->src, n, 1, NULL, s->C, s->S, s->calib + i * s->dim, NULL, NULL) ||
            !line_frames(&a->src, n - 1, 1, NULL, s->C, s->S, s->calib_prev + i * s->dim, NULL, NULL))
            return false;
    }
    /* the standardised mean frame's statistics: from the same clean frames as the model's */
    s->mf_mean = malloc(s->plane * sizeof(float));
    s->mf_std = malloc(s->plane * sizeof(float));
    float *dists = malloc(s->half * s->plane * sizeof(float));
    if (!s->mf_mean || !s->mf_std || !dists) {
        free(dists);
        return cli_false(SG_OK, "out of memory");
    }
    for (size_t i = 0; i < s->half; i++)
        sqdiff_map(s->calib + i * s->dim, s->mean_frame, s->C, s->plane, dists + i * s->plane);
    sg_status fit = sg_pixel_stats_fit(dists, s->half, s->S, MEAN_FRAME_STD.smooth, s->mf_mean, s->mf_std);
    free(dists);
    if (fit != SG_OK)
        return cli_false(fit, "cannot measure the mean frame's per-pixel statistics");
    float *scratch = malloc(nc * MAX_METHODS * sizeof(float));
    if (!scratch)
        return cli_false(SG_OK, "out of memory");
    bool ok = true;
    if (s->m) {
        sg_status st = sg_score_images(s->m, s->calib, nc, 64, scratch, s->calib_heat, NULL);
        if (st != SG_OK)
            ok = cli_false(st, "cannot score the clean frames");
        /* statistics from the training range instead: its maps */
        float *stats_heat = s->calib_heat;
        size_t stats_n = s->half;
        if (ok && a->stats_from_training) {
            stats_n = (size_t)a->normals;
            float *ns = malloc(stats_n * sizeof(float));
            stats_heat = malloc(stats_n * s->plane * sizeof(float));
            if (!ns || !stats_heat)
                ok = cli_false(SG_OK, "out of memory");
            else if ((st = sg_score_images(s->m, s->normals, stats_n, 64, ns, stats_heat, NULL)) != SG_OK)
                ok = cli_false(st, "cannot score the training-range frames");
            free(ns);
        }
        for (size_t v = 0; ok && v < NVARIANTS; v++) {
            s->pix_mean[v] = malloc(s->plane * sizeof(float));
            s->pix_std[v] = malloc(s->plane * sizeof(float));
            if (!s->pix_mean[v] || !s->pix_std[v])
                ok = cli_false(SG_OK, "out of memory");
            else if ((st = sg_pixel_stats_fit(stats_heat, stats_n, s->S, VARIANTS[v].smooth, s->pix_mean[v],
                                              s->pix_std[v])) != SG_OK)
                ok = cli_false(st, "cannot measure the per-pixel statistics");
        }
        if (stats_heat != s->calib_heat)
            free(stats_heat);
    }
    /* thresholds: each method's quantile on the second half */
    size_t nt = nc - s->half;
    float *model_scores = malloc(nc * sizeof(float));
    if (ok && !model_scores)
        ok = cli_false(SG_OK, "out of memory");
    if (ok && s->m)
        memcpy(model_scores, scratch, nc * sizeof(float));
    /* the checkpoint's threshold on all the clean frames: its false alarms */
    for (size_t i = 0; ok && s->m && sg_model_calibration(s->m)->valid && i < nc; i++)
        s->own_alarms += !(model_scores[i] <= sg_model_calibration(s->m)->threshold);
    if (ok)
        ok = score_methods(s, s->calib + s->half * s->dim, model_scores + s->half,
                           s->m ? s->calib_heat + s->half * s->plane : NULL,
                           NULL, s->calib_prev + s->half * s->dim, nt, scratch);
    for (int k = 0; ok && k < s->nmethods; k++)
        s->methods[k].threshold = sg_quantile(scratch + (size_t)k * nt, nt, a->quantile);
    if (ok && s->own_threshold >= 0)
        s->methods[s->own_threshold].threshold = sg_model_calibration(s->m)->threshold;
    free(scratch);
    free(model_scores);
    return ok;
}

/* One run: the test frames with this run's defects and seed. */
static bool run(suite *s, int r, int seed, uint64_t first)
{
    const line_args *a = s->a;
    size_t n = (size_t)a->frames;
    line_defects d = {(unsigned)seed, a->fraction, a->size, a->kinds[r]};
    float *frames = malloc(n * s->dim * sizeof(float)), *before = malloc(s->dim * sizeof(float));
    float *heat = s->m ? malloc(n * s->plane * sizeof(float)) : NULL;
    float *scores = malloc(n * MAX_METHODS * sizeof(float)), *model_scores = malloc(n * sizeof(float));
    uint8_t *truth = malloc(n), *masks = malloc(n * s->plane);
    bool ok = frames && before && scores && model_scores && truth && masks && (!s->m || heat);
    if (!ok)
        cli_fail(SG_OK, "out of memory for %zu frames", n);
    ok = ok && line_frames(&a->src, first, n, &d, s->C, s->S, frames, truth, masks) &&
         line_frames(&a->src, first - 1, 1, NULL, s->C, s->S, before, NULL, NULL);
    if (ok && s->m) {
        sg_status st = sg_score_images(s->m, frames, n, 64, model_scores, heat, NULL);
        if (st != SG_OK)
            ok = cli_false(st, "cannot score the test frames");
    }
    ok = ok && score_methods(s, frames, model_scores, heat, before, NULL, n, scores) &&
         score_pixels(s, r, frames, heat, before, masks, n);
    for (int k = 0; ok && k < s->nmethods; k++) {
        const float *sc = scores + (size_t)k * n;
        method *m = &s->methods[k];
        sg_metrics mt;
        sg_status st = sg_metrics_compute(sc, truth, n, &mt);
        if (st != SG_OK) {
            ok = cli_false(st, "%s: no metrics for %s, seed %d", m->name, a->kind_names[r], seed);
            break;
        }
        size_t flagged = 0, stopped = 0;
        for (size_t i = 0; i < n; i++) {
            bool over = !(sc[i] <= m->threshold); /* a NaN is flagged, never normal */
            flagged += over && truth[i];
            stopped += over && !truth[i];
        }
        double fl = (double)flagged / (double)mt.positives, stp = (double)stopped / (double)mt.negatives;
        m->auc[r] += mt.auc, m->auprc[r] += mt.auprc, m->flagged[r] += fl, m->stopped[r] += stp;
        if (mt.auc < m->auc_min[r])
            m->auc_min[r] = mt.auc;
        if (mt.auc > m->auc_max[r])
            m->auc_max[r] = mt.auc;
        if (s->csv)
            fprintf(s->csv, "\"%s\",%s,%d,%zu,%zu,%.6f,%.6f,%.6f,%.6f,%.9g\n", m->name, a->kind_names[r], seed,
                    mt.positives, mt.negatives, mt.auc, mt.auprc, fl, stp, m->threshold);
    }
    free(frames), free(before), free(heat), free(scores), free(model_scores), free(truth), free(masks);
    return ok;
}

static void print_tables(const suite *s)
{
    const line_args *a = s->a;
    for (int r = 0; r < a->nkinds; r++) {
        printf("\ndefects: %s (size %g, %.0f%% of frames; %d runs of %ld frames from frame %ld, seeds %d..)\n",
               a->kind_names[r], a->size, a->fraction * 100, a->nseeds, a->frames, a->first, a->seeds[0]);
        printf("  %-44s %7s %13s %7s %9s %8s\n", "method", "ROC AUC", "(min-max)", "AUPRC", "flagged", "stopped");
        for (int k = 0; k < s->nmethods; k++) {
            const method *m = &s->methods[k];
            double n = a->nseeds;
            printf("  %-44s %7.3f %6.3f-%-6.3f %7.3f %8.1f%% %7.2f%%\n", m->name, m->auc[r] / n, m->auc_min[r],
                   m->auc_max[r], m->auprc[r] / n, 100 * m->flagged[r] / n, 100 * m->stopped[r] / n);
        }
    }
    printf("\npixel level (the model's %dx%d maps against the painted pixels: a model pixel is a defect where "
           "the painting changed %.0f%% of the frame pixels it averages), AUPRO up to FPR %.1f:\n",
           s->S, s->S, 100 * LINE_MASK_COVERAGE, PRO_FPR_LIMIT);
    printf("  %-44s", "method");
    for (int r = 0; r < a->nkinds; r++)
        printf(" %21s", a->kind_names[r]);
    printf("\n  %-44s", "");
    for (int r = 0; r < a->nkinds; r++)
        printf(" %10s %10s", "pixel AUC", "AUPRO");
    printf("\n");
    for (int k = 0; k < s->npixel; k++) {
        const pixel_method *m = &s->pixel[k];
        printf("  %-44s", m->name);
        for (int r = 0; r < a->nkinds; r++)
            if (m->runs[r])
                printf(" %10.3f %10.3f", m->auc[r] / m->runs[r], m->aupro[r] / m->runs[r]);
            else
                printf(" %10s %10s", "-", "-");
        printf("\n");
    }
    if (s->m) {
        char fs[64];
        const sg_calibration *cal = sg_model_calibration(s->m);
        sg_frame_score_config_describe(sg_model_frame_score(s->m), fs, sizeof fs);
        printf("\nthe checkpoint's frame score: %s", fs);
        if (cal->valid)
            printf(", its threshold %.6g (quantile %g of %u normal frames) stops %.2f%% of the %ld clean frames "
                   "(%zu, every %dth from frame %ld)", (double)cal->threshold, (double)cal->quantile, cal->samples,
                   100.0 * (double)s->own_alarms / (double)a->calib_frames, a->calib_frames, s->own_alarms,
                   CALIB_STRIDE, a->calib_first);
        printf("\n");
    }
    printf("thresholds: each method's %g quantile (the checkpoint's own where it says so) on %zu clean frames "
           "(every %dth from frame %ld); per-pixel statistics from ",
           a->quantile, (size_t)a->calib_frames - s->half, CALIB_STRIDE, a->calib_first + (long)s->half * CALIB_STRIDE);
    if (a->stats_from_training)
        printf("the %ld normal frames of the training range 0..%ld\n", a->normals, a->first - 1);
    else
        printf("%zu clean frames before them\n", s->half);
    fflush(stdout);
}

int cmd_eval_line(int argc, char **argv)
{
    line_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    suite s = {.a = &a, .C = 3, .S = 32};
    sg_device *dev = NULL;
    if (a.model) {
        if (!cli_open_device(a.device, &dev))
            return EXIT_ERROR;
        sg_status st = sg_model_load(dev, a.model, &s.m);
        if (st != SG_OK) {
            cli_close_device(dev);
            return cli_fail(st, "cannot load %s", a.model);
        }
        s.C = sg_model_get_config(s.m)->channels;
        s.S = sg_model_get_config(s.m)->size;
    }
    s.dim = (size_t)s.C * s.S * s.S;
    s.plane = (size_t)s.S * s.S;
    name_methods(&s);
    bool ok = true;
    if (a.csv && !(s.csv = fopen(a.csv, "w")))
        ok = cli_false(SG_OK, "cannot write %s", a.csv);
    if (s.csv)
        fprintf(s.csv, "method,kinds,seed,defective,good,auc,auprc,flagged,stopped,threshold\n");
    ok = ok && prepare(&s);
    for (int r = 0; ok && r < a.nkinds; r++)
        for (int i = 0; ok && i < a.nseeds; i++)
            ok = run(&s, r, a.seeds[i], (uint64_t)a.first + (uint64_t)i * (uint64_t)a.frames);
    if (ok)
        print_tables(&s);
    if (s.csv && fclose(s.csv) != 0)
        ok = cli_false(SG_OK, "cannot write %s", a.csv);
    for (size_t v = 0; v < NVARIANTS; v++)
        free(s.pix_mean[v]), free(s.pix_std[v]);
    free(s.normals), free(s.calib), free(s.calib_heat), free(s.calib_prev), free(s.mean_frame);
    free(s.mf_mean), free(s.mf_std);
    if (s.m)
        sg_model_destroy(s.m);
    if (dev)
        cli_close_device(dev);
    return ok ? 0 : EXIT_ERROR;
}
