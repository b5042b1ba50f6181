/* SPDX-License-Identifier: MIT */
/* PTRACE_TRACEME then exec: would let the child be traced by its parent
 * across exec (the classic setuid-exec race). */
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "attack.h"

int main(void)
{
        int pfd[2];
        if (pipe(pfd) < 0)
                attack_skip("pipe: %s", attack_errname(errno));
        pid_t pid = fork();
        if (pid < 0)
                attack_skip("fork: %s", attack_errname(errno));
        if (pid == 0) {
                errno = 0;
                long r = syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
                int res[2] = { (int)r, errno };
                if (write(pfd[1], res, sizeof(res)) < 0)
                        _exit(3);
                if (r == 0)
                        execl("/bin/true", "true", (char *)NULL);
                _exit(0);
        }
        int res[2] = { 0, 0 };
        ssize_t n = read(pfd[0], res, sizeof(res));
        /* a traced child stops at exec with SIGTRAP: detach it */
        int st;
        if (waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st)) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
        }
        if (n != (ssize_t)sizeof(res))
                note_weak("child did not report");
        else
                expect_fail_("ptrace(PTRACE_TRACEME)", res[0], res[1], (const int[]){ EPERM, 0 });
        attack_finish();
}
