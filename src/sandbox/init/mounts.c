/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's root filesystem, built as a flat list of small steps:
 *   1. mount a tmpfs on a host directory the harness chose so that no bind
 *      source lies under it (the mount hides that directory's contents);
 *   2. build the sandbox there: binds from host paths or from detached trees
 *      the harness passed as fds, proc, dev, tmpfs;
 *   3. pivot into it and detach the old root entirely;
 *   4. create the workspace entries (after the pivot, so no path can reach
 *      the host), then make / read-only.
 * (The new user namespace made every inherited mount a slave already, so
 * nothing done here propagates to the host.)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/init/init.h"

static char NEWROOT[BRIDLE__INIT_MAX_STR] = "/tmp";
#define OLDROOT ""

static int sys_pivot_root(const char *new_root, const char *put_old)
{
        return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *a)
{
        return (int)syscall(SYS_mount_setattr, dfd, path, flags, a, sizeof(*a));
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned f)
{
        return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, f);
}

/* Create a mount point of the right kind at dst. */
static int ensure_target(const char *dst, bool dir)
{
        if (dir)
                return init_mkdir_p(dst, 0755);
        int r = init_mkparents(dst);
        if (r < 0)
                return r;
        int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0 && errno != EEXIST && errno != EISDIR)
                return -errno;
        if (fd >= 0)
                close(fd);
        return 0;
}

static int set_attrs(const char *dst, uint64_t attrs)
{
        struct mount_attr a = { .attr_set = attrs };
        if (sys_mount_setattr(AT_FDCWD, dst, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &a) < 0)
                return -errno;
        return 0;
}

static void path_in(char *out, size_t cap, const char *prefix, const char *p)
{
        (void)snprintf(out, cap, "%s%s%s", prefix, p[0] == '/' ? "" : "/", p);
}

int init_fs_begin(const char *newroot)
{
        if (newroot && *newroot)
                (void)snprintf(NEWROOT, sizeof(NEWROOT), "%s", newroot);
        if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4m") < 0)
                return -errno;
        return 0;
}

