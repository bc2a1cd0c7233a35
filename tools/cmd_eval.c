/* sgad eval: the spec's evaluation protocol. The test split of one abnormal
 * class (normal test images + every image of the abnormal class) is scored
 * with the checkpoint as it is: the final model, never one picked on the test
 * set. Prints ROC AUC, AUPRC and the best F1; --out-dir writes scores.csv,
 * roc.png, hist.png and grid.png. --all-classes runs the ten checkpoints of a
 * leave-one-class-out study and prints a table laid out as the paper's Table 1. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sgad/file.h"
#include "sgad/frame_score.h"
#include "sgad/util.h"

static const char USAGE[] =
    "usage: sgad eval --model PATH --abnormal-class C [options]\n"
    "       sgad eval --all-classes --models 'PATTERN-{class}.safetensors' [options]\n"
    "       sgad eval --line [--model PATH] [options]   (the generated line: sgad eval --line --help)\n"
    "Score the leave-one-class-out test split and print ROC AUC, AUPRC and the best F1.\n"
    "\n"
    "  --model PATH           checkpoint to evaluate\n"
    "  --abnormal-class C     the class left out in training (index or name)\n"
    "  --all-classes          evaluate one checkpoint per class\n"
    "  --models PATTERN       their paths: {class} is replaced by the index, {name} by the name\n"
    "  --dataset NAME         fashion-mnist (default), cifar10 or folder\n"
    "  --data DIR             dataset folder (see 'sgad train --help')\n"
    "  --limit N              score only N test images (a seeded choice keeping the share of\n"
    "                         abnormal images), for quick runs\n"
    "  --seed N               seed of that choice (default 0)\n"
    "  --batch N              images per scoring batch (default 64)\n"
    "  --frame-score SPEC     score the weights with another frame score for this run (mean, max or\n"
    "                         topk=F, then ,smooth=R; a standardised one needs 'sgad calibrate'):\n"
    "                         e.g. the spec's 'mean' beside a model trained with max,std\n"
    "  --lambda L             the same for the score's weight of the pixel term, 0..1\n"
    "  --out-dir DIR          write scores.csv, roc.png, hist.png, grid.png (per class with --all-classes)\n"
    "  --device D             Vulkan device index or name\n";

typedef struct eval_args {
    cli_dataset_args data;
    const char *model, *models, *out_dir, *device;
    bool all_classes;
    long batch, seed;
    bool have_score, have_lambda; /* the checkpoint's score replaced for this run */
    sg_frame_score_config score;
    double lambda;
} eval_args;

/* Paper's Table 1 (CIFAR-10, AUC), in class-index order: airplane, car, bird,
 * cat, deer, dog, frog, horse, ship, truck. */
static const double PAPER_PP[10] = {0.984, 0.891, 0.819, 0.907, 0.998, 0.818, 0.999, 0.832, 0.998, 0.892};
static const double PAPER_SKIP[10] = {0.797, 0.953, 0.448, 0.607, 0.602, 0.615, 0.931, 0.788, 0.659, 0.907};
/* The paper's column order. */
static const int PAPER_ORDER[10] = {2, 1, 9, 8, 3, 4, 6, 7, 0, 5};

