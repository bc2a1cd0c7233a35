/* sgad calibrate: a trained model's frame score, per-pixel statistics and
 * threshold measured again on normal frames, without retraining.
 *
 * The frame score (sgad/frame_score.h) decides how the error map becomes the
 * score (and lambda how much of it: the rest is the discriminator-feature
 * term); a standardised one needs the per-pixel error statistics of normal
 * frames, and any change needs a new threshold. Both come from the engine's own
 * functions (sg_model_fit_pixel_stats, sg_calibrate), on two disjoint parts of
 * the normal frames given: the first part measures the statistics, the rest
 * the threshold (a threshold taken on the statistics' own frames would be too
 * low: their errors are in the statistics). The model is written only when
 * everything succeeded, atomically (sg_model_save): an error leaves the file
 * as it was. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "line_frames.h"
#include "preprocess.h"
#include "review.h"
#include "sgad/file.h"
#include "sgad/frame_score.h"

static const char USAGE[] =
    "usage: sgad calibrate --model PATH (--line FIRST | --images DIR) [options]\n"
    "Measure a trained model's per-pixel error statistics and threshold again on normal frames, with its\n"
    "frame score or another (no retraining), and write the model (atomically: on any error the file stays\n"
    "as it was). A standardised frame score (',std') takes its per-pixel statistics from the first\n"
    "--stats-frames frames and its threshold from the others; otherwise all frames set the threshold.\n"
    "\n"
    "  --model PATH           the checkpoint to calibrate\n"
    "  --out PATH             write the calibrated model here instead of over --model\n"
    "  --frame-score SPEC     mean (the spec's), max or topk=F, then ,smooth=R and ,std\n"
    "                         (default: the model's own)\n"
    "  --lambda L             the score's weight of the pixel term, 0..1 (default: the model's)\n"
    "  --quantile Q           threshold quantile of the normal scores, 0.5 < Q < 1 (default: the model's,\n"
    "                         else 0.995); it needs at least 1/(1-Q) frames, 200 at 0.995\n"
    "  --stats-frames N       frames (the first ones) for the per-pixel statistics (default: half)\n"
    "normal frames, one of:\n"
    "  --line FIRST           frames of the generated line (inspectionsrc) from FIRST on\n"
    "    --frames N           how many (default 600)\n"
    "    --stride K           every K-th frame (default 7: consecutive frames show the same objects)\n"
    "    --line-seed N        inspectionsrc seed (default 11, the bundled model's line)\n"
    "    --object O           inspectionsrc's object: cap (default) or tablet\n"
    "    --frame-size WxH     the line's frame size (default 320x240)\n"
    "  --images DIR           a folder of PNG/JPEG images of normal production, in file-name order\n"
    "  --video FILE           a recording of normal production (any format GStreamer decodes), prepared\n"
    "                         as the skipganomaly element prepares frames; --frames and --stride as above\n"
    "                         (from its first frame; fewer when it ends sooner)\n"
    "  --device D             Vulkan device index or name\n";

typedef struct cal_args {
    const char *model, *out, *images, *video, *device;
    bool have_line, have_score, have_quantile, have_lambda;
    long first, frames, stride, stats_frames;
    line_source src;
    sg_frame_score_config score;
    double quantile, lambda;
} cal_args;

static int parse(int argc, char **argv, cal_args *a)
{
    enum { O_MODEL = 256, O_OUT, O_SCORE, O_LAMBDA, O_QUANTILE, O_STATS, O_LINE, O_FRAMES, O_STRIDE, O_LSEED, O_FSIZE,
           O_IMAGES, O_DEVICE, O_OBJECT, O_VIDEO, O_HELP };
    static const struct option options[] = {
        {"model", required_argument, 0, O_MODEL}, {"out", required_argument, 0, O_OUT},
        {"frame-score", required_argument, 0, O_SCORE}, {"lambda", required_argument, 0, O_LAMBDA},
        {"quantile", required_argument, 0, O_QUANTILE},
        {"stats-frames", required_argument, 0, O_STATS}, {"line", required_argument, 0, O_LINE},
        {"frames", required_argument, 0, O_FRAMES}, {"stride", required_argument, 0, O_STRIDE},
        {"line-seed", required_argument, 0, O_LSEED}, {"frame-size", required_argument, 0, O_FSIZE},
        {"object", required_argument, 0, O_OBJECT}, {"video", required_argument, 0, O_VIDEO},
        {"images", required_argument, 0, O_IMAGES}, {"device", required_argument, 0, O_DEVICE},
        {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->src = line_source_default();
    a->frames = 600, a->stride = 7;
    bool line_options = false, sampling = false; /* --line's own; --frames, --stride */
    long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: a->model = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_SCORE: {
            const char *bad = sg_frame_score_config_parse(optarg, &a->score);
            if (bad)
                return cli_usage_error("calibrate", "--frame-score '%s': %s", optarg, bad);
            a->have_score = true;
            break;
        }
        case O_LAMBDA:
            if (!cli_parse_float(optarg, 0, 1, &a->lambda))
                return cli_usage_error("calibrate", "--lambda must be from 0 to 1, not '%s'", optarg);
            a->have_lambda = true;
            break;
        case O_QUANTILE:
            if (!cli_parse_float(optarg, 0.5, 1, &a->quantile) || !(a->quantile > 0.5 && a->quantile < 1))
                return cli_usage_error("calibrate", "--quantile must be above 0.5 and below 1, not '%s'", optarg);
            a->have_quantile = true;
            break;
        case O_STATS:
            if (!cli_parse_int(optarg, 1, 100000000, &a->stats_frames))
                return cli_usage_error("calibrate", "--stats-frames needs a positive count, not '%s'", optarg);
            break;
        case O_LINE:
            if (!cli_parse_int(optarg, 1, 1L << 40, &a->first))
                return cli_usage_error("calibrate", "--line needs the first frame's number (at least 1), not '%s'",
                                       optarg);
            a->have_line = true;
            break;
        case O_FRAMES:
            if (!cli_parse_int(optarg, 1, 10000000, &a->frames))
                return cli_usage_error("calibrate", "--frames must be 1..10000000, not '%s'", optarg);
            sampling = true;
            break;
        case O_STRIDE:
            if (!cli_parse_int(optarg, 1, 100000, &a->stride))
                return cli_usage_error("calibrate", "--stride must be 1..100000, not '%s'", optarg);
            sampling = true;
            break;
        case O_LSEED:
            if (!cli_parse_int(optarg, 0, 0xffffffffL, &v))
                return cli_usage_error("calibrate", "--line-seed needs an integer 0..4294967295");
            a->src.line_seed = (unsigned)v;
            line_options = true;
            break;
        case O_OBJECT:
            if (!line_source_parse_object(optarg, &a->src))
                return cli_usage_error("calibrate", "--object must be cap or tablet, not '%s'", optarg);
            line_options = true;
            break;
        case O_FSIZE:
            if (!line_source_parse_size(optarg, &a->src))
                return cli_usage_error("calibrate", "--frame-size must be WxH, 32..4096 each, not '%s'", optarg);
            line_options = true;
            break;
        case O_IMAGES: a->images = optarg; break;
        case O_VIDEO: a->video = optarg; break;
        case O_DEVICE: a->device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return -1;
        default: return cli_usage_hint("calibrate");
        }
    }
    if (optind < argc)
        return cli_usage_error("calibrate", "unexpected argument '%s'", argv[optind]);
    if (!a->model)
        return cli_usage_error("calibrate", "--model PATH is needed");
    if (a->have_line + (a->images != NULL) + (a->video != NULL) != 1)
        return cli_usage_error("calibrate", "give the normal frames as exactly one of --line FIRST, --images DIR or "
                                            "--video FILE");
    if (line_options && !a->have_line)
        return cli_usage_error("calibrate", "--line-seed, --object and --frame-size describe --line frames");
    if (sampling && a->images)
        return cli_usage_error("calibrate", "--frames and --stride choose --line or --video frames, not --images");
    return 0;
}

