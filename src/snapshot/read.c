/* SPDX-License-Identifier: MIT */
/* Opening a snapshot for reading: the zstd frame, the tar stream, the metadata entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "snapshot/archive_dl.h"

#include "snapshot/internal.h"
#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

static int read_meta_entry(struct archive *a, struct snap_zin *z, struct bridle__snapshot_meta *ret,
                           bridle_error *err)
{
        struct archive_entry *e = NULL;
        int ar = archive_read_next_header(a, &e);
        if (ar != ARCHIVE_OK)
                return bridle__snap_zin_error(a, z, "no metadata entry", err);
        const char *name = archive_entry_pathname(e);
        if (!name || strcmp(name, BRIDLE__SNAPSHOT_META_NAME) != 0 ||
            archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
            !archive_entry_size_is_set(e))
                return bridle__err(err, BRIDLE_E_INVALID,
                                   "not a snapshot archive (first entry is not '%s')",
                                   BRIDLE__SNAPSHOT_META_NAME);
        la_int64_t size = archive_entry_size(e);
        if (size < 0 || (uint64_t)size > BRIDLE__SNAPSHOT_MAX_META)
                return bridle__err(err, BRIDLE_E_LIMIT, "metadata entry larger than %zu bytes",
                                   BRIDLE__SNAPSHOT_MAX_META);
        _cleanup_free_ char *buf = bridle__malloc((size_t)size + 1);
        if (!buf)
                return bridle__err(err, -ENOMEM, "metadata");
        size_t got = 0;
        while (got < (size_t)size) {
                la_ssize_t n = archive_read_data(a, buf + got, (size_t)size - got);
                if (n < 0)
                        return bridle__snap_zin_error(a, z, "metadata", err);
                if (n == 0)
                        return bridle__err(err, BRIDLE_E_INVALID, "metadata entry truncated");
                got += (size_t)n;
        }
        buf[got] = '\0';
        return bridle__snap_meta_decode(buf, got, ret, err);
}

int bridle__snap_open_read(const char *path, struct archive **ret_a, struct snap_zin **ret_z,
                           struct bridle__snapshot_meta *ret_meta, bridle_error *err)
{
        int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return bridle__err(err, -errno, "open");
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int r = S_ISREG(st.st_mode) ? -errno : BRIDLE_E_INVALID;
                bridle__close(fd);
                return bridle__err(err, r, "not a regular file");
        }
        struct archive *a = NULL;
        struct snap_zin *z = NULL;
        int r = bridle__snap_zin_open(fd, &a, &z, err);
        if (r < 0)
                return r;
        struct bridle__snapshot_meta m = {0};
        r = read_meta_entry(a, z, &m, err);
        if (r < 0) {
                bridle__snap_zin_free(a, z);
                return r;
        }
        *ret_a = a;
        *ret_z = z;
        *ret_meta = m;
        return 0;
}

int bridle__snapshot_read_meta(const char *path, struct bridle__snapshot_meta *ret,
                               bridle_error *err)
{
        int lr = bridle__archive_load(err);
        if (lr < 0)
                return lr;
        if (!path || !ret)
                return bridle__err(err, -EINVAL, "snapshot read");
        struct archive *a = NULL;
        struct snap_zin *z = NULL;
        struct bridle__snapshot_meta m = {0};
        int r = bridle__snap_open_read(path, &a, &z, &m, err);
        if (r < 0) {
                (void)bridle__err_prefix(err, "snapshot '%s'", path);
                return r;
        }
        bridle__snap_zin_free(a, z);
        *ret = m;
        return 0;
}
