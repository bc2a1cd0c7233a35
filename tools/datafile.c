/* Where the tools' data files (the PyTorch twins of the benchmarks) are: beside
 * the program when it runs from the build tree (meson copies them there), else
 * in the installed data folder. Never the source tree's path. */
#include "datafile.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef SGAD_DATA_DIR
#define SGAD_DATA_DIR "/usr/local/share/sgad"
#endif

const char *sgad_data_file(const char *name)
{
    static _Thread_local char path[PATH_MAX];
    char exe[PATH_MAX / 2]; /* leaves room for the name in path */
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            int len = snprintf(path, sizeof path, "%s/%s", exe, name);
            if (len > 0 && (size_t)len < sizeof path && access(path, R_OK) == 0)
                return path;
        }
    }
    snprintf(path, sizeof path, "%s/%s", SGAD_DATA_DIR, name);
    return path;
}
