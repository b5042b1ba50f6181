/* SPDX-License-Identifier: MIT */
/* Install a pre-built seccomp BPF program (libc only; used by bridle-init). */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int bridle__seccomp_install(const struct sock_filter *f, size_t n)
{
        if (!f || n == 0 || n > BPF_MAXINSNS)
                return -EINVAL;

        struct sock_fprog prog = {
                .len = (unsigned short)n,
                /* The kernel copies the program and never writes through this. */
                .filter = (struct sock_filter *)(uintptr_t)f,
        };
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        /* Kernels before 3.17 have only the prctl interface. */
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}
