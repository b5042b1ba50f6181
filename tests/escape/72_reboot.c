/* SPDX-License-Identifier: MIT */
/* reboot(2). Only LINUX_REBOOT_CMD_CAD_ON is used: a no-op on a default
 * host even if it succeeded. In a child pid namespace with CAP_SYS_BOOT it
 * would kill the sandbox's init instead; without caps it must be EPERM. */
#include <linux/reboot.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("reboot(CAD_ON)", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
                                              LINUX_REBOOT_CMD_CAD_ON, NULL), EPERM);
        attack_finish();
}
