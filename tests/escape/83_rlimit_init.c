/* SPDX-License-Identifier: MIT */
/* Lower the sandbox init's rlimits (prlimit64 on pid 1) or its priority
 * (setpriority on pid 1, or on every process of the uid). The command runs
 * under the same uid as init, so only the seccomp filter stops this: init's
 * limits and nice value must be as they were. The command's own limits and
 * priority may still change. */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "attack.h"

int main(void)
{
        struct rlimit before = { 0 }, lowered = { 1, 1 }, after = { 0 };
        (void)syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &before);
        long r1 = syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, &lowered, NULL);
        (void)syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &after);
        errno = 0;
        int nice_before = getpriority(PRIO_PROCESS, 1);
        int r2 = setpriority(PRIO_PROCESS, 1, 19);
        int r3 = setpriority(PRIO_USER, 0, 19);
        int nice_after = getpriority(PRIO_PROCESS, 1);
        if (after.rlim_cur != before.rlim_cur)
                note_hole("init's NOFILE went from %lu to %lu (prlimit64=%ld)", (unsigned long)before.rlim_cur,
                          (unsigned long)after.rlim_cur, r1);
        else if (nice_after != nice_before)
                note_hole("init's nice went from %d to %d (setpriority=%d/%d)", nice_before, nice_after, r2, r3);
        else
                note_ok("prlimit64(1)=%ld setpriority(pid 1)=%d setpriority(user)=%d; init unchanged", r1, r2, r3);
        struct rlimit own = { 64, 64 };
        if (setrlimit(RLIMIT_NOFILE, &own) != 0 || setpriority(PRIO_PROCESS, 0, 5) != 0)
                note_hole("the command cannot change its own limits or priority (%s)", strerror(errno));
        attack_finish();
}
