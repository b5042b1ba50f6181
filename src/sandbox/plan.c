/* SPDX-License-Identifier: MIT */
/*
 * Spec -> plan. The plan is a flat list of steps for bridle-init: the base
 * filesystem (read-only /usr and its links, a few /etc files, /proc, /dev,
 * /tmp), the workspace, the spec's entries, then the command's environment,
 * argv, rlimits and Landlock rules.
 */
#include "sandbox/plan.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/cleanup.h"
#include "util/error.h"

/* Host /etc entries a sandbox gets read-only: what dynamic linking, name
 * lookup, TLS and Debian's alternatives need. Never shadow, sudoers, ssh or
 * homes. Entries that are symlinks on the host become the same symlinks. */
static const char *const etc_files[] = {
        "ld.so.cache", "alternatives", "localtime", "nsswitch.conf", "ssl/certs",
        "ssl/openssl.cnf", "os-release", "protocols", "services",
};

static const char etc_passwd[] = "root:x:0:0:root:/workspace:/bin/sh\n"
                                 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char etc_group[] = "root:x:0:\nnogroup:x:65534:\n";
static const char etc_hosts[] = "127.0.0.1\tlocalhost bridle\n::1\tlocalhost ip6-localhost\n";

static const char *const top_links[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

/* A host path the sandbox sees as the host has it: a symlink stays the same
 * symlink, anything else is bound read-only (skipped if missing). */
static int add_host_path(bridle__plan *p, const char *host, unsigned flags)
{
        char target[256];
        ssize_t n = readlink(host, target, sizeof(target) - 1);
        if (n > 0) {
                target[n] = '\0';
                return bridle__plan_add(p, BRIDLE__OP_SYMLINK, "ss", target, host);
        }
        return bridle__plan_add(p, BRIDLE__OP_BIND, "iuss", -1,
                                BRIDLE__BIND_RO | BRIDLE__BIND_OPTIONAL | flags, host, host);
}

static int add_base(bridle__plan *p)
{
        char host[64];
        add_host_path(p, "/usr", 0);
        for (size_t i = 0; i < ELEMENTSOF(top_links); i++) {
                (void)snprintf(host, sizeof(host), "/%s", top_links[i]);
                add_host_path(p, host, 0);
        }
        /* /etc is its own small tmpfs so one recursive pass (REMOUNT_RO, after
         * the files below are written) makes it and every bind in it read-only. */
        bridle__plan_add(p, BRIDLE__OP_TMPFS, "Uus", (uint64_t)(1u << 20), 0755, "/etc");
        for (size_t i = 0; i < ELEMENTSOF(etc_files); i++) {
                (void)snprintf(host, sizeof(host), "/etc/%s", etc_files[i]);
                add_host_path(p, host, BRIDLE__BIND_DEFER);
        }
        bridle__plan_add(p, BRIDLE__OP_PROC, "s", "/proc");
        return bridle__plan_add(p, BRIDLE__OP_DEV, "s", "/dev"); /* errors are sticky */
}

/* Files on the (soon read-only) root, written after the pivot. */
static int add_etc_files(bridle__plan *p)
{
        bridle__plan_add(p, BRIDLE__OP_FILE, "usb", 0644, "/etc/passwd", etc_passwd, sizeof(etc_passwd) - 1);
        bridle__plan_add(p, BRIDLE__OP_FILE, "usb", 0644, "/etc/group", etc_group, sizeof(etc_group) - 1);
        bridle__plan_add(p, BRIDLE__OP_FILE, "usb", 0644, "/etc/hosts", etc_hosts, sizeof(etc_hosts) - 1);
        bridle__plan_add(p, BRIDLE__OP_FILE, "usb", 0644, "/etc/hostname", "bridle\n", (size_t)7);
        return bridle__plan_add(p, BRIDLE__OP_REMOUNT_RO, "s", "/etc");
}

/* A host directory to build the root on: the tmpfs mounted there hides it,
 * so it must not hold any bind source that is passed by path. */
static int choose_newroot(const bridle_sandbox_spec *s, const struct plan_ctx *ctx, bridle__plan *p)
{
        static const char *const candidates[] = { "/tmp", "/mnt", "/run", "/media", "/srv", "/opt", "/var/tmp" };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                const char *d = candidates[i];
                size_t dl = strlen(d);
                struct stat st;
                if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                bool clash = false;
                for (size_t j = 0; !ctx->detached_binds && j < s->n_entries; j++) {
                        const char *h = s->entries[j].kind == SPEC_BIND ? s->entries[j].host : NULL;
                        clash |= h && strncmp(h, d, dl) == 0 && (h[dl] == '/' || !h[dl]);
                }
                const char *w = s->workspace;
                clash |= !ctx->detached_binds && w && strncmp(w, d, dl) == 0 && (w[dl] == '/' || !w[dl]);
                const char *o = s->overlay;
                clash |= !ctx->detached_binds && o && strncmp(o, d, dl) == 0 && (o[dl] == '/' || !o[dl]);
                if (!clash)
                        return bridle__plan_add(p, BRIDLE__OP_NEWROOT, "s", d);
        }
        return -ENOENT;
}

