/* SPDX-License-Identifier: MIT */
/* chroot (the classic chroot-in-chroot escape needs it) and pivot_root. */
#include <sys/stat.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        mkdir("/tmp/newroot", 0700);
        mkdir("/tmp/newroot/old", 0700);
        EXPECT_FAIL("chroot(/tmp/newroot)", chroot("/tmp/newroot"), EPERM);
        EXPECT_FAIL("chroot(/)", chroot("/"), EPERM);
        EXPECT_FAIL("pivot_root(/tmp/newroot,old)",
                    syscall(SYS_pivot_root, "/tmp/newroot", "/tmp/newroot/old"), EPERM);
        EXPECT_FAIL("pivot_root(.,.)", (chdir("/") , syscall(SYS_pivot_root, ".", ".")), EPERM);
        attack_finish();
}
