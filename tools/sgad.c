/* sgad: train, evaluate and run Skip-GANomaly++ anomaly detection from the
 * command line, on the engine's Vulkan device.
 *
 *   sgad train | eval | score | calibrate | review | bench | export | devices [options]   (sgad COMMAND --help)
 *
 * Exit codes: 0 success, 1 an error (the message says what and why), 2 a bad
 * command line, 130 a training run stopped by Ctrl-C (its checkpoint saved). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo.h>

#include "cli.h"

static const char USAGE[] =
    "usage: sgad COMMAND [options]   (sgad COMMAND --help for its options)\n"
    "\n"
    "  train     train a model on normal images (leave-one-class-out with --abnormal-class)\n"
    "  eval      ROC AUC, AUPRC and F1 of checkpoints on the spec's test split, with plots\n"
    "  score     anomaly scores of image files against a checkpoint's threshold\n"
    "  calibrate a model's frame score, per-pixel statistics and threshold again on normal frames\n"
    "  review    score a recording (any video GStreamer plays) and write a report: timeline, segments, peaks\n"
    "  bench     training and inference images per second, beside PyTorch when available\n"
    "  export    copy a checkpoint without the optimiser state, for scoring (a third of the size)\n"
    "  devices   list the Vulkan devices (pick one with --device or SGAD_DEVICE)\n";

/* The list comes straight from Vulkan: no device is opened. */
static int cmd_devices(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: sgad devices\nList the Vulkan devices as 'index: name (kind)'.");
        return 0;
    }
    if (argc > 1)
        return cli_usage_error("devices", "unexpected argument '%s'", argv[1]);
    char buf[8192];
    int n = sg_device_list(buf, sizeof buf);
    if (n == 0)
        return cli_fail(SG_OK, "no Vulkan device found (is a Vulkan driver installed? on a machine without a GPU, "
                               "Mesa's lavapipe: Debian package mesa-vulkan-drivers)");
    fputs(buf, stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {{"train", cmd_train}, {"eval", cmd_eval}, {"score", cmd_score}, {"calibrate", cmd_calibrate},
                    {"review", cmd_review},
                    {"bench", cmd_bench}, {"export", cmd_export}, {"devices", cmd_devices}};
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            /* getopt's messages then start with "sgad train: " */
            char name[64];
            snprintf(name, sizeof name, "sgad %s", commands[i].name);
            argv[1] = name;
            int rc = commands[i].run(argc - 1, argv + 1);
            cairo_debug_reset_static_data(); /* the plots' font caches: leak checkers stay quiet */
            return rc;
        }
    fprintf(stderr, "sgad: unknown command '%s'\n%s", argv[1], USAGE);
    return EXIT_USAGE;
}
