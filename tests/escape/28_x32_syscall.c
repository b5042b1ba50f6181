/* SPDX-License-Identifier: MIT */
/* x32 ABI: the same syscalls with bit 30 set in the number. A filter that
 * only matches plain x86_64 numbers would let these through. */
#include <sched.h>
#include <sys/syscall.h>
#include "attack.h"

#define X32 0x40000000L

int main(void)
{
        EXPECT_FAIL("x32 unshare(CLONE_NEWUSER)", syscall(X32 | SYS_unshare, CLONE_NEWUSER), ENOSYS, EPERM);
        EXPECT_FAIL("x32 mount", syscall(X32 | SYS_mount, "none", "/tmp", "tmpfs", 0, NULL), ENOSYS, EPERM);
        EXPECT_FAIL("x32 keyctl", syscall(X32 | SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0), ENOSYS, EPERM);
        EXPECT_FAIL("x32 ptrace(521)", syscall(X32 | 521, 16 /* ATTACH */, 1, 0, 0), ENOSYS, EPERM);
        EXPECT_FAIL("x32 bpf", syscall(X32 | SYS_bpf, 0, NULL, 0), ENOSYS, EPERM);
        EXPECT_FAIL("x32 io_uring_setup", syscall(X32 | SYS_io_uring_setup, 4, NULL), ENOSYS, EPERM);
        attack_finish();
}
