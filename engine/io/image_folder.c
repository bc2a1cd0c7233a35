/* Folders of PNG/JPEG images, one class per subfolder (or one class). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/array.h"
#include "../core/error.h"
#include "dataset_internal.h"


typedef struct name_list {
    char **v;
    size_t n, cap;
} name_list;

static void names_free(name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *name)
{
    if (!sg_array_reserve((void **)&l->v, &l->cap, l->n, sizeof *l->v, 64))
        return -1;
    if (!(l->v[l->n] = strdup(name)))
        return -1;
    l->n++;
    return 0;
}

/* Byte order, so the labels do not depend on the locale. */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *name)
{
    const char *ext = strrchr(name, '.');
    return ext && (!strcasecmp(ext, ".png") || !strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg"));
}

/* Full paths of the PNG/JPEG files of `dir` and (when subdirs is not NULL) of its
 * sub-folders, each list sorted. Hidden entries (".name") are skipped. */
static sg_status list_folder(const char *dir, name_list *files, name_list *subdirs)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return sg_fail(SG_ERR_IO, "cannot open folder %s: %s", dir, strerror(errno));
    sg_status s = SG_OK;
    struct dirent *e;
    while (s == SG_OK && (e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path;
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "listing %s: out of host memory", dir);
            break;
        }
        struct stat st;
        int listed = 0;
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode) && subdirs)
                listed = names_push(subdirs, path) == 0 ? 1 : -1;
            else if (S_ISREG(st.st_mode) && is_image_name(e->d_name))
                listed = names_push(files, path) == 0 ? 1 : -1;
        }
        if (listed < 0)
            s = sg_fail(SG_ERR_OUT_OF_MEMORY, "listing %s: out of host memory", dir);
        free(path);
    }
    closedir(dp);
    if (files->n)
        qsort(files->v, files->n, sizeof *files->v, cmp_names);
    if (subdirs && subdirs->n)
        qsort(subdirs->v, subdirs->n, sizeof *subdirs->v, cmp_names);
    return s;
}

static sg_status folder_append_files(sg_dataset *d, const name_list *files, int32_t label)
{
    for (size_t i = 0; i < files->n; i++) {
        float *slot;
        sg_status s = sg_dataset_slot(d, &slot);
        if (s == SG_OK)
            s = sg_image_load(files->v[i], d->channels, d->size, slot);
        if (s != SG_OK)
            return s; /* sg_image_load's message names the file */
        sg_dataset_commit(d, label);
    }
    return SG_OK;
}

sg_status sg_dataset_load_folder(sg_dataset *d, const char *dir, int channels, int size)
{
    sg_status s = sg_dataset_check_load_args(d, "sg_dataset_load_folder", dir, channels, size);
    if (s != SG_OK)
        return s;
    name_list files = {0}, subdirs = {0};
    s = sg_dataset_init(d, channels, size);
    if (s == SG_OK)
        s = list_folder(dir, &files, &subdirs);
    if (s == SG_OK)
        s = folder_append_files(d, &files, 0); /* files directly in the folder: label 0 */
    for (size_t c = 0; c < subdirs.n && s == SG_OK; c++) {
        name_list class_files = {0};
        s = list_folder(subdirs.v[c], &class_files, NULL);
        if (s == SG_OK)
            s = folder_append_files(d, &class_files, (int32_t)c);
        names_free(&class_files);
    }
    if (s == SG_OK && d->count == 0)
        s = sg_fail(SG_ERR_FORMAT, "no PNG or JPEG images in %s (nor in its sub-folders)", dir);
    /* the label is the sub-folder's index, so an empty sub-folder still counts */
    if (s == SG_OK && (size_t)d->num_classes < subdirs.n)
        d->num_classes = (int)subdirs.n;
    names_free(&files);
    names_free(&subdirs);
    if (s != SG_OK)
        sg_dataset_free(d);
    return s;
}

