/* SPDX-License-Identifier: MIT */
/* Workspace entries, created after the pivot (nothing can resolve to the host). */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/init/init.h"

static int open_target(const char *path, uint32_t mode)
{
        int r = init_mkparents(path);
        if (r < 0)
                return r;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                      mode & 07777);
        return fd < 0 ? -errno : fd;
}

static int op_mkdir(struct init_state *st, bridle__cursor *c)
{
        uint32_t mode;
        char path[BRIDLE__INIT_MAX_STR];
        if (bridle__rec_u32(c, &mode) < 0 || bridle__rec_str(c, path, sizeof(path)) < 0)
                return -EBADMSG;
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "create directory '%s'", path);
        st->step = st->step_buf;
        return init_mkdir_p(path, mode & 07777);
}

static int op_file(struct init_state *st, bridle__cursor *c)
{
        uint32_t mode, len;
        const uint8_t *data;
        char path[BRIDLE__INIT_MAX_STR];
        if (bridle__rec_u32(c, &mode) < 0 || bridle__rec_str(c, path, sizeof(path)) < 0 ||
            bridle__rec_bytes(c, &data, &len) < 0)
                return -EBADMSG;
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "write file '%s'", path);
        st->step = st->step_buf;
        int fd = open_target(path, mode);
        if (fd < 0)
                return fd;
        size_t done = 0;
        while (done < len) {
                ssize_t n = write(fd, data + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int e = n < 0 ? -errno : -ENOSPC;
                        close(fd);
                        return e;
                }
                done += (size_t)n;
        }
        return close(fd) < 0 ? -errno : 0;
}

static int op_copy(struct init_state *st, bridle__cursor *c)
{
        uint32_t idx, mode;
        char path[BRIDLE__INIT_MAX_STR];
        if (bridle__rec_u32(c, &idx) < 0 || bridle__rec_u32(c, &mode) < 0 ||
            bridle__rec_str(c, path, sizeof(path)) < 0 || (int32_t)idx < 0 ||
            (int32_t)idx >= st->nfds)
                return -EBADMSG;
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "copy into '%s'", path);
        st->step = st->step_buf;
        int in = st->fds[idx];
        int out = open_target(path, mode);
        if (out < 0)
                return out;
        for (;;) {
                ssize_t n = sendfile(out, in, NULL, 1 << 30);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = -errno;
                        close(out);
                        return e;
                }
                if (n == 0)
                        break;
        }
        return close(out) < 0 ? -errno : 0;
}

static int op_remount_ro(struct init_state *st, bridle__cursor *c)
{
        char path[BRIDLE__INIT_MAX_STR];
        if (bridle__rec_str(c, path, sizeof(path)) < 0)
                return -EBADMSG;
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "make '%s' read-only", path);
        st->step = st->step_buf;
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
        if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &a,
                    sizeof(a)) < 0)
                return -errno;
        return 0;
}

int init_files_op(struct init_state *st, const bridle__rec *rec)
{
        bridle__cursor c = { rec->p, rec->len };
        switch (rec->type) {
        case BRIDLE__OP_REMOUNT_RO:
                return op_remount_ro(st, &c);
        case BRIDLE__OP_MKDIR:
                return op_mkdir(st, &c);
        case BRIDLE__OP_FILE:
                return op_file(st, &c);
        case BRIDLE__OP_COPY:
                return op_copy(st, &c);
        default:
                return 0;
        }
}

int init_root_readonly(struct init_state *st)
{
        st->step = "make / read-only";
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY };
        if (syscall(SYS_mount_setattr, AT_FDCWD, "/", AT_SYMLINK_NOFOLLOW, &a, sizeof(a)) < 0)
                return -errno;
        return 0;
}
