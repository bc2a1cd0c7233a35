/* sg_open_regular: refuse FIFOs and devices before anything reads them. */
#include "file_open.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"

sg_status sg_open_regular(const char *path, const char *what, int *fd_out)
{
    *fd_out = -1;
    /* O_NONBLOCK: opening a FIFO with no writer returns at once instead of
     * waiting; it is cleared again for the regular file that remains */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return sg_fail(SG_ERR_IO, "cannot open %s %s: %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return sg_fail(SG_ERR_IO, "cannot read %s %s: %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sg_fail(SG_ERR_IO, "cannot read %s %s: it is %s, not a regular file", what, path,
                       S_ISDIR(st.st_mode)    ? "a folder"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "a device");
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return sg_fail(SG_ERR_IO, "cannot read %s %s: %s", what, path, strerror(e));
    }
    *fd_out = fd;
    return SG_OK;
}
