/* SPDX-License-Identifier: MIT */
/* The runner leaves a directory fd of the host's / open (fd 5) and of the
 * host workspace parent (fd 6) when it starts bridle. fchdir to any fd
 * must fail (EBADF), and cwd must be inside the sandbox. */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        int escaped = 0;
        for (int fd = 3; fd < 256; fd++) {
                if (fchdir(fd) == 0) {
                        char cwd[512] = "?";
                        if (!getcwd(cwd, sizeof(cwd)))
                                snprintf(cwd, sizeof(cwd), "(unreachable: %s)", attack_errname(errno));
                        note_hole("fchdir(%d) worked, cwd %s", fd, cwd);
                        escaped++;
                }
        }
        if (!escaped)
                note_ok("fchdir(3..255): no fd");
        char cwd[512];
        if (!getcwd(cwd, sizeof(cwd)))
                note_hole("cwd is outside the sandbox root (getcwd: %s)", attack_errname(errno));
        struct stat a, b;
        if (stat("/proc/self/root", &a) == 0 && stat("/", &b) == 0 && a.st_ino != b.st_ino)
                note_hole("/proc/self/root differs from /");
        if (access("/proc/self/fd/5", F_OK) == 0 || access("/proc/self/fd/6", F_OK) == 0)
                note_hole("runner's fd 5 or 6 visible in /proc/self/fd");
        attack_finish();
}
