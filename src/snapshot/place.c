/* SPDX-License-Identifier: MIT */
/* The extraction's staging directory: made inside the (empty) target, moved into place at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/internal.h"
#include "util/cleanup.h"
#include "util/error.h"

int bridle__snap_stage_new(int dirfd, char *ret_name, size_t size, int *ret_fd, bridle_error *err)
{
        struct snap_names ns = {0};
        int r = bridle__snap_list(dirfd, &ns);
        if (r < 0)
                return bridle__err(err, r, "list the target directory");
        size_t n = ns.n;
        bridle__snap_names_release(&ns);
        if (n > 0)
                return bridle__err(err, -ENOTEMPTY, "target directory");
        uint32_t rnd[2];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return bridle__err(err, -errno, "random name");
        (void)snprintf(ret_name, size, ".bridle-restore-%08x%08x", rnd[0], rnd[1]);
        if (mkdirat(dirfd, ret_name, 0700) < 0)
                return bridle__err(err, -errno, "create a staging directory");
        int fd = openat(dirfd, ret_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = bridle__err(err, -errno, "open the staging directory");
                (void)unlinkat(dirfd, ret_name, AT_REMOVEDIR);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Move the first n names back into the staging directory. */
static void move_back(int dirfd, int stagefd, const struct snap_names *ns, size_t n)
{
        for (size_t i = 0; i < n; i++)
                (void)renameat2(dirfd, ns->v[i], stagefd, ns->v[i], RENAME_NOREPLACE);
}

int bridle__snap_stage_commit(int dirfd, const char *name, int stagefd, bridle_error *err)
{
        struct snap_names ns = {0};
        int r = bridle__snap_list(stagefd, &ns);
        if (r < 0)
                return bridle__err(err, r, "list the staging directory");
        size_t i = 0;
        for (; i < ns.n; i++) {
                if (renameat2(stagefd, ns.v[i], dirfd, ns.v[i], RENAME_NOREPLACE) < 0) {
                        r = bridle__err(err, -errno, "move '%s' into place", ns.v[i]);
                        break;
                }
        }
        if (r == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
                r = bridle__err(err, -errno, "remove the staging directory");
        if (r < 0)
                move_back(dirfd, stagefd, &ns, i);
        bridle__snap_names_release(&ns);
        return r;
}
