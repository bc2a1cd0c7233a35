/* sg_check_writable_file / sg_check_writable_dir (sgad/file.h): a destination
 * that cannot be written is refused with a message naming it and the cause,
 * and a writable one is accepted without leaving the probe behind. Root
 * ignores permission bits, so the unwritable cases use /proc (which takes no
 * new files from anyone) and paths under a regular file; a read-only folder is
 * checked too when the test does not run as root. No Vulkan device is needed. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "sgad/file.h"

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (!s)
        exit(1);
    snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* The call fails with SG_ERR_IO and a message holding each of the strings. */
static void refused(sg_status s, const char *what, const char *part1, const char *part2)
{
    const char *m = sg_error_message();
    t_check(s == SG_ERR_IO && strstr(m, part1) && (!part2 || strstr(m, part2)), "%s is refused naming %s%s%s: %s",
            what, part1, part2 ? " and " : "", part2 ? part2 : "", m);
}

int main(void)
{
    char *tmp = t_tmpdir("sgad-test-file");
    char *regular = join(tmp, "regular");
    FILE *f = fopen(regular, "w");
    if (!f || fclose(f) != 0)
        return 1;

    /* a file: writable, a folder, in a missing folder, under a regular file, in /proc */
    char *model = join(tmp, "model.safetensors");
    t_check(sg_check_writable_file(model) == SG_OK, "a new file in a writable folder is accepted");
    t_check(entries(tmp) == 1, "the probe left nothing behind (%d entries, want 1)", entries(tmp));
    t_check(access(model, F_OK) != 0, "the file itself is not created by the check");
    refused(sg_check_writable_file(tmp), "a folder as the file to write", tmp, "it is a folder");
    char *missing = join(tmp, "no-such-folder/model.safetensors");
    refused(sg_check_writable_file(missing), "a file in a missing folder", missing, "does not exist");
    char *under_file = join(tmp, "regular/model.safetensors");
    refused(sg_check_writable_file(under_file), "a file whose folder is a regular file", under_file,
            "is not a folder");
    char *under_file2 = join(tmp, "regular/sub/model.safetensors");
    refused(sg_check_writable_file(under_file2), "a file two levels under a regular file", under_file2,
            strerror(ENOTDIR));
    refused(sg_check_writable_file("/proc/sgad-model.safetensors"), "a file in /proc",
            "/proc/sgad-model.safetensors", "cannot create a file in folder /proc");
    t_check(sg_check_writable_file("") == SG_ERR_ARGUMENT, "an empty file name is refused");

    /* a bare file name goes to the current folder */
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd) || chdir(tmp) != 0)
        return 1;
    t_check(sg_check_writable_file("bare.safetensors") == SG_OK, "a bare file name in a writable folder");
    if (chdir("/proc") != 0)
        return 1;
    refused(sg_check_writable_file("bare.safetensors"), "a bare file name in /proc", "bare.safetensors",
            "folder .");
    if (chdir(cwd) != 0)
        return 1;

    /* a folder: existing, created (its last component only), not creatable, not a folder, /proc */
    t_check(sg_check_writable_dir(tmp, false) == SG_OK, "a writable folder is accepted");
    char *fresh = join(tmp, "out");
    t_check(sg_check_writable_dir(fresh, false) != SG_OK, "a missing folder is refused without create");
    t_check(sg_check_writable_dir(fresh, true) == SG_OK && entries(fresh) == 0,
            "create: the missing folder is made, and left empty");
    t_check(sg_check_writable_dir(fresh, true) == SG_OK, "create: an existing folder is fine");
    char *deep = join(tmp, "a/b/c");
    refused(sg_check_writable_dir(deep, true), "create with missing parents", "cannot create folder", deep);
    refused(sg_check_writable_dir(regular, true), "a regular file as the folder", regular, strerror(ENOTDIR));
    refused(sg_check_writable_dir("/proc", false), "/proc", "cannot write into folder /proc", NULL);

    /* permission bits, where they apply */
    char *locked = join(tmp, "locked");
    if (mkdir(locked, 0555) != 0)
        return 1;
    if (geteuid() != 0) {
        char *in_locked = join(locked, "model.safetensors");
        refused(sg_check_writable_file(in_locked), "a file in a read-only folder", in_locked, strerror(EACCES));
        refused(sg_check_writable_dir(locked, false), "a read-only folder", locked, strerror(EACCES));
        free(in_locked);
    } else {
        printf("# running as root: permission bits are not checked (root ignores them)\n");
    }

    rmdir(locked);
    rmdir(fresh);
    unlink(regular);
    rmdir(tmp);
    free(locked), free(deep), free(fresh), free(under_file2), free(under_file), free(missing), free(model);
    free(regular), free(tmp);
    printf("file: %d checks, %d failed\n", t_checks, t_failures);
    return t_failures ? 1 : 0;
}
