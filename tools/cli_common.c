/* Helpers shared by the subcommands: messages, number parsing, the device,
 * dataset loading for the leave-one-class-out protocol. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sgad/util.h"

static void vfail(sg_status status, const char *fmt, va_list ap)
{
    fputs("sgad: ", stderr);
    vfprintf(stderr, fmt, ap);
    if (status != SG_OK)
        fprintf(stderr, ": %s", *sg_error_message() ? sg_error_message() : sg_status_name(status));
    fputc('\n', stderr);
}

int cli_fail(sg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(status, fmt, ap);
    va_end(ap);
    return EXIT_ERROR;
}

bool cli_false(sg_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(status, fmt, ap);
    va_end(ap);
    return false;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sgad %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'sgad %s --help')\n", cmd);
    return EXIT_USAGE;
}

int cli_usage_hint(const char *cmd)
{
    fprintf(stderr, "(see 'sgad %s --help')\n", cmd);
    return EXIT_USAGE;
}

bool cli_parse_int(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_float(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_int_list(const char *s, long min, long max, int *out, int cap, int *count)
{
    char buf[256];
    if (!s || strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    *count = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (*count == cap || !cli_parse_int(tok, min, max, &v))
            return false;
        out[(*count)++] = (int)v;
    }
    return *count > 0;
}

bool cli_open_device(const char *select, sg_device **out)
{
    sg_device_options o = {.select = select};
    sg_status s = sg_device_create(&o, out);
    if (s != SG_OK) {
        cli_fail(s, "cannot open a Vulkan device%s%s", select ? " matching " : "", select ? select : "");
        return false;
    }
    return true;
}

void cli_close_device(sg_device *dev)
{
    sg_device_destroy(dev);
    /* after the destroy, which reports Vulkan objects left alive */
    uint32_t n = sg_validation_messages_in_process();
    if (n)
        fprintf(stderr, "sgad: warning: %u Vulkan validation-layer message%s (see above)\n", n, n > 1 ? "s" : "");
}

/* ---- datasets ---------------------------------------------------------- */

static const char *const CIFAR10_NAMES[] = {"airplane", "car", "bird", "cat", "deer",
                                             "dog", "frog", "horse", "ship", "truck"};
static const char *const FASHION_NAMES[] = {"t-shirt", "trouser", "pullover", "dress", "coat",
                                             "sandal", "shirt", "sneaker", "bag", "ankle-boot"};

bool cli_parse_dataset_kind(const char *s, cli_dataset_kind *out)
{
    if (!strcmp(s, "fashion-mnist"))
        *out = CLI_FASHION_MNIST;
    else if (!strcmp(s, "cifar10"))
        *out = CLI_CIFAR10;
    else if (!strcmp(s, "folder"))
        *out = CLI_FOLDER;
    else
        return false;
    return true;
}

const char *cli_dataset_kind_name(cli_dataset_kind k)
{
    return k == CLI_FASHION_MNIST ? "fashion-mnist" : k == CLI_CIFAR10 ? "cifar10" : "folder";
}

