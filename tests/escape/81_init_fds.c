/* SPDX-License-Identifier: MIT */
/* Steal init's channel to the harness: open /proc/1/fd/N (re-opening a
 * socket or pipe end through the magic link), pidfd_getfd on init, and
 * init's cwd/root links. Listing fd numbers is harmless; reaching them is
 * a hole. */
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        int opened = 0;
        for (int fd = 0; fd < 64; fd++) {
                char p[64];
                snprintf(p, sizeof(p), "/proc/1/fd/%d", fd);
                int f = open(p, O_RDWR | O_CLOEXEC | O_NONBLOCK);
                if (f < 0)
                        f = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (f >= 0) {
                        note_hole("opened %s", p);
                        opened++;
                        close(f);
                }
        }
        if (!opened)
                note_ok("/proc/1/fd/0..63 cannot be opened");
        int pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
        if (pidfd >= 0) {
                for (int fd = 0; fd < 16; fd++) {
                        errno = 0;
                        long r = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
                        if (r >= 0) {
                                note_hole("pidfd_getfd(init, %d) worked", fd);
                                close((int)r);
                        } else if (errno != EBADF && errno != EPERM) {
                                note_weak("pidfd_getfd(init, %d): %s", fd, attack_errname(errno));
                        }
                }
                note_ok("pidfd_getfd(init, 0..15) refused");
                close(pidfd);
        }
        EXPECT_FAIL_ANY("open(/proc/1/cwd/.)", open("/proc/1/cwd/.", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        EXPECT_FAIL_ANY("open(/proc/1/root/.)", open("/proc/1/root/.", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        attack_finish();
}
