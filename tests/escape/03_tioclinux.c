/* SPDX-License-Identifier: MIT */
/* TIOCLINUX (console selection paste / kernel message redirection),
 * plain and with high bits set. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "attack.h"

int main(void)
{
        char sub = 2; /* TIOCL_SETSEL-ish subcode; never reaches a console */
        for (int fd = 0; fd <= 2; fd++) {
                char what[64];
                snprintf(what, sizeof(what), "ioctl(%d,TIOCLINUX)", fd);
                EXPECT_FAIL(what, ioctl(fd, TIOCLINUX, &sub), EPERM);
                snprintf(what, sizeof(what), "ioctl(%d,1<<32|TIOCLINUX)", fd);
                EXPECT_FAIL(what, syscall(SYS_ioctl, fd, (1UL << 32) | TIOCLINUX, &sub), EPERM);
        }
        int fd = open("/dev/tty0", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0) {
                note_hole("/dev/tty0 opened");
                close(fd);
        } else {
                note_ok("/dev/tty0: %s", attack_errname(errno));
        }
        attack_finish();
}