static int parse(int argc, char **argv, eval_args *a)
{
    enum { O_MODEL = 256, O_MODELS, O_ABNORMAL, O_ALL, O_DATASET, O_DATA, O_LIMIT, O_SEED, O_BATCH, O_OUT, O_DEVICE,
           O_SCORE, O_LAMBDA, O_HELP };
    static const struct option options[] = {
        {"model", required_argument, 0, O_MODEL}, {"models", required_argument, 0, O_MODELS},
        {"abnormal-class", required_argument, 0, O_ABNORMAL}, {"all-classes", no_argument, 0, O_ALL},
        {"dataset", required_argument, 0, O_DATASET}, {"data", required_argument, 0, O_DATA},
        {"limit", required_argument, 0, O_LIMIT}, {"seed", required_argument, 0, O_SEED},
        {"batch", required_argument, 0, O_BATCH}, {"out-dir", required_argument, 0, O_OUT},
        {"device", required_argument, 0, O_DEVICE}, {"frame-score", required_argument, 0, O_SCORE},
        {"lambda", required_argument, 0, O_LAMBDA}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->data.kind = CLI_FASHION_MNIST;
    a->batch = 64;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case O_MODEL: a->model = optarg; break;
        case O_MODELS: a->models = optarg; break;
        case O_ABNORMAL: a->data.abnormal = optarg; break;
        case O_ALL: a->all_classes = true; break;
        case O_DATASET:
            if (!cli_parse_dataset_kind(optarg, &a->data.kind))
                return cli_usage_error("eval", "--dataset must be fashion-mnist, cifar10 or folder, not '%s'", optarg);
            break;
        case O_DATA: a->data.dir = optarg; break;
        case O_LIMIT:
            if (!cli_parse_int(optarg, 2, 1L << 40, &a->data.limit))
                return cli_usage_error("eval", "--limit needs a count of at least 2");
            break;
        case O_SEED:
            if (!cli_parse_int(optarg, 0, 1L << 62, &a->seed))
                return cli_usage_error("eval", "--seed needs a non-negative integer");
            break;
        case O_BATCH:
            if (!cli_parse_int(optarg, 1, 4096, &a->batch))
                return cli_usage_error("eval", "--batch must be 1..4096");
            break;
        case O_OUT: a->out_dir = optarg; break;
        case O_SCORE: {
            const char *bad = sg_frame_score_config_parse(optarg, &a->score);
            if (bad)
                return cli_usage_error("eval", "--frame-score '%s': %s", optarg, bad);
            if (a->score.standardise) /* its statistics come from normal images, which eval has not got */
                return cli_usage_error("eval", "--frame-score '%s' is standardised: its per-pixel statistics come "
                                       "from normal images; give it to the model with 'sgad calibrate'", optarg);
            a->have_score = true;
            break;
        }
        case O_LAMBDA:
            if (!cli_parse_float(optarg, 0, 1, &a->lambda))
                return cli_usage_error("eval", "--lambda must be from 0 to 1, not '%s'", optarg);
            a->have_lambda = true;
            break;
        case O_DEVICE: a->device = optarg; break;
        case O_HELP:
        case 'h': fputs(USAGE, stdout); return -1;
        default: return cli_usage_hint("eval");
        }
    }
    if (optind < argc)
        return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (a->data.kind != CLI_FASHION_MNIST && !a->data.dir)
        return cli_usage_error("eval", "--data DIR is needed for --dataset %s", cli_dataset_kind_name(a->data.kind));
    if (a->all_classes) {
        if (!a->models || a->model || a->data.abnormal)
            return cli_usage_error("eval", "--all-classes takes --models PATTERN (not --model or --abnormal-class)");
        if (!strstr(a->models, "{class}") && !strstr(a->models, "{name}"))
            return cli_usage_error("eval", "--models needs {class} or {name} in the pattern");
    } else if (!a->model || !a->data.abnormal)
        return cli_usage_error("eval", "--model PATH and --abnormal-class C are needed (or --all-classes)");
    return 0;
}

/* ---- the test split ---------------------------------------------------- */

/* The raw sets at a model's geometry; a plain folder is loaded once (its
 * images are the test set and there are no separate training images). */
typedef struct raw_sets {
    sg_dataset train, test;
    bool have_train;
    int channels, size;
} raw_sets;

static bool load_raw(const eval_args *a, int channels, int size, raw_sets *r)
{
    r->have_train = a->data.kind != CLI_FOLDER || cli_folder_is_split(a->data.dir);
    r->channels = channels;
    r->size = size;
    return cli_load_sets(&a->data, channels, size, r->have_train, true, &r->train, &r->test);
}

static void free_raw(raw_sets *r)
{
    sg_dataset_free(&r->train);
    sg_dataset_free(&r->test);
}

