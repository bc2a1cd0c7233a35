/* What the `sgad` subcommands share: exit codes, option parsing, the device,
 * the datasets of the spec's protocol, progress output, plots and image files.
 * Helpers that return bool print their own message ("sgad: ...") on failure. */
#ifndef SGAD_CLI_H
#define SGAD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgad/dataset.h"
#include "sgad/fit.h"
#include "sgad/metrics.h"
#include "sgad/model.h"

enum { EXIT_ERROR = 1, EXIT_USAGE = 2 };

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_eval_line(int argc, char **argv); /* eval_line.c: sgad eval --line */
int cmd_score(int argc, char **argv);
int cmd_review(int argc, char **argv); /* cmd_review.c and review_*.c: see review.h */
int cmd_bench(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_calibrate(int argc, char **argv); /* cmd_calibrate.c: statistics and threshold again, no training */

/* ---- cli_common.c ------------------------------------------------------ */

/* Print "sgad: <message>" on stderr (the engine's last message after ": " when
 * status is not SG_OK) and return EXIT_ERROR. */
int cli_fail(sg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for helpers that return bool: prints, returns false. */
bool cli_false(sg_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "sgad <cmd>: <message>" and the hint to run --help; returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* After getopt's own message about an unknown option or a missing value. */
int cli_usage_hint(const char *cmd);

/* Strict number parsing (the whole string, within range); false on error. */
bool cli_parse_int(const char *s, long min, long max, long *out);
bool cli_parse_float(const char *s, double min, double max, double *out);
/* A comma-separated list of integers ("32,64"); at most `cap` of them. */
bool cli_parse_int_list(const char *s, long min, long max, int *out, int cap, int *count);

bool cli_open_device(const char *select, sg_device **out);
/* Destroy the device, first warning when the validation layer (SGAD_VALIDATION=1)
 * reported anything: the tests look for that warning. */
void cli_close_device(sg_device *dev);

typedef enum cli_dataset_kind { CLI_FASHION_MNIST, CLI_CIFAR10, CLI_FOLDER } cli_dataset_kind;

/* The dataset options of `train` and `eval`. */
typedef struct cli_dataset_args {
    cli_dataset_kind kind;
    const char *dir;          /* NULL: the Fashion-MNIST package's folder */
    const char *abnormal;     /* class index or name as given, NULL if none */
    long limit;               /* keep this many images (seeded choice), 0: all */
} cli_dataset_args;

bool cli_parse_dataset_kind(const char *s, cli_dataset_kind *out);
const char *cli_dataset_kind_name(cli_dataset_kind k);
int cli_dataset_default_channels(cli_dataset_kind k);

/* Class names of a dataset: CIFAR-10's and Fashion-MNIST's, a folder's
 * sub-folder names (of DIR/train when it exists). Returns the count (0 on
 * error, message printed); names[i] live until cli_class_names_free. */
int cli_class_names(const cli_dataset_args *a, char ***names);
void cli_class_names_free(char **names, int count);
/* Resolve --abnormal-class (an index or a name, case-insensitive). -1: unknown. */
int cli_resolve_class(const char *given, char **names, int count);

/* Whether a folder dataset has train/ and test/ sub-folders. */
bool cli_folder_is_split(const char *dir);
/* Raw training and test sets of the dataset at the model's geometry. A folder
 * with train/ and test/ sub-folders gives both; a plain folder is both. */
bool cli_load_sets(const cli_dataset_args *a, int channels, int size, bool want_train, bool want_test,
                    sg_dataset *train, sg_dataset *test);
/* Keep `limit` images chosen by a seeded shuffle, in their original order
 * (compacted in place). With truth[] (compacted too) the choice is stratified:
 * normal and abnormal images keep their shares, each at least one. */
bool cli_subset(sg_dataset *d, size_t limit, uint64_t seed, uint8_t *truth);

/* ---- progress.c -------------------------------------------------------- */

typedef struct cli_progress {
    bool tty;
    int batch;
    double start;
    uint32_t last_epoch_printed;
    bool printed_any;
} cli_progress;

void cli_progress_init(cli_progress *p, int batch);
/* On a terminal: one line redrawn with \r; otherwise one line per finished epoch. */
void cli_progress_update(cli_progress *p, const sg_fit_progress *f);
/* End the redrawn line (if any) so later output starts on a fresh line. */
void cli_progress_finish(cli_progress *p);

/* ---- plot.c (cairo) ---------------------------------------------------- */

bool cli_plot_roc(const char *path, const sg_roc_point *points, size_t count, double auc, const char *title);
/* Histograms of normal and abnormal scores (each normalised to its count), with
 * the threshold as a vertical line when it is finite. */
bool cli_plot_histogram(const char *path, const float *scores, const uint8_t *truth, size_t n,
                        float threshold, const char *title);

/* ---- imageout.c -------------------------------------------------------- */

/* A heat map (size x size floats) as an RGB PNG, value `scale` and above at the
 * hot end of the colour map. */
bool cli_write_heatmap(const char *path, const float *heat, int size, float scale);
/* The grid of eval: one column per image, rows input, reconstruction, heat map,
 * under a band marking the column normal (blue) or abnormal (red, truth[i] 1);
 * images CHW in [-1, 1]; every tile magnified to at least 64 pixels. */
bool cli_write_grid(const char *path, int channels, int size, size_t count, const float *inputs,
                    const float *reconstructions, const float *heatmaps, const uint8_t *truth, float heat_scale);
/* Heat-map scale from a calibration: the squared error at which a pixel is as
 * bad as a whole image at the threshold, doubled; a fallback of the data's max. */
float cli_heat_scale(const sg_calibration *cal, const float *heat, size_t n);

#endif