/* Every stride-th frame of a recording from its first, up to `frames` of
 * them, prepared as the element prepares frames. */
static bool load_video_frames(const cal_args *a, int channels, int size, float **out, size_t *n)
{
    review_source *src = NULL;
    review_stream_info info;
    gst_init(NULL, NULL);
    if (!review_source_open(a->video, 4, &src, &info))
        return false;
    if (info.gray && channels == 3) {
        review_source_close(src);
        return cli_false(SG_OK, "%s is grayscale (%s) but the model takes colour frames (3 channels)", a->video,
                         info.decoded_format);
    }
    SgadPlan plan;
    gchar *why = NULL;
    if (!sgad_plan_init(&plan, review_source_video_info(src), NULL, 1, channels, size, &why)) {
        cli_false(SG_OK, "cannot prepare the frames of %s: %s", a->video, why);
        g_free(why);
        review_source_close(src);
        return false;
    }
    size_t image = (size_t)channels * size * size, got = 0;
    float *frames = malloc((size_t)a->frames * image * sizeof(float));
    bool ok = frames != NULL;
    if (!ok)
        cli_false(SG_OK, "out of memory for %ld frames", a->frames);
    GstVideoFrame frame;
    int64_t pts, duration;
    int r = 0;
    for (long i = 0; ok && got < (size_t)a->frames && (r = review_source_next(src, &frame, &pts, &duration)) == 1;
         i++) {
        if (i % a->stride == 0)
            sgad_preprocess(&plan, &frame, frames + got++ * image);
        review_frame_release(&frame);
    }
    ok = ok && r >= 0;
    sgad_plan_clear(&plan);
    review_source_close(src);
    if (!ok) {
        free(frames);
        return false;
    }
    fprintf(stderr, "sgad: %zu frames of %s, every %ld from the first\n", got, a->video, a->stride);
    *out = frames;
    *n = got;
    return true;
}

