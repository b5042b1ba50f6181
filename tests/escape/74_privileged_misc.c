/* SPDX-License-Identifier: MIT */
/* Other privileged syscalls with host-wide effect: fanotify (watch host
 * filesystems), swapoff, acct, quotactl, vhangup. Arguments are
 * harmless. */
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/quota.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("fanotify_init", syscall(SYS_fanotify_init, FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY), EPERM);
        EXPECT_FAIL("swapoff(/nonexistent)", syscall(SYS_swapoff, "/nonexistent-swap"), EPERM);
        EXPECT_FAIL("acct(NULL)", syscall(SYS_acct, NULL), EPERM);
        EXPECT_FAIL("quotactl(Q_SYNC)", syscall(SYS_quotactl, QCMD(Q_SYNC, USRQUOTA), NULL, 0, NULL), EPERM);
        EXPECT_FAIL("vhangup", syscall(SYS_vhangup), EPERM);
        attack_finish();
}
