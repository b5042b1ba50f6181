/* SPDX-License-Identifier: MIT */
/* TIOCSTI with high bits set in the 64-bit cmd argument: the kernel
 * truncates cmd to 32 bits, so a filter comparing all 64 bits would miss it. */
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        char c = '#';
        const unsigned long highs[] = { 1UL << 32, 0xffffffff00000000UL, 0x8000000000000000UL };
        for (int fd = 0; fd <= 2; fd++) {
                for (size_t i = 0; i < sizeof(highs) / sizeof(highs[0]); i++) {
                        char what[80];
                        snprintf(what, sizeof(what), "ioctl(%d,%#lx|TIOCSTI)", fd, highs[i]);
                        EXPECT_FAIL(what, syscall(SYS_ioctl, fd, highs[i] | TIOCSTI, &c), EPERM);
                }
        }
        attack_finish();
}
