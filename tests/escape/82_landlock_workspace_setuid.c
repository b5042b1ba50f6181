/* SPDX-License-Identifier: MIT */
/* --isolation landlock runs as the caller with a host workspace: plant a
 * setuid/setgid executable and a setgid directory there. The runner
 * checks the host sees no set-id bits on files owned by root (or by anyone
 * other than the caller). */
#include <fcntl.h>
#include <sys/stat.h>
#include "attack.h"

int main(void)
{
        int in = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
        int out = open("suid-bin", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
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
        int r = chmod("suid-bin", 06755);
        note_ok("chmod(suid-bin,06755)=%d %s", r, r ? attack_errname(errno) : "");
        if (mkdir("sgid-dir", 0775) == 0) {
                r = chmod("sgid-dir", 02775);
                note_ok("chmod(sgid-dir,02775)=%d %s", r, r ? attack_errname(errno) : "");
        }
        attack_finish();
}
