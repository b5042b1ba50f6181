/* SPDX-License-Identifier: MIT */
/*
 * Build-time generator of the sandbox's seccomp filters (see seccomp.h).
 *
 * Builds each variant with libseccomp for the native architecture, exports the
 * BPF and prints it as C arrays, so bridle-init needs no libseccomp at run time.
 *
 *     seccomp-gen OUTPUT.c
 *
 * Syscall names that do not exist on the build architecture are skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define LOW32 0xffffffffULL

enum variant {
        VARIANT_NS,       /* own network namespace: inet sockets allowed */
        VARIANT_LANDLOCK, /* host network visible: AF_UNIX only */
};

/* Ordinary syscalls that compilers, interpreters, git, make and shells use. */
static const char *const allow_names[] = {
        /* files and directories */
        "read", "write", "close", "close_range",
        "stat", "fstat", "lstat", "newfstatat", "statx", "fstatat64", "stat64", "fstat64",
        "lstat64", "lseek", "_llseek", "pread64", "pwrite64", "readv", "writev", "preadv",
        "pwritev", "preadv2", "pwritev2", "access", "faccessat", "faccessat2", "dup", "dup2",
        "dup3", "fcntl", "fcntl64", "flock", "fsync", "fdatasync", "sync", "syncfs",
        "sync_file_range", "truncate", "ftruncate", "truncate64", "ftruncate64", "getdents",
        "getdents64", "getcwd", "chdir", "fchdir", "rename", "renameat", "renameat2",
        "mkdir", "mkdirat", "rmdir", "link", "linkat", "unlink", "unlinkat", "symlink",
        "symlinkat", "readlink", "readlinkat", "chown",
        "fchown", "lchown", "fchownat", "umask", "utime", "utimes", "utimensat",
        "futimesat", "copy_file_range", "sendfile", "sendfile64", "splice", "tee",
        "vmsplice", "fallocate", "fadvise64", "fadvise64_64", "readahead", "statfs",
        "fstatfs", "statfs64", "fstatfs64", "getxattr", "lgetxattr",
        "fgetxattr", "listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr",
        "fsetxattr", "removexattr", "lremovexattr", "fremovexattr", "inotify_init",
        "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "io_setup", "io_destroy",
        "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
        /* memory */
        "mmap", "mmap2", "munmap", "mprotect", "brk", "mremap", "msync", "mincore",
        "madvise", "mlock", "mlock2", "munlock", "mlockall", "munlockall", "membarrier",
        "memfd_create", "pkey_mprotect", "pkey_alloc", "pkey_free", "get_mempolicy",
        "set_mempolicy", "mbind", "remap_file_pages",
        /* System V and POSIX IPC (in the sandbox's own IPC namespace) */
        "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
        "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
        "mq_timedreceive", "mq_notify", "mq_getsetattr",
        /* processes, threads, credentials (no capabilities, so harmless) */
        "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
        "waitpid", "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid",
        "setpgid", "getpgrp", "getsid", "setsid", "getuid", "geteuid", "getgid",
        "getegid", "getresuid", "getresgid", "getgroups", "setuid", "setgid", "setreuid",
        "setregid", "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid",
        "capget", "capset", "prctl", "arch_prctl", "set_tid_address", "set_robust_list",
        "get_robust_list", "futex", "futex_waitv", "rseq", "sched_yield",
        "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
        "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
        "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr",
        "sched_setattr", "getpriority", "ioprio_get", "ioprio_set",
        "getcpu", "pidfd_open", "pidfd_send_signal", "get_thread_area", "set_thread_area",
        "restart_syscall", "pause", "alarm",
        /* time and resources */
        "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
        "time", "times", "getrusage", "getrlimit", "ugetrlimit", "setrlimit",
        "sysinfo", "uname", "getrandom",
        /* signals */
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
        "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "rt_sigsuspend",
        "sigaltstack", "signalfd", "signalfd4", "sigreturn",
        /* timers and event loops */
        "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
        "timer_delete", "getitimer", "setitimer", "timerfd_create", "timerfd_settime",
        "timerfd_gettime", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
        "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "poll", "ppoll", "select",
        "_newselect", "pselect6", "pipe", "pipe2",
        /* sockets (socket and socketpair are filtered by family below) */
        "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom", "send",
        "recv", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "getsockname", "getpeername",
        "getsockopt", "setsockopt", "shutdown",
        /* a process may only restrict itself further */
        "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};

/* Newer syscalls than this libseccomp may know. Numbers from 424 on are shared
 * by every architecture's table, so they are safe to name by number. */
static const struct {
        const char *name;
        int nr;
} allow_numbered[] = {
        {"futex_waitv", 449}, {"cachestat", 451},
        {"futex_wake", 454},  {"futex_wait", 455},    {"futex_requeue", 456},
        {"mseal", 462},       {"setxattrat", 463},    {"getxattrat", 464},
        {"listxattrat", 465}, {"removexattrat", 466},
};

/* Refused with EPERM: debugging other processes, kernel attack surface,
 * namespace and mount changes, host administration. */
static const char *const deny_names[] = {
        "ptrace", "process_vm_readv", "process_vm_writev", "keyctl", "add_key",
        "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
        "io_uring_enter", "io_uring_register", "mount", "umount", "umount2", "pivot_root",
        "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
        "mount_setattr", "unshare", "setns", "kexec_load", "kexec_file_load",
        "init_module", "finit_module", "delete_module", "create_module",
        "get_kernel_syms", "query_module", "chroot", "acct", "swapon", "swapoff",
        "reboot", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
        "quotactl", "quotactl_fd", "name_to_handle_at", "open_by_handle_at",
        "lookup_dcookie", "vhangup", "pidfd_getfd", "syslog", "iopl", "ioperm",
        "nfsservctl", "uselib", "ustat", "sysfs", "_sysctl", "fanotify_init",
        "fanotify_mark", "process_madvise", "kcmp", "modify_ldt", "vm86", "vm86old",
        "stime", "sethostname", "setdomainname",
};

/* CLONE_NEW* bits that clone(2) accepts (CLONE_NEWTIME overlaps CSIGNAL there). */
#define CLONE_NS_BITS                                                                    \
        ((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |        \
                    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET))

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int die(const char *what, int r)
{
        (void)fprintf(stderr, "seccomp-gen: %s: %s\n", what, strerror(r < 0 ? -r : r));
        return r < 0 ? r : -r;
}

static int add_name(scmp_filter_ctx c, uint32_t action, const char *name)
{
        int nr = seccomp_syscall_resolve_name(name);
        if (nr < 0) /* not a syscall of this architecture (or a multiplexed one) */
                return 0;
        int r = seccomp_rule_add(c, action, nr, 0);
        return r < 0 ? die(name, r) : 0;
}

static int add_names(scmp_filter_ctx c, uint32_t action, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = add_name(c, action, names[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_numbered(scmp_filter_ctx c)
{
        for (size_t i = 0; i < ELEMENTSOF(allow_numbered); i++) {
                int nr = seccomp_syscall_resolve_name(allow_numbered[i].name);
                if (nr < 0)
                        nr = allow_numbered[i].nr;
                int r = seccomp_rule_add(c, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0)
                        return die(allow_numbered[i].name, r);
        }
        return 0;
}

/*
 * Rules of the form "allow these argument values, else fail with errno":
 * libseccomp evaluates equality tests on an argument before the `>= 0`
 * catch-all, so the catch-all only takes what the equalities left.
 * (tests/unit/test_seccomp.c checks each of these outcomes.)
 */
static int add_catch_all(scmp_filter_ctx c, uint32_t action, const char *name, unsigned arg)
{
        struct scmp_arg_cmp cmp = {.arg = arg, .op = SCMP_CMP_GE, .datum_a = 0};
        int r = seccomp_rule_add_array(c, action, seccomp_syscall_resolve_name(name), 1, &cmp);
        return r < 0 ? die(name, r) : 0;
}

static int add_arg_rule(scmp_filter_ctx c, uint32_t action, const char *name, unsigned arg,
                        uint64_t mask, uint64_t value)
{
        struct scmp_arg_cmp cmp = {
                .arg = arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = mask, .datum_b = value};
        int r = seccomp_rule_add_array(c, action, seccomp_syscall_resolve_name(name), 1, &cmp);
        return r < 0 ? die(name, r) : 0;
}

static int add_clone(scmp_filter_ctx c)
{
        /* flags is clone's first argument on x86_64 and aarch64 (not on s390). */
        int r = add_arg_rule(c, SCMP_ACT_ALLOW, "clone", 0, CLONE_NS_BITS, 0);
        return r < 0 ? r : add_catch_all(c, SCMP_ACT_ERRNO(EPERM), "clone", 0);
}

static int add_ioctl(scmp_filter_ctx c)
{
        /* The kernel reads the request as unsigned int: compare the low 32 bits
         * only, so setting high bits does not slip past the rule. */
        int r = add_arg_rule(c, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, LOW32, TIOCSTI);
        if (r >= 0)
                r = add_arg_rule(c, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, LOW32, TIOCLINUX);
        return r < 0 ? r : add_catch_all(c, SCMP_ACT_ALLOW, "ioctl", 1);
}

static int add_personality(scmp_filter_ctx c)
{
        /* personality(0) and personality(0xffffffff) only query or keep the default. */
        int r = add_arg_rule(c, SCMP_ACT_ALLOW, "personality", 0, LOW32, 0);
        if (r >= 0)
                r = add_arg_rule(c, SCMP_ACT_ALLOW, "personality", 0, LOW32, 0xffffffffULL);
        return r < 0 ? r : add_catch_all(c, SCMP_ACT_ERRNO(EPERM), "personality", 0);
}

/*
 * Commands run under the same uid as the sandbox's init and zygote: limits
 * and priorities of other processes are not theirs to change. prlimit64 only
 * on itself (pid 0), setpriority only on itself (PRIO_PROCESS, who 0): no
 * lowering init's rlimits or renicing every process of the uid.
 */
static int add_self_only(scmp_filter_ctx c)
{
        int r = add_arg_rule(c, SCMP_ACT_ALLOW, "prlimit64", 0, LOW32, 0);
        if (r >= 0)
                r = add_catch_all(c, SCMP_ACT_ERRNO(EPERM), "prlimit64", 0);
        struct scmp_arg_cmp self[2] = {
                { .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = LOW32, .datum_b = 0 /* PRIO_PROCESS */ },
                { .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = LOW32, .datum_b = 0 },
        };
        if (r >= 0 && (r = seccomp_rule_add_array(c, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("setpriority"), 2,
                                                  self)) < 0)
                return die("setpriority", r);
        if (r >= 0)
                r = add_catch_all(c, SCMP_ACT_ERRNO(EPERM), "setpriority", 0);
        return r;
}

static int add_sockets(scmp_filter_ctx c, enum variant v)
{
        uint32_t inet = v == VARIANT_NS ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EACCES);
        int r = add_arg_rule(c, SCMP_ACT_ALLOW, "socket", 0, LOW32, AF_UNIX);
        if (r >= 0)
                r = add_arg_rule(c, inet, "socket", 0, LOW32, AF_INET);
        if (r >= 0)
                r = add_arg_rule(c, inet, "socket", 0, LOW32, AF_INET6);
        if (r >= 0)
                r = add_catch_all(c, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 0);
        if (r >= 0)
                r = add_arg_rule(c, SCMP_ACT_ALLOW, "socketpair", 0, LOW32, AF_UNIX);
        if (r >= 0)
                r = add_catch_all(c, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", 0);
        return r;
}

/*
 * No setuid or setgid bits, ever: a workspace or --rw directory is a host
 * directory whose files belong to the caller (root, for a root caller), and a
 * setuid file made there would run with the caller's rights on the host.
 * Mode arguments are registers, so the filter sees them: chmod-like calls and
 * file-creating calls with S_ISUID or S_ISGID fail with EPERM. openat2 takes
 * its mode in memory, so it is left to the default (ENOSYS; callers fall back
 * to openat).
 */
#define FCHMODAT2_NR 452
#ifndef __O_TMPFILE
#define __O_TMPFILE 020000000
#endif

static const struct {
        const char *name;
        int nr;        /* used when name is NULL */
        int mode_arg;
        int flags_arg; /* -1: the call always creates or changes a mode */
} mode_calls[] = {
        { "chmod", 0, 1, -1 },   { "fchmod", 0, 1, -1 },  { "fchmodat", 0, 2, -1 },
        { NULL, FCHMODAT2_NR, 2, -1 }, { "creat", 0, 1, -1 }, { "mknod", 0, 1, -1 },
        { "mknodat", 0, 2, -1 }, { "open", 0, 2, 1 },     { "openat", 0, 3, 2 },
};

static int add_mode_rule(scmp_filter_ctx c, int nr, int mode_arg, int flags_arg, uint64_t bit)
{
        struct scmp_arg_cmp cmp[2] = {
                { .arg = (unsigned)mode_arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = bit, .datum_b = bit },
        };
        unsigned n = 1;
        int r = 0;
        if (flags_arg < 0)
                return seccomp_rule_add_array(c, SCMP_ACT_ERRNO(EPERM), nr, n, cmp);
        /* open/openat: the mode only counts when the call creates a file. */
        const uint64_t creates[] = { O_CREAT, __O_TMPFILE };
        for (size_t i = 0; i < 2 && r >= 0; i++) {
                cmp[1] = (struct scmp_arg_cmp){ .arg = (unsigned)flags_arg, .op = SCMP_CMP_MASKED_EQ,
                                                .datum_a = creates[i], .datum_b = creates[i] };
                r = seccomp_rule_add_array(c, SCMP_ACT_ERRNO(EPERM), nr, 2, cmp);
        }
        return r;
}

static int add_modes(scmp_filter_ctx c)
{
        for (size_t i = 0; i < ELEMENTSOF(mode_calls); i++) {
                int nr = mode_calls[i].name ? seccomp_syscall_resolve_name(mode_calls[i].name)
                                            : mode_calls[i].nr;
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture */
                int r = add_mode_rule(c, nr, mode_calls[i].mode_arg, mode_calls[i].flags_arg, S_ISUID);
                if (r >= 0)
                        r = add_mode_rule(c, nr, mode_calls[i].mode_arg, mode_calls[i].flags_arg, S_ISGID);
                struct scmp_arg_cmp any = { .arg = 0, .op = SCMP_CMP_GE, .datum_a = 0 };
                if (r >= 0)
                        r = seccomp_rule_add_array(c, SCMP_ACT_ALLOW, nr, 1, &any);
                if (r < 0)
                        return die(mode_calls[i].name ? mode_calls[i].name : "fchmodat2", r);
        }
        return 0;
}

static int add_rules(scmp_filter_ctx c, enum variant v)
{
        int r = add_names(c, SCMP_ACT_ALLOW, allow_names, ELEMENTSOF(allow_names));
        if (r >= 0)
                r = add_numbered(c);
        if (r >= 0)
                r = add_names(c, SCMP_ACT_ERRNO(EPERM), deny_names, ELEMENTSOF(deny_names));
        if (r >= 0)
                r = add_clone(c);
        if (r >= 0)
                r = add_ioctl(c);
        if (r >= 0)
                r = add_personality(c);
        if (r >= 0)
                r = add_self_only(c);
        if (r >= 0)
                r = add_sockets(c, v);
        if (r >= 0)
                r = add_modes(c);
        /* clone3 is left to the default (ENOSYS): its flags live in memory that
         * seccomp cannot inspect, and libc falls back to clone on ENOSYS. */
        return r;
}

static scmp_filter_ctx build(enum variant v)
{
        scmp_filter_ctx c = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
        if (!c) {
                (void)die("seccomp_init", -ENOMEM);
                return NULL;
        }
        /* Other ABIs (i386 via int 0x80, x32) must never reach the kernel. */
        int r = seccomp_attr_set(c, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r >= 0) /* bridle-init sets no_new_privs itself */
                r = seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 0);
        if (r >= 0) /* binary search over syscall numbers instead of a linear chain */
                r = seccomp_attr_set(c, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r >= 0)
                r = add_rules(c, v);
        if (r < 0) {
                (void)die("building the filter", r);
                seccomp_release(c);
                return NULL;
        }
        return c;
}

/* Export the BPF into a memfd and read it back. Returns the instruction count. */
static long export_bpf(scmp_filter_ctx c, struct sock_filter **ret)
{
        int fd = memfd_create("seccomp-gen", MFD_CLOEXEC);
        if (fd < 0)
                return die("memfd_create", -errno);
        int r = seccomp_export_bpf(c, fd);
        off_t size = r < 0 ? -1 : lseek(fd, 0, SEEK_END);
        if (size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0) {
                close(fd);
                return die("seccomp_export_bpf", r < 0 ? r : -EIO);
        }
        struct sock_filter *buf = malloc((size_t)size);
        ssize_t n = buf ? pread(fd, buf, (size_t)size, 0) : -1;
        close(fd);
        if (n != size) {
                free(buf);
                return die("reading the bpf", -EIO);
        }
        *ret = buf;
        return (long)(size / (off_t)sizeof(struct sock_filter));
}

/* x32 syscall numbers carry bit 30 on the native x86_64 audit arch; libseccomp
 * sends them to the bad-arch action. Check that the program tests it. */
static int check_x32_guard(const struct sock_filter *f, long n)
{
#if defined(__x86_64__)
        for (long i = 0; i < n; i++)
                if (f[i].code == (BPF_JMP | BPF_JGE | BPF_K) && f[i].k == 0x40000000u)
                        return 0;
        return die("filter has no x32 guard", -EPROTO);
#else
        (void)f;
        (void)n;
        return 0;
#endif
}

static int emit(FILE *out, const char *name, enum variant v)
{
        scmp_filter_ctx c = build(v);
        if (!c)
                return -EINVAL;
        struct sock_filter *f = NULL;
        long n = export_bpf(c, &f);
        seccomp_release(c);
        if (n <= 0 || !f)
                return n < 0 ? (int)n : -EIO;
        int r = check_x32_guard(f, n);
        if (r < 0 || n > BPF_MAXINSNS) {
                free(f);
                return r < 0 ? r : die(name, -E2BIG);
        }
        /* Write errors are caught by fclose() in main. */
        (void)fprintf(out, "\nconst struct sock_filter bridle__seccomp_%s[] = {\n", name);
        for (long i = 0; i < n; i++)
                (void)fprintf(out, "        {0x%04x, %u, %u, 0x%08xu},\n", f[i].code, f[i].jt, f[i].jf,
                        f[i].k);
        (void)fprintf(out, "};\nconst size_t bridle__seccomp_%s_len = %ld;\n", name, n);
        free(f);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                (void)fprintf(stderr, "usage: seccomp-gen OUTPUT.c\n");
                return 2;
        }
        FILE *out = fopen(argv[1], "we");
        if (!out) {
                (void)die(argv[1], -errno);
                return 1;
        }
        (void)fprintf(out, "/* Generated by seccomp-gen (src/sandbox/seccomp_gen.c); do not edit. */\n"
                     "#include \"sandbox/seccomp.h\"\n");
        int r = emit(out, "ns", VARIANT_NS);
        if (r >= 0)
                r = emit(out, "landlock", VARIANT_LANDLOCK);
        if (fclose(out) != 0 && r >= 0)
                r = die(argv[1], -errno);
        if (r < 0) {
                (void)unlink(argv[1]);
                return 1;
        }
        return 0;
}
