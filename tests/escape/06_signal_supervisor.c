/* SPDX-License-Identifier: MIT */
/* Find and signal the harness: the parent chain must end at the sandbox's
 * init, /proc must show only init and us, and no pid other than those
 * (including the host pid of the runner, passed as HOST_PID) is signalable. */
#include <dirent.h>
#include <signal.h>
#include "attack.h"

int main(void)
{
        pid_t self = getpid(), ppid = getppid();
        if (ppid != 1 && ppid != 0)
                note_hole("getppid() = %d (a process other than init is our parent)", ppid);
        else
                note_ok("getppid()=%d", ppid);

        DIR *d = opendir("/proc");
        if (!d) {
                note_weak("opendir(/proc): %s", attack_errname(errno));
        } else {
                struct dirent *de;
                int others = 0;
                while ((de = readdir(d))) {
                        char *end;
                        long p = strtol(de->d_name, &end, 10);
                        if (*end || p <= 0)
                                continue;
                        if (p != 1 && p != self) {
                                if (others++ < 5)
                                        note_hole("/proc shows pid %ld", p);
                        }
                }
                closedir(d);
                if (!others)
                        note_ok("/proc shows only pid 1 and self");
        }

        int visible = 0;
        for (pid_t p = 2; p < 65536; p++) {
                if (p == self)
                        continue;
                if (kill(p, 0) == 0 || errno == EPERM) {
                        if (visible++ < 5)
                                note_hole("kill(%d,0) found a process", p);
                }
        }
        if (!visible)
                note_ok("kill(2..65535,0): ESRCH");

        const char *hp = getenv("HOST_PID");
        if (hp) {
                pid_t p = (pid_t)atoi(hp);
                if (p > 1 && p != self) {
                        errno = 0;
                        if (kill(p, SIGCONT) == 0)
                                note_hole("kill(host pid %d, SIGCONT) delivered", p);
                        else
                                note_ok("kill(host pid %d): %s", p, attack_errname(errno));
                }
        }
        EXPECT_FAIL("kill(-1,0) reaches nobody", kill(-1, 0), ESRCH);
        attack_finish();
}