int cli_dataset_default_channels(cli_dataset_kind k)
{
    return k == CLI_FASHION_MNIST ? 1 : 3;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A folder dataset split in train/ and test/ (else the folder is both). */
bool cli_folder_is_split(const char *dir)
{
    char train[4096], test[4096];
    snprintf(train, sizeof train, "%s/train", dir);
    snprintf(test, sizeof test, "%s/test", dir);
    return is_dir(train) && is_dir(test);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sub-folder names in byte order: the engine's folder loader labels them so. */
static int folder_class_names(const char *dir, char ***names)
{
    char path[4096];
    snprintf(path, sizeof path, cli_folder_is_split(dir) ? "%s/train" : "%s", dir);
    DIR *dp = opendir(path);
    if (!dp) {
        cli_fail(SG_OK, "cannot open folder %s: %s", path, strerror(errno));
        return 0;
    }
    char **v = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4352];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        if (!is_dir(sub))
            continue;
        char **nv = realloc(v, (size_t)(n + 1) * sizeof *v);
        if (!nv || !(nv[n] = strdup(e->d_name))) {
            closedir(dp);
            cli_class_names_free(nv ? nv : v, n);
            cli_fail(SG_OK, "out of memory listing %s", path);
            return 0;
        }
        v = nv;
        n++;
    }
    closedir(dp);
    if (n == 0) {
        cli_fail(SG_OK, "%s has no class sub-folders (one folder of images per class is needed here)", path);
        return 0;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    *names = v;
    return n;
}

int cli_class_names(const cli_dataset_args *a, char ***names)
{
    if (a->kind == CLI_FOLDER)
        return folder_class_names(a->dir, names);
    const char *const *src = a->kind == CLI_CIFAR10 ? CIFAR10_NAMES : FASHION_NAMES;
    char **v = calloc(10, sizeof *v);
    for (int i = 0; v && i < 10; i++)
        if (!(v[i] = strdup(src[i]))) {
            cli_class_names_free(v, i);
            v = NULL;
        }
    if (!v) {
        cli_fail(SG_OK, "out of memory");
        return 0;
    }
    *names = v;
    return 10;
}

void cli_class_names_free(char **names, int count)
{
    for (int i = 0; names && i < count; i++)
        free(names[i]);
    free(names);
}

int cli_resolve_class(const char *given, char **names, int count)
{
    long idx;
    if (cli_parse_int(given, 0, count - 1, &idx))
        return (int)idx;
    for (int i = 0; i < count; i++)
        if (!strcasecmp(given, names[i]))
            return i;
    if (!strcasecmp(given, "automobile") && count == 10 && !strcmp(names[1], "car"))
        return 1;
    return -1;
}

bool cli_load_sets(const cli_dataset_args *a, int channels, int size, bool want_train, bool want_test,
                   sg_dataset *train, sg_dataset *test)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    const char *dir = a->dir;
    if (a->kind == CLI_FASHION_MNIST && !dir && !(dir = sg_dataset_fashion_mnist_default_dir())) {
        cli_fail(SG_OK, "Fashion-MNIST not found: install Debian's dataset-fashion-mnist package or pass --data DIR");
        return false;
    }
    if (!dir) {
        cli_fail(SG_OK, "--data DIR is needed for the %s dataset", cli_dataset_kind_name(a->kind));
        return false;
    }
    for (int which = 0; which < 2; which++) {
        bool is_train = which == 0;
        if (is_train ? !want_train : !want_test)
            continue;
        sg_dataset *d = is_train ? train : test;
        sg_status s;
        if (a->kind == CLI_FASHION_MNIST)
            s = sg_dataset_load_fashion_mnist(d, dir, is_train, channels, size);
        else if (a->kind == CLI_CIFAR10)
            s = sg_dataset_load_cifar10(d, dir, is_train, channels, size);
        else {
            char path[4096];
            if (cli_folder_is_split(dir))
                snprintf(path, sizeof path, "%s/%s", dir, is_train ? "train" : "test");
            else
                snprintf(path, sizeof path, "%s", dir);
            s = sg_dataset_load_folder(d, path, channels, size);
        }
        if (s != SG_OK) {
            sg_dataset_free(train);
            sg_dataset_free(test);
            cli_fail(s, "cannot load the %s %s images from %s", cli_dataset_kind_name(a->kind),
                     is_train ? "training" : "test", dir);
            return false;
        }
    }
    return true;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Move a seeded choice of k of the n indices idx[] to its front. */
static void choose(size_t *idx, size_t n, size_t k, uint64_t *state)
{
    for (size_t i = 0; i < k; i++) { /* the first k steps of a Fisher-Yates shuffle */
        size_t j = i + (size_t)(sg_splitmix64_next(state) % (n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

bool cli_subset(sg_dataset *d, size_t limit, uint64_t seed, uint8_t *truth)
{
    if (limit == 0 || limit >= d->count)
        return true;
    size_t *idx = malloc(d->count * sizeof *idx);
    if (!idx) {
        cli_fail(SG_OK, "out of memory");
        return false;
    }
    uint64_t st = seed ^ 0x11317ull;
    size_t kept;
    if (truth) {
        /* stratified: each class keeps its share (at least one image), so a
         * small test subset still has normal and abnormal images */
        size_t n1 = 0;
        for (size_t i = 0; i < d->count; i++)
            if (truth[i])
                idx[n1++] = i;
        size_t n0 = 0;
        for (size_t i = 0; i < d->count; i++)
            if (!truth[i])
                idx[n1 + n0++] = i;
        size_t k1 = (size_t)llround((double)limit * (double)n1 / (double)d->count);
        if (k1 == 0 && n1 > 0)
            k1 = 1;
        if (k1 == limit && n0 > 0)
            k1--;
        size_t k0 = limit - k1;
        choose(idx, n1, k1, &st);
        choose(idx + n1, n0, k0, &st);
        memmove(idx + k1, idx + n1, k0 * sizeof *idx);
        kept = k1 + k0;
    } else {
        for (size_t i = 0; i < d->count; i++)
            idx[i] = i;
        choose(idx, d->count, limit, &st);
        kept = limit;
    }
    qsort(idx, kept, sizeof *idx, cmp_size);
    size_t image = (size_t)d->channels * d->size * d->size;
    for (size_t k = 0; k < kept; k++) { /* idx ascending, so k <= idx[k]: no source is overwritten before use */
        memmove(d->pixels + k * image, d->pixels + idx[k] * image, image * sizeof(float));
        d->labels[k] = d->labels[idx[k]];
        if (truth)
            truth[k] = truth[idx[k]];
    }
    d->count = kept;
    free(idx);
    return true;
}
