/* SPDX-License-Identifier: MIT */
/* bridle__snapshot_write: a tree to a .tar.zst snapshot archive. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/archive_dl.h"

#include "snapshot/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

static void entry_freep(struct archive_entry **e)
{
        if (*e)
                archive_entry_free(*e);
}

static int header_fail(struct archive *a, const char *path, bridle_error *err)
{
        const char *s = archive_error_string(a);
        int e = archive_errno(a);
        return bridle__err(err, e > 0 && e < 1000 ? -e : BRIDLE_E_INVALID, "archiving '%s': %s",
                           path, s ? s : "libarchive error");
}

static int write_meta(struct archive *a, const struct bridle__snapshot_meta *m, bridle_error *err)
{
        _cleanup_free_ char *json = NULL;
        size_t len = 0;
        int r = bridle__snap_meta_encode(m, &json, &len, err);
        if (r < 0)
                return r;
        if (len > BRIDLE__SNAPSHOT_MAX_META)
                return bridle__err(err, BRIDLE_E_LIMIT, "metadata larger than %zu bytes",
                                   BRIDLE__SNAPSHOT_MAX_META);
        _cleanup_(entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                return bridle__err(err, -ENOMEM, "metadata entry");
        archive_entry_set_pathname(e, BRIDLE__SNAPSHOT_META_NAME);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, (time_t)m->created, 0);
        archive_entry_set_size(e, (la_int64_t)len);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            archive_write_data(a, json, len) != (la_ssize_t)len)
                return header_fail(a, BRIDLE__SNAPSHOT_META_NAME, err);
        return 0;
}

static int changed(const char *path, bridle_error *err)
{
        return bridle__err(err, -EAGAIN, "'%s' changed during the snapshot", path);
}

/* Stream one regular file into the archive; it must still be what the walk saw. */
static int copy_file(struct archive *a, int rootfd, const struct snap_entry *se, uint8_t *buf,
                     bridle_error *err)
{
        _cleanup_close_ int fd =
                bridle__snap_open_beneath(rootfd, se->path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return fd == -ELOOP || fd == -ENOENT ? changed(se->path, err)
                                                     : bridle__err(err, fd, "open '%s'", se->path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return bridle__err(err, -errno, "stat '%s'", se->path);
        if (!S_ISREG(st.st_mode) || st.st_size != se->size)
                return changed(se->path, err);
        for (off_t left = se->size; left > 0;) {
                size_t want = left < (off_t)SNAP_BUF_SIZE ? (size_t)left : SNAP_BUF_SIZE;
                ssize_t n = bridle__read_full(fd, buf, want);
                if (n < 0)
                        return bridle__err(err, (int)n, "read '%s'", se->path);
                if ((size_t)n < want)
                        return changed(se->path, err);
                if (archive_write_data(a, buf, want) != (la_ssize_t)want)
                        return header_fail(a, se->path, err);
                left -= (off_t)want;
        }
        ssize_t n = bridle__read_full(fd, buf, 1);
        return n == 0  ? 0
               : n < 0 ? bridle__err(err, (int)n, "read '%s'", se->path)
                       : changed(se->path, err);
}

static int write_entry(struct archive *a, int rootfd, const struct snap_entry *se, uint8_t *buf,
                       bridle_error *err)
{
        _cleanup_(entry_freep) struct archive_entry *e = archive_entry_new();
        if (!e)
                return bridle__err(err, -ENOMEM, "archive entry");
        archive_entry_set_pathname(e, se->path);
        archive_entry_set_filetype(e, se->mode & S_IFMT);
        archive_entry_set_perm(e, se->mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID));
        archive_entry_set_mtime(e, se->mtime.tv_sec, se->mtime.tv_nsec);
        archive_entry_set_size(e, (la_int64_t)se->size);
        if (S_ISLNK(se->mode))
                archive_entry_set_symlink(e, se->link);
        if (S_ISCHR(se->mode))
                archive_entry_set_rdev(e, 0);
        if (se->opaque != SNAP_OPAQUE_NONE)
                archive_entry_xattr_add_entry(e, bridle__snap_opaque_xattr[se->opaque], "y", 1);
        if (archive_write_header(a, e) != ARCHIVE_OK)
                return header_fail(a, se->path, err);
        return S_ISREG(se->mode) ? copy_file(a, rootfd, se, buf, err) : 0;
}

static int write_archive(int rootfd, int fd, const struct snap_tree *t,
                         const struct bridle__snapshot_meta *m, bridle_error *err)
{
        _cleanup_free_ uint8_t *buf = bridle__malloc(SNAP_BUF_SIZE);
        if (!buf)
                return bridle__err(err, -ENOMEM, "buffer");
        struct archive *a = NULL;
        struct snap_zout *z = NULL;
        /* Content, a header or two per entry, the metadata. */
        uint64_t hint = t->bytes + (uint64_t)t->n * 1536 + 4096 +
                        (m->manifest_json ? strlen(m->manifest_json) : 0);
        int r = bridle__snap_zout_open(fd, hint, &a, &z, err);
        if (r < 0)
                return r;
        r = write_meta(a, m, err);
        for (size_t i = 0; i < t->n && r == 0; i++)
                r = write_entry(a, rootfd, &t->v[i], buf, err);
        if (r < 0) {
                bridle__snap_zout_free(a, z);
                return r;
        }
        return bridle__snap_zout_close(a, z, err);
}

static char *parent_dir(const char *path)
{
        size_t off = bridle__snap_basename_off(path);
        return off ? bridle__strndup(path, off > 1 ? off - 1 : 1) : bridle__strdup(".");
}

static int fsync_dir(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 && errno != EINVAL ? -errno : 0;
}

/* Write to path.tmp, fsync, rename into place without replacing anything. */
static int write_file(int rootfd, const char *path, const char *tmp, const char *dir,
                      const struct snap_tree *t, const struct bridle__snapshot_meta *m,
                      bridle_error *err)
{
        _cleanup_close_ int fd =
                open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return bridle__err(err, -errno, "create '%s'", tmp);
        int r = write_archive(rootfd, fd, t, m, err);
        if (r == 0 && !m->no_sync && fsync(fd) < 0)
                r = bridle__err(err, -errno, "fsync '%s'", tmp);
        if (r == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0)
                r = bridle__err(err, -errno, "rename to '%s'", path);
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        /* The archive is in place: a failed directory sync is not worth undoing it. */
        if (!m->no_sync)
                (void)fsync_dir(dir);
        return 0;
}

static int snapshot_write(int dirfd, const char *path, struct bridle__snapshot_meta *meta,
                          bridle_error *err)
{
        struct bridle__snapshot_meta m = *meta;
        int r = bridle__snap_meta_prepare(&m, err);
        if (r < 0)
                return r;
        if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return bridle__err(err, -EEXIST, "'%s'", path);
        _cleanup_free_ char *tmp = bridle__malloc(strlen(path) + 5);
        if (!tmp)
                return bridle__err(err, -ENOMEM, "path");
        (void)snprintf(tmp, strlen(path) + 5, "%s.tmp", path);
        _cleanup_free_ char *dir = parent_dir(path);
        if (!dir)
                return bridle__err(err, -ENOMEM, "path");
        struct snap_tree t = {0};
        r = bridle__snap_walk(dirfd, &t, err);
        if (r < 0)
                return r;
        m.files = t.n;
        m.bytes = t.bytes;
        r = write_file(dirfd, path, tmp, dir, &t, &m, err);
        bridle__snap_tree_release(&t);
        if (r < 0)
                return r;
        *meta = m;
        return 0;
}

int bridle__snapshot_write(int dirfd, const char *path, struct bridle__snapshot_meta *meta,
                           bridle_error *err)
{
        int lr = bridle__archive_load(err);
        if (lr < 0)
                return lr;
        if (dirfd < 0 || !path || !meta)
                return bridle__err(err, -EINVAL, "snapshot write");
        int r = snapshot_write(dirfd, path, meta, err);
        if (r < 0)
                (void)bridle__err_prefix(err, "snapshot '%s'", path);
        return r;
}
