/* SPDX-License-Identifier: MIT */
/*
 * bridle__snapshot_extract: entries are created in a staging directory,
 * relative to directory fds and never through a symlink; directory modes
 * and times are applied once the whole archive verified; then the staging
 * directory's entries move into place (place.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "snapshot/archive_dl.h"
#include "util/rmtree.h"

#include "snapshot/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

struct dir_fix {
        char *path;
        mode_t mode;
        struct timespec mtime;
};

struct xctx {
        struct archive *a;
        struct snap_zin *z;
        int stagefd;
        uint8_t *buf;
        struct dir_fix *dirs;
        size_t ndirs, capdirs;
        uint64_t files, bytes;
        char *pdir; /* the cached parent directory and its fd */
        int pfd;
};

static void xctx_release(struct xctx *x)
{
        for (size_t i = 0; i < x->ndirs; i++)
                free(x->dirs[i].path);
        free(x->dirs);
        free(x->buf);
        free(x->pdir);
        if (x->pfd >= 0)
                bridle__close(x->pfd);
}

/* The directory holding rel, from the cache or opened without following symlinks. */
static int parent_of(struct xctx *x, const char *rel, size_t off, bridle_error *err)
{
        size_t plen = off ? off - 1 : 0;
        if (x->pfd >= 0 && strlen(x->pdir) == plen && memcmp(x->pdir, rel, plen) == 0)
                return x->pfd;
        _cleanup_free_ char *p = bridle__strndup(rel, plen);
        if (!p)
                return bridle__err(err, -ENOMEM, "entry '%s'", rel);
        int fd = bridle__snap_open_beneath(x->stagefd, p, O_PATH | O_DIRECTORY);
        if (fd == -ELOOP || fd == -EXDEV)
                return bridle__err(err, BRIDLE_E_INVALID, "entry '%s' goes through a symlink", rel);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "entry '%s' is not in a directory extracted before it (missing, "
                                   "a file or a symlink)",
                                   rel);
        if (fd < 0)
                return bridle__err(err, fd, "entry '%s'", rel);
        if (x->pfd >= 0)
                bridle__close(x->pfd);
        free(x->pdir);
        x->pdir = TAKE_PTR(p);
        x->pfd = fd;
        return fd;
}

static int create_fail(const char *rel, bridle_error *err)
{
        if (errno == EEXIST)
                return bridle__err(err, BRIDLE_E_INVALID, "duplicate entry '%s'", rel);
        return bridle__err(err, -errno, "create '%s'", rel);
}

static int set_opaque(int pfd, const char *name, const char *rel, const char *xattr,
                      bridle_error *err)
{
        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return bridle__err(err, -errno, "open '%s'", rel);
        if (fsetxattr(fd, xattr, "y", 1, 0) < 0)
                return bridle__err(err, -errno, "set '%s' on '%s'", xattr, rel);
        return 0;
}

static int make_dir(struct xctx *x, struct archive_entry *e, int pfd, const char *name, char **rel,
                    const char *opaque, bridle_error *err)
{
        if (x->ndirs == x->capdirs) {
                size_t cap = x->capdirs ? x->capdirs * 2 : 32;
                struct dir_fix *nv = bridle__realloc(x->dirs, cap * sizeof(*nv));
                if (!nv)
                        return bridle__err(err, -ENOMEM, "entry '%s'", *rel);
                x->dirs = nv;
                x->capdirs = cap;
        }
        if (mkdirat(pfd, name, 0700) < 0)
                return create_fail(*rel, err);
        if (opaque) {
                int r = set_opaque(pfd, name, *rel, opaque, err);
                if (r < 0)
                        return r;
        }
        x->dirs[x->ndirs++] = (struct dir_fix){
                .mode = archive_entry_perm(e) & 01777,
                .mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                .path = TAKE_PTR(*rel),
        };
        return 0;
}

