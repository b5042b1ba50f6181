/* SPDX-License-Identifier: MIT */
/* clone(2) with CLONE_NEWUSER and other namespace flags, through the raw
 * syscall so that libc wrappers cannot hide anything. */
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "attack.h"

static void try_clone(unsigned long flags, const char *name)
{
        errno = 0;
        long r = syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
        if (r == 0)
                _exit(0);
        int e = errno;
        if (r > 0)
                waitpid((pid_t)r, NULL, 0);
        char what[64];
        snprintf(what, sizeof(what), "clone(%s)", name);
        expect_fail_(what, r, e, (const int[]){ EPERM, 0 });
}

int main(void)
{
        try_clone(CLONE_NEWUSER, "CLONE_NEWUSER");
        try_clone(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID, "NEWUSER|NEWNS|NEWPID");
        try_clone(CLONE_NEWNET, "CLONE_NEWNET");
        try_clone(CLONE_NEWNS, "CLONE_NEWNS");
        /* high bits above the 32-bit flag word must not smuggle anything */
        try_clone((1UL << 32) | CLONE_NEWUSER, "1<<32|CLONE_NEWUSER");
        attack_finish();
}
