/* SPDX-License-Identifier: MIT */
/*
 * The sandboxed command: forked by init, walled in, then exec'd.
 * Order: new session, a nested user+mount namespace (which locks every mount
 * made so far: no remount, no umount from inside), cwd, rlimits, securebits and
 * every capability dropped, no_new_privs, Landlock, seccomp, close fds, exec.
 * Failures are reported to init over a close-on-exec pipe.
 *
 * A living sandbox's commands come from its zygote (zygote.c) instead: the
 * walls every command shares are built once there (init_walls_apply) and each
 * child adds only what is its own (init_command_walled).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/init/init.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"

struct child_report {
        int32_t is_exec;
        int32_t err; /* -errno */
        char step[120];
};

_Noreturn void init_command_fail(int fd, bool is_exec, int err, const char *step)
{
        struct child_report rep = { .is_exec = is_exec, .err = err };
        (void)snprintf(rep.step, sizeof(rep.step), "%s", step);
        (void)!write(fd, &rep, sizeof(rep));
        _exit(is_exec ? (err == -ENOENT ? 127 : 126) : 125);
}

static int write_str(const char *path, const char *s)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, s, strlen(s));
        int e = n < 0 ? -errno : 0;
        close(fd);
        return e;
}

/* A nested user namespace owned by the sandbox's root: mounts copied into the
 * new mount namespace become locked. */
static int lock_mounts(void)
{
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return -errno;
        int r = write_str("/proc/self/setgroups", "deny");
        if (r < 0)
                return r;
        if ((r = write_str("/proc/self/uid_map", "0 0 1")) < 0)
                return r;
        return write_str("/proc/self/gid_map", "0 0 1");
}

static int drop_caps(void)
{
        if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED,
                  0, 0, 0) < 0 &&
            errno != EPERM)
                return -errno;
        for (int cap = 0; cap <= 63; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
                        if (errno == EINVAL)
                                break; /* past the kernel's last capability */
                        if (errno != EPERM)
                                return -errno;
                }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[2];
        memset(d, 0, sizeof(d));
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

static int set_rlimits(const struct init_state *st)
{
        for (size_t i = 0; i < st->n_rlimits; i++) {
                struct rlimit rl = { st->rlimits[i].val, st->rlimits[i].val };
                if (setrlimit((int)st->rlimits[i].res, &rl) < 0)
                        return -errno;
        }
        return 0;
}

static int apply_landlock(const struct init_state *st)
{
        struct bridle__ll_rule rules[INIT_MAX_RULES];
        for (size_t i = 0; i < st->n_rules; i++) {
                rules[i].path = st->rules[i].path;
                rules[i].access = st->rules[i].access;
        }
        unsigned flags = st->mode == 1 && st->net == 0 ? BRIDLE__LL_NO_TCP : 0;
        int r = bridle__landlock_apply(rules, st->n_rules, flags);
        /* Landlock is the second wall in namespaces mode: a kernel without it
         * still gets the first. In landlock mode it is the wall. */
        if (r == -EOPNOTSUPP && st->mode == 0)
                return 0;
        return r;
}

static const char *env_get(char *const *envp, const char *name)
{
        size_t n = strlen(name);
        for (; envp && *envp; envp++)
                if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
                        return *envp + n + 1;
        return NULL;
}

/* execvpe() with the sandbox's PATH, not init's. Returns -errno. */
static int exec_path(char *const *argv, char *const *envp)
{
        const char *file = argv[0];
        if (strchr(file, '/')) {
                execve(file, argv, envp);
                return -errno;
        }
        const char *path = env_get(envp, "PATH");
        if (!path)
                path = "/usr/bin:/bin";
        int saw_eacces = 0, last = -ENOENT;
        char buf[BRIDLE__INIT_MAX_STR + 256];
        for (const char *p = path;; p++) {
                const char *end = strchrnul(p, ':');
                int n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - p), p, file);
                if (n > 0 && (size_t)n < sizeof(buf)) {
                        execve(end == p ? file : buf, argv, envp);
                        if (errno == EACCES)
                                saw_eacces = 1;
                        else if (errno != ENOENT && errno != ENOTDIR)
                                return -errno;
                }
                if (!*end)
                        break;
                p = end;
        }
        return saw_eacces ? -EACCES : last;
}

/* fds 0-2 from st->stdio (where set), a new session. */
static void child_stdio(struct init_state *st, int errfd)
{
        for (int i = 0; i < 3; i++) {
                if (st->stdio[i] < 0)
                        continue;
                /* dup2 onto itself would keep close-on-exec */
                if (st->stdio[i] == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(st->stdio[i], i) < 0)
                        init_command_fail(errfd, false, -errno, "set up stdio");
        }
        if (setsid() < 0)
                init_command_fail(errfd, false, -errno, "setsid");
}

