/* SPDX-License-Identifier: MIT */
/* Join init's namespaces (init sits in the outer user namespace) via
 * /proc/1/ns/<type> and our own ones via a pidfd. */
#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        const char *types[] = { "user", "mnt", "net", "pid", "ipc", "uts", "cgroup", "time" };
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                char path[64], what[96];
                snprintf(path, sizeof(path), "/proc/1/ns/%s", types[i]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        note_ok("open(%s): %s", path, attack_errname(errno));
                        continue;
                }
                snprintf(what, sizeof(what), "setns(%s)", path);
                EXPECT_FAIL(what, setns(fd, 0), EPERM);
                close(fd);
        }
        int pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
        if (pidfd >= 0) {
                EXPECT_FAIL("setns(pidfd(1), all)", setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET), EPERM);
                close(pidfd);
        } else {
                note_ok("pidfd_open(1): %s", attack_errname(errno));
        }
        attack_finish();
}
