/* sg_check_writable_file / _dir: a destination that cannot be written fails
 * before the work whose result it would hold. */
#include "sgad/file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"

/* Creates and removes a temporary file in dir; on failure returns errno. */
static int probe_folder(const char *dir)
{
    char probe[PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s/.sgad-write-check-XXXXXX", dir) >= (int)sizeof probe)
        return ENAMETOOLONG;
    int fd = mkstemp(probe);
    if (fd < 0)
        return errno;
    close(fd);
    unlink(probe);
    return 0;
}

sg_status sg_check_writable_dir(const char *dir, bool create)
{
    if (!dir || !*dir)
        return sg_fail(SG_ERR_ARGUMENT, "no folder given to write into");
    if (create && mkdir(dir, 0777) != 0 && errno != EEXIST)
        return sg_fail(SG_ERR_IO, "cannot create folder %s: %s", dir, strerror(errno));
    int e = probe_folder(dir);
    if (e)
        return sg_fail(SG_ERR_IO, "cannot write into folder %s: %s", dir, strerror(e));
    return SG_OK;
}

sg_status sg_check_writable_file(const char *path)
{
    if (!path || !*path)
        return sg_fail(SG_ERR_ARGUMENT, "no file name given to write");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return sg_fail(SG_ERR_IO, "cannot write %s: it is a folder", path);
    /* the folder the file goes to: what comes before the last '/' */
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return sg_fail(SG_ERR_IO, "cannot write %s: %s", path, strerror(ENAMETOOLONG));
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    if (stat(dir, &st) != 0) {
        int e = errno;
        if (e == ENOENT)
            return sg_fail(SG_ERR_IO, "cannot write %s: folder %s does not exist", path, dir);
        return sg_fail(SG_ERR_IO, "cannot write %s: folder %s: %s", path, dir, strerror(e));
    }
    if (!S_ISDIR(st.st_mode))
        return sg_fail(SG_ERR_IO, "cannot write %s: %s is not a folder", path, dir);
    int e = probe_folder(dir);
    if (e)
        return sg_fail(SG_ERR_IO, "cannot write %s: cannot create a file in folder %s: %s", path, dir, strerror(e));
    return SG_OK;
}