static int make_file(struct xctx *x, struct archive_entry *e, int pfd, const char *name,
                     const char *rel, bridle_error *err)
{
        _cleanup_close_ int fd =
                openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return create_fail(rel, err);
        for (;;) {
                la_ssize_t n = archive_read_data(x->a, x->buf, SNAP_BUF_SIZE);
                if (n < 0)
                        return bridle__snap_zin_error(x->a, x->z, rel, err);
                if (n == 0)
                        break;
                int r = bridle__write_full(fd, x->buf, (size_t)n);
                if (r < 0)
                        return bridle__err(err, r, "write '%s'", rel);
                x->bytes += (uint64_t)n;
        }
        struct timespec ts[2] = {{0, UTIME_OMIT},
                                 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        if (fchmod(fd, archive_entry_perm(e) & 0777) < 0 || futimens(fd, ts) < 0)
                return bridle__err(err, -errno, "set mode and time of '%s'", rel);
        return 0;
}

static int set_time_nofollow(int pfd, const char *name, struct archive_entry *e, const char *rel,
                             bridle_error *err)
{
        struct timespec ts[2] = {{0, UTIME_OMIT},
                                 {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
        if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return bridle__err(err, -errno, "set time of '%s'", rel);
        return 0;
}

static int make_symlink(struct archive_entry *e, int pfd, const char *name, const char *rel,
                        bridle_error *err)
{
        const char *target = archive_entry_symlink(e);
        if (!target || !target[0] || strlen(target) > BRIDLE__SNAPSHOT_MAX_PATH)
                return bridle__err(err, BRIDLE_E_INVALID, "entry '%s': bad symlink target", rel);
        if (symlinkat(target, pfd, name) < 0)
                return create_fail(rel, err);
        return set_time_nofollow(pfd, name, e, rel, err);
}

static int make_whiteout(struct archive_entry *e, int pfd, const char *name, const char *rel,
                         bridle_error *err)
{
        if (archive_entry_rdevmajor(e) != 0 || archive_entry_rdevminor(e) != 0)
                return bridle__err(err, BRIDLE_E_INVALID, "entry '%s' is a device node", rel);
        if (mknodat(pfd, name, S_IFCHR | (archive_entry_perm(e) & 0777), makedev(0, 0)) < 0) {
                if (errno == EPERM)
                        return bridle__err(err, -EPERM,
                                           "whiteout '%s': making a 0/0 device needs CAP_MKNOD",
                                           rel);
                return create_fail(rel, err);
        }
        return set_time_nofollow(pfd, name, e, rel, err);
}

/* Only the overlay opaque marker, on directories; returns its xattr name or NULL. */
static int check_xattrs(struct archive_entry *e, const char *rel, const char **ret,
                        bridle_error *err)
{
        const char *name = NULL;
        const void *value = NULL;
        size_t size = 0;
        *ret = NULL;
        if (archive_entry_xattr_reset(e) == 0)
                return 0;
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                /* libarchive's pax writer stores each xattr twice (LIBARCHIVE. and SCHILY.). */
                bool ok = archive_entry_filetype(e) == AE_IFDIR && name && size == 1 &&
                          (!*ret || strcmp(*ret, name) == 0) && value &&
                          ((const char *)value)[0] == 'y' &&
                          (strcmp(name, SNAP_XATTR_TRUSTED) == 0 ||
                           strcmp(name, SNAP_XATTR_USER) == 0);
                if (!ok)
                        return bridle__err(err, BRIDLE_E_INVALID,
                                           "entry '%s': unexpected xattr '%s' (%zu bytes)", rel,
                                           name ? name : "", size);
                *ret = strcmp(name, SNAP_XATTR_TRUSTED) == 0 ? SNAP_XATTR_TRUSTED : SNAP_XATTR_USER;
        }
        return 0;
}

static int extract_entry(struct xctx *x, struct archive_entry *e, bridle_error *err)
{
        unsigned ft = archive_entry_filetype(e);
        const char *name = archive_entry_pathname(e);
        if (!name)
                return bridle__err(err, BRIDLE_E_INVALID, "entry without a name");
        if (archive_entry_hardlink(e))
                return bridle__err(err, BRIDLE_E_INVALID, "entry '%.200s' is a hard link", name);
        if (++x->files > BRIDLE__SNAPSHOT_MAX_ENTRIES)
                return bridle__err(err, BRIDLE_E_LIMIT, "more than %u entries",
                                   BRIDLE__SNAPSHOT_MAX_ENTRIES);
        _cleanup_free_ char *rel = NULL;
        int r = bridle__snap_check_name(name, ft == AE_IFDIR, &rel, err);
        if (r < 0)
                return r;
        const char *opaque = NULL;
        r = check_xattrs(e, rel, &opaque, err);
        if (r < 0)
                return r;
        size_t off = bridle__snap_basename_off(rel);
        int pfd = parent_of(x, rel, off, err);
        if (pfd < 0)
                return pfd;
        switch (ft) {
        case AE_IFDIR:
                return make_dir(x, e, pfd, rel + off, &rel, opaque, err);
        case AE_IFREG:
                return make_file(x, e, pfd, rel + off, rel, err);
        case AE_IFLNK:
                return make_symlink(e, pfd, rel + off, rel, err);
        case AE_IFCHR:
                return make_whiteout(e, pfd, rel + off, rel, err);
        default:
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "entry '%s': type not allowed in a snapshot", rel);
        }
}

static int extract_all(struct xctx *x, const struct bridle__snapshot_meta *m, bridle_error *err)
{
        for (;;) {
                struct archive_entry *e = NULL;
                int ar = archive_read_next_header(x->a, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar != ARCHIVE_OK)
                        return bridle__snap_zin_error(x->a, x->z, "corrupt archive", err);
                int r = extract_entry(x, e, err);
                if (r < 0)
                        return r;
        }
        int r = bridle__snap_zin_finish(x->z, err);
        if (r < 0)
                return r;
        if (x->files != m->files || x->bytes != m->bytes)
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "corrupt archive (contents do not match the metadata)");
        return 0;
}

