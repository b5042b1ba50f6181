/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: bridle__snapshot_extract() of arbitrary bytes into a fresh
 * directory. Whatever the input, a refused archive leaves the directory
 * empty, and an accepted one holds no setuid or setgid file. The input is
 * handed over as a memfd (/proc/self/fd/N); the directory is removed after
 * each run.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        (void)remove(path);
        return 0;
}

static int bad_mode(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)path;
        (void)flag;
        (void)ftw;
        return (st->st_mode & (S_ISUID | S_ISGID)) != 0;
}

static void remove_base(void)
{
        (void)rmdir(base);
}

static bool dir_empty(int fd)
{
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d)
                abort();
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return n == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!base[0]) {
                const char *t = getenv("TMPDIR");
                (void)snprintf(base, sizeof(base), "%.40s/fuzz-snap-XXXXXX", t && *t ? t : "/tmp");
                if (!mkdtemp(base))
                        abort();
                (void)atexit(remove_base);
        }
        int mfd = memfd_create("snapshot", MFD_CLOEXEC);
        if (mfd < 0 || (size && write(mfd, data, size) != (ssize_t)size))
                abort();
        char in[64], out[128];
        (void)snprintf(in, sizeof(in), "/proc/self/fd/%d", mfd);
        (void)snprintf(out, sizeof(out), "%s/out", base);
        if (mkdir(out, 0700) < 0)
                abort();
        int dfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                abort();
        bridle_error err;
        int r = bridle__snapshot_extract(in, dfd, &err);
        if (getenv("FUZZ_SNAPSHOT_DEBUG"))
                (void)fprintf(stderr, "%d %s\n", r, r < 0 ? err.msg : "");
        if (r < 0 && (!dir_empty(dfd) || err.msg[0] == '\0'))
                abort();
        if (r == 0 && nftw(out, bad_mode, 16, FTW_PHYS) != 0)
                abort();
        close(dfd);
        close(mfd);
        (void)chmod(out, 0700);
        /* FTW_DEPTH visits out itself last: it is removed too. */
        (void)nftw(out, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        if (access(out, F_OK) == 0)
                abort();
        return 0;
}
