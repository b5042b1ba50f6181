/* SPDX-License-Identifier: MIT */
/* The generated seccomp filters, installed for real in forked children. */
#include "testutil.h"
#include "childcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif

extern char **environ;

static int install(const struct sock_filter *f, size_t n)
{
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        return bridle__seccomp_install(f, n);
}

static int install_ns(void)
{
        return install(bridle__seccomp_ns, bridle__seccomp_ns_len);
}

/* ---- denied syscalls ------------------------------------------------------ */

static int child_denied(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_bpf, 0, NULL, 0), EPERM);
        CHECK_ERRNO(unshare(CLONE_NEWUSER), EPERM);
        CHECK_ERRNO(unshare(CLONE_NEWNS), EPERM);
        CHECK_ERRNO(setns(0, 0), EPERM);
        CHECK_ERRNO(mount("none", "/tmp", "tmpfs", 0, NULL), EPERM);
        CHECK_ERRNO(umount2("/tmp", MNT_DETACH), EPERM);
        CHECK_ERRNO(chroot("/"), EPERM);
        CHECK_ERRNO(syscall(SYS_keyctl, 0, 0, 0, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_userfaultfd, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_io_uring_setup, 1, NULL), EPERM);
        CHECK_ERRNO(syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_pidfd_getfd, 0, 0, 0), EPERM);
        return CHILD_RESULT();
}

static void test_denied_eperm(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_denied, NULL);
}

static int child_unknown(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        CHECK_ERRNO(syscall(1000, 0, 0, 0), ENOSYS);
        /* clone3's flags are in memory seccomp cannot read: refused so libc
         * falls back to clone, whose flags are checked. */
        CHECK_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
        return CHILD_RESULT();
}

static void test_unknown_enosys(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_unknown, NULL);
}

/* ---- argument filters ----------------------------------------------------- */

static int child_clone(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        errno = 0;
        long r = syscall(SYS_clone, (unsigned long)(CLONE_NEWNS | SIGCHLD), 0, 0, 0, 0);
        if (r == 0)
                _exit(99); /* the filter let it through: the new child must not go on */
        CHECK(r == -1 && errno == EPERM);
        r = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD), 0, 0, 0, 0);
        if (r == 0)
                _exit(99);
        CHECK(r == -1 && errno == EPERM);
        return CHILD_RESULT();
}

static void test_clone_namespaces(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_clone, NULL);
}

static int child_ioctl(void *arg)
{
        (void)arg;
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        CHECK(install_ns() == 0);
        char c = 'x';
        CHECK_ERRNO(syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI, &c), EPERM);
        CHECK_ERRNO(syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI | (1UL << 32), &c), EPERM);
        CHECK_ERRNO(syscall(SYS_ioctl, 0, (unsigned long)TIOCLINUX | (0xffUL << 40), &c), EPERM);
        int n = -1;
        CHECK(ioctl(p[0], FIONREAD, &n) == 0 && n == 0);
        return CHILD_RESULT();
}

static void test_ioctl_tiocsti(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_ioctl, NULL);
}

static int child_personality(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        CHECK(personality(0xffffffff) >= 0);
        CHECK_ERRNO(personality(ADDR_NO_RANDOMIZE), EPERM);
        return CHILD_RESULT();
}

static void test_personality(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_personality, NULL);
}

static int child_sockets_ns(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        CHECK_ERRNO(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0), EAFNOSUPPORT);
        CHECK_ERRNO(syscall(SYS_socket, AF_NETLINK | (1UL << 32), SOCK_RAW, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), EAFNOSUPPORT);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        (void)close(fd);
        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0 || errno == EAFNOSUPPORT); /* a kernel without IPv6 */
        if (fd >= 0)
                (void)close(fd);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        (void)close(fd);
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        (void)close(sv[0]);
        (void)close(sv[1]);
        CHECK_ERRNO(socketpair(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), EAFNOSUPPORT);
        return CHILD_RESULT();
}

static void test_sockets_ns(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_sockets_ns, NULL);
}

