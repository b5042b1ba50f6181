/* SPDX-License-Identifier: MIT */
/*
 * bridle doctor: what this host allows. Every probe that changes process state
 * (namespaces, mounts) runs in a short-lived forked child, which reports its
 * result over a CLOEXEC pipe and calls only async-signal-safe functions.
 */
#include "bridle/doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/landlock.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

#define SYSCTL_MAX_USERNS "/proc/sys/user/max_user_namespaces"
#define SYSCTL_UNPRIV_CLONE "/proc/sys/kernel/unprivileged_userns_clone"
#define SYSCTL_AA_RESTRICT "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"

#define AA_FIX                                                                           \
        "install bridle's AppArmor profile ('make install' puts it in /etc/apparmor.d/bridle, " \
        "then apparmor_parser -r /etc/apparmor.d/bridle) or "                                    \
        "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"

#define SANDBOX_NS_FLAGS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)

/* ---- small helpers ---------------------------------------------------------- */

/* Read an integer sysctl; -ENOENT when the knob does not exist. */
static int read_int(const char *path, long *ret)
{
        _cleanup_free_ char *s = NULL;
        int r = bridle__read_file(AT_FDCWD, path, 64, &s, NULL);
        if (r < 0)
                return r;
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno != 0 || end == s)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* The value of a "Name:\tvalue" line of /proc/self/status, or -1. */
static long status_field(const char *name)
{
        _cleanup_free_ char *s = NULL;
        if (bridle__read_file(AT_FDCWD, "/proc/self/status", 1 << 16, &s, NULL) < 0)
                return -1;
        size_t n = strlen(name);
        for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, name, n) == 0 && p[n] == ':')
                        return strtol(p + n + 1, NULL, 10);
        return -1;
}