/* The spec's split for `abnormal`: *test and *truth are the caller's to free. */
static bool make_split(const eval_args *a, const raw_sets *r, int abnormal, sg_dataset *test, uint8_t **truth)
{
    sg_status s;
    if (r->have_train) {
        sg_dataset train_out;
        s = sg_dataset_leave_one_out(&r->train, &r->test, abnormal, &train_out, test, truth);
        if (s == SG_OK)
            sg_dataset_free(&train_out);
    } else { /* a plain folder: its images with truth = label is the abnormal class */
        s = sg_dataset_init(test, r->channels, r->size);
        size_t image = (size_t)r->channels * r->size * r->size;
        *truth = malloc(r->test.count ? r->test.count : 1);
        for (size_t i = 0; s == SG_OK && i < r->test.count; i++) {
            (*truth)[i] = r->test.labels[i] == abnormal;
            s = sg_dataset_append(test, r->test.pixels + i * image, r->test.labels[i]);
        }
    }
    if (s != SG_OK) {
        cli_fail(s, "cannot make the test split of class %d", abnormal);
        return false;
    }
    if (!cli_subset(test, (size_t)a->data.limit, (uint64_t)a->seed, *truth)) {
        sg_dataset_free(test);
        free(*truth);
        return false;
    }
    return true;
}

/* ---- outputs ----------------------------------------------------------- */

static bool make_dir(const char *path)
{
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return true;
    cli_fail(SG_OK, "cannot create folder %s: %s", path, strerror(errno));
    return false;
}

