/* SPDX-License-Identifier: MIT */
/*
 * Landlock through raw syscalls. Debian 12's <linux/landlock.h> stops at ABI 2,
 * so the structures and constants of later ABIs are defined here.
 */
#include "sandbox/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/initproto.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1

/* Filesystem rights (ABI 1 has bits 0..12). */
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_WRITE_FILE (1ULL << 1)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_FS_REMOVE_DIR (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR (1ULL << 6)
#define LL_FS_MAKE_DIR (1ULL << 7)
#define LL_FS_MAKE_REG (1ULL << 8)
#define LL_FS_MAKE_SOCK (1ULL << 9)
#define LL_FS_MAKE_FIFO (1ULL << 10)
#define LL_FS_MAKE_BLOCK (1ULL << 11)
#define LL_FS_MAKE_SYM (1ULL << 12)
#define LL_FS_REFER (1ULL << 13)     /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define LL_FS_ABI1 ((1ULL << 13) - 1)

/* Rights that make sense on a non-directory (others give EINVAL there). */
#define LL_FS_FILE_RIGHTS \
        (LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* Network rights (ABI 4). */
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)

/* Scopes (ABI 6). */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net; /* ABI 4 */
        uint64_t scoped;             /* ABI 6 */
};

struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

int bridle__landlock_abi(void)
{
        long r = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        return r < 0 ? 0 : (int)r;
}

static uint64_t fs_handled(int abi)
{
        uint64_t m = LL_FS_ABI1;
        if (abi >= 2)
                m |= LL_FS_REFER;
        if (abi >= 3)
                m |= LL_FS_TRUNCATE;
        if (abi >= 5)
                m |= LL_FS_IOCTL_DEV;
        return m;
}

/* Access classes to kernel rights, before masking with what the ABI handles. */
static uint64_t class_rights(uint32_t access)
{
        uint64_t m = 0;
        if (access & BRIDLE__LL_READ)
                m |= LL_FS_READ_FILE | LL_FS_READ_DIR;
        if (access & BRIDLE__LL_EXEC)
                m |= LL_FS_EXECUTE;
        if (access & BRIDLE__LL_WRITE)
                m |= LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |
                     LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM |
                     LL_FS_REFER | LL_FS_TRUNCATE;
        if (access & BRIDLE__LL_DEV)
                m |= LL_FS_IOCTL_DEV;
        return m;
}

static int add_path_rule(int ruleset, const struct bridle__ll_rule *rule, uint64_t handled)
{
        int fd = open(rule->path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;

        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        struct ll_path_beneath_attr attr = {
                .allowed_access = class_rights(rule->access) & handled,
                .parent_fd = fd,
        };
        if (r == 0 && !S_ISDIR(st.st_mode))
                attr.allowed_access &= LL_FS_FILE_RIGHTS;
        /* A rule without rights is refused by the kernel (ENOMSG): nothing to add. */
        if (r == 0 && attr.allowed_access != 0 &&
            syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &attr, 0) < 0)
                r = -errno;
        (void)close(fd);
        return r;
}

static int create_ruleset(int abi, unsigned flags)
{
        struct ll_ruleset_attr attr = {.handled_access_fs = fs_handled(abi)};
        size_t size = sizeof(attr.handled_access_fs);
        if (abi >= 4) {
                size += sizeof(attr.handled_access_net);
                if (flags & BRIDLE__LL_NO_TCP)
                        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        }
        if (abi >= 6) {
                size += sizeof(attr.scoped);
                attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        }
        /* The kernel gives the ruleset fd O_CLOEXEC itself. */
        long fd = syscall(__NR_landlock_create_ruleset, &attr, size, 0);
        return fd < 0 ? -errno : (int)fd;
}

int bridle__landlock_apply(const struct bridle__ll_rule *rules, size_t n, unsigned flags)
{
        if (!rules && n > 0)
                return -EINVAL;
        int abi = bridle__landlock_abi();
        if (abi <= 0)
                return -EOPNOTSUPP;

        int ruleset = create_ruleset(abi, flags);
        if (ruleset < 0)
                return ruleset;
        int r = 0;
        uint64_t handled = fs_handled(abi);
        for (size_t i = 0; i < n && r == 0; i++)
                r = rules[i].path ? add_path_rule(ruleset, &rules[i], handled) : -EINVAL;
        if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = -errno;
        if (r == 0 && syscall(__NR_landlock_restrict_self, ruleset, 0) < 0)
                r = -errno;
        (void)close(ruleset);
        return r;
}
