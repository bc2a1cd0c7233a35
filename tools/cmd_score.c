/* sgad score: anomaly scores of image files, one line each:
 *   path score anomalous
 * with anomalous 1 when the score is above the checkpoint's calibrated
 * threshold (or --threshold). A score that is not a finite number prints as
 * nan with anomalous 1, is reported on stderr, and the exit status is 1. --heatmaps DIR writes a heat-map PNG per file. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char USAGE[] =
    "usage: sgad score --model PATH [options] IMAGE...\n"
    "Print 'path score anomalous(0/1)' for each PNG or JPEG file.\n"
    "\n"
    "  --model PATH           checkpoint (trained with 'sgad train')\n"
    "  --threshold X          flag scores above X (default: the checkpoint's calibrated threshold)\n"
    "  --heatmaps DIR         write DIR/<name>.png heat maps (squared error per pixel; white at\n"
    "                         twice the error of an image at the threshold)\n"
    "  --batch N              images per scoring batch (default 16)\n"
    "  --device D             Vulkan device index or name\n";

/* DIR/<file name without extension>.png; a name seen before gets -2, -3, ... */
static void heatmap_path(const char *dir, char **files, int index, char *out, size_t size)
{
    char stem[1024], tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", files[index]);
    snprintf(stem, sizeof stem, "%s", basename(tmp));
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem)
        *dot = 0;
    int same = 0;
    for (int i = 0; i < index; i++) {
        char other[4096];
        snprintf(other, sizeof other, "%s", files[i]);
        char *b = basename(other), *d = strrchr(b, '.');
        size_t len = d && d != b ? (size_t)(d - b) : strlen(b);
        same += len == strlen(stem) && !strncmp(b, stem, len);
    }
    if (same)
        snprintf(out, size, "%s/%s-%d.png", dir, stem, same + 1);
    else
        snprintf(out, size, "%s/%s.png", dir, stem);
}

int cmd_score(int argc, char **argv)
{
    enum { O_MODEL = 256, O_THRESHOLD, O_HEATMAPS, O_BATCH, O_DEVICE, O_HELP };
    static const struct option options[] = {
        {"model", required_argument, 0, O_MODEL}, {"threshold", required_argument, 0, O_THRESHOLD},
        {"heatmaps", required_argument, 0, O_HEATMAPS}, {"batch", required_argument, 0, O_BATCH},
        {"device", required_argument, 0, O_DEVICE}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    const char *model = NULL, *heatmaps = NULL, *device = NULL;
    double threshold = 0;
    bool have_threshold = false;
    long batch = 16;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: model = optarg; break;
        case O_THRESHOLD:
            if (!cli_parse_float(optarg, -1e30, 1e30, &threshold))
                return cli_usage_error("score", "--threshold needs a number, not '%s'", optarg);
            have_threshold = true;
            break;
        case O_HEATMAPS: heatmaps = optarg; break;
        case O_BATCH:
            if (!cli_parse_int(optarg, 1, 4096, &batch))
                return cli_usage_error("score", "--batch must be 1..4096");
            break;
        case O_DEVICE: device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return 0;
        default: return cli_usage_hint("score");
        }
    }
    if (!model)
        return cli_usage_error("score", "--model PATH is needed");
    if (optind >= argc)
        return cli_usage_error("score", "no image files given");
    if (heatmaps && mkdir(heatmaps, 0777) != 0 && errno != EEXIST)
        return cli_fail(SG_OK, "cannot create folder %s: %s", heatmaps, strerror(errno));

    sg_device *dev;
    if (!cli_open_device(device, &dev))
        return EXIT_ERROR;
    sg_model *m;
    sg_status s = sg_model_load(dev, model, &m);
    if (s != SG_OK) {
        cli_close_device(dev);
        return cli_fail(s, "cannot load %s", model);
    }
    /* a model that cannot score a grey image as a number is refused before it scores anything */
    if ((s = sg_model_probe(m)) != SG_OK) {
        sg_model_destroy(m);
        cli_close_device(dev);
        return cli_fail(s, "cannot score with %s", model);
    }
    const sg_calibration *cal = sg_model_calibration(m);
    int rc = 0;
    if (!have_threshold && !cal->valid) {
        rc = cli_fail(SG_OK, "%s has no calibrated threshold (training did not finish, or held nothing out): "
                      "pass --threshold X", model);
        goto done;
    }
    float thr = have_threshold ? (float)threshold : cal->threshold;

    const sg_model_config *c = sg_model_get_config(m);
    size_t image = (size_t)c->channels * c->size * c->size, plane = (size_t)c->size * c->size;
    float *in = malloc((size_t)batch * image * sizeof(float)), *heat = malloc((size_t)batch * plane * sizeof(float));
    float scores[4096];
    int *index = malloc((size_t)batch * sizeof *index);
    if (!in || !heat || !index) {
        rc = cli_fail(SG_OK, "out of memory");
        goto free_buffers;
    }
    char **files = argv + optind;
    int nfiles = argc - optind;
    /* Gather readable images into batches; an unreadable one is reported and skipped. */
    for (int at = 0; at < nfiles;) {
        int n = 0;
        for (; at < nfiles && n < batch; at++) {
            s = sg_image_load(files[at], c->channels, c->size, in + (size_t)n * image);
            if (s != SG_OK) {
                rc = cli_fail(s, "cannot read %s", files[at]);
                continue;
            }
            index[n++] = at;
        }
        if (n == 0)
            continue;
        s = sg_score_images(m, in, (size_t)n, n, scores, heatmaps ? heat : NULL, NULL);
        if (s != SG_OK) {
            rc = cli_fail(s, "scoring failed");
            break;
        }
        for (int k = 0; k < n; k++) {
            /* a score that is not a number reads as anomalous, and the run fails */
            bool invalid = !isfinite(scores[k]);
            printf("%s %.6g %d\n", files[index[k]], invalid ? NAN : scores[k],
                   invalid || scores[k] > thr);
            if (invalid)
                rc = cli_fail(SG_OK, "%s: the score is not a finite number (the model's arithmetic overflowed); "
                              "flagged anomalous", files[index[k]]);
            if (heatmaps) {
                char path[4096];
                heatmap_path(heatmaps, files, index[k], path, sizeof path);
                if (!cli_write_heatmap(path, heat + k * plane, c->size, cli_heat_scale(cal, heat + k * plane, plane)))
                    rc = EXIT_ERROR;
            }
        }
        fflush(stdout);
    }
free_buffers:
    free(in);
    free(heat);
    free(index);
done:
    sg_model_destroy(m);
    cli_close_device(dev);
    return rc;
}
