/* SPDX-License-Identifier: MIT */
/* The 32-bit entry point (int $0x80) with i386 syscall numbers: a filter
 * that does not check the audit arch would read them as x86_64 numbers.
 * Each probe runs in a child (the filter may kill it with SIGSYS). */
#include <signal.h>
#include <sys/wait.h>
#include "attack.h"

static long int80(long nr, long a, long b, long c)
{
#if defined(__x86_64__)
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
        return ret;
#else
        (void)nr; (void)a; (void)b; (void)c;
        return -ENOSYS;
#endif
}

static void probe(const char *what, long nr, long a, long b, long c)
{
        int pfd[2];
        if (pipe(pfd) < 0)
                attack_skip("pipe");
        pid_t p = fork();
        if (p == 0) {
                long r = int80(nr, a, b, c);
                if (write(pfd[1], &r, sizeof(r)) < 0)
                        _exit(3);
                _exit(0);
        }
        close(pfd[1]);
        long r = 0;
        ssize_t n = read(pfd[0], &r, sizeof(r));
        close(pfd[0]);
        int st = 0;
        waitpid(p, &st, 0);
        if (n != (ssize_t)sizeof(r)) {
                if (WIFSIGNALED(st))
                        note_ok("%s: killed by %s", what, sigabbrev_np(WTERMSIG(st)));
                else
                        note_weak("%s: no result (status %#x)", what, st);
                return;
        }
        if (r >= 0 || r < -4095)
                note_hole("%s returned %ld", what, r);
        else if (r == -ENOSYS || r == -EPERM)
                note_ok("%s: %s", what, attack_errname((int)-r));
        else
                note_weak("%s failed with %s", what, attack_errname((int)-r));
}

int main(void)
{
#if !defined(__x86_64__)
        attack_skip("not x86_64");
#endif
        /* i386 numbers: unshare 310, setns 346, keyctl 288, ptrace 26, mount 21 */
        probe("int80 unshare(CLONE_NEWUSER)", 310, 0x10000000, 0, 0);
        probe("int80 ptrace(ATTACH,1)", 26, 16, 1, 0);
        probe("int80 keyctl(GET_KEYRING_ID)", 288, 0, -3, 0);
        probe("int80 setns(3,0)", 346, 3, 0, 0);
        attack_finish();
}