static int op_bind(struct init_state *st, bridle__cursor *c)
{
        uint32_t idx, flags;
        char src[BRIDLE__INIT_MAX_STR], dst[BRIDLE__INIT_MAX_STR];
        char s[2 * BRIDLE__INIT_MAX_STR + 16], d[2 * BRIDLE__INIT_MAX_STR + 16];
        if (bridle__rec_u32(c, &idx) < 0 || bridle__rec_u32(c, &flags) < 0 ||
            bridle__rec_str(c, src, sizeof(src)) < 0 || bridle__rec_str(c, dst, sizeof(dst)) < 0)
                return -EBADMSG;
        path_in(d, sizeof(d), NEWROOT, dst);
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "bind '%s' at '%s'", src, dst);
        st->step = st->step_buf;
        struct stat sb;
        int fd = (int32_t)idx >= 0 && (int32_t)idx < st->nfds ? st->fds[idx] : -1;
        if (fd >= 0) {
                if (fstat(fd, &sb) < 0)
                        return -errno;
        } else {
                path_in(s, sizeof(s), OLDROOT, src);
                if (stat(s, &sb) < 0) {
                        if (errno == ENOENT && (flags & BRIDLE__BIND_OPTIONAL))
                                return 0;
                        return -errno;
                }
        }
        int r = ensure_target(d, S_ISDIR(sb.st_mode));
        if (r < 0)
                return r;
        if (fd >= 0) {
                if (sys_move_mount(fd, "", AT_FDCWD, d, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return -errno;
        } else if (mount(s, d, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        if (flags & BRIDLE__BIND_DEFER)
                return 0;
        uint64_t attrs = MOUNT_ATTR_NOSUID;
        if (!(flags & BRIDLE__BIND_DEV))
                attrs |= MOUNT_ATTR_NODEV;
        if (flags & BRIDLE__BIND_RO)
                attrs |= MOUNT_ATTR_RDONLY;
        return set_attrs(d, attrs);
}

static int op_tmpfs(struct init_state *st, bridle__cursor *c)
{
        uint64_t size;
        uint32_t mode;
        char dst[BRIDLE__INIT_MAX_STR], d[2 * BRIDLE__INIT_MAX_STR + 16], opts[96];
        if (bridle__rec_u64(c, &size) < 0 || bridle__rec_u32(c, &mode) < 0 ||
            bridle__rec_str(c, dst, sizeof(dst)) < 0)
                return -EBADMSG;
        path_in(d, sizeof(d), NEWROOT, dst);
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "tmpfs at '%s'", dst);
        st->step = st->step_buf;
        int r = init_mkdir_p(d, 0755);
        if (r < 0)
                return r;
        (void)snprintf(opts, sizeof(opts), "mode=%04o,size=%llu", mode & 07777,
                       (unsigned long long)size);
        if (mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return -errno;
        return 0;
}

static int op_symlink(struct init_state *st, bridle__cursor *c)
{
        char target[BRIDLE__INIT_MAX_STR], dst[BRIDLE__INIT_MAX_STR], d[2 * BRIDLE__INIT_MAX_STR + 16];
        if (bridle__rec_str(c, target, sizeof(target)) < 0 || bridle__rec_str(c, dst, sizeof(dst)) < 0)
                return -EBADMSG;
        path_in(d, sizeof(d), NEWROOT, dst);
        st->step = "symlink";
        int r = init_mkparents(d);
        if (r < 0)
                return r;
        if (symlink(target, d) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Host paths under /proc that stay read-only (bind onto themselves). */
/* /proc/sys is the one a namespace's root could write (its own netns's
 * sysctls); the rest of the host-owned entries are not writable for the
 * sandbox's unprivileged uid. */
static const char *const proc_ro[] = { "sys" };

static int op_proc(struct init_state *st, bridle__cursor *c)
{
        char dst[BRIDLE__INIT_MAX_STR], d[2 * BRIDLE__INIT_MAX_STR + 16], p[2 * BRIDLE__INIT_MAX_STR + 80];
        if (bridle__rec_str(c, dst, sizeof(dst)) < 0)
                return -EBADMSG;
        path_in(d, sizeof(d), NEWROOT, dst);
        st->step = "mount proc";
        int r = init_mkdir_p(d, 0555);
        if (r < 0)
                return r;
        if (mount("proc", d, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        for (size_t i = 0; i < sizeof(proc_ro) / sizeof(proc_ro[0]); i++) {
                (void)snprintf(p, sizeof(p), "%s/%s", d, proc_ro[i]);
                if (access(p, F_OK) < 0)
                        continue;
                st->step = "make /proc/sys read-only";
                if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return -errno;
                if ((r = set_attrs(p, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                              MOUNT_ATTR_NOEXEC)) < 0)
                        return r;
        }
        return 0;
}

/* A living sandbox's workspace: an overlay of l0/ .. l<n-1>/ (lower layers,
 * topmost first), upper/ and work/ in a host directory, passed as a detached tree (moved in under a hidden
 * directory of the new root for the mount, then detached again: the sandbox
 * never sees its layers) or as a path. Unprivileged overlay keeps its
 * markers in user.* xattrs. Where overlay cannot be mounted, a tmpfs (the
 * harness notices by the filesystem type and takes full snapshots). */
static void overlay_opts(char *opts, size_t cap, const char *layers, uint32_t nlow)
{
        size_t o = (size_t)snprintf(opts, cap, "lowerdir=");
        for (uint32_t i = 0; i < nlow && o < cap; i++)
                o += (size_t)snprintf(opts + o, cap - o, "%s%s/l%u", i ? ":" : "", layers, i);
        if (o < cap)
                (void)snprintf(opts + o, cap - o, ",upperdir=%s/upper,workdir=%s/work,userxattr", layers, layers);
}

static int op_overlay(struct init_state *st, bridle__cursor *c)
{
        uint32_t idx, nlow;
        uint64_t size;
        char host[BRIDLE__INIT_MAX_STR], dst[BRIDLE__INIT_MAX_STR], d[2 * BRIDLE__INIT_MAX_STR + 16];
        char layers[BRIDLE__INIT_MAX_STR + 32], opts[36 * (BRIDLE__INIT_MAX_STR + 40)];
        if (bridle__rec_u32(c, &idx) < 0 || bridle__rec_u64(c, &size) < 0 || bridle__rec_u32(c, &nlow) < 0 ||
            bridle__rec_str(c, host, sizeof(host)) < 0 || bridle__rec_str(c, dst, sizeof(dst)) < 0)
                return -EBADMSG;
        if (nlow < 1 || nlow > 32)
                return -EBADMSG;
        int fd = (int32_t)idx >= 0 && (int32_t)idx < st->nfds ? st->fds[idx] : -1;
        if ((int32_t)idx >= 0 && fd < 0)
                return -EBADMSG;
        path_in(d, sizeof(d), NEWROOT, dst);
        (void)snprintf(st->step_buf, sizeof(st->step_buf), "overlay at '%s'", dst);
        st->step = st->step_buf;
        int r = init_mkdir_p(d, 0755);
        if (r < 0)
                return r;
        if (fd >= 0) {
                (void)snprintf(layers, sizeof(layers), "%s/.bridle-layers", NEWROOT);
                if ((r = init_mkdir_p(layers, 0700)) < 0)
                        return r;
                if (sys_move_mount(fd, "", AT_FDCWD, layers, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        r = -errno;
        } else
                (void)snprintf(layers, sizeof(layers), OLDROOT "%s", host);
        if (r == 0 && (strchr(layers, ',') || strchr(layers, ':')))
                r = -EINVAL; /* would split the mount options */
        if (r == 0) {
                overlay_opts(opts, sizeof(opts), layers, nlow);
                r = mount("overlay", d, "overlay", MS_NOSUID | MS_NODEV, opts) < 0 ? -errno : 0;
        }
        if (fd >= 0) {
                (void)umount2(layers, MNT_DETACH);
                (void)rmdir(layers);
        }
        if (r == 0)
                return 0;
        (void)snprintf(opts, sizeof(opts), "mode=0755,size=%llu", (unsigned long long)size);
        if (mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return -errno;
        return 0;
}

static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom" };
static const char *const dev_links[][2] = {
        { "/proc/self/fd", "fd" },
        { "/proc/self/fd/0", "stdin" },
        { "/proc/self/fd/1", "stdout" },
        { "/proc/self/fd/2", "stderr" },
        { "/proc/kcore", "core" },
};

static int op_dev(struct init_state *st, bridle__cursor *c)
{
        char dst[BRIDLE__INIT_MAX_STR], d[2 * BRIDLE__INIT_MAX_STR + 16];
        char p[2 * BRIDLE__INIT_MAX_STR + 80], s[64];
        if (bridle__rec_str(c, dst, sizeof(dst)) < 0)
                return -EBADMSG;
        path_in(d, sizeof(d), NEWROOT, dst);
        st->step = "mount /dev";
        int r = init_mkdir_p(d, 0755);
        if (r < 0)
                return r;
        if (mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") < 0)
                return -errno;
        for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
                (void)snprintf(p, sizeof(p), "%s/%s", d, dev_nodes[i]);
                (void)snprintf(s, sizeof(s), OLDROOT "/dev/%s", dev_nodes[i]);
                st->step = "bind a /dev node";
                if ((r = ensure_target(p, false)) < 0)
                        return r;
                if (mount(s, p, NULL, MS_BIND, NULL) < 0)
                        return -errno;
        }
        for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
                if (strcmp(dev_links[i][1], "core") == 0)
                        continue;
                (void)snprintf(p, sizeof(p), "%s/%s", d, dev_links[i][1]);
                if (symlink(dev_links[i][0], p) < 0)
                        return -errno;
        }
        (void)snprintf(p, sizeof(p), "%s/shm", d);
        if (mkdir(p, 01777) < 0)
                return -errno;
        /* One pass over /dev and its nodes: no setuid, no exec, no new files. */
        if ((r = set_attrs(d, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RDONLY)) < 0)
                return r;
        st->step = "mount /dev/shm";
        if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m") < 0)
                return -errno;
        return 0;
}

int init_fs_op(struct init_state *st, const bridle__rec *rec)
{
        bridle__cursor c = { rec->p, rec->len };
        switch (rec->type) {
        case BRIDLE__OP_BIND:
                return op_bind(st, &c);
        case BRIDLE__OP_TMPFS:
                return op_tmpfs(st, &c);
        case BRIDLE__OP_SYMLINK:
                return op_symlink(st, &c);
        case BRIDLE__OP_PROC:
                return op_proc(st, &c);
        case BRIDLE__OP_DEV:
                return op_dev(st, &c);
        case BRIDLE__OP_OVERLAY:
                return op_overlay(st, &c);
        default:
                return 0;
        }
}

/* Pivot into the new root and drop every trace of the host's tree. */
int init_fs_finish(struct init_state *st)
{
        st->step = "pivot_root";
        if (chdir(NEWROOT) < 0)
                return -errno;
        if (sys_pivot_root(".", ".") < 0)
                return -errno;
        st->step = "detach the old root";
        if (umount2(".", MNT_DETACH) < 0)
                return -errno;
        if (chdir("/") < 0)
                return -errno;
        return 0;
}
