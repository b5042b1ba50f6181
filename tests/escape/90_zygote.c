/* SPDX-License-Identifier: MIT */
/*
 * Run as a living sandbox's command (run-living-attack.sh): go after the
 * sandbox's zygote, the pre-walled process that forks every command. It must
 * stand behind the same walls (no capabilities, no_new_privs, seccomp), and a
 * command must not be able to signal it, ptrace it, read its memory or fds,
 * or hold any fd of its own beyond 0-2.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include "attack.h"

static pid_t find_zygote(void)
{
        DIR *d = opendir("/proc");
        pid_t found = 0;
        if (!d)
                return 0;
        for (struct dirent *e; !found && (e = readdir(d));) {
                char path[300], comm[64];
                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
                long n = attack_read_file(path, comm, sizeof(comm));
                if (n > 0 && strncmp(comm, "bridle-zygote\n", 14) == 0)
                        found = (pid_t)atoi(e->d_name);
        }
        closedir(d);
        return found;
}

/* The zygote's own walls, from /proc/<pid>/status (world-readable). */
static void check_walls(pid_t z)
{
        char path[64], st[4096];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)z);
        long n = attack_read_file(path, st, sizeof(st));
        if (n <= 0) {
                note_weak("cannot read the zygote's status");
                return;
        }
        static const char *const want[] = {"CapPrm:\t0000000000000000", "CapEff:\t0000000000000000",
                                           "CapBnd:\t0000000000000000", "NoNewPrivs:\t1",
                                           "Seccomp:\t2"};
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                if (!strstr(st, want[i]))
                        note_hole("the zygote lacks '%s'", want[i]);
}

static void check_signals(pid_t z)
{
        EXPECT_FAIL("kill(zygote,0)", kill(z, 0), EPERM);
        EXPECT_FAIL("kill(zygote,SIGSTOP)", kill(z, SIGSTOP), EPERM);
        EXPECT_FAIL("kill(zygote,SIGKILL)", kill(z, SIGKILL), EPERM);
        EXPECT_FAIL("kill(-zygote,SIGKILL)", kill(-z, SIGKILL), EPERM);
        EXPECT_FAIL("tgkill(zygote)", syscall(SYS_tgkill, z, z, SIGKILL), EPERM);
        long pfd = syscall(SYS_pidfd_open, z, 0);
        if (pfd >= 0) {
                EXPECT_FAIL_ANY("pidfd_send_signal(zygote)",
                                syscall(SYS_pidfd_send_signal, (int)pfd, SIGKILL, NULL, 0));
                EXPECT_FAIL_ANY("pidfd_getfd(zygote,3)", syscall(SYS_pidfd_getfd, (int)pfd, 3, 0));
                close((int)pfd);
        }
}

static void check_memory(pid_t z)
{
        char path[64], buf[256];
        EXPECT_FAIL("ptrace(PTRACE_ATTACH,zygote)", syscall(SYS_ptrace, PTRACE_ATTACH, z, 0, 0),
                    EPERM);
        EXPECT_FAIL("ptrace(PTRACE_SEIZE,zygote)", syscall(SYS_ptrace, PTRACE_SEIZE, z, 0, 0),
                    EPERM);
        struct iovec local = {buf, 16}, remote = {(void *)0x400000, 16};
        EXPECT_FAIL_ANY("process_vm_readv(zygote)",
                        syscall(SYS_process_vm_readv, z, &local, 1, &remote, 1, 0));
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)z);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t r = pread(fd, buf, 16, 0x400000);
                if (r > 0)
                        note_hole("read %zd bytes of the zygote's memory", r);
                else
                        note_weak("/proc/<zygote>/mem opened");
                close(fd);
        } else
                note_ok("open(/proc/<zygote>/mem): %s", attack_errname(errno));
        static const char *const leaves[] = {"environ", "maps", "fd/3", "fd/0"};
        for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int)z, leaves[i]);
                if (i >= 2) {
                        ssize_t l = readlink(path, buf, sizeof(buf) - 1);
                        if (l >= 0)
                                note_hole("readlink(/proc/<zygote>/%s) worked", leaves[i]);
                        continue;
                }
                long n = attack_read_file(path, buf, sizeof(buf));
                if (n > 0)
                        note_hole("/proc/<zygote>/%s readable", leaves[i]);
        }
}

/* The command holds 0-2 and nothing else (the zygote's channel above all). */
static void check_own_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d) {
                note_weak("cannot list /proc/self/fd");
                return;
        }
        int extra = 0;
        for (struct dirent *e; (e = readdir(d));) {
                int fd = atoi(e->d_name);
                if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
                        continue;
                char path[64], target[256] = "";
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                (void)!readlink(path, target, sizeof(target) - 1);
                note_hole("fd %d is open: %s", fd, target);
                extra++;
        }
        closedir(d);
        if (!extra)
                note_ok("only fds 0-2");
}

int main(void)
{
        pid_t z = find_zygote();
        if (z <= 0)
                attack_skip("no zygote in this sandbox (Landlock without scoping: commands take "
                            "the direct path)");
        check_walls(z);
        check_signals(z);
        check_memory(z);
        check_own_fds();
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d", (int)z);
        if (access(path, F_OK) < 0)
                note_hole("the zygote is gone after the attack");
        attack_finish();
}
