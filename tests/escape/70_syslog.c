/* SPDX-License-Identifier: MIT */
/* Read and clear the kernel log with syslog(2) (klogctl). */
#include <sys/klog.h>
#include "attack.h"

int main(void)
{
        static char buf[4096];
        EXPECT_FAIL("klogctl(READ_ALL)", klogctl(3, buf, sizeof(buf)), EPERM);
        EXPECT_FAIL("klogctl(SIZE_UNREAD)", klogctl(9, NULL, 0), EPERM);
        EXPECT_FAIL("klogctl(CONSOLE_LEVEL)", klogctl(8, NULL, 7), EPERM);
        attack_finish();
}
