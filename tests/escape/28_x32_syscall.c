/* SPDX-License-Identifier: MIT */
/* x32 ABI: the same syscalls with bit 30 set in the number. A filter that
 * only matches plain x86_64 numbers would let these through. Refusal may be
 * ENOSYS/EPERM or a seccomp kill (each probe runs in a child). */
#include <sched.h>
#include "attack.h"

#define X32 0x40000000L

int main(void)
{
        EXPECT_SYSCALL_FAIL("x32 unshare(CLONE_NEWUSER)", true, X32 | SYS_unshare, CLONE_NEWUSER, 0, 0, 0,
                            ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("x32 mount", true, X32 | SYS_mount, "none", "/tmp", "tmpfs", 0, ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("x32 keyctl", true, X32 | SYS_keyctl, 0, -3, 0, 0, ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("x32 ptrace(521)", true, X32 | 521, 16, 1, 0, 0, ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("x32 bpf", true, X32 | SYS_bpf, 0, NULL, 0, 0, ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("x32 io_uring_setup", true, X32 | SYS_io_uring_setup, 4, NULL, 0, 0, ENOSYS, EPERM);
        attack_finish();
}
