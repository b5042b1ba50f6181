/* SPDX-License-Identifier: MIT */
/* --isolation landlock: the host's processes are visible but must be out of
 * reach: no signal to the runner (HOST_PID) or to host pid 1, no read of
 * their environ (the runner exports secrets), no ptrace, no
 * process_vm_readv, no pidfd_getfd. */
#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include "attack.h"

static void scan_environ(pid_t p)
{
        char path[64], buf[8192];
        snprintf(path, sizeof(path), "/proc/%d/environ", p);
        long n = attack_read_file(path, buf, sizeof(buf));
        if (n < 0) {
                note_ok("read %s: %s", path, attack_errname((int)-n));
                return;
        }
        for (long i = 0; i < n; i++)
                if (!buf[i])
                        buf[i] = '\n';
        if (strstr(buf, HOST_SECRET_MARKER))
                note_hole("%s shows a host secret", path);
        else if (n > 0)
                note_weak("%s readable (%ld bytes, no secret)", path, n);
}

int main(void)
{
        const char *hp = getenv("HOST_PID");
        if (!hp)
                attack_skip("runner did not pass HOST_PID");
        pid_t host = (pid_t)atoi(hp);
        pid_t targets[] = { host, 1 };
        for (int i = 0; i < 2; i++) {
                pid_t p = targets[i];
                char what[96];
                snprintf(what, sizeof(what), "kill(%d,SIGCONT)", p);
                EXPECT_FAIL(what, kill(p, SIGCONT), EPERM);
                snprintf(what, sizeof(what), "ptrace(ATTACH,%d)", p);
                EXPECT_FAIL(what, syscall(SYS_ptrace, PTRACE_ATTACH, p, 0, 0), EPERM);
                char buf[16];
                struct iovec l = { buf, sizeof(buf) }, r = { (void *)0x400000, sizeof(buf) };
                snprintf(what, sizeof(what), "process_vm_readv(%d)", p);
                EXPECT_FAIL(what, syscall(SYS_process_vm_readv, p, &l, 1, &r, 1, 0), EPERM);
                scan_environ(p);
                int pidfd = (int)syscall(SYS_pidfd_open, p, 0);
                if (pidfd >= 0) {
                        snprintf(what, sizeof(what), "pidfd_getfd(%d, fd 0)", p);
                        EXPECT_FAIL(what, syscall(SYS_pidfd_getfd, pidfd, 0, 0), EPERM);
                        snprintf(what, sizeof(what), "pidfd_send_signal(%d)", p);
                        EXPECT_FAIL(what, syscall(SYS_pidfd_send_signal, pidfd, SIGCONT, NULL, 0), EPERM);
                        close(pidfd);
                }
        }
        attack_finish();
}