/* Deepest first, so a read-only directory does not stop its children's changes. */
static int fix_dirs(struct xctx *x, bridle_error *err)
{
        for (size_t i = x->ndirs; i-- > 0;) {
                const struct dir_fix *d = &x->dirs[i];
                _cleanup_close_ int fd =
                        bridle__snap_open_beneath(x->stagefd, d->path, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return bridle__err(err, fd, "open '%s'", d->path);
                struct timespec ts[2] = {{0, UTIME_OMIT}, d->mtime};
                if (fchmod(fd, d->mode) < 0 || futimens(fd, ts) < 0)
                        return bridle__err(err, -errno, "set mode and time of '%s'", d->path);
        }
        return 0;
}

static int extract_staged(struct archive *a, struct snap_zin *z,
                          const struct bridle__snapshot_meta *m, int stagefd, bridle_error *err)
{
        struct xctx x = {.a = a, .z = z, .stagefd = stagefd, .pfd = -EBADF};
        x.buf = bridle__malloc(SNAP_BUF_SIZE);
        int r = x.buf ? 0 : bridle__err(err, -ENOMEM, "buffer");
        if (r == 0)
                r = extract_all(&x, m, err);
        if (r == 0)
                r = fix_dirs(&x, err);
        xctx_release(&x);
        return r;
}

static int snapshot_extract(const char *path, int dirfd, bridle_error *err)
{
        struct archive *a = NULL;
        struct snap_zin *z = NULL;
        struct bridle__snapshot_meta m = {0};
        int r = bridle__snap_open_read(path, &a, &z, &m, err);
        if (r < 0)
                return r;
        char stage[64];
        _cleanup_close_ int stagefd = -EBADF;
        r = bridle__snap_stage_new(dirfd, stage, sizeof(stage), &stagefd, err);
        if (r == 0) {
                r = extract_staged(a, z, &m, stagefd, err);
                if (r == 0)
                        r = bridle__snap_stage_commit(dirfd, stage, stagefd, err);
                if (r < 0)
                        bridle__rm_tree(dirfd, stage);
        }
        bridle__snap_zin_free(a, z);
        bridle__snapshot_meta_release(&m);
        return r;
}

int bridle__snapshot_extract(const char *path, int dirfd, bridle_error *err)
{
        int lr = bridle__archive_load(err);
        if (lr < 0)
                return lr;
        if (!path || dirfd < 0)
                return bridle__err(err, -EINVAL, "snapshot extract");
        int r = snapshot_extract(path, dirfd, err);
        if (r < 0)
                (void)bridle__err_prefix(err, "snapshot '%s'", path);
        return r;
}
