/* SPDX-License-Identifier: MIT */
/* File capabilities in the host --workspace: write a security.capability
 * xattr (v2 and v3 with rootid 0) granting CAP_SETUID+CAP_SYS_ADMIN on a
 * copied binary. The runner checks the host file has no such xattr. */
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/xattr.h>
#include "attack.h"

int main(void)
{
        int fd = open("/workspace/fcap-bin", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0)
                attack_skip("cannot create /workspace/fcap-bin: %s", attack_errname(errno));
        if (write(fd, "#!/bin/sh\n", 10) != 10)
                note_weak("short write");
        close(fd);
        unsigned int caps = (1u << CAP_SETUID) | (1u << CAP_SYS_ADMIN);
        struct vfs_cap_data v2 = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };
        v2.data[0].permitted = caps;
        EXPECT_FAIL("setxattr(security.capability v2)",
                    setxattr("/workspace/fcap-bin", "security.capability", &v2, sizeof(v2), 0), EPERM);
        struct vfs_ns_cap_data v3 = { .magic_etc = VFS_CAP_REVISION_3 | VFS_CAP_FLAGS_EFFECTIVE, .rootid = 0 };
        v3.data[0].permitted = caps;
        EXPECT_FAIL("setxattr(security.capability v3 rootid 0)",
                    setxattr("/workspace/fcap-bin", "security.capability", &v3, sizeof(v3), 0), EPERM);
        EXPECT_FAIL("setxattr(trusted.x)", setxattr("/workspace/fcap-bin", "trusted.bridle", "x", 1, 0), EPERM);
        attack_finish();
}