/* Capabilities, no_new_privs, Landlock, seccomp: the last walls, in this order. */
static int walls_tail(struct init_state *st, const char **ret_step)
{
        int r;
        if ((r = drop_caps()) < 0)
                return *ret_step = "drop capabilities", r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return *ret_step = "no_new_privs", -errno;
        if ((r = apply_landlock(st)) < 0)
                return *ret_step = "landlock", r;
        const struct sock_filter *f = st->mode == 0 ? bridle__seccomp_ns : bridle__seccomp_landlock;
        size_t n = st->mode == 0 ? bridle__seccomp_ns_len : bridle__seccomp_landlock_len;
        if ((r = bridle__seccomp_install(f, n)) < 0)
                return *ret_step = "seccomp", r;
        return 0;
}

int init_walls_apply(struct init_state *st, const char **ret_step)
{
        int r;
        if (st->mode == 0 && (r = lock_mounts()) < 0)
                return *ret_step = "nested user namespace", r;
        return walls_tail(st, ret_step);
}

/* Every fd but 0-2 and errfd (close-on-exec) goes; then the builtin or exec. */
static _Noreturn void child_exec(struct init_state *st, int errfd)
{
        if (syscall(SYS_close_range, 3, errfd - 1, 0) < 0 ||
            syscall(SYS_close_range, errfd + 1, ~0U, 0) < 0)
                init_command_fail(errfd, false, -errno, "close fds");
        if (st->builtin) {
                close(errfd); /* no exec to report: the status tells */
                _exit(st->builtin(st->argv, st->builtin_data, st->builtin_len));
        }
        int r = exec_path(st->argv, st->envp);
        init_command_fail(errfd, true, r, st->argv[0]);
}

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

/* A Landlock domain of the command's own that handles no access right but
 * scopes signals and abstract unix sockets (ABI 6): nothing outside it, the
 * zygote and other commands included, can be signalled, ptraced or reached
 * on an abstract socket from inside. */
static int scope_domain(void)
{
        struct {
                uint64_t fs, net, scoped;
        } attr = { 0, 0, 3 /* ABSTRACT_UNIX_SOCKET | SIGNAL */ };
        long fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
        if (fd < 0)
                return -errno;
        int r = syscall(__NR_landlock_restrict_self, (int)fd, 0) < 0 ? -errno : 0;
        close((int)fd);
        return r;
}

_Noreturn void init_command_walled(struct init_state *st, int errfd)
{
        int r;
        child_stdio(st, errfd);
        if (st->cwd[0] && chdir(st->cwd) < 0)
                init_command_fail(errfd, false, -errno, "chdir to the working directory");
        if ((r = set_rlimits(st)) < 0)
                init_command_fail(errfd, false, r, "setrlimit");
        if ((r = scope_domain()) < 0)
                init_command_fail(errfd, false, r, "landlock scope");
        child_exec(st, errfd);
}

static _Noreturn void child_main(struct init_state *st, int errfd)
{
        int r;
        const char *step = NULL;
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* serve mode blocks SIGCHLD for its signalfd */
        child_stdio(st, errfd);
        if (st->mode == 0 && (r = lock_mounts()) < 0)
                init_command_fail(errfd, false, r, "nested user namespace");
        if (st->cwd[0] && chdir(st->cwd) < 0)
                init_command_fail(errfd, false, -errno, "chdir to the working directory");
        if ((r = set_rlimits(st)) < 0)
                init_command_fail(errfd, false, r, "setrlimit");
        if ((r = walls_tail(st, &step)) < 0)
                init_command_fail(errfd, false, r, step);
        child_exec(st, errfd);
}

int init_command_start(struct init_state *st, int *ret_exec_err_fd)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int e = -errno;
                close(p[0]);
                close(p[1]);
                return e;
        }
        if (pid == 0) {
                close(p[0]);
                /* Reset what init changed for itself. */
                signal(SIGPIPE, SIG_DFL);
                child_main(st, p[1]);
        }
        close(p[1]);
        *ret_exec_err_fd = p[0];
        return pid;
}

/* What the child reported: 0 when exec succeeded (EOF). */
int init_command_report(int fd, bool *ret_is_exec, int *ret_err, char *step, size_t cap)
{
        struct child_report rep;
        ssize_t n;
        do
                n = read(fd, &rep, sizeof(rep));
        while (n < 0 && errno == EINTR);
        close(fd);
        if (n != (ssize_t)sizeof(rep))
                return 0;
        *ret_is_exec = rep.is_exec;
        *ret_err = rep.err;
        rep.step[sizeof(rep.step) - 1] = '\0';
        (void)snprintf(step, cap, "%s", rep.step);
        return 1;
}