/* The normal frames at the model's geometry into *out (count in *n). */
static bool load_frames(const cal_args *a, int channels, int size, float **out, size_t *n)
{
    size_t image = (size_t)channels * size * size;
    if (a->images) {
        sg_dataset d;
        sg_status s = sg_dataset_load_folder(&d, a->images, channels, size);
        if (s != SG_OK)
            return cli_false(s, "cannot load the normal images from %s", a->images);
        *n = d.count;
        *out = d.pixels; /* taken over: freed with free() as the line's frames */
        d.pixels = NULL;
        sg_dataset_free(&d);
        return true;
    }
    if (a->video)
        return load_video_frames(a, channels, size, out, n);
    *n = (size_t)a->frames;
    if (!(*out = malloc(*n * image * sizeof(float))))
        return cli_false(SG_OK, "out of memory for %zu frames", *n);
    for (size_t i = 0; i < *n; i++)
        if (!line_frames(&a->src, (uint64_t)a->first + i * (uint64_t)a->stride, 1, NULL, channels, size,
                         *out + i * image, NULL, NULL))
            return false;
    return true;
}

/* How many of n frames measure the statistics (the rest set the threshold);
 * false with the reason when there are too few for either. */
static bool split(const cal_args *a, bool standardise, double q, size_t n, size_t *stats)
{
    size_t need_threshold = sg_calibration_min_images((float)q);
    *stats = !standardise ? 0 : a->stats_frames ? (size_t)a->stats_frames : n / 2;
    if (standardise && *stats < SG_PIXEL_STATS_MIN_IMAGES)
        return cli_false(SG_OK, "the per-pixel statistics need at least %d normal frames, %zu given (of %zu): give "
                         "more frames%s", SG_PIXEL_STATS_MIN_IMAGES, *stats, n,
                         a->stats_frames ? " or a larger --stats-frames" : "");
    if (*stats >= n || n - *stats < need_threshold)
        return cli_false(SG_OK, "a threshold at quantile %g needs at least %zu normal frames (one expected above it), "
                         "%zu left%s: give more frames or a lower --quantile", q, need_threshold,
                         *stats < n ? n - *stats : 0,
                         standardise ? " after the per-pixel statistics' frames" : "");
    return true;
}

int cmd_calibrate(int argc, char **argv)
{
    cal_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    const char *out = a.out ? a.out : a.model;
    /* a model that cannot be written fails now, not after the scoring */
    if (sg_check_writable_file(out) != SG_OK)
        return cli_fail(SG_OK, "%s", sg_error_message());
    sg_device *dev;
    if (!cli_open_device(a.device, &dev))
        return EXIT_ERROR;
    sg_model *m = NULL;
    float *frames = NULL;
    size_t n = 0, nstats = 0;
    sg_status s = sg_model_load(dev, a.model, &m);
    bool ok = s == SG_OK || cli_false(s, "cannot load %s", a.model);
    const sg_model_config *c = ok ? sg_model_get_config(m) : NULL;
    sg_calibration *cal = ok ? sg_model_calibration(m) : NULL;
    double q = a.have_quantile ? a.quantile : cal && cal->valid && cal->quantile < 1 ? cal->quantile : 0.995;
    if (ok && a.have_score && (s = sg_model_set_frame_score(m, &a.score)) != SG_OK)
        ok = cli_false(s, "--frame-score");
    if (ok && a.have_lambda && (s = sg_model_set_score_lambda(m, (float)a.lambda)) != SG_OK)
        ok = cli_false(s, "--lambda");
    bool standardise = ok && sg_model_frame_score(m)->standardise;
    ok = ok && load_frames(&a, c->channels, c->size, &frames, &n) && split(&a, standardise, q, n, &nstats);
    size_t image = ok ? (size_t)c->channels * c->size * c->size : 0;
    if (ok && standardise && (s = sg_model_fit_pixel_stats(m, frames, nstats)) != SG_OK)
        ok = cli_false(s, "cannot measure the per-pixel statistics on %zu normal frames", nstats);
    if (ok && (s = sg_calibrate(m, frames + nstats * image, n - nstats, (float)q)) != SG_OK)
        ok = cli_false(s, "cannot calibrate on %zu normal frames", n - nstats);
    if (ok) {
        bool full = sg_model_training_state(m)->has_optimizer_state;
        s = full ? sg_model_save(m, out) : sg_model_save_for_scoring(m, out);
        if (s != SG_OK)
            ok = cli_false(s, "cannot write %s (it is as it was)", out);
    }
    if (ok) {
        char fs[64];
        sg_frame_score_config_describe(sg_model_frame_score(m), fs, sizeof fs);
        printf("frame score %s, lambda %.3g\n", fs, (double)sg_model_score_lambda(m));
        if (standardise)
            printf("per-pixel statistics: %zu normal frames (the first)\n", nstats);
        printf("threshold %.6g: quantile %g of %zu normal frames%s (their scores: mean %.6g, std %.6g)\n",
               (double)cal->threshold, q, n - nstats, standardise ? " (the others)" : "", (double)cal->normal_mean,
               (double)cal->normal_std);
        printf("wrote %s\n", out);
    }
    free(frames);
    if (m)
        sg_model_destroy(m);
    cli_close_device(dev);
    return ok ? 0 : EXIT_ERROR;
}