/* Where an entry path lands: absolute stays, relative goes under the root. */
static int target_path(const bridle_sandbox_spec *s, const struct plan_ctx *ctx, const char *path,
                       char *out, size_t cap)
{
        const char *root = s->isolation == BRIDLE_ISOLATION_LANDLOCK ? ctx->host_workspace : s->root;
        int n;
        if (path[0] == '/') {
                size_t rl = strlen(s->root);
                if (s->isolation == BRIDLE_ISOLATION_LANDLOCK) {
                        if (strncmp(path, s->root, rl) != 0 || (path[rl] && path[rl] != '/'))
                                return -EINVAL;
                        n = snprintf(out, cap, "%s%s", root, path + rl);
                } else
                        n = snprintf(out, cap, "%s", path);
        } else
                n = snprintf(out, cap, "%s/%s", root, path);
        return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int bridle__plan_warn(struct plan_ctx *ctx, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        char **w = bridle__realloc(ctx->warnings, (ctx->n_warnings + 2) * sizeof(char *));
        if (!w)
                return -ENOMEM;
        ctx->warnings = w;
        if (!(w[ctx->n_warnings] = bridle__strdup(buf)))
                return -ENOMEM;
        w[++ctx->n_warnings] = NULL;
        bridle__log(4, "%s", buf);
        return 0;
}

/* A detached copy of a host tree (root callers: init's uid cannot walk the
 * caller's private directories). Trees are idmapped with the sandbox's user
 * namespace: the caller's files are the sandbox root's inside (readable even
 * at 0600), and files the sandbox writes stay owned by the caller. */
static int detached_tree(struct plan_ctx *ctx, const char *host, bridle_error *err)
{
        int fd = (int)syscall(SYS_open_tree, AT_FDCWD, host,
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0)
                return bridle__err(err, -errno, "open_tree '%s'", host);
        if (ctx->idmap_userns_fd >= 0) {
                struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP,
                                        .userns_fd = (uint64_t)ctx->idmap_userns_fd };
                if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0 &&
                    bridle__plan_warn(ctx, "'%s': no idmapped mount here: inside, the caller's files belong to nobody "
                                      "and files the sandbox writes belong to its host uid", host) < 0) {
                        close(fd);
                        return bridle__err(err, -ENOMEM, "warning");
                }
        }
        return fd;
}

static int add_bind(bridle__plan *p, struct plan_ctx *ctx, const char *host, const char *dst,
                    bool ro, bridle_error *err)
{
        struct stat st;
        if (stat(host, &st) < 0)
                return bridle__err(err, -errno, "bind source '%s'", host);
        int idx = -1;
        if (ctx->detached_binds) {
                int fd = detached_tree(ctx, host, err);
                if (fd < 0)
                        return fd;
                if ((idx = bridle__plan_take_fd(p, fd)) < 0)
                        return bridle__err(err, idx, "too many binds");
        }
        return bridle__plan_add(p, BRIDLE__OP_BIND, "iuss", idx, ro ? BRIDLE__BIND_RO : 0u, host, dst);
}

/* Living sandboxes: /workspace as an overlay of a host directory holding
 * l0/ .. l<n-1>/ (lower layers, topmost first), upper/ and work/. A root caller passes it as a detached mount tree
 * (init's uid cannot walk the owner-only directories above it, and overlay
 * takes layers only from init's own mount namespace: init moves it in
 * first); an unprivileged caller's directories are the sandbox root's, so a
 * path does. */
