/* SPDX-License-Identifier: MIT */
/* Syscalls the filter does not know (future numbers, out-of-range numbers,
 * obsolete ones) must fail with ENOSYS: deny by default. Numbers with bit
 * 30 set (x32 range) may also be killed. */
#include "attack.h"

int main(void)
{
        EXPECT_SYSCALL_FAIL("syscall(1000)", false, 1000, 0, 0, 0, 0, ENOSYS);
        EXPECT_SYSCALL_FAIL("syscall(470)", false, 470, 0, 0, 0, 0, ENOSYS);
        EXPECT_SYSCALL_FAIL("syscall(0x3fffffff)", false, 0x3fffffffL, 0, 0, 0, 0, ENOSYS);
        EXPECT_SYSCALL_FAIL("syscall(0x7fffffff)", true, 0x7fffffffL, 0, 0, 0, 0, ENOSYS);
        EXPECT_SYSCALL_FAIL("syscall(-2)", true, -2L, 0, 0, 0, 0, ENOSYS);
        EXPECT_SYSCALL_FAIL("syscall(1L<<32|SYS_ptrace) (high bits)", true, (1L << 32) | SYS_ptrace, 16, 1, 0, 0,
                            ENOSYS, EPERM);
        /* real but dangerous and not needed by agents: must be refused */
        EXPECT_SYSCALL_FAIL("lookup_dcookie(212)", false, 212, 0, NULL, 0, 0, ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("uselib(134)", false, 134, "/lib/x", 0, 0, 0, ENOSYS, EPERM);
        EXPECT_SYSCALL_FAIL("nfsservctl(180)", false, 180, 0, NULL, NULL, 0, ENOSYS, EPERM);
        attack_finish();
}
