/* SPDX-License-Identifier: MIT */
/* Syscalls the filter does not know (future numbers, out-of-range numbers,
 * obsolete ones) must fail with ENOSYS: deny by default. */
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("syscall(1000)", syscall(1000, 0, 0, 0), ENOSYS);
        EXPECT_FAIL("syscall(470)", syscall(470, 0, 0, 0), ENOSYS);
        EXPECT_FAIL("syscall(0x7fffffff)", syscall(0x7fffffffL, 0, 0, 0), ENOSYS);
        EXPECT_FAIL("syscall(-2)", syscall(-2L, 0, 0, 0), ENOSYS);
        EXPECT_FAIL("syscall(1L<<32|SYS_ptrace) (high bits)", syscall((1L << 32) | SYS_ptrace, 16, 1, 0, 0),
                    ENOSYS, EPERM);
        /* real but dangerous and not needed by agents: must be refused */
        EXPECT_FAIL("lookup_dcookie(212)", syscall(212, 0, NULL, 0), ENOSYS, EPERM);
        EXPECT_FAIL("uselib(134)", syscall(134, "/lib/x"), ENOSYS, EPERM);
        EXPECT_FAIL("nfsservctl(180)", syscall(180, 0, NULL, NULL), ENOSYS, EPERM);
        attack_finish();
}
