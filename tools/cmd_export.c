/* sgad export: a checkpoint for scoring only. Training checkpoints carry Adam's
 * two moments beside every weight; a model that is shipped (the demo's default,
 * a model deployed on a line) needs only the weights, the BN statistics and the
 * calibration, a third of the size. The copy is loaded like any checkpoint and
 * written atomically; training cannot resume from it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
    "usage: sgad export --model PATH --out PATH [--device D]\n"
    "Copy a checkpoint without the optimiser state: weights, BN statistics, configuration and calibration.\n"
    "\n"
    "  --model PATH           the checkpoint training wrote\n"
    "  --out PATH             the copy for scoring (written atomically)\n"
    "  --device D             Vulkan device index or name\n";

int cmd_export(int argc, char **argv)
{
    enum { O_MODEL = 1, O_OUT, O_DEVICE, O_HELP };
    static const struct option options[] = {{"model", required_argument, 0, O_MODEL},
                                            {"out", required_argument, 0, O_OUT},
                                            {"device", required_argument, 0, O_DEVICE},
                                            {"help", no_argument, 0, O_HELP},
                                            {0, 0, 0, 0}};
    const char *model = NULL, *out = NULL, *device = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: model = optarg; break;
        case O_OUT: out = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return 0;
        default: return cli_usage_hint("export");
        }
    }
    if (!model || !out)
        return cli_usage_error("export", "--model PATH and --out PATH are needed");
    if (optind < argc)
        return cli_usage_error("export", "unexpected argument '%s'", argv[optind]);
    sg_device *dev;
    if (!cli_open_device(device, &dev))
        return EXIT_ERROR;
    sg_model *m;
    sg_status s = sg_model_load(dev, model, &m);
    int rc = s ? cli_fail(s, "cannot load %s", model) : 0;
    if (!rc) {
        if ((s = sg_model_save_for_scoring(m, out)) != SG_OK)
            rc = cli_fail(s, "cannot write %s", out);
        else if (!sg_model_calibration(m)->valid)
            fprintf(stderr, "note: %s has no calibrated threshold; scoring it needs an explicit threshold\n", out);
        sg_model_destroy(m);
    }
    cli_close_device(dev);
    return rc;
}
