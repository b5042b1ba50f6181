/* SPDX-License-Identifier: MIT */
/* setuid binaries: NO_NEW_PRIVS must be set (and seccomp active), and the
 * host's su and mount must not gain anything when run. */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <fcntl.h>
#include "attack.h"

static int run(char *const argv[])
{
        pid_t p = fork();
        if (p == 0) {
                int null = open("/dev/null", O_RDWR);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        int st = 0;
        if (p < 0 || waitpid(p, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
        int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        if (nnp != 1)
                note_hole("PR_GET_NO_NEW_PRIVS = %d", nnp);
        else
                note_ok("no_new_privs=1");
        char status[4096];
        if (attack_read_file("/proc/self/status", status, sizeof(status)) > 0) {
                char *s = strstr(status, "Seccomp:");
                if (!s || atoi(s + 8) != 2)
                        note_hole("seccomp filter mode not active (%.12s)", s ? s : "none");
                else
                        note_ok("Seccomp: 2");
        }
        if (access("/usr/bin/su", X_OK) == 0) {
                int r = run((char *[]){ "/usr/bin/su", "-c", "true", "root", NULL });
                if (r == 0)
                        note_hole("su -c true root exited 0");
                else
                        note_ok("su: exit %d", r);
        }
        if (access("/usr/bin/mount", X_OK) == 0) {
                int r = run((char *[]){ "/usr/bin/mount", "-t", "tmpfs", "none", "/tmp", NULL });
                if (r == 0)
                        note_hole("mount -t tmpfs none /tmp exited 0");
                else
                        note_ok("mount: exit %d", r);
        }
        attack_finish();
}
