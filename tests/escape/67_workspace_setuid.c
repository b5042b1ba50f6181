/* SPDX-License-Identifier: MIT */
/* Plant a setuid/setgid executable in the host --workspace (a copy of
 * /bin/sh with mode 06755) and a setgid directory. If the file ends up owned by root on the host
 * with the bit set, any host user becomes root: the runner checks. */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        int in = open("/usr/bin/dash", O_RDONLY | O_CLOEXEC);
        if (in < 0)
                in = open("/bin/sh", O_RDONLY | O_CLOEXEC);
        int out = open("/workspace/suid-sh", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (in < 0 || out < 0)
                attack_skip("copy setup failed: %s", attack_errname(errno));
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t)n) != n)
                        break;
        close(in);
        close(out);
        errno = 0;
        int r = chmod("/workspace/suid-sh", 06755);
        struct stat st;
        stat("/workspace/suid-sh", &st);
        note_ok("chmod(06755)=%d (%s), inside mode %o", r, r ? attack_errname(errno) : "ok", st.st_mode & 07777);
        if (mkdir("/workspace/sgid-dir", 0775) == 0) {
                errno = 0;
                r = chmod("/workspace/sgid-dir", 02775);
                note_ok("chmod(sgid-dir,02775)=%d %s", r, r ? attack_errname(errno) : "");
        }
        attack_finish();
}
