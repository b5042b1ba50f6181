/* SPDX-License-Identifier: MIT */
/*
 * The sandbox's network namespace, made in parallel with the root filesystem.
 * Creating a network namespace is the slowest single step of a sandbox's start
 * (the kernel sets up every per-namespace network subsystem), and it runs in
 * the calling task. So init starts a helper task that shares its memory and
 * fd table (CLONE_VM | CLONE_FILES): the helper unshares the namespace on the
 * other CPU while init mounts, brings lo up if asked, leaves an fd to the
 * namespace in the shared table and exits. Init reaps it and joins with setns().
 * The helper makes raw system calls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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

static int helper_main(void *arg)
{
        struct init_net *n = arg;
        int r = 0;
        if (unshare(CLONE_NEWNET) < 0)
                r = -errno;
        else if (n->net == 1 ||
                 n->net == 2) /* loopback; allowlist: the egress bridge listens on lo */
                r = loopback_up();
        if (r == 0) {
                n->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (n->fd < 0)
                        r = -errno;
        }
        n->result = r; /* read by init only after it has reaped us */
        return 0;
}

static char helper_stack[64 * 1024] __attribute__((aligned(16)));

int init_net_start(struct init_net *n, uint32_t net)
{
        n->net = net;
        n->fd = -1;
        n->result = -EIO;
        n->pid = clone(helper_main, helper_stack + sizeof(helper_stack),
                       CLONE_VM | CLONE_FILES | SIGCHLD, n);
        return n->pid < 0 ? -errno : 0;
}

int init_net_join(struct init_net *n)
{
        int st;
        while (waitpid(n->pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        int r = n->result;
        if (r == 0 && setns(n->fd, CLONE_NEWNET) < 0)
                r = -errno;
        if (n->fd >= 0)
                close(n->fd);
        n->fd = -1;
        return r;
}
