/* SPDX-License-Identifier: MIT */
#include "util/rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Remove an entry; a directory that is not empty is opened instead (for the caller to empty). */
static DIR *rm_entry(int at, const char *nm)
{
        if (!strcmp(nm, ".") || !strcmp(nm, ".."))
                return NULL;
        if (unlinkat(at, nm, 0) == 0 || errno != EISDIR)
                return NULL;
        if (unlinkat(at, nm, AT_REMOVEDIR) == 0)
                return NULL;
        (void)fchmodat(at, nm, 0700, 0);
        int cfd = openat(at, nm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *cd = cfd < 0 ? NULL : fdopendir(cfd);
        if (!cd && cfd >= 0)
                close(cfd);
        return cd;
}

void bridle__rm_tree(int at, const char *name)
{
        static const int max_depth = 512;
        struct frame {
                DIR *d;
        } stack[512];
        int depth = 0;
        (void)fchmodat(at, name, 0700, 0);
        int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                (void)unlinkat(at, name, 0);
                return;
        }
        if (!(stack[0].d = fdopendir(fd))) {
                close(fd);
                return;
        }
        depth = 1;
        /* Bounded: a directory that cannot be emptied is retried, not forever. */
        for (long steps = 0; depth > 0 && steps < 10000000; steps++) {
                DIR *d = stack[depth - 1].d;
                struct dirent *e = readdir(d);
                if (!e) {
                        closedir(d);
                        depth--;
                        if (depth > 0)
                                rewinddir(stack[depth - 1].d); /* now empty: retry its rmdirs */
                        continue;
                }
                DIR *cd = depth < max_depth ? rm_entry(dirfd(d), e->d_name) : NULL;
                if (cd)
                        stack[depth++].d = cd;
        }
        while (depth > 0)
                closedir(stack[--depth].d);
        (void)unlinkat(at, name, AT_REMOVEDIR);
}