static int child_sockets_landlock(void *arg)
{
        (void)arg;
        CHECK(install(bridle__seccomp_landlock, bridle__seccomp_landlock_len) == 0);
        CHECK_ERRNO(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), EACCES);
        CHECK_ERRNO(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), EACCES);
        CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0), EAFNOSUPPORT);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        (void)close(fd);
        CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0), EPERM);
        return CHILD_RESULT();
}

static void test_sockets_landlock(void **state)
{
        (void)state;
        BRIDLE_ASSERT_CHILD(child_sockets_landlock, NULL);
}

/* ---- other ABIs ----------------------------------------------------------- */

#if defined(__x86_64__)
static int child_x32(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                (void)syscall(0x40000000 | __NR_getpid);
                _exit(0); /* it returned: the x32 call was let through */
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
        return CHILD_RESULT();
}

static int child_int80(void *arg)
{
        (void)arg;
        CHECK(install_ns() == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
                long ret = 20; /* i386 getpid */
                __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
                _exit(0);
        }
        int st;
        CHECK(waitpid(pid, &st, 0) == pid);
        /* SIGSYS from the filter; SIGSEGV if the kernel has no ia32 emulation. */
        CHECK(WIFSIGNALED(st) && (WTERMSIG(st) == SIGSYS || WTERMSIG(st) == SIGSEGV));
        return CHILD_RESULT();
}
#endif

static void test_other_abis_killed(void **state)
{
        (void)state;
#if defined(__x86_64__)
        BRIDLE_ASSERT_CHILD(child_x32, NULL);
        BRIDLE_ASSERT_CHILD(child_int80, NULL);
#else
        (void)fprintf(stderr, "skip: x32 and i386 are x86_64-only\n");
        skip();
#endif
}

/* ---- ordinary work still runs --------------------------------------------- */

static int run_true(void)
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *argv[] = {(char *)"true", NULL};
                execve("/bin/true", argv, environ);
                _exit(127);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid)
                return -errno;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void *thread_fn(void *arg)
{
        return arg;
}

static int child_ordinary(void *arg)
{
        const char *dir = arg;
        char path[4096];
        (void)snprintf(path, sizeof(path), "%s/f", dir);
        CHECK(install_ns() == 0);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        CHECK(write(fd, "hello", 5) == 5);
        char buf[8] = {0};
        CHECK(pread(fd, buf, sizeof(buf), 0) == 5 && memcmp(buf, "hello", 5) == 0);
        (void)close(fd);
        CHECK(unlink(path) == 0);
        CHECK(run_true() == 0);
        pid_t pid;
        char *argv[] = {(char *)"true", NULL};
        CHECK(posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ) == 0);
        int st;
        CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        pthread_t t;
        void *ret = NULL;
        CHECK(pthread_create(&t, NULL, thread_fn, (void *)0x5) == 0);
        CHECK(pthread_join(t, &ret) == 0 && ret == (void *)0x5);
        return CHILD_RESULT();
}

static void test_ordinary_work(void **state)
{
        (void)state;
        char *dir = bridle_test_tmpdir();
        assert_non_null(dir);
        int st = bridle_test_in_child(child_ordinary, dir);
        bridle_test_rmrf(dir);
        free(dir);
        assert_int_equal(st, 0);
}

static void test_install_rejects_bad_input(void **state)
{
        (void)state;
        assert_int_equal(bridle__seccomp_install(NULL, 1), -EINVAL);
        assert_int_equal(bridle__seccomp_install(bridle__seccomp_ns, 0), -EINVAL);
        assert_true(bridle__seccomp_ns_len > 0 && bridle__seccomp_landlock_len > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_install_rejects_bad_input),
                cmocka_unit_test(test_denied_eperm),
                cmocka_unit_test(test_unknown_enosys),
                cmocka_unit_test(test_clone_namespaces),
                cmocka_unit_test(test_ioctl_tiocsti),
                cmocka_unit_test(test_personality),
                cmocka_unit_test(test_sockets_ns),
                cmocka_unit_test(test_sockets_landlock),
                cmocka_unit_test(test_other_abis_killed),
                cmocka_unit_test(test_ordinary_work),
        };
        return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
