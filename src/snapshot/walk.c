/* SPDX-License-Identifier: MIT */
/*
 * The writer's first pass: list the tree (never following symlinks) into
 * memory, refusing what a snapshot cannot hold before anything is written.
 * Every directory's entries come after it, sorted by name.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "snapshot/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

static uint8_t opaque_of(int fd)
{
        for (int k = SNAP_OPAQUE_TRUSTED; k <= SNAP_OPAQUE_USER; k++) {
                char v[2];
                if (fgetxattr(fd, bridle__snap_opaque_xattr[k], v, sizeof(v)) == 1 && v[0] == 'y')
                        return (uint8_t)k;
        }
        return SNAP_OPAQUE_NONE;
}

static int read_link(int dfd, const char *name, const char *path, char **ret, bridle_error *err)
{
        _cleanup_free_ char *buf = bridle__malloc(BRIDLE__SNAPSHOT_MAX_PATH + 1);
        if (!buf)
                return bridle__err(err, -ENOMEM, "'%s'", path);
        ssize_t n = readlinkat(dfd, name, buf, BRIDLE__SNAPSHOT_MAX_PATH + 1);
        if (n < 0)
                return bridle__err(err, -errno, "readlink '%s'", path);
        if (n == 0 || n > (ssize_t)BRIDLE__SNAPSHOT_MAX_PATH)
                return bridle__err(err, BRIDLE_E_LIMIT, "'%s': symlink target empty or too long",
                                   path);
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int check_type(const struct stat *st, const char *path, bridle_error *err)
{
        switch (st->st_mode & S_IFMT) {
        case S_IFREG:
        case S_IFDIR:
        case S_IFLNK:
                return 0;
        case S_IFCHR:
                if (major(st->st_rdev) == 0 && minor(st->st_rdev) == 0)
                        return 0; /* an overlayfs whiteout */
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "'%s': a device node cannot be snapshotted", path);
        case S_IFBLK:
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "'%s': a device node cannot be snapshotted", path);
        case S_IFIFO:
                return bridle__err(err, BRIDLE_E_INVALID, "'%s': a fifo cannot be snapshotted",
                                   path);
        case S_IFSOCK:
                return bridle__err(err, BRIDLE_E_INVALID, "'%s': a socket cannot be snapshotted",
                                   path);
        default:
                return bridle__err(err, BRIDLE_E_INVALID, "'%s': unknown file type", path);
        }
}

static int tree_add(struct snap_tree *t, int dfd, const char *dir, const char *name,
                    bridle_error *err)
{
        if (t->n >= BRIDLE__SNAPSHOT_MAX_ENTRIES)
                return bridle__err(err, BRIDLE_E_LIMIT, "more than %u entries",
                                   BRIDLE__SNAPSHOT_MAX_ENTRIES);
        struct snap_entry e = {.path = bridle__snap_join(dir, name)};
        if (!e.path)
                return bridle__err(err, -ENOMEM, "tree");
        struct stat st = {0};
        int r = 0;
        if (strlen(e.path) > BRIDLE__SNAPSHOT_MAX_PATH)
                r = bridle__err(err, BRIDLE_E_LIMIT, "'%.100s...': path longer than %u bytes",
                                e.path, BRIDLE__SNAPSHOT_MAX_PATH);
        else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                r = bridle__err(err, -errno, "stat '%s'", e.path);
        else
                r = check_type(&st, e.path, err);
        if (r == 0 && S_ISLNK(st.st_mode))
                r = read_link(dfd, name, e.path, &e.link, err);
        if (r == 0 && t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 64;
                struct snap_entry *nv = bridle__realloc(t->v, cap * sizeof(*nv));
                if (!nv)
                        r = bridle__err(err, -ENOMEM, "tree");
                else
                        t->v = nv, t->cap = cap;
        }
        if (r < 0 || !t->v) {
                free(e.path);
                free(e.link);
                return r < 0 ? r : -ENOMEM;
        }
        /* A bind mounted inside the tree (a manifest's input, say) is not the
         * tree's: keep its mount point, an empty directory, and stop there. */
        struct statx sx;
        if (S_ISDIR(st.st_mode) && statx(dfd, name, AT_SYMLINK_NOFOLLOW, 0, &sx) == 0 &&
            (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                e.mount_root = true;
        e.mode = st.st_mode & ~(mode_t)(S_ISUID | S_ISGID);
        e.mtime = st.st_mtim;
        e.size = S_ISREG(st.st_mode) ? st.st_size : 0;
        t->bytes += (uint64_t)e.size;
        t->v[t->n++] = e;
        return 0;
}

/* List the directory at index idx (SIZE_MAX: the root), then its subdirectories. */
static int walk_dir(int rootfd, size_t idx, struct snap_tree *t, bridle_error *err)
{
        const char *rel = idx == SIZE_MAX ? "" : t->v[idx].path;
        _cleanup_close_ int fd = bridle__snap_open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return bridle__err(err, fd, "open '%s'", rel[0] ? rel : ".");
        if (idx != SIZE_MAX)
                t->v[idx].opaque = opaque_of(fd);
        struct snap_names ns = {0};
        int r = bridle__snap_list(fd, &ns);
        if (r < 0)
                return bridle__err(err, r, "list '%s'", rel[0] ? rel : ".");
        size_t first = t->n;
        for (size_t i = 0; i < ns.n && r == 0; i++)
                r = tree_add(t, fd, idx == SIZE_MAX ? "" : t->v[idx].path, ns.v[i], err);
        bridle__snap_names_release(&ns);
        bridle__close(TAKE_FD(fd));
        size_t last = t->n;
        for (size_t i = first; i < last && r == 0; i++)
                if (S_ISDIR(t->v[i].mode) && !t->v[i].mount_root)
                        r = walk_dir(rootfd, i, t, err);
        return r;
}

int bridle__snap_walk(int rootfd, struct snap_tree *ret, bridle_error *err)
{
        struct snap_tree t = {0};
        int r = walk_dir(rootfd, SIZE_MAX, &t, err);
        if (r < 0) {
                bridle__snap_tree_release(&t);
                return r;
        }
        *ret = t;
        return 0;
}

void bridle__snap_tree_release(struct snap_tree *t)
{
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].path);
                free(t->v[i].link);
        }
        free(t->v);
        *t = (struct snap_tree){0};
}
