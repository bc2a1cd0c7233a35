/* Shared by the libFuzzer targets: the readers take paths, so each input is
 * written to an anonymous in-memory file (memfd) and read back through
 * /proc/self/fd/N, a regular file as far as the readers can tell. */
#ifndef SGAD_FUZZ_COMMON_H
#define SGAD_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
    int fd;
    char path[64];
} fuzz_file;

static inline fuzz_file fuzz_file_of(const uint8_t *data, size_t size)
{
    fuzz_file f;
    f.fd = memfd_create("sgad-fuzz", MFD_CLOEXEC);
    if (f.fd < 0) {
        perror("memfd_create");
        abort();
    }
    for (size_t done = 0; done < size;) {
        ssize_t n = write(f.fd, data + done, size - done);
        if (n <= 0) {
            perror("write");
            abort();
        }
        done += (size_t)n;
    }
    snprintf(f.path, sizeof f.path, "/proc/self/fd/%d", f.fd);
    return f;
}

static inline void fuzz_file_close(fuzz_file *f)
{
    close(f->fd);
}

#endif
