/* SPDX-License-Identifier: MIT */
/* clone3 keeps its flags in memory where seccomp cannot see them; the
 * filter must refuse clone3 altogether (ENOSYS makes libc fall back to
 * clone) or the kernel must refuse the namespaces. */
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "attack.h"

static void try_clone3(unsigned long long flags, const char *name)
{
        struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
        errno = 0;
        long r = syscall(SYS_clone3, &args, sizeof(args));
        if (r == 0)
                _exit(0);
        int e = errno;
        if (r > 0)
                waitpid((pid_t)r, NULL, 0);
        char what[64];
        snprintf(what, sizeof(what), "clone3(%s)", name);
        expect_fail_(what, r, e, (const int[]){ ENOSYS, EPERM, 0 });
}

int main(void)
{
        try_clone3(CLONE_NEWUSER, "CLONE_NEWUSER");
        try_clone3(CLONE_NEWNS | CLONE_NEWUSER, "NEWNS|NEWUSER");
        try_clone3(CLONE_NEWNET, "CLONE_NEWNET");
        try_clone3(CLONE_NEWPID, "CLONE_NEWPID");
        try_clone3(CLONE_INTO_CGROUP, "CLONE_INTO_CGROUP");
        attack_finish();
}
