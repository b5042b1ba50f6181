/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's network namespace, made in parallel with the root filesystem.
 * Creating a network namespace is the slowest single step of a sandbox's start
 * (the kernel sets up every per-namespace network subsystem), and it runs in
 * the calling task. So init forks a helper that unshares it (on the other
 * CPU, while init mounts), brings lo up if asked, and waits; init then joins
 * it with setns() on the helper's pidfd before starting the command.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/init/init.h"

static int loopback_up(void)
{
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        strcpy(ifr.ifr_name, "lo");
        int r = 0;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                r = -errno;
        close(fd);
        return r;
}

struct helper_args {
        uint32_t net;
        int ready_w, done_r;
        int ready_r, done_w; /* init's ends: closed in the helper's fd table */
};

/* Runs on its own stack in init's memory (CLONE_VM): raw syscalls only. */
static int helper_main(void *arg)
{
        const struct helper_args *a = arg;
        uint32_t net = a->net;
        int ready_w = a->ready_w, done_r = a->done_r;
        int32_t r = 0;
        close(a->ready_r);
        close(a->done_w);
        if (unshare(CLONE_NEWNET) < 0)
                r = -errno;
        else if (net == 1)
                r = loopback_up();
        (void)!write(ready_w, &r, sizeof(r));
        char c;
        while (read(done_r, &c, 1) < 0 && errno == EINTR)
                ;
        _exit(0);
}

/* No page tables to copy: the helper shares init's memory until it exits. */
static char helper_stack[64 * 1024] __attribute__((aligned(16)));
static struct helper_args helper_args;

int init_net_start(struct init_net *n, uint32_t net)
{
        int ready[2], done[2];
        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(done, O_CLOEXEC) < 0) {
                int e = -errno;
                close(ready[0]);
                close(ready[1]);
                return e;
        }
        helper_args = (struct helper_args){ net, ready[1], done[0], ready[0], done[1] };
        pid_t pid = clone(helper_main, helper_stack + sizeof(helper_stack), CLONE_VM | SIGCHLD,
                          &helper_args);
        if (pid < 0) {
                int e = -errno;
                close(ready[0]);
                close(ready[1]);
                close(done[0]);
                close(done[1]);
                return e;
        }
        /* CLONE_VM without CLONE_FILES: the helper has its own fd table and
         * closes init's ends in it; init closes the helper's ends here. */
        close(ready[1]);
        close(done[0]);
        n->pid = pid;
        n->ready_r = ready[0];
        n->done_w = done[1];
        n->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        return n->pidfd < 0 ? -errno : 0;
}

int init_net_join(struct init_net *n)
{
        int32_t r = -EIO;
        ssize_t k;
        do
                k = read(n->ready_r, &r, sizeof(r));
        while (k < 0 && errno == EINTR);
        if (k != (ssize_t)sizeof(r))
                r = -EIO;
        if (r == 0 && setns(n->pidfd, CLONE_NEWNET) < 0)
                r = -errno;
        close(n->ready_r);
        close(n->done_w); /* the helper exits now: reap it so the command never sees it */
        while (waitpid(n->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        close(n->pidfd);
        n->ready_r = n->done_w = n->pidfd = -1;
        return r;
}
