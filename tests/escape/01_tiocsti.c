/* SPDX-License-Identifier: MIT */
/* Terminal injection: push characters into the input queue of fds 0-2 and
 * of /dev/tty with TIOCSTI. seccomp must answer EPERM whatever the fd. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include "attack.h"

int main(void)
{
        char c = '#';
        for (int fd = 0; fd <= 2; fd++) {
                char what[64];
                snprintf(what, sizeof(what), "ioctl(%d,TIOCSTI)", fd);
                EXPECT_FAIL(what, ioctl(fd, TIOCSTI, &c), EPERM);
        }
        int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (tty >= 0) {
                EXPECT_FAIL("ioctl(/dev/tty,TIOCSTI)", ioctl(tty, TIOCSTI, &c), EPERM);
                close(tty);
        } else {
                note_ok("/dev/tty: %s", attack_errname(errno));
        }
        attack_finish();
}
