/* SPDX-License-Identifier: MIT */
/* Create files in a host --workspace; the runner checks on the host that
 * they belong to the caller (not to root-in-disguise or a foreign uid),
 * and that chown to other ids is refused inside. */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        int fd = open("/workspace/owned.txt", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                attack_skip("cannot create /workspace/owned.txt: %s", attack_errname(errno));
        if (write(fd, "owned\n", 6) != 6)
                note_weak("short write");
        close(fd);
        if (mkdir("/workspace/owned-dir", 0755) < 0)
                note_weak("mkdir: %s", attack_errname(errno));
        EXPECT_FAIL("chown(owned.txt, 1000)", chown("/workspace/owned.txt", 1000, 1000), EPERM, EINVAL);
        EXPECT_FAIL("chown(owned.txt, 65534)", chown("/workspace/owned.txt", 65534, 65534), EPERM, EINVAL);
        struct stat st;
        if (stat("/workspace/owned.txt", &st) == 0)
                note_ok("inside: owned.txt uid %u gid %u", st.st_uid, st.st_gid);
        attack_finish();
}
