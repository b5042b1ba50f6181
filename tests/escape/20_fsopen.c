/* SPDX-License-Identifier: MIT */
/* The new mount API: fsopen/fsmount, open_tree(OPEN_TREE_CLONE),
 * move_mount, mount_setattr, fspick. seccomp must refuse them all. */
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        EXPECT_FAIL("fsopen(tmpfs)", syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC), EPERM);
        EXPECT_FAIL("fsopen(proc)", syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC), EPERM);
        EXPECT_FAIL("open_tree(/usr,CLONE)",
                    syscall(SYS_open_tree, AT_FDCWD, "/usr", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC), EPERM);
        EXPECT_FAIL("fspick(/usr)", syscall(SYS_fspick, AT_FDCWD, "/usr", FSPICK_CLOEXEC), EPERM);
        EXPECT_FAIL("fsmount(-1)", syscall(SYS_fsmount, -1, FSMOUNT_CLOEXEC, 0), EPERM);
        EXPECT_FAIL("move_mount(/usr -> /tmp)",
                    syscall(SYS_move_mount, AT_FDCWD, "/usr", AT_FDCWD, "/tmp", 0), EPERM);
        struct mount_attr attr = { .attr_clr = MOUNT_ATTR_RDONLY };
        EXPECT_FAIL("mount_setattr(/usr, clear RDONLY)",
                    syscall(SYS_mount_setattr, AT_FDCWD, "/usr", 0, &attr, sizeof(attr)), EPERM);
        attack_finish();
}
