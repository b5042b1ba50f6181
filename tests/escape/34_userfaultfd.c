/* SPDX-License-Identifier: MIT */
/* userfaultfd stalls kernel copies at will (race-widening for exploits):
 * both the syscall and /dev/userfaultfd must be unavailable. */
#include <fcntl.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("userfaultfd(0)", syscall(SYS_userfaultfd, O_CLOEXEC), EPERM);
        EXPECT_FAIL("userfaultfd(UFFD_USER_MODE_ONLY)", syscall(SYS_userfaultfd, O_CLOEXEC | 1), EPERM);
        EXPECT_FAIL_ANY("open(/dev/userfaultfd)", open("/dev/userfaultfd", O_RDWR | O_CLOEXEC));
        attack_finish();
}