static bool write_csv(const char *path, const sg_dataset *test, const uint8_t *truth, const float *scores)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_fail(SG_OK, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    fprintf(f, "index,label,truth,score\n");
    for (size_t i = 0; i < test->count; i++)
        fprintf(f, "%zu,%d,%d,%.9g\n", i, test->labels[i], truth[i], scores[i]);
    if (fclose(f) != 0) {
        cli_fail(SG_OK, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

/* Up to `per_class` normal and as many abnormal images, spread evenly over
 * the split, re-scored with their reconstructions and heat maps. */
static bool write_grid(const char *path, sg_model *m, const sg_dataset *test, const uint8_t *truth, int per_class)
{
    size_t image = (size_t)test->channels * test->size * test->size, plane = (size_t)test->size * test->size;
    size_t picked[64], n = 0, counts[2] = {0, 0};
    for (size_t i = 0; i < test->count; i++)
        counts[truth[i] != 0]++;
    for (int cls = 0; cls < 2; cls++) {
        size_t want = counts[cls] < (size_t)per_class ? counts[cls] : (size_t)per_class, seen = 0, next = 0;
        for (size_t i = 0; i < test->count && next < want; i++) {
            if ((truth[i] != 0) != cls)
                continue;
            if (seen++ == next * counts[cls] / want) /* every counts/want-th image of the class */
                picked[n++] = i, next++;
        }
    }
    float *in = malloc(n * image * sizeof(float)), *rec = malloc(n * image * sizeof(float));
    float *heat = malloc(n * plane * sizeof(float)), *scores = malloc(n * sizeof(float));
    uint8_t picked_truth[64];
    for (size_t k = 0; k < n; k++)
        picked_truth[k] = truth[picked[k]] != 0;
    bool ok = in && rec && heat && scores;
    if (!ok)
        cli_fail(SG_OK, "out of memory for the grid");
    for (size_t k = 0; ok && k < n; k++)
        memcpy(in + k * image, test->pixels + picked[k] * image, image * sizeof(float));
    sg_status s = ok ? sg_score_images(m, in, n, (int)n, scores, heat, rec) : SG_OK;
    if (s != SG_OK)
        ok = cli_false(s, "cannot score the grid's images");
    if (ok)
        ok = cli_write_grid(path, test->channels, test->size, n, in, rec, heat, picked_truth,
                            cli_heat_scale(sg_model_calibration(m), heat, n * plane));
    free(in);
    free(rec);
    free(heat);
    free(scores);
    return ok;
}

static bool write_outputs(const char *dir, sg_model *m, const sg_dataset *test, const uint8_t *truth,
                          const float *scores, const sg_metrics *mt, const char *title)
{
    char path[4096];
    if (!make_dir(dir))
        return false;
    snprintf(path, sizeof path, "%s/scores.csv", dir);
    if (!write_csv(path, test, truth, scores))
        return false;
    sg_roc_point *pts;
    size_t npts;
    sg_status s = sg_roc_curve(scores, truth, test->count, &pts, &npts);
    if (s != SG_OK)
        return cli_false(s, "cannot compute the ROC curve");
    snprintf(path, sizeof path, "%s/roc.png", dir);
    bool ok = cli_plot_roc(path, pts, npts, mt->auc, title);
    free(pts);
    const sg_calibration *cal = sg_model_calibration(m);
    snprintf(path, sizeof path, "%s/hist.png", dir);
    ok = ok && cli_plot_histogram(path, scores, truth, test->count, cal->valid ? cal->threshold : NAN, title);
    snprintf(path, sizeof path, "%s/grid.png", dir);
    return ok && write_grid(path, m, test, truth, 4);
}

/* ---- one class --------------------------------------------------------- */

/* sg_score_images with a progress line on a terminal (a full test split takes
 * a while on lavapipe). */
static sg_status score_all(sg_model *m, const sg_dataset *test, int batch, float *scores)
{
    bool tty = isatty(fileno(stderr));
    size_t image = (size_t)test->channels * test->size * test->size;
    if ((size_t)batch > test->count)
        batch = (int)test->count;
    sg_scorer *sc = NULL;
    sg_status s = sg_scorer_create(m, batch, &sc);
    double t0 = sg_now();
    for (size_t at = 0; s == SG_OK && at < test->count; at += (size_t)batch) {
        int n = test->count - at < (size_t)batch ? (int)(test->count - at) : batch;
        s = sg_scorer_run(sc, test->pixels + at * image, n, scores + at, NULL, NULL);
        if (tty) {
            double dt = sg_now() - t0;
            fprintf(stderr, "\r\033[Kscoring %zu/%zu, %.3g img/s", at + (size_t)n, test->count,
                    dt > 0 ? (double)(at + (size_t)n) / dt : 0.0);
        }
    }
    if (tty)
        fputs("\r\033[K", stderr);
    sg_scorer_destroy(sc);
    return s;
}

static bool eval_class(const eval_args *a, sg_model *m, const raw_sets *r, int abnormal, const char *name,
                       const char *out_dir, sg_metrics *mt)
{
    sg_dataset test;
    uint8_t *truth;
    if (!make_split(a, r, abnormal, &test, &truth))
        return false;
    float *scores = malloc((test.count ? test.count : 1) * sizeof *scores);
    if (!scores) {
        sg_dataset_free(&test);
        free(truth);
        return cli_false(SG_OK, "out of memory for %zu scores", test.count);
    }
    double t0 = sg_now();
    sg_status s = score_all(m, &test, (int)a->batch, scores);
    double dt = sg_now() - t0;
    bool ok = s == SG_OK;
    if (!ok)
        cli_fail(s, "scoring failed");
    if (ok && (s = sg_metrics_compute(scores, truth, test.count, mt)) != SG_OK)
        ok = cli_false(s, "cannot compute the metrics of class %d (%s)", abnormal, name);
    if (ok) {
        printf("abnormal class %d (%s): %zu test images (%zu normal, %zu abnormal), scored in %.1f s (%.1f img/s)\n",
               abnormal, name, test.count, mt->negatives, mt->positives, dt, dt > 0 ? test.count / dt : 0);
        printf("  ROC AUC %.4f   AUPRC %.4f   best F1 %.4f (precision %.4f, recall %.4f) at threshold %.6g\n",
               mt->auc, mt->auprc, mt->best_f1, mt->best_precision, mt->best_recall, mt->best_threshold);
        const sg_calibration *cal = sg_model_calibration(m);
        if (cal->valid) {
            double p, rc, f1;
            sg_metrics_at_threshold(scores, truth, test.count, cal->threshold, &p, &rc, &f1);
            printf("  at the checkpoint's threshold %.6g: F1 %.4f (precision %.4f, recall %.4f)\n", cal->threshold,
                   f1, p, rc);
        }
        fflush(stdout);
    }
    if (ok && out_dir) {
        char title[128];
        snprintf(title, sizeof title, "abnormal: %s (%d)", name, abnormal);
        ok = write_outputs(out_dir, m, &test, truth, scores, mt, title);
        if (ok)
            printf("  wrote %s/{scores.csv,roc.png,hist.png,grid.png}\n", out_dir);
    }
    free(scores);
    free(truth);
    sg_dataset_free(&test);
    return ok;
}

/* The checkpoint, with --frame-score and --lambda in place of its own (which
 * clears its calibration: its threshold was of the other score). */
static sg_model *load_model(const eval_args *a, sg_device *dev, const char *path)
{
    sg_model *m;
    sg_status s = sg_model_load(dev, path, &m);
    if (s != SG_OK) {
        cli_fail(s, "cannot load %s", path);
        return NULL;
    }
    if (a->have_score && (s = sg_model_set_frame_score(m, &a->score)) == SG_OK) {
        char d[64];
        sg_frame_score_config_describe(&a->score, d, sizeof d);
        printf("%s: scored with the frame score %s for this run\n", path, d);
    }
    if (s == SG_OK && a->have_lambda && (s = sg_model_set_score_lambda(m, (float)a->lambda)) == SG_OK)
        printf("%s: scored with lambda %g for this run\n", path, a->lambda);
    if (s != SG_OK) {
        cli_fail(s, "cannot change the score of %s", path);
        sg_model_destroy(m);
        return NULL;
    }
    if ((s = sg_model_probe(m)) != SG_OK) {
        cli_fail(s, "cannot score with %s", path);
        sg_model_destroy(m);
        return NULL;
    }
    return m;
}

static int eval_single(const eval_args *a, sg_device *dev, char **names, int classes)
{
    int abnormal = cli_resolve_class(a->data.abnormal, names, classes);
    if (abnormal < 0)
        return cli_fail(SG_OK, "unknown --abnormal-class '%s' (the classes are 0..%d or their names)",
                        a->data.abnormal, classes - 1);
    sg_model *m = load_model(a, dev, a->model);
    if (!m)
        return EXIT_ERROR;
    const sg_model_config *c = sg_model_get_config(m);
    raw_sets r = {0};
    sg_metrics mt;
    bool ok = load_raw(a, c->channels, c->size, &r) && eval_class(a, m, &r, abnormal, names[abnormal], a->out_dir, &mt);
    free_raw(&r);
    sg_model_destroy(m);
    return ok ? 0 : EXIT_ERROR;
}

/* ---- all classes ------------------------------------------------------- */

/* The pattern with {class} and {name} replaced. */
static void expand(const char *pattern, int cls, const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = pattern; *p && n + 1 < size;) {
        char sub[256] = "";
        if (!strncmp(p, "{class}", 7)) {
            snprintf(sub, sizeof sub, "%d", cls);
            p += 7;
        } else if (!strncmp(p, "{name}", 6)) {
            snprintf(sub, sizeof sub, "%s", name);
            p += 6;
        } else {
            out[n++] = *p++;
            continue;
        }
        n += (size_t)snprintf(out + n, size - n, "%s", sub);
        if (n >= size)
            n = size - 1;
    }
    out[n] = 0;
}

static void print_table(const cli_dataset_args *d, char **names, int classes, const double *auc)
{
    bool paper = d->kind == CLI_CIFAR10 && classes == 10;
    int order[256];
    for (int i = 0; i < classes; i++)
        order[i] = paper ? PAPER_ORDER[i] : i;
    printf("\nROC AUC per abnormal class (final checkpoints; scored with running BN statistics)\n");
    printf("%-34s", "model");
    for (int i = 0; i < classes; i++)
        printf(" %8.8s", names[order[i]]);
    printf(" %8s\n", "mean");
    double sum = 0;
    int have = 0;
    printf("%-34s", "this run");
    for (int i = 0; i < classes; i++) {
        if (isnan(auc[order[i]]))
            printf(" %8s", "-");
        else {
            printf(" %8.3f", auc[order[i]]);
            sum += auc[order[i]];
            have++;
        }
    }
    if (have == classes)
        printf(" %8.3f\n", sum / have);
    else
        printf(" %8s\n", have ? "partial" : "-");
    if (paper) { /* for comparison; the spec explains why these are not like for like */
        const double *rows[2] = {PAPER_SKIP, PAPER_PP};
        const char *labels[2] = {"Skip-GANomaly (paper)", "Skip-GANomaly++ (paper, test-sel.)"};
        for (int r = 0; r < 2; r++) {
            double s = 0;
            printf("%-34s", labels[r]);
            for (int i = 0; i < 10; i++) {
                printf(" %8.3f", rows[r][order[i]]);
                s += rows[r][order[i]];
            }
            printf(" %8.3f\n", s / 10);
        }
    }
}

static int eval_all(const eval_args *a, sg_device *dev, char **names, int classes)
{
    double *auc = malloc((size_t)classes * sizeof *auc);
    sg_metrics *mt = calloc((size_t)classes, sizeof *mt);
    if (!auc || !mt) {
        free(auc);
        free(mt);
        return cli_fail(SG_OK, "out of memory");
    }
    if (a->out_dir && !make_dir(a->out_dir)) {
        free(auc);
        free(mt);
        return EXIT_ERROR;
    }
    raw_sets r = {0};
    bool loaded = false, failed = false;
    int evaluated = 0;
    for (int cls = 0; cls < classes; cls++) {
        auc[cls] = NAN;
        char path[4096], dir[4096];
        expand(a->models, cls, names[cls], path, sizeof path);
        if (access(path, R_OK) != 0) {
            printf("abnormal class %d (%s): no checkpoint %s\n", cls, names[cls], path);
            continue;
        }
        sg_model *m = load_model(a, dev, path);
        if (!m) {
            failed = true;
            continue;
        }
        const sg_model_config *c = sg_model_get_config(m);
        if (loaded && (r.channels != c->channels || r.size != c->size)) { /* checkpoints of another geometry */
            free_raw(&r);
            loaded = false;
        }
        if (!loaded && !(loaded = load_raw(a, c->channels, c->size, &r))) {
            sg_model_destroy(m);
            failed = true;
            break;
        }
        if (a->out_dir)
            snprintf(dir, sizeof dir, "%s/%d-%s", a->out_dir, cls, names[cls]);
        if (eval_class(a, m, &r, cls, names[cls], a->out_dir ? dir : NULL, &mt[cls])) {
            auc[cls] = mt[cls].auc;
            evaluated++;
        } else
            failed = true;
        sg_model_destroy(m);
    }
    if (loaded)
        free_raw(&r);
    print_table(&a->data, names, classes, auc);
    if (a->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/table.csv", a->out_dir);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "class,name,auc,auprc,best_f1,best_threshold\n");
            for (int cls = 0; cls < classes; cls++)
                if (!isnan(auc[cls]))
                    fprintf(f, "%d,%s,%.6f,%.6f,%.6f,%.9g\n", cls, names[cls], mt[cls].auc, mt[cls].auprc,
                            mt[cls].best_f1, mt[cls].best_threshold);
        }
        if (!f || fclose(f) != 0)
            failed = !cli_false(SG_OK, "cannot write %s", path);
    }
    free(auc);
    free(mt);
    if (evaluated == 0)
        return cli_fail(SG_OK, "none of the checkpoints '%s' could be evaluated", a->models);
    return failed ? EXIT_ERROR : 0;
}

int cmd_eval(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--line"))
            return cmd_eval_line(argc, argv);
    eval_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? 0 : rc;
    /* an output folder that cannot be written fails now, not after all the scoring */
    if (a.out_dir && sg_check_writable_dir(a.out_dir, true) != SG_OK)
        return cli_fail(SG_OK, "%s", sg_error_message());
    char **names;
    int classes = cli_class_names(&a.data, &names);
    if (classes == 0)
        return EXIT_ERROR;
    sg_device *dev;
    if (!cli_open_device(a.device, &dev)) {
        cli_class_names_free(names, classes);
        return EXIT_ERROR;
    }
    rc = a.all_classes ? eval_all(&a, dev, names, classes) : eval_single(&a, dev, names, classes);
    cli_close_device(dev);
    cli_class_names_free(names, classes);
    return rc;
}
