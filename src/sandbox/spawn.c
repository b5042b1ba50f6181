/* SPDX-License-Identifier: MIT */
/*
 * The child between clone3 and exec runs only raw syscalls (it is a copy of
 * a process that may have had threads): dup2 its fds into place, wait for the
 * go byte, take uid 0 in its user namespace, exec bridle-init from the fd
 * opened before the clone. The harness's memory is gone at that exec.
 */
#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/initproto.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fd.h"

/* Host ids for the sandbox's root when the caller is root: an unprivileged id
 * no account uses. (An ordinary user maps its own id, which is all it may.) */
#define SANDBOX_HOST_ID 100000

/* No CLONE_NEWNET here: init makes the network namespace in parallel with
 * the root filesystem (init/net.c) and joins it before the command starts.
 * No CLONE_NEWCGROUP either: init unshares it once the harness has moved it
 * into its cgroup, so the namespace is rooted there (cgroup v1 has no
 * CLONE_INTO_CGROUP). */
#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)

void bridle__spawn_host_ids(uid_t *ret_uid, gid_t *ret_gid)
{
        *ret_uid = geteuid() == 0 ? SANDBOX_HOST_ID : geteuid();
        *ret_gid = geteuid() == 0 ? SANDBOX_HOST_ID : getegid();
}

static _Noreturn void child_fail(int sock, int err, const char *what)
{
        struct bridle__init_reply r;
        memset(&r, 0, sizeof(r));
        r.type = BRIDLE__REPLY_SETUP_ERROR;
        r.a = err;
        for (size_t i = 0; i < sizeof(r.text) - 1 && what[i]; i++)
                r.text[i] = what[i];
        (void)send(sock, &r, sizeof(r), MSG_NOSIGNAL);
        _exit(125);
}

static _Noreturn void child_main(const struct bridle__spawn *sp, pid_t parent, int go_r)
{
        static char *const argv[] = { "bridle-init", NULL };
        static char *const envp[] = { NULL };
        int sock = sp->sock;
        /* In a new pid namespace getppid() is 0; a dead parent shows as EOF on go_r. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || (!sp->namespaces && getppid() != parent))
                _exit(125);
        /* Move everything we keep above 3 first so dup2 never clobbers a source. */
        int keep[5] = { sp->stdio[0], sp->stdio[1], sp->stdio[2], sock, sp->init_fd };
        for (int i = 0; i < 5; i++) {
                int fd = (int)fcntl(keep[i], F_DUPFD_CLOEXEC, 10);
                if (fd < 0)
                        _exit(125);
                keep[i] = fd;
        }
        sock = keep[3];
        char c;
        ssize_t n;
        do
                n = read(go_r, &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(125); /* the harness gave up */
        for (int i = 0; i < 4; i++)
                if (dup2(keep[i], i) < 0)
                        child_fail(sock, -errno, "dup2");
        sock = 3;
        if (sp->namespaces) {
                if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0)
                        child_fail(sock, -errno, "become root in the user namespace");
        }
        if (syscall(SYS_close_range, 4, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                child_fail(sock, -errno, "close fds");
        syscall(SYS_execveat, keep[4], "", argv, envp, AT_EMPTY_PATH);
        child_fail(sock, -errno, "exec bridle-init");
}

int bridle__spawn_start(struct bridle__spawn *sp, bridle_error *err)
{
        int go[2];
        if (pipe2(go, O_CLOEXEC) < 0)
                return bridle__err(err, -errno, "pipe");
        int pidfd = -EBADF;
        pid_t parent = getpid();
        struct clone_args args;
        memset(&args, 0, sizeof(args));
        args.flags = CLONE_PIDFD | (sp->namespaces ? NS_FLAGS : 0);
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        long pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0) {
                int e = -errno;
                bridle__close(go[0]);
                bridle__close(go[1]);
                return bridle__err(err, e, "clone3 into new namespaces");
        }
        if (pid == 0) {
                child_main(sp, parent, go[0]);
        }
        bridle__close(go[0]);
        sp->pid = (pid_t)pid;
        sp->pidfd = pidfd;
        sp->go_fd = go[1];
        return 0;
}

static int write_proc(pid_t pid, const char *file, const char *s, bridle_error *err)
{
        char p[64];
        (void)snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
        int r = bridle__write_file(AT_FDCWD, p, s);
        if (r < 0)
                return bridle__err(err, r, "write '%s'", p);
        return 0;
}

int bridle__spawn_map(const struct bridle__spawn *sp, uid_t uid, gid_t gid, bridle_error *err)
{
        char m[64];
        int r = write_proc(sp->pid, "setgroups", "deny", err);
        if (r < 0)
                return r;
        (void)snprintf(m, sizeof(m), "0 %u 1\n", (unsigned)uid);
        if ((r = write_proc(sp->pid, "uid_map", m, err)) < 0)
                return r;
        (void)snprintf(m, sizeof(m), "0 %u 1\n", (unsigned)gid);
        return write_proc(sp->pid, "gid_map", m, err);
}

int bridle__spawn_go(struct bridle__spawn *sp, bridle_error *err)
{
        int r = bridle__write_full(sp->go_fd, "g", 1);
        bridle__close(sp->go_fd);
        sp->go_fd = -EBADF;
        if (r < 0)
                return bridle__err(err, r, "start the sandbox");
        return 0;
}