static int add_overlay(const bridle_sandbox_spec *s, bridle__plan *p, struct plan_ctx *ctx, uint64_t disk,
                       bridle_error *err)
{
        int idx = -1;
        if (ctx->detached_binds) {
                int fd = (int)syscall(SYS_open_tree, AT_FDCWD, s->overlay, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (fd < 0)
                        return bridle__err(err, -errno, "open_tree '%s'", s->overlay);
                if ((idx = bridle__plan_take_fd(p, fd)) < 0)
                        return bridle__err(err, idx, "too many fds");
        }
        return bridle__plan_add(p, BRIDLE__OP_OVERLAY, "iUuss", idx, disk, s->overlay_lowers ? s->overlay_lowers : 1u,
                                s->overlay, s->root);
}

static int add_workspace(const bridle_sandbox_spec *s, bridle__plan *p, struct plan_ctx *ctx,
                         bridle_error *err)
{
        uint64_t disk = s->limits.disk ? s->limits.disk : BRIDLE__DEFAULT_DISK;
        bridle__plan_add(p, BRIDLE__OP_TMPFS, "Uus", disk, 01777, "/tmp");
        if (!s->workspace && s->overlay)
                return add_overlay(s, p, ctx, disk, err);
        if (!s->workspace)
                return bridle__plan_add(p, BRIDLE__OP_TMPFS, "Uus", disk, 0755, s->root);
        return add_bind(p, ctx, s->workspace, s->root, false, err);
}

static int add_entries_mounts(const bridle_sandbox_spec *s, bridle__plan *p, struct plan_ctx *ctx,
                              bridle_error *err)
{
        for (size_t i = 0; i < s->n_entries; i++) {
                const struct spec_entry *e = &s->entries[i];
                if (e->kind != SPEC_BIND)
                        continue;
                int r = add_bind(p, ctx, e->host, e->path, e->flags & BRIDLE_BIND_RO, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_entries_files(const bridle_sandbox_spec *s, bridle__plan *p, struct plan_ctx *ctx,
                             bridle_error *err)
{
        char path[BRIDLE__INIT_MAX_STR];
        for (size_t i = 0; i < s->n_entries; i++) {
                const struct spec_entry *e = &s->entries[i];
                if (e->kind == SPEC_BIND)
                        continue;
                if (target_path(s, ctx, e->path, path, sizeof(path)) < 0)
                        return bridle__err(err, -EINVAL, "'%s' is outside the workspace", e->path);
                if (e->kind == SPEC_DIR) {
                        bridle__plan_add(p, BRIDLE__OP_MKDIR, "us", 0755, path);
                } else if (e->kind == SPEC_FILE) {
                        bridle__plan_add(p, BRIDLE__OP_FILE, "usb", e->flags, path, e->data, e->len);
                } else {
                        int fd = open(e->host, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                        if (fd < 0)
                                return bridle__err(err, -errno, "open '%s'", e->host);
                        struct stat st;
                        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                                close(fd);
                                return bridle__err(err, -EINVAL, "'%s' is not a regular file", e->host);
                        }
                        int idx = bridle__plan_take_fd(p, fd);
                        if (idx < 0)
                                return bridle__err(err, idx, "too many files to copy");
                        bridle__plan_add(p, BRIDLE__OP_COPY, "ius", idx, (int)(st.st_mode & 0777), path);
                }
        }
        return 0;
}

static int add_env(const bridle_sandbox_spec *s, bridle__plan *p, const struct plan_ctx *ctx)
{
        char home[BRIDLE__INIT_MAX_STR + 8];
        const char *root = s->isolation == BRIDLE_ISOLATION_LANDLOCK ? ctx->host_workspace : s->root;
        (void)snprintf(home, sizeof(home), "HOME=%s", root);
        const char *base[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               home, "LANG=C.UTF-8", "TERM=dumb" };
        for (size_t i = 0; i < ELEMENTSOF(base); i++) {
                size_t nl = strcspn(base[i], "=") + 1;
                bool overridden = false;
                for (size_t j = 0; j < s->n_env; j++)
                        overridden |= strncmp(s->env[j], base[i], nl) == 0;
                if (!overridden)
                        bridle__plan_add(p, BRIDLE__OP_ENV, "s", base[i]);
        }
        if (s->isolation == BRIDLE_ISOLATION_LANDLOCK && ctx->host_tmp) {
                char t[BRIDLE__INIT_MAX_STR + 8];
                (void)snprintf(t, sizeof(t), "TMPDIR=%s", ctx->host_tmp);
                bridle__plan_add(p, BRIDLE__OP_ENV, "s", t);
        }
        int r = 0;
        for (size_t j = 0; j < s->n_env; j++)
                r = bridle__plan_add(p, BRIDLE__OP_ENV, "s", s->env[j]);
        return r;
}

static int add_rlimits(const bridle_sandbox_spec *s, bridle__plan *p, const struct plan_ctx *ctx)
{
        uint64_t disk = s->limits.disk ? s->limits.disk : BRIDLE__DEFAULT_DISK;
        bridle__plan_add(p, BRIDLE__OP_RLIMIT, "uU", RLIMIT_FSIZE, disk);
        bridle__plan_add(p, BRIDLE__OP_RLIMIT, "uU", RLIMIT_NOFILE, (uint64_t)BRIDLE__DEFAULT_NOFILE);
        bridle__plan_add(p, BRIDLE__OP_RLIMIT, "uU", RLIMIT_CORE, (uint64_t)0);
        if (s->limits.cpu_s)
                bridle__plan_add(p, BRIDLE__OP_RLIMIT, "uU", RLIMIT_CPU, s->limits.cpu_s);
        if (ctx->rlimit_as)
                bridle__plan_add(p, BRIDLE__OP_RLIMIT, "uU", RLIMIT_AS, ctx->rlimit_as);
        /* A fork bomb must not reach the host even without --pids. */
        return bridle__plan_add(p, BRIDLE__OP_RLIMIT, "uU", RLIMIT_NPROC,
                                ctx->rlimit_nproc ? ctx->rlimit_nproc : (uint64_t)BRIDLE__DEFAULT_NPROC);
}

static void ll(bridle__plan *p, uint32_t access, const char *path)
{
        bridle__plan_add(p, BRIDLE__OP_LANDLOCK, "Us", (uint64_t)access, path);
}

static int add_landlock(const bridle_sandbox_spec *s, bridle__plan *p, const struct plan_ctx *ctx)
{
        const uint32_t RX = BRIDLE__LL_READ | BRIDLE__LL_EXEC, RWX = RX | BRIDLE__LL_WRITE;
        if (s->isolation == BRIDLE_ISOLATION_NAMESPACES) {
                /* The mount namespace decides what is visible; Landlock is the
                 * second wall for writes. */
                ll(p, RX, "/");
                ll(p, RWX, s->root);
                ll(p, RWX, "/tmp");
                ll(p, RWX, "/dev/shm");
                ll(p, BRIDLE__LL_READ | BRIDLE__LL_WRITE | BRIDLE__LL_DEV, "/dev");
        } else {
                for (size_t i = 0; i < ELEMENTSOF(top_links); i++) {
                        char h[32];
                        (void)snprintf(h, sizeof(h), "/%s", top_links[i]);
                        ll(p, RX, h);
                }
                ll(p, RX, "/usr");
                for (size_t i = 0; i < ELEMENTSOF(etc_files); i++) {
                        char h[64];
                        (void)snprintf(h, sizeof(h), "/etc/%s", etc_files[i]);
                        ll(p, BRIDLE__LL_READ, h);
                }
                ll(p, BRIDLE__LL_READ, "/proc");
                ll(p, RWX, ctx->host_workspace);
                ll(p, RWX, ctx->host_tmp);
                const char *devs[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
                for (size_t i = 0; i < ELEMENTSOF(devs); i++)
                        ll(p, BRIDLE__LL_READ | BRIDLE__LL_WRITE, devs[i]);
        }
        for (size_t i = 0; i < s->n_entries; i++) {
                const struct spec_entry *e = &s->entries[i];
                if (e->kind == SPEC_BIND)
                        ll(p, (e->flags & BRIDLE_BIND_RO) ? RX : RWX,
                           s->isolation == BRIDLE_ISOLATION_LANDLOCK ? e->host : e->path);
        }
        return 0;
}

/* BRIDLE_NET_ALLOWLIST: the egress proxy's directory, opened here (O_PATH:
 * nothing is mounted, and init, an unprivileged uid, need not walk the
 * caller's directories), for init's bridge only; and the variables that send
 * every common toolchain through the bridge. */
static const char *const egress_env[] = {
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
};

static int add_egress(const bridle_sandbox_spec *s, bridle__plan *p, bridle_error *err)
{
        if (s->net != BRIDLE_NET_ALLOWLIST)
                return 0;
        if (s->isolation != BRIDLE_ISOLATION_NAMESPACES)
                return bridle__err(err, -EOPNOTSUPP, "network 'allowlist' needs namespaces isolation "
                                                     "(landlock mode has no network namespace)");
        if (!s->egress_dir)
                return bridle__err(err, -EINVAL, "network 'allowlist' needs an egress proxy directory "
                                                 "(bridle_sandbox_spec_set_egress)");
        int fd = open(s->egress_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return bridle__err(err, -errno, "egress directory '%s'", s->egress_dir);
        int idx = bridle__plan_take_fd(p, fd); /* closes fd on failure */
        if (idx < 0)
                return bridle__err(err, idx, "egress directory '%s'", s->egress_dir);
        bridle__plan_add(p, BRIDLE__OP_EGRESS, "iu", idx, (unsigned)BRIDLE_EGRESS_PORT);
        char v[64];
        (void)snprintf(v, sizeof(v), "http://127.0.0.1:%u", (unsigned)BRIDLE_EGRESS_PORT);
        for (size_t i = 0; i < ELEMENTSOF(egress_env); i++) {
                char kv[96];
                (void)snprintf(kv, sizeof(kv), "%s=%s", egress_env[i], v);
                bridle__plan_add(p, BRIDLE__OP_ENV, "s", kv);
        }
        bridle__plan_add(p, BRIDLE__OP_ENV, "s", "NO_PROXY=localhost,127.0.0.1,::1");
        bridle__plan_add(p, BRIDLE__OP_ENV, "s", "no_proxy=localhost,127.0.0.1,::1");
        int r = bridle__plan_add(p, BRIDLE__OP_ENV, "s", "NODE_USE_ENV_PROXY=1");
        return r < 0 ? bridle__err(err, r, "egress") : 0;
}

/* Path rules: init mounts over what matches once the workspace is populated,
 * and its file operations refuse matching paths. */
static int add_protect(const bridle_sandbox_spec *s, bridle__plan *p, bridle_error *err)
{
        if (!s->n_protect)
                return 0;
        if (s->isolation != BRIDLE_ISOLATION_NAMESPACES)
                return bridle__err(err, -EOPNOTSUPP,
                                   "path rules need namespaces isolation "
                                   "(landlock mode cannot mount over paths)");
        int r = 0;
        for (size_t i = 0; i < s->n_protect; i++)
                r = bridle__plan_add(p, BRIDLE__OP_PROTECT, "uss",
                                     s->protect[i].deny_read ? 1u : 0u, s->root,
                                     s->protect[i].glob);
        return r < 0 ? bridle__err(err, r, "path rules") : 0;
}

static int add_command(const bridle_sandbox_spec *s, bridle__plan *p, const struct plan_ctx *ctx)
{
        const char *root = s->isolation == BRIDLE_ISOLATION_LANDLOCK ? ctx->host_workspace : s->root;
        char cwd[BRIDLE__INIT_MAX_STR];
        if (!s->cwd)
                (void)snprintf(cwd, sizeof(cwd), "%s", root);
        else if (target_path(s, ctx, s->cwd, cwd, sizeof(cwd)) < 0)
                return -EINVAL;
        bridle__plan_add(p, BRIDLE__OP_CWD, "s", cwd);
        int r = 0;
        for (size_t i = 0; ctx->argv && ctx->argv[i]; i++)
                r = bridle__plan_add(p, BRIDLE__OP_ARG, "s", ctx->argv[i]);
        if (ctx->serve_fd >= 0) {
                int fd = fcntl(ctx->serve_fd, F_DUPFD_CLOEXEC, 3);
                int idx = fd < 0 ? -errno : bridle__plan_take_fd(p, fd);
                if (idx < 0)
                        return idx;
                r = bridle__plan_add(p, BRIDLE__OP_SERVE, "i", idx);
        }
        return r;
}

int bridle__plan_build(const bridle_sandbox_spec *s, struct plan_ctx *ctx, bridle__plan *p,
                       bridle_error *err)
{
        int r;
        bool ns = s->isolation == BRIDLE_ISOLATION_NAMESPACES;
        bridle__plan_add(p, BRIDLE__OP_MODE, "u", (unsigned)s->isolation);
        bridle__plan_add(p, BRIDLE__OP_NET, "u", (unsigned)s->net);
        if (ns) {
                if (choose_newroot(s, ctx, p) < 0)
                        return bridle__err(err, -ENOENT, "no host directory to build the sandbox's root on "
                                                         "(every candidate holds a bind source)");
                add_base(p);
                if ((r = add_workspace(s, p, ctx, err)) < 0)
                        return r;
                if ((r = add_entries_mounts(s, p, ctx, err)) < 0)
                        return r;
                add_etc_files(p);
        }
        if ((r = add_entries_files(s, p, ctx, err)) < 0)
                return r;
        add_env(s, p, ctx);
        if ((r = add_egress(s, p, err)) < 0)
                return r;
        if ((r = add_protect(s, p, err)) < 0)
                return r;
        add_rlimits(s, p, ctx);
        add_landlock(s, p, ctx);
        if ((r = add_command(s, p, ctx)) < 0)
                return r == -EINVAL ? bridle__err(err, r, "cwd '%s' is outside the workspace", s->cwd)
                                    : bridle__err(err, r, "pass the socket to the sandbox");
        if ((r = bridle__plan_finish(p)) < 0)
                return bridle__err(err, r, "build the sandbox plan");
        return 0;
}