static void set_check_va(bridle_doctor_check *c, const char *name, int status, const char *fix,
                         const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void set_check_va(bridle_doctor_check *c, const char *name, int status, const char *fix,
                         const char *fmt, va_list ap)
{
        memset(c, 0, sizeof(*c));
        (void)snprintf(c->name, sizeof(c->name), "%s", name);
        c->status = status;
        (void)snprintf(c->fix, sizeof(c->fix), "%s", fix ? fix : "");
        (void)vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
}

static void set_check(bridle_doctor_check *c, const char *name, int status, const char *fix,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_check(bridle_doctor_check *c, const char *name, int status, const char *fix,
                      const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        set_check_va(c, name, status, fix, fmt, ap);
        va_end(ap);
}

#define PROBE_TIMEOUT_MS 10000

/* Wait for the child's result; a probe that hangs is killed. */
static int probe_result(int fd, pid_t pid)
{
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = 0, n;
        while ((n = poll(&pfd, 1, PROBE_TIMEOUT_MS)) < 0 && errno == EINTR)
                ;
        if (n == 0) {
                (void)kill(pid, SIGKILL);
                r = -ETIMEDOUT;
        } else if (bridle__read_full(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
                r = -ECHILD;
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return r;
}

/* Run fn in a forked child; its return value (0 or -errno) comes back over a pipe.
 * Returns that value, or a negative code if the child could not be run. */
static int probe_in_child(int (*fn)(void *), void *arg)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int e = -errno;
                bridle__close(p[0]);
                bridle__close(p[1]);
                return e;
        }
        if (pid == 0) {
                bridle__close(p[0]);
                int r = fn(arg);
                (void)!write(p[1], &r, sizeof(r));
                _exit(0);
        }
        bridle__close(p[1]);
        int r = probe_result(p[0], pid);
        bridle__close(p[0]);
        return r;
}

/* ---- user namespaces ---------------------------------------------------------- */

/* Encoded result: 0, or -(step * 1000 + errno). */
static int userns_child(void *arg)
{
        (void)arg;
        if (unshare(CLONE_NEWUSER) < 0)
                return -(1000 + errno);
        if (unshare(SANDBOX_NS_FLAGS) < 0)
                return -(2000 + errno);
        return 0;
}

struct verdict {
        char reason[248]; /* both fit in bridle_error.msg with "; fix: " */
        char fix[248];
};

static void verdict_set(struct verdict *v, const char *fix, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void verdict_set(struct verdict *v, const char *fix, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
        va_end(ap);
        (void)snprintf(v->fix, sizeof(v->fix), "%s", fix);
}

/* Host policies that forbid user namespaces, checked from the most specific. */
static bool explain_policy(struct verdict *v)
{
        long val = -1;
        if (read_int(SYSCTL_MAX_USERNS, &val) == 0 && val == 0) {
                verdict_set(v, "sysctl -w user.max_user_namespaces=15000",
                            "user namespaces are disabled: 'user.max_user_namespaces' is 0");
                return true;
        }
        if (geteuid() != 0 && read_int(SYSCTL_AA_RESTRICT, &val) == 0 && val == 1) {
                verdict_set(v,
                            AA_FIX,
                            "AppArmor restricts unprivileged user namespaces "
                            "('kernel.apparmor_restrict_unprivileged_userns' is 1)");
                return true;
        }
        if (geteuid() != 0 && read_int(SYSCTL_UNPRIV_CLONE, &val) == 0 && val == 0) {
                verdict_set(v, "sysctl -w kernel.unprivileged_userns_clone=1",
                            "unprivileged user namespaces are disabled "
                            "('kernel.unprivileged_userns_clone' is 0)");
                return true;
        }
        return false;
}

static void explain_errno(struct verdict *v, int e)
{
        long max = -1;
        if (e == ENOSPC) {
                (void)read_int(SYSCTL_MAX_USERNS, &max);
                verdict_set(v, "raise it: sysctl -w user.max_user_namespaces=15000",
                            "the limit of user namespaces is reached "
                            "('user.max_user_namespaces' is %ld)", max);
        } else if (e == EUSERS) {
                verdict_set(v, "run bridle from a less deeply nested container",
                            "user namespaces are nested too deeply (the kernel allows 32 levels)");
        } else if (status_field("Seccomp") > 0) {
                verdict_set(v,
                            "run the container with a seccomp profile that allows unshare and "
                            "clone of user namespaces (e.g. --security-opt seccomp=unconfined)",
                            "a seccomp filter on this process (a container's?) refuses "
                            "unshare(CLONE_NEWUSER): %s", strerror(e));
        } else {
                verdict_set(v, "check CONFIG_USER_NS in the kernel and the container's policy",
                            "creating a user namespace failed: %s", strerror(e));
        }
}

static void explain_step2(struct verdict *v, int e)
{
        static const char *const knobs[] = {"mnt", "pid", "net", "ipc", "uts"};
        for (size_t i = 0; i < ELEMENTSOF(knobs); i++) {
                char path[64];
                long val = -1;
                (void)snprintf(path, sizeof(path), "/proc/sys/user/max_%s_namespaces", knobs[i]);
                if (read_int(path, &val) == 0 && val == 0) {
                        verdict_set(v, "sysctl -w user.max_<kind>_namespaces=15000",
                                    "'user.max_%s_namespaces' is 0", knobs[i]);
                        return;
                }
        }
        verdict_set(v, "check CONFIG_{NAMESPACES,PID_NS,NET_NS,IPC_NS,UTS_NS} and the container's "
                       "seccomp profile",
                    "creating mount, pid, net, ipc and uts namespaces in a user namespace "
                    "failed: %s", strerror(e));
}

/* 1 allowed, 0 forbidden (v says why), negative when the probe itself failed. */
static int userns_verdict(struct verdict *v)
{
        int r = probe_in_child(userns_child, NULL);
        if (r == 0)
                return 1;
        if (r > -1000)
                return r;
        int step = -r / 1000, e = -r % 1000;
        if (explain_policy(v))
                return 0;
        if (step == 1)
                explain_errno(v, e);
        else
                explain_step2(v, e);
        return 0;
}

int bridle_doctor_userns_allowed(bridle_error *err)
{
        struct verdict v = {{0}, {0}};
        int r = userns_verdict(&v);
        if (r < 0)
                return bridle__err(err, r, "probing user namespaces");
        if (r == 0 && err) {
                err->code = BRIDLE_E_FORBIDDEN;
                (void)snprintf(err->msg, sizeof(err->msg), "%s; fix: %s", v.reason, v.fix);
        }
        return r;
}

static void check_userns(bridle_doctor_check *c)
{
        struct verdict v = {{0}, {0}};
        int r = userns_verdict(&v);
        long max = -1;
        (void)read_int(SYSCTL_MAX_USERNS, &max);
        if (r == 1)
                set_check(c, "user namespaces", BRIDLE_DOCTOR_OK, NULL,
                          "user, mount, pid, net, ipc and uts namespaces can be created "
                          "(max_user_namespaces %ld)", max);
        else if (r == 0)
                set_check(c, "user namespaces", BRIDLE_DOCTOR_MISSING, v.fix, "%s", v.reason);
        else
                set_check(c, "user namespaces", BRIDLE_DOCTOR_MISSING,
                          "run bridle doctor again; check fork limits",
                          "the probe failed: %s", strerror(-r));
}

static void check_apparmor(bridle_doctor_check *c)
{
        long val = -1;
        int r = read_int(SYSCTL_AA_RESTRICT, &val);
        const char *name = "apparmor userns";
        if (r < 0 || val == 0) {
                set_check(c, name, BRIDLE_DOCTOR_OK, NULL, "%s",
                          r < 0 ? "no AppArmor restriction on user namespaces"
                                : "'kernel.apparmor_restrict_unprivileged_userns' is 0");
                return;
        }
        set_check(c, name, BRIDLE_DOCTOR_WARN,
                  AA_FIX,
                  "AppArmor restricts unprivileged user namespaces to profiles that allow "
                  "them (root is exempt)");
}

/* ---- Landlock, seccomp -------------------------------------------------------- */

static void check_landlock(bridle_doctor_check *c)
{
        int abi = bridle__landlock_abi();
        if (abi <= 0) {
                set_check(c, "landlock", BRIDLE_DOCTOR_MISSING,
                          "use a kernel with CONFIG_SECURITY_LANDLOCK=y and 'landlock' in the "
                          "lsm= boot parameter",
                          "the kernel has no Landlock: namespaces are the only filesystem wall");
                return;
        }
        int status = abi >= 6 ? BRIDLE_DOCTOR_OK : BRIDLE_DOCTOR_WARN;
        set_check(c, "landlock", status, abi >= 6 ? NULL : "use Linux 6.12 or newer (ABI 6)",
                  "ABI %d: filesystem rules%s%s%s", abi, abi >= 3 ? ", truncate" : "",
                  abi >= 4 ? ", tcp bind/connect" : "",
                  abi >= 6 ? ", abstract unix socket and signal scoping" : "");
}

static void check_seccomp(bridle_doctor_check *c)
{
        int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
        if (mode < 0 && errno == EINVAL) {
                set_check(c, "seccomp", BRIDLE_DOCTOR_MISSING,
                          "use a kernel with CONFIG_SECCOMP_FILTER=y",
                          "the kernel has no seccomp");
                return;
        }
        long filters = status_field("Seccomp_filters");
        if (status_field("Seccomp") == 2 || mode == 2)
                set_check(c, "seccomp", BRIDLE_DOCTOR_WARN, NULL,
                          "this process already runs under %ld seccomp filter(s) (a container?); "
                          "bridle's filter stacks on top", filters);
        else
                set_check(c, "seccomp", BRIDLE_DOCTOR_OK, NULL, "filter mode available");
}

/* ---- cgroups ------------------------------------------------------------------ */

static bool has_word(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = strstr(list, word); p; p = strstr(p + 1, word))
                if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

static bool v1_usable(const char *ctrl)
{
        char path[64];
        struct statfs sf;
        (void)snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", ctrl);
        return statfs(path, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC &&
               access(path, W_OK) == 0;
}

static void check_cgroup_v2(bridle_doctor_check *c)
{
        static const char *const paths[] = {"/sys/fs/cgroup/cgroup.controllers",
                                            "/sys/fs/cgroup/unified/cgroup.controllers"};
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                _cleanup_free_ char *s = NULL;
                if (bridle__read_file(AT_FDCWD, paths[i], 4096, &s, NULL) < 0)
                        continue;
                s[strcspn(s, "\n")] = '\0';
                bool ok = has_word(s, "memory") && has_word(s, "pids");
                set_check(c, "cgroup v2", ok ? BRIDLE_DOCTOR_OK : BRIDLE_DOCTOR_WARN,
                          ok ? NULL : "boot with systemd.unified_cgroup_hierarchy=1 (or use v1)",
                          "'%s': controllers '%s'%s", paths[i], s,
                          ok ? "" : " (no memory and pids: v1 is used if available)");
                return;
        }
        set_check(c, "cgroup v2", BRIDLE_DOCTOR_WARN, "mount cgroup2 on /sys/fs/cgroup",
                  "no cgroup v2 hierarchy (v1 is used if available)");
}

static void check_cgroup_v1(bridle_doctor_check *c)
{
        bool mem = v1_usable("memory"), pids = v1_usable("pids");
        if (mem && pids) {
                set_check(c, "cgroup v1", BRIDLE_DOCTOR_OK, NULL,
                          "memory and pids hierarchies mounted and writable");
                return;
        }
        set_check(c, "cgroup v1", BRIDLE_DOCTOR_WARN,
                  "mount writable memory and pids hierarchies, or use cgroup v2 with both "
                  "controllers",
                  "memory: %s, pids: %s (limits fall back to rlimits)",
                  mem ? "usable" : "missing or read-only", pids ? "usable" : "missing or read-only");
}

/* ---- idmapped mounts ------------------------------------------------------------ */

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define DR_OPEN_TREE_CLONE 1u
#define DR_OPEN_TREE_CLOEXEC O_CLOEXEC
#define DR_AT_RECURSIVE 0x8000
#define DR_MOUNT_ATTR_IDMAP 0x00100000ULL

struct dr_mount_attr {
        uint64_t attr_set, attr_clr, propagation, userns_fd;
};

/* Async-signal-safe: append the decimal form of v to buf (cap >= 12 left). */
static size_t fmt_uint(char *buf, unsigned v)
{
        char digits[12];
        size_t n = 0, len = 0;
        do
                digits[n++] = (char)('0' + v % 10);
        while ((v /= 10) != 0 && n < sizeof(digits));
        while (n > 0)
                buf[len++] = digits[--n];
        return len;
}

/* "0 <id> 1\n": root in the new namespace is id outside. */
static size_t fmt_map(char *buf, unsigned id)
{
        size_t len = 0;
        buf[len++] = '0';
        buf[len++] = ' ';
        len += fmt_uint(buf + len, id);
        buf[len++] = ' ';
        buf[len++] = '1';
        buf[len++] = '\n';
        return len;
}

static int write_proc(const char *path, const char *s, size_t n)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write(fd, s, n) == (ssize_t)n ? 0 : -errno;
        (void)close(fd);
        return r;
}

/* "/proc/<pid>/<file>", or "/proc/self/<file>" when pid is 0 (cap >= 64). */
static void proc_path(char *buf, pid_t pid, const char *file)
{
        size_t n = 0;
        for (const char *p = pid > 0 ? "/proc/" : "/proc/self/"; *p; p++)
                buf[n++] = *p;
        if (pid > 0) {
                n += fmt_uint(buf + n, (unsigned)pid);
                buf[n++] = '/';
        }
        for (const char *p = file; *p && n < 63; p++)
                buf[n++] = *p;
        buf[n] = '\0';
}

/* Write uid_map and gid_map of process pid ("self" when 0) mapping root to uid/gid. */
static int write_maps(pid_t pid, unsigned uid, unsigned gid)
{
        char path[64], map[32];
        static const char *const files[] = {"setgroups", "uid_map", "gid_map"};
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                size_t n = i == 0 ? 4 : fmt_map(map, i == 1 ? uid : gid);
                proc_path(path, pid, files[i]);
                int r = write_proc(path, i == 0 ? "deny" : map, n);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Enter new user and mount namespaces where root is our own uid/gid. */
static int enter_userns(void)
{
        unsigned uid = geteuid(), gid = getegid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return -errno;
        return write_maps(0, uid, gid);
}

/* A user namespace fd mapping root to 'nobody', made by a helper child that we
 * (root outside) configure; the helper exits once we hold the fd. */
static int userns_fd_nobody(void)
{
        /* Runs in a probe child that exits right after: fds are not tidied up. */
        int go[2], ready[2];
        char c = 1;
        if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void)close(go[1]);
                c = unshare(CLONE_NEWUSER) == 0 ? 0 : 1;
                (void)!write(ready[1], &c, 1);
                (void)!read(go[0], &c, 1); /* EOF when the parent is done */
                _exit(0);
        }
        (void)close(ready[1]);
        (void)close(go[0]);
        int fd = read(ready[0], &c, 1) == 1 && c == 0 ? 0 : -EOWNERDEAD;
        if (fd == 0)
                fd = write_maps(pid, 65534, 65534);
        if (fd == 0) {
                char path[64];
                proc_path(path, pid, "ns/user");
                fd = open(path, O_RDONLY | O_CLOEXEC);
                fd = fd < 0 ? -errno : fd;
        }
        (void)close(go[1]);
        (void)waitpid(pid, NULL, 0);
        return fd;
}

static int idmap_child(void *arg)
{
        const char *dir = arg;
        int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir,
                                DR_OPEN_TREE_CLONE | DR_OPEN_TREE_CLOEXEC | DR_AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        int userns = userns_fd_nobody();
        if (userns < 0)
                return userns;
        struct dr_mount_attr attr = {.attr_set = DR_MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return -errno;
        return 0;
}

static void check_idmap(bridle_doctor_check *c, const char *tmp)
{
        const char *name = "idmapped mounts";
        if (geteuid() != 0) {
                set_check(c, name, BRIDLE_DOCTOR_WARN, "run 'bridle doctor' as root to test",
                          "needs root to test");
                return;
        }
        int r = probe_in_child(idmap_child, (void *)tmp);
        /* Name the parent (TMPDIR): the probe directory is gone afterwards. */
        int len = (int)(strrchr(tmp, '/') - tmp);
        if (r == 0)
                set_check(c, name, BRIDLE_DOCTOR_OK, NULL, "supported on the filesystem of '%.*s'",
                          len, tmp);
        else
                set_check(c, name, BRIDLE_DOCTOR_WARN,
                          "use Linux 5.12+ and a filesystem with idmap support for workspaces",
                          "not available on the filesystem of '%.*s': %s", len, tmp,
                          r == -EOWNERDEAD ? "no user namespace"
                          : r == -EPERM    ? "needs root in the initial user namespace"
                                           : strerror(-r));
}

/* ---- overlayfs ------------------------------------------------------------------ */

static int overlay_child(void *arg)
{
        const char *dir = arg;
        int r = enter_userns();
        if (r < 0)
                return -EOWNERDEAD;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700") < 0 || chdir(dir) < 0)
                return -errno;
        static const char *const dirs[] = {"l", "u", "w", "m"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (mkdir(dirs[i], 0700) < 0)
                        return -errno;
        if (mount("overlay", "m", "overlay", 0, "lowerdir=l,upperdir=u,workdir=w") < 0)
                return -errno;
        return 0;
}

static bool overlay_listed(void)
{
        _cleanup_free_ char *s = NULL;
        if (bridle__read_file(AT_FDCWD, "/proc/filesystems", 1 << 16, &s, NULL) < 0)
                return false;
        return strstr(s, "\toverlay\n") != NULL;
}

static void check_overlay(bridle_doctor_check *c, const char *tmp)
{
        const char *name = "overlayfs";
        bool listed = overlay_listed();
        int r = probe_in_child(overlay_child, (void *)tmp);
        if (r == 0) {
                set_check(c, name, BRIDLE_DOCTOR_OK, NULL, "mountable in a user namespace");
        } else if (!listed && r != -EOWNERDEAD) {
                set_check(c, name, BRIDLE_DOCTOR_MISSING, "modprobe overlay",
                          "overlay is not in /proc/filesystems: %s", strerror(-r));
        } else {
                set_check(c, name, BRIDLE_DOCTOR_WARN,
                          r == -EOWNERDEAD ? "allow user namespaces (see 'user namespaces')"
                                           : "use Linux 5.11+ (overlayfs in user namespaces); "
                                             "workspaces are then copied instead of layered",
                          "%s, but mounting it in a user namespace failed: %s",
                          listed ? "the kernel has it" : "not listed",
                          r == -EOWNERDEAD ? "no user namespace" : strerror(-r));
        }
}

/* ---- all checks ----------------------------------------------------------------- */

static char *make_tmpdir(void)
{
        const char *t = getenv("TMPDIR");
        char *p = NULL;
        if (asprintf(&p, "%s/bridle-doctor-XXXXXX", t && *t == '/' ? t : "/tmp") < 0)
                return NULL;
        if (!mkdtemp(p)) {
                free(p);
                return NULL;
        }
        return p;
}

static void rm_tmpdir(char *dir)
{
        if (!dir)
                return;
        static const char *const subs[] = {"l", "u", "w", "m"};
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                char path[4200];
                (void)snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
                (void)rmdir(path); /* only if the tmpfs did not cover them */
        }
        (void)rmdir(dir);
        free(dir);
}

int bridle_doctor_run(bridle_doctor_check *checks, size_t max, bridle_error *err)
{
        if (!checks && max > 0)
                return bridle__err(err, -EINVAL, "no array for the checks");
        char *tmp = make_tmpdir();
        if (!tmp)
                return bridle__err(err, -errno, "creating a temporary directory");

        bridle_doctor_check all[BRIDLE_DOCTOR_MAX_CHECKS];
        size_t n = 0;
        check_userns(&all[n++]);
        check_apparmor(&all[n++]);
        check_landlock(&all[n++]);
        check_seccomp(&all[n++]);
        check_cgroup_v2(&all[n++]);
        check_cgroup_v1(&all[n++]);
        check_idmap(&all[n++], tmp);
        check_overlay(&all[n++], tmp);
        rm_tmpdir(tmp);

        size_t k = n < max ? n : max;
        if (k > 0)
                memcpy(checks, all, k * sizeof(*checks));
        return (int)k;
}
