/* SPDX-License-Identifier: MIT */
/* Direct hardware I/O port access: iopl(3) and ioperm on the CMOS/RTC and
 * keyboard controller ports. */
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
#if defined(__x86_64__)
        EXPECT_FAIL("iopl(3)", syscall(SYS_iopl, 3), EPERM);
        EXPECT_FAIL("ioperm(0x70,2)", syscall(SYS_ioperm, 0x70, 2, 1), EPERM);
        EXPECT_FAIL("ioperm(0x64,1)", syscall(SYS_ioperm, 0x64, 1, 1), EPERM);
        attack_finish();
#else
        attack_skip("not x86_64");
#endif
}
