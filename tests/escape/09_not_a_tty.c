/* SPDX-License-Identifier: MIT */
/* The runner starts bridle on a pseudo-terminal (script(1)). The sandboxed
 * command must not get it: fds 0-2 are not ttys, there is no controlling
 * terminal and /dev/tty cannot be opened. */
#include <fcntl.h>
#include "attack.h"

int main(void)
{
        int ttys = 0;
        for (int fd = 0; fd <= 2; fd++) {
                if (isatty(fd)) {
                        char *n = ttyname(fd);
                        note_hole("fd %d is a tty (%s)", fd, n ? n : "?");
                        ttys++;
                }
        }
        if (!ttys)
                note_ok("isatty(0..2) false");
        char buf[1024];
        if (attack_read_file("/proc/self/stat", buf, sizeof(buf)) > 0) {
                char *p = strrchr(buf, ')');
                int tty_nr = -1;
                if (p && sscanf(p + 2, "%*c %*d %*d %*d %d", &tty_nr) == 1) {
                        if (tty_nr != 0)
                                note_hole("controlling tty_nr=%d", tty_nr);
                        else
                                note_ok("no controlling tty");
                }
        }
        int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                note_hole("/dev/tty opened");
                close(fd);
        } else {
                note_ok("open(/dev/tty): %s", attack_errname(errno));
        }
        attack_finish();
}
